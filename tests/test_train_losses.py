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


@pytest.mark.parametrize("lr, num_steps, message", [(0.0, 5, "lr must be a positive finite number; got 0.0"), (-1, 5, "lr must be"), (0.1, 0, "num_steps must be a positive integer; got 0"), (0.1, 2.5, "num_steps must be a positive integer; got 2.5")])
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
    assert float(losses.mean_squared_error(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0, 5.0]))) == pytest.approx(4 / 3)
