"""jaxbook.logistic and the stable loss: data sets, model, metrics, against NumPy and scikit-learn."""

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jaxbook import logistic, losses, train


def test_stable_loss_at_large_logits_is_finite_and_correct():
    logits = jnp.array([1000.0, -1000.0, 1000.0, -1000.0])
    y = jnp.array([0.0, 1.0, 1.0, 0.0])
    per_example_expected = np.array([1000.0, 1000.0, 0.0, 0.0])
    assert float(losses.binary_cross_entropy(logits, y)) == pytest.approx(per_example_expected.mean())
    grads = jax.grad(losses.binary_cross_entropy)(logits, y)
    np.testing.assert_allclose(np.asarray(grads), np.array([1.0, -1.0, 0.0, 0.0]) / 4)
    naive = losses.naive_binary_cross_entropy(logits[:2], y[:2])
    assert not np.isfinite(float(naive))
    assert np.isnan(float(losses.naive_binary_cross_entropy(jnp.array([-1000.0]), jnp.array([0.0]))))
    assert np.all(np.isnan(np.asarray(jax.grad(losses.naive_binary_cross_entropy)(logits[:2], y[:2]))))


def test_stable_and_naive_agree_at_moderate_logits():
    rng = np.random.default_rng(0)
    z = jnp.asarray(rng.normal(scale=3, size=50), jnp.float32)
    y = jnp.asarray(rng.uniform(size=50) < 0.5, jnp.float32)
    z64, y64 = np.asarray(z, np.float64), np.asarray(y, np.float64)
    reference = np.mean(np.logaddexp(0, z64) - y64 * z64)
    assert float(losses.binary_cross_entropy(z, y)) == pytest.approx(reference, rel=1e-5)
    assert float(losses.naive_binary_cross_entropy(z, y)) == pytest.approx(reference, rel=1e-4)


def test_hyperplane_data_follows_the_logistic_model():
    w = logistic.hyperplane_weights(jax.random.key(5), dim=100)
    assert w.shape == (100,)
    np.testing.assert_allclose(float(jnp.mean(w)), 1.0, atol=0.3)
    X, y = logistic.hyperplane_data(jax.random.key(6), w, n=10_000)
    assert X.shape == (10_000, 100) and y.shape == (10_000,)
    assert set(np.unique(np.asarray(y))) == {0.0, 1.0}
    X_again, y_again = logistic.hyperplane_data(jax.random.key(6), w, n=10_000)
    assert np.array_equal(np.asarray(y), np.asarray(y_again))
    # P(y = 1 | x) = sigmoid(x . w): the mean label in bins of the true probability matches it
    prob = np.asarray(jax.nn.sigmoid(X @ w))
    mid = (prob > 0.3) & (prob < 0.7)
    assert abs(np.asarray(y)[mid].mean() - prob[mid].mean()) < 0.05


def test_radial_data_and_squared_features():
    X, y = logistic.radial_data(jax.random.key(0), 1000, dim=10)
    inside = np.sqrt(np.mean(np.asarray(X) ** 2, axis=1)) < 1
    assert np.array_equal(inside, np.asarray(y) == 1)
    S = logistic.squared_features(X)
    assert S.shape == (1000, 20)
    np.testing.assert_allclose(np.asarray(S[:, 10:]), np.asarray(X) ** 2)
    with pytest.raises(ValueError, match="X must be 2-D; got shape \\(3,\\)"):
        logistic.squared_features(jnp.ones(3))
    with pytest.raises(ValueError, match="dim must be a positive integer; got 0"):
        logistic.radial_data(jax.random.key(0), 10, dim=0)


def test_metrics_count_false_positives_and_negatives():
    b = jnp.array([0.0, 1.0])  # intercept 0, slope 1
    X = logistic.with_intercept(jnp.array([[2.0], [1.0], [-1.0], [-2.0], [0.5]]))
    y = jnp.array([1.0, 0.0, 1.0, 0.0, 1.0])
    m = logistic.metrics(b, X, y)
    assert float(m["accuracy"]) == pytest.approx(3 / 5)
    assert float(m["false_positives"]) == 1.0  # x = 1, label 0
    assert float(m["false_negatives"]) == 1.0  # x = -1, label 1


def test_descent_matches_scikit_learn_without_penalty():
    w = logistic.hyperplane_weights(jax.random.key(1), dim=5)
    X, y = logistic.hyperplane_data(jax.random.key(2), w / 3, n=2000)  # weak signal: converges fast
    b, history = train.gradient_descent(
        logistic.loss,
        jnp.zeros(6),
        lr=2.0,
        num_steps=2000,
        data=(logistic.with_intercept(X), y),
        metrics_fn=logistic.metrics,
    )
    fit = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(
        np.asarray(X, np.float64), np.asarray(y, np.float64)
    )
    np.testing.assert_allclose(np.asarray(b[1:]), fit.coef_[0], atol=1e-3)
    np.testing.assert_allclose(float(b[0]), fit.intercept_[0], atol=1e-3)
    assert history["accuracy"].shape == (2000,) and history["false_positives"].shape == (2000,)


def test_plot_decision_boundary_draws_and_validates():
    X, y = logistic.radial_data(jax.random.key(0), 50, dim=2)
    b = jnp.zeros(3)
    ax = logistic.plot_decision_boundary(
        lambda G: logistic.predict_proba(b, logistic.with_intercept(G)), X, y, resolution=20
    )
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="X must have 2 columns to draw a plane; got shape \\(5, 3\\)"):
        logistic.plot_decision_boundary(lambda G: G[:, 0], np.zeros((5, 3)), np.zeros(5))


def test_with_intercept_prepends_ones_and_validates():
    X = jnp.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(np.asarray(logistic.with_intercept(X)), np.column_stack([np.ones(3), X]))
    with pytest.raises(ValueError, match="X"):
        logistic.with_intercept(jnp.ones(3))
