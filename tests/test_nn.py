"""Tests for jaxbook.nn (Chapter 6) and the Chapter 6 checkers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbook import hill, nn, regions, studies, train
from jaxbook.checks import ch06


@pytest.fixture(scope="module")
def data():
    return hill.hill_data(jax.random.key(0), n_train=500, n_val=200)


def numpy_logits(params, X):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    h = 1.0 / (1.0 + np.exp(-(np.asarray(X, dtype=np.float64) @ p["W1"] + p["b1"])))
    return h @ p["w2"] + p["b2"]


def test_hill_data_shapes_labels_and_reproducibility(data):
    assert data.X_train.shape == (500, 2) and data.y_train.shape == (500,)
    assert data.X_val.shape == (200, 2) and data.y_val.shape == (200,)
    X = np.asarray(data.X_train)
    expected = (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(data.y_train), expected)
    assert X.min() >= 0 and X.max() <= 1
    again = hill.hill_data(jax.random.key(0), n_train=500, n_val=200)
    np.testing.assert_array_equal(np.asarray(again.X_val), np.asarray(data.X_val))
    # the default size is the book's: 10000 training and 1000 validation points
    full = hill.hill_data(jax.random.key(0))
    assert full.X_train.shape == (10_000, 2) and full.X_val.shape == (1_000, 2)


def test_hill_data_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_train must be a positive integer; got 0"):
        hill.hill_data(jax.random.key(0), n_train=0)
    with pytest.raises(ValueError, match="n_val"):
        hill.hill_data(jax.random.key(0), n_val=2.5)


def test_init_params_shapes_scale_and_keys():
    params = nn.init_params(jax.random.key(0), width=3, init_scale=2.0)
    assert {k: v.shape for k, v in params.items()} == {"W1": (2, 3), "b1": (3,), "w2": (3,), "b2": ()}
    again = nn.init_params(jax.random.key(0), width=3, init_scale=2.0)
    for name in nn.PARAM_NAMES:
        np.testing.assert_array_equal(params[name], again[name])
    other = nn.init_params(jax.random.key(1), width=3, init_scale=2.0)
    assert not np.allclose(params["W1"], other["W1"])
    # the scale multiplies the same standard-normal draw
    unit = nn.init_params(jax.random.key(0), width=3, init_scale=1.0)
    np.testing.assert_allclose(params["W1"], 2.0 * unit["W1"], rtol=1e-6)
    big = nn.init_params(jax.random.key(0), width=2000, init_scale=3.0)
    assert abs(float(jnp.std(big["W1"])) - 3.0) < 0.15


def test_init_params_rejects_bad_arguments():
    with pytest.raises(ValueError, match="width must be a positive integer; got 0"):
        nn.init_params(jax.random.key(0), width=0)
    with pytest.raises(ValueError, match="init_scale must be a positive finite number; got -1.0"):
        nn.init_params(jax.random.key(0), init_scale=-1.0)


@pytest.mark.parametrize("width", [1, 2, 5])
def test_logits_hidden_and_loss_match_numpy(width, data):
    params = nn.init_params(jax.random.key(width), width=width, init_scale=1.5)
    X, y = data.X_val, data.y_val
    np.testing.assert_allclose(nn.logits(params, X), numpy_logits(params, X), rtol=1e-5, atol=1e-5)
    assert nn.hidden(params, X).shape == (200, width)
    z = numpy_logits(params, X)
    p = 1 / (1 + np.exp(-z))
    y64 = np.asarray(y, dtype=np.float64)
    expected_loss = -np.mean(y64 * np.log(p) + (1 - y64) * np.log(1 - p))
    np.testing.assert_allclose(float(nn.loss(params, X, y)), expected_loss, rtol=1e-5)
    np.testing.assert_allclose(float(nn.accuracy(params, X, y)), np.mean((z >= 0) == (y64 == 1)), atol=1e-7)


def test_gradient_matches_finite_differences(data):
    params = nn.init_params(jax.random.key(3), width=2)
    X, y = data.X_val[:50], data.y_val[:50]
    grads = jax.grad(nn.loss)(params, X, y)

    def loss64(flat):
        p = {"W1": flat[:4].reshape(2, 2), "b1": flat[4:6], "w2": flat[6:8], "b2": flat[8]}
        z = numpy_logits(p, X)
        y64 = np.asarray(y, dtype=np.float64)
        return np.mean(np.logaddexp(0, z) - y64 * z)

    flat = np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in nn.PARAM_NAMES])
    eps = 1e-6
    numeric = np.array([(loss64(flat + eps * e) - loss64(flat - eps * e)) / (2 * eps) for e in np.eye(9)])
    autodiff = np.concatenate([np.asarray(grads[k]).ravel() for k in nn.PARAM_NAMES])
    np.testing.assert_allclose(autodiff, numeric, rtol=1e-3, atol=1e-6)


def test_bad_inputs_are_named():
    params = nn.init_params(jax.random.key(0))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\); got \(5, 3\)"):
        nn.check_arguments(params, jnp.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"y must have shape \(5,\) to match X; got \(5, 1\)"):
        nn.check_arguments(params, jnp.zeros((5, 2)), jnp.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"params\['b1'\] must have shape \(2,\); got \(3,\)"):
        nn.check_arguments({**params, "b1": jnp.zeros(3)}, jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="params must be a dict with keys"):
        nn.check_arguments({"W1": params["W1"]}, jnp.zeros((5, 2)))


def test_fit_decreases_loss_and_detects_divergence(data):
    params = nn.init_params(jax.random.key(4))
    final, history = nn.fit(params, data=(data.X_train, data.y_train), lr=3.0, num_steps=200)
    assert history["loss"].shape == (201,) and history["accuracy"].shape == (200,)
    assert float(history["loss"][-1]) < float(history["loss"][0])
    with pytest.raises(train.DivergenceError, match="try a smaller learning rate"):
        nn.fit(params, data=(data.X_train, data.y_train), lr=1e12, num_steps=5)


def test_fit_seeds_matches_one_network_at_a_time(data):
    keys = jax.random.split(jax.random.key(1), 3)
    study = studies.fit_seeds(keys, data, lr=3.0, num_steps=40, record_every=20)
    assert study.loss_curves.shape == (3, 3) and study.val_accuracy.shape == (3,)
    for i in range(3):
        alone, history = nn.fit(nn.init_params(keys[i]), data=(data.X_train, data.y_train), lr=3.0, num_steps=40)
        for name in nn.PARAM_NAMES:
            np.testing.assert_allclose(studies.unstack(study.params, i)[name], alone[name], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(study.loss_curves[i], history["loss"][::20], rtol=1e-4)
        np.testing.assert_allclose(study.val_accuracy[i], nn.accuracy(alone, data.X_val, data.y_val), atol=2e-3)


def test_fit_seeds_records_divergence_instead_of_raising(data):
    keys = jax.random.split(jax.random.key(1), 2)
    study = studies.fit_seeds(keys, data, lr=1e12, num_steps=20, record_every=10)
    assert study.diverged.tolist() == [True, True]
    assert not studies.fit_seeds(keys, data, lr=3.0, num_steps=20, record_every=10).diverged.any()


def test_fit_seeds_rejects_bad_arguments(data):
    keys = jax.random.split(jax.random.key(1), 2)
    with pytest.raises(ValueError, match="num_steps must be a multiple of record_every=100; got 150"):
        studies.fit_seeds(keys, data, lr=1.0, num_steps=150)
    with pytest.raises(ValueError, match="lr must be a positive finite number; got 0"):
        studies.fit_seeds(keys, data, lr=0, num_steps=100)
    with pytest.raises(ValueError, match="keys must be a 1-D batch of keys"):
        studies.fit_seeds(jax.random.split(jax.random.key(1), (2, 2)), data, lr=1.0, num_steps=100)


def test_grid_and_unit_lines():
    params = {
        "W1": jnp.array([[-2.0, 2.0], [1.0, 1.0]]),
        "b1": jnp.array([0.0, -2.0]),
        "w2": jnp.ones(2),
        "b2": jnp.array(0.0),
    }
    xx, yy, prob = regions.grid_probabilities(params, num=11)
    assert xx.shape == yy.shape == prob.shape == (11, 11)
    np.testing.assert_allclose(
        prob[3, 7], 1 / (1 + np.exp(-numpy_logits(params, np.array([[0.7, 0.3]]))[0])), rtol=1e-5
    )
    np.testing.assert_allclose(regions.hidden_unit_line(params, 0, jnp.array([0.0, 0.5])), [0.0, 1.0])
    np.testing.assert_allclose(regions.hidden_unit_line(params, 1, jnp.array([0.0, 0.5])), [2.0, 1.0])


# --- the Chapter 6 checkers ---------------------------------------------------------------------


def test_check_head_logits_accepts_nn_logits_head_by_head():
    def by_nn(params, X):
        return jnp.stack(
            [nn.logits({**params, "w2": params["w2"][i], "b2": params["b2"][i]}, X) for i in range(len(params["b2"]))]
        )

    assert ch06.check_head_logits(by_nn).ok
    assert "transposed" in ch06.check_head_logits(lambda p, X: by_nn(p, X).T).message
    assert "should be a function" in ch06.check_head_logits(3).message


def hand_hill(k=30.0, s=1.6, c=0.02):
    return {
        "W1": jnp.array([[-k * s, k * s], [k, k]]),
        "b1": jnp.array([-k * c, -k * (s + c)]),
        "w2": jnp.array([20.0, 20.0]),
        "b2": jnp.array(-10.0),
    }


def test_check_hand_made_hill():
    data = hill.hill_data(jax.random.key(0))
    assert ch06.check_hand_made_hill(hand_hill(), data).ok
    flipped = {**hand_hill(), "w2": -hand_hill()["w2"], "b2": -hand_hill()["b2"]}
    assert "wrong way round" in ch06.check_hand_made_hill(flipped, data).message
    constant = {**hand_hill(), "w2": jnp.zeros(2), "b2": jnp.array(1.0)}
    assert "one class everywhere" in ch06.check_hand_made_hill(constant, data).message
    assert "should have shape" in ch06.check_hand_made_hill({**hand_hill(), "w2": jnp.zeros(3)}, data).message
    assert "NaN" in ch06.check_hand_made_hill({**hand_hill(), "b2": jnp.array(jnp.nan)}, data).message


JAX_ACTIVATIONS = {"tanh": jnp.tanh, "softsign a / (1 + |a|)": jax.nn.soft_sign, "sigmoid": jax.nn.sigmoid}


def test_checker_references_match_jax_grad_for_every_activation():
    # the checkers' chain rule in float64 NumPy against jax.grad of the same network written with
    # JAX's own activations, for the gradients and for the two backpropagated errors
    cases = ch06._activation_cases()

    @jax.jit  # every case's jax.grad in one compiled program, rather than each operation eagerly
    def jax_derivatives(arrays):
        results = []
        for (name, *_), (params, X, y) in zip(cases, arrays):
            jax_f = JAX_ACTIVATIONS[name]

            def loss_of(p, jax_f=jax_f, X=X, y=y):
                z = jax_f(X @ p["W1"] + p["b1"][None, :]) @ p["w2"] + p["b2"]
                return jnp.mean(jax.nn.softplus(z) - y * z)

            def loss_from_pre(a, jax_f=jax_f, y=y, params=params):
                z = jax_f(a) @ params["w2"] + params["b2"]
                return jnp.mean(jax.nn.softplus(z) - y * z)

            def loss_from_logits(z, y=y):
                return jnp.mean(jax.nn.softplus(z) - y * z)

            a = X @ params["W1"] + params["b1"][None, :]
            z = jax_f(a) @ params["w2"] + params["b2"]
            results.append((jax.grad(loss_of)(params), jax.grad(loss_from_pre)(a), jax.grad(loss_from_logits)(z)))
        return results

    derivatives = jax_derivatives([(params, X, y) for *_, params, X, y in cases])
    for (_, f, f_slope, params, X, y), (got, got_hidden, got_out) in zip(cases, derivatives):
        expected = ch06._np_activation_gradients(params, X, y, f, f_slope)
        for key in nn.PARAM_NAMES:
            np.testing.assert_allclose(np.asarray(got[key]), expected[key], rtol=1e-3, atol=1e-6)
        delta_out, delta_hidden = ch06._np_activation_deltas(params, X, y, f, f_slope)
        np.testing.assert_allclose(np.asarray(got_hidden), delta_hidden, rtol=1e-3, atol=1e-7)
        np.testing.assert_allclose(np.asarray(got_out), delta_out, rtol=1e-3, atol=1e-7)
    assert ch06.check_activation_gradients(lambda p, X, y, f, fp: jax.grad(nn.loss)(p, X, y)).ok is False
