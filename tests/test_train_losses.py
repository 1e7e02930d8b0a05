"""The shared training loop and losses against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbook import losses, train


def sphere(t):
    return jnp.sum(t**2)


def test_gradient_descent_on_the_isotropic_quadratic_is_geometric():
    lr, k = 0.1, 25
    t, history = train.gradient_descent(sphere, jnp.array([2.0, 1.0]), lr=lr, num_steps=k, record_params=True)
    factors = (1 - 2 * lr) ** np.arange(k + 1)
    np.testing.assert_allclose(history["params"], np.outer(factors, [2.0, 1.0]), rtol=1e-5)
    np.testing.assert_allclose(history["loss"], 5.0 * factors**2, rtol=1e-5)
    np.testing.assert_allclose(t, history["params"][-1])


def test_gradient_descent_works_on_pytrees_with_data_and_metrics():
    X = jnp.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    y = jnp.array([1.0, 3.0, 5.0])

    def loss(params, X, y):
        return losses.mean_squared_error(X @ params["w"] + params["b"], y)

    params = {"w": jnp.zeros(2), "b": jnp.zeros(())}
    final, history = train.gradient_descent(
        loss, params, lr=0.1, num_steps=2000, data=(X, y), metrics_fn=lambda p, X, y: {"b": p["b"]}
    )
    assert history["loss"].shape == (2001,) and history["b"].shape == (2000,)
    np.testing.assert_allclose(X @ final["w"] + final["b"], y, atol=1e-3)
    frame = train.history_frame(history)
    assert list(frame.columns) == ["loss", "b"] and len(frame) == 2001


def test_divergence_is_detected_and_explained():
    with pytest.raises(train.DivergenceError, match=r"lr=1.5.*try a smaller learning rate, e.g. lr=0.15"):
        train.gradient_descent(sphere, jnp.array([2.0, 1.0]), lr=1.5, num_steps=50)
    with pytest.raises(train.DivergenceError, match="became nan at step 1"):
        train.check_losses(jnp.array([1.0, jnp.nan]), lr=0.1)
    _, history = train.gradient_descent(sphere, jnp.array([2.0, 1.0]), lr=1.5, num_steps=5, check_divergence=False)
    assert float(history["loss"][-1]) > 5.0


@pytest.mark.parametrize(
    "lr, num_steps, message",
    [
        (0.0, 5, "lr must be a positive finite number; got 0.0"),
        (-1, 5, "lr must be"),
        (0.1, 0, "num_steps must be a positive integer; got 0"),
        (0.1, 2.5, "num_steps must be a positive integer; got 2.5"),
    ],
)
def test_bad_hyperparameters(lr, num_steps, message):
    with pytest.raises(ValueError, match=message):
        train.gradient_descent(sphere, jnp.ones(2), lr=lr, num_steps=num_steps)


def test_stable_binary_cross_entropy_matches_the_formula_and_survives_large_logits():
    rng = np.random.default_rng(0)
    z = rng.normal(size=50) * 3
    y = (rng.uniform(size=50) < 0.5).astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    reference = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(losses.binary_cross_entropy(jnp.asarray(z), jnp.asarray(y))) == pytest.approx(reference, rel=1e-5)
    big = jnp.array([1000.0, -1000.0, 1000.0, -1000.0])
    labels = jnp.array([0.0, 1.0, 1.0, 0.0])
    assert float(losses.binary_cross_entropy(big, labels)) == pytest.approx(500.0)
    assert not np.isfinite(float(losses.naive_binary_cross_entropy(big, labels)))


def test_mean_squared_error():
    assert float(losses.mean_squared_error(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0, 5.0]))) == pytest.approx(
        4 / 3
    )


def test_batch_indices_draw_a_fresh_permutation_every_epoch():
    key = jax.random.key(3)
    rows = np.asarray(train.batch_indices(key, 10, 3, 7))  # 3 batches of 3 per epoch, one row left over
    assert rows.shape == (7, 3)
    keys = jax.random.split(key, 3)  # 7 steps need 3 epochs
    for epoch in range(3):
        expected = np.asarray(jax.random.permutation(keys[epoch], 10))[:9].reshape(3, 3)
        np.testing.assert_array_equal(rows[3 * epoch : 3 * epoch + 3], expected[: len(rows[3 * epoch : 3 * epoch + 3])])
        assert len(set(rows[3 * epoch : 3 * epoch + 3].ravel().tolist())) == len(
            rows[3 * epoch : 3 * epoch + 3].ravel()
        )
    assert not np.array_equal(rows[0:3], rows[3:6])  # a new order, not the same one again
    with pytest.raises(ValueError, match="batch_size must be at most n=10; got 11"):
        train.batch_indices(key, 10, 11, 2)


def test_divergence_rule_is_the_same_traced_and_eager():
    curves = jnp.array([[1.0, 0.5, 0.25], [1.0, jnp.inf, 0.0], [1.0, 2e6, 1.0], [2.0, 1.5e6, 1.0]])
    traced = jax.jit(jax.vmap(train.diverged))(curves)
    eager = []
    for curve in curves:
        try:
            train.check_losses(curve, lr=0.1)
            eager.append(False)
        except train.DivergenceError:
            eager.append(True)
    assert traced.tolist() == eager == [False, True, True, False]
    with pytest.raises(train.DivergenceError, match="grew from 1 to 2e\\+06 at step 1 with lr=0.1"):
        train.check_losses(curves[2], lr=0.1)


def test_run_steps_with_mini_batches_and_a_last_short_epoch():
    # the mean of the batch as the "gradient": after each step t is replaced by the batch mean
    x = jnp.arange(6.0)
    indices = train.batch_indices(jax.random.key(0), 6, 2, 4)  # 3 steps per epoch, 4 steps: a short 2nd epoch

    def step(t, batch):
        (xb,) = batch
        return jnp.mean(xb), {"batch_sum": jnp.sum(xb)}

    t, records, evaluations = train.run_steps(
        step, jnp.float32(0.0), (x,), num_steps=4, indices=indices, per_epoch=3, evaluate=lambda t: 10 * t
    )
    rows = np.asarray(indices)
    np.testing.assert_allclose(records["batch_sum"], rows.sum(axis=1))
    np.testing.assert_allclose(float(t), rows[-1].mean())
    np.testing.assert_allclose(evaluations, [10 * rows[2].mean(), 10 * rows[3].mean()])


def test_history_frame_places_epoch_series_at_the_end_of_their_epoch():
    history = train.History({"loss": jnp.arange(5.0), "epoch_loss": jnp.array([7.0, 8.0])}, num_steps=5, per_epoch=3)
    frame = train.history_frame(history)
    assert len(frame) == 6
    assert frame["epoch_loss"].dropna().to_dict() == {3: 7.0, 5: 8.0}
    assert np.isnan(frame.loc[5, "loss"])
    with pytest.raises(ValueError, match="history must be a jaxbook.train.History"):
        train.history_frame({"loss": jnp.ones(2)})
