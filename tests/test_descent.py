"""jaxbook.regression and jaxbook.descent: Chapter 4's data, loss and training loops, against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbook import descent, least_squares, regression, train


@pytest.fixture(scope="module")
def plane():
    x, y = regression.plane_data(jax.random.key(4), n=1000)
    X = least_squares.design_matrix(x)
    b_closed = np.linalg.lstsq(np.asarray(X, np.float64), np.asarray(y, np.float64), rcond=None)[0]
    return X, y, b_closed


def test_plane_data_is_deterministic_and_has_the_right_coefficients(plane):
    X, y, b_closed = plane
    x_again, y_again = regression.plane_data(jax.random.key(4), n=1000)
    assert np.array_equal(np.asarray(x_again), np.asarray(X[:, 1:]))
    assert np.array_equal(np.asarray(y_again), np.asarray(y))
    # 1000 points with noise sd 3: the estimates are within a few standard errors (~0.1) of the truth
    np.testing.assert_allclose(b_closed, regression.PLANE_COEFFICIENTS, atol=0.4)
    exact_x, exact_y = regression.plane_data(jax.random.key(0), n=50, noise_sd=0.0)
    np.testing.assert_allclose(
        np.asarray(exact_y), 3 - 11 * np.asarray(exact_x[:, 0]) + 12 * np.asarray(exact_x[:, 1]), rtol=1e-5, atol=1e-5
    )


def test_plane_data_bad_inputs():
    with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
        regression.plane_data(jax.random.key(0), n=0)
    with pytest.raises(ValueError, match="noise_sd must be >= 0; got -1"):
        regression.plane_data(jax.random.key(0), noise_sd=-1.0)
    with pytest.raises(ValueError, match="coefficients must be \\(intercept, b1, b2\\); got 2 values"):
        regression.plane_data(jax.random.key(0), coefficients=(1.0, 2.0))


def test_mse_loss_and_gradient_match_numpy(plane):
    X, y, _ = plane
    b = jnp.array([0.5, -1.0, 2.0])
    X64, y64, b64 = (np.asarray(a, np.float64) for a in (X, y, b))
    np.testing.assert_allclose(float(regression.mse_loss(b, X, y)), np.mean((X64 @ b64 - y64) ** 2), rtol=1e-5)
    np.testing.assert_allclose(
        np.asarray(jax.grad(regression.mse_loss)(b, X, y)),
        2 / len(y64) * X64.T @ (X64 @ b64 - y64),
        rtol=1e-4,
        atol=1e-4,
    )


def test_gradient_descent_reaches_the_closed_form(plane):
    X, y, b_closed = plane
    b, history = train.gradient_descent(regression.mse_loss, jnp.zeros(3), lr=0.1, num_steps=200, data=(X, y))
    np.testing.assert_allclose(np.asarray(b), b_closed, atol=1e-4)
    np.testing.assert_allclose(
        float(history["loss"][-1]),
        np.mean((np.asarray(X, np.float64) @ b_closed - np.asarray(y, np.float64)) ** 2),
        rtol=1e-5,
    )


def test_minibatch_sgd_steps_are_means_not_divided_again(plane):
    X, y, _ = plane
    key = jax.random.key(1)
    b, history = descent.minibatch_sgd(
        regression.mse_loss, jnp.zeros(3), key=key, lr=0.05, batch_size=50, num_epochs=1, data=(X, y)
    )
    assert history["loss"].shape == (20,) and history["epoch_loss"].shape == (1,)
    # replay the first batch by hand: the same key split, the same permutation
    order = jax.random.permutation(jax.random.split(key, 1)[0], 1000)[:50]
    np.testing.assert_allclose(
        float(history["loss"][0]), float(regression.mse_loss(jnp.zeros(3), X[order], y[order])), rtol=1e-6
    )
    # the full-data loss after the epoch is the loss of the final coefficients, in float64
    X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    np.testing.assert_allclose(
        float(history["epoch_loss"][0]), np.mean((X64 @ np.asarray(b, np.float64) - y64) ** 2), rtol=1e-5
    )
    frame = train.history_frame(history)
    assert len(frame) == 21 and frame["epoch_loss"].notna().sum() == 1 and np.isfinite(frame.loc[20, "epoch_loss"])
    # one batch of 50 rows is one step of lr * (mean gradient), not lr * (mean gradient) / 50
    X50, y50 = X[:50], y[:50]
    b_one, _ = descent.minibatch_sgd(
        regression.mse_loss, jnp.zeros(3), key=key, lr=0.05, batch_size=50, num_epochs=1, data=(X50, y50)
    )
    expected = -0.05 * np.asarray(jax.grad(regression.mse_loss)(jnp.zeros(3), X50, y50))
    np.testing.assert_allclose(np.asarray(b_one), expected, rtol=1e-5, atol=1e-6)
    # a full batch in one step is exactly one gradient-descent step
    b_full, _ = descent.minibatch_sgd(
        regression.mse_loss, jnp.zeros(3), key=key, lr=0.05, batch_size=1000, num_epochs=1, data=(X, y)
    )
    b_gd, _ = train.gradient_descent(regression.mse_loss, jnp.zeros(3), lr=0.05, num_steps=1, data=(X, y))
    np.testing.assert_allclose(np.asarray(b_full), np.asarray(b_gd), rtol=1e-5, atol=1e-6)
    b_again, _ = descent.minibatch_sgd(
        regression.mse_loss, jnp.zeros(3), key=key, lr=0.05, batch_size=50, num_epochs=1, data=(X, y)
    )
    assert np.array_equal(np.asarray(b), np.asarray(b_again))  # same key, same run


def test_minibatch_sgd_converges_with_decay_and_depends_on_the_key(plane):
    X, y, b_closed = plane
    runs = [
        descent.minibatch_sgd(
            regression.mse_loss,
            jnp.zeros(3),
            key=jax.random.key(k),
            lr=0.05,
            batch_size=50,
            num_epochs=20,
            decay=0.01,
            data=(X, y),
        )
        for k in (1, 2)
    ]
    for b, history in runs:
        np.testing.assert_allclose(np.asarray(b), b_closed, atol=0.02)
        np.testing.assert_allclose(np.asarray(history["lr"])[[0, 10]], [0.05, 0.05 / 1.1], rtol=1e-6)
    assert not np.array_equal(np.asarray(runs[0][0]), np.asarray(runs[1][0]))


def test_minibatch_sgd_bad_inputs(plane):
    X, y, _ = plane
    kwargs = dict(key=jax.random.key(0), lr=0.1, batch_size=10, num_epochs=1, data=(X, y))
    with pytest.raises(ValueError, match="batch_size must be at most the number of rows \\(1000\\); got 2000"):
        descent.minibatch_sgd(regression.mse_loss, jnp.zeros(3), **{**kwargs, "batch_size": 2000})
    with pytest.raises(ValueError, match="lr must be a positive finite number; got -0.1"):
        descent.minibatch_sgd(regression.mse_loss, jnp.zeros(3), **{**kwargs, "lr": -0.1})
    with pytest.raises(ValueError, match="decay must be >= 0; got -1"):
        descent.minibatch_sgd(regression.mse_loss, jnp.zeros(3), **{**kwargs, "decay": -1.0})
    with pytest.raises(ValueError, match="data\\[0\\] and data\\[1\\] must have the same number of rows"):
        descent.minibatch_sgd(regression.mse_loss, jnp.zeros(3), **{**kwargs, "data": (X, y[:-1])})
    with pytest.raises(ValueError, match="num_epochs must be a positive integer; got 0"):
        descent.minibatch_sgd(regression.mse_loss, jnp.zeros(3), **{**kwargs, "num_epochs": 0})
