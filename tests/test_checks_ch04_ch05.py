"""The checkers of Chapters 4 and 5 accept right answers and name the typical wrong ones."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook import least_squares, regression
from jaxbook.checks import ch04, ch05

# ---------------------------------------------------------------- Chapter 4


def test_check_mse_gradient():
    assert ch04.check_mse_gradient(lambda b, X, y: 2.0 / X.shape[0] * X.T @ (X @ b - y))
    feedback = ch04.check_mse_gradient(lambda b, X, y: 2.0 * X.T @ (X @ b - y))
    assert not feedback and "gradient of the sum of squares" in feedback.message
    feedback = ch04.check_mse_gradient(lambda b, X, y: 1.0 / X.shape[0] * X.T @ (X @ b - y))
    assert not feedback and "factor of 2" in feedback.message
    feedback = ch04.check_mse_gradient(lambda b, X, y: 2.0 / X.shape[0] * X.T @ (y - X @ b))
    assert not feedback and "wrong sign" in feedback.message
    feedback = ch04.check_mse_gradient(lambda b, X, y: 1 / 0)
    assert not feedback and "raised ZeroDivisionError" in feedback.message


def test_check_sgd_step():
    grad = jax.grad(regression.mse_loss)
    assert ch04.check_sgd_step(lambda b, X, y, lr: b - lr * grad(b, X, y))
    feedback = ch04.check_sgd_step(lambda b, X, y, lr: b - lr * grad(b, X, y) / X.shape[0])
    assert not feedback and "don't divide by the batch size again" in feedback.message
    feedback = ch04.check_sgd_step(lambda b, X, y, lr: b + lr * grad(b, X, y))
    assert not feedback and "moves uphill" in feedback.message
    feedback = ch04.check_sgd_step(lambda b, X, y, lr: b - grad(b, X, y))
    assert not feedback and "multiply by lr" in feedback.message
    feedback = ch04.check_sgd_step(lambda b, X, y, lr: b - lr * X.shape[0] * grad(b, X, y))
    assert not feedback and "sum of squares" in feedback.message


def _std_err_problem():
    x, y = regression.plane_data(jax.random.key(3), n=60)
    X = np.asarray(least_squares.design_matrix(x), np.float64)
    y = np.asarray(y, np.float64)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    rss = np.sum((y - X @ b) ** 2)
    return X, y, rss, np.diag(np.linalg.inv(X.T @ X))


def test_check_standard_errors():
    X, y, rss, diag = _std_err_problem()
    n, p = X.shape
    assert ch04.check_standard_errors(np.sqrt(rss / (n - p) * diag), X, y)
    feedback = ch04.check_standard_errors(rss / (n - p) * diag, X, y)
    assert not feedback and "those are variances" in feedback.message
    feedback = ch04.check_standard_errors(np.sqrt(rss / n * diag), X, y)
    assert not feedback and "n - p = 57, not by n = 60" in feedback.message
    feedback = ch04.check_standard_errors(np.sqrt(diag), X, y)
    assert not feedback and "multiply diag((X^T X)^-1) by sigma^2" in feedback.message
    feedback = ch04.check_standard_errors(np.sqrt(rss / (n - p) * diag)[:2], X, y)
    assert not feedback and "shape (2,), expected (3,)" in feedback.message


def test_check_steps_needed():
    x, y = regression.plane_data(jax.random.key(4), n=1000)
    X = least_squares.design_matrix(x)
    right = {}
    for lr in ch04.LEARNING_RATES:
        from jaxbook import train

        _, hist = train.gradient_descent(regression.mse_loss, jnp.zeros(3), lr=lr, num_steps=300, data=(X, y), record_params=True)
        b_closed = np.linalg.lstsq(np.asarray(X, np.float64), np.asarray(y, np.float64), rcond=None)[0]
        right[lr] = int(np.argmax(np.max(np.abs(np.asarray(hist["params"]) - b_closed), axis=1) < 1e-3))
    feedback = ch04.check_steps_needed(right, X, y)
    assert feedback and "fastest learning rate is 0.5" in feedback.message
    wrong = {**right, 0.1: right[0.1] + 10}
    feedback = ch04.check_steps_needed(wrong, X, y)
    assert not feedback and "steps_needed[0.1]" in feedback.message
    feedback = ch04.check_steps_needed({0.05: 1}, X, y)
    assert not feedback and "no entry for the learning rate(s) [0.1, 0.3, 0.5]" in feedback.message
    assert not ch04.check_steps_needed([1, 2, 3, 4], X, y)


# ---------------------------------------------------------------- Chapter 5


def test_check_stable_bce():
    assert ch05.check_stable_bce(lambda z, y: jnp.mean(jax.nn.softplus(z) - y * z))
    assert ch05.check_stable_bce(lambda z, y: -jnp.mean(y * jax.nn.log_sigmoid(z) + (1 - y) * jax.nn.log_sigmoid(-z)))

    def naive(z, y):
        p = jax.nn.sigmoid(z)
        return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))

    feedback = ch05.check_stable_bce(naive)
    assert not feedback and "naive" in feedback.message and "log_sigmoid" in feedback.message
    feedback = ch05.check_stable_bce(lambda z, y: jnp.sum(jax.nn.softplus(z) - y * z))
    assert not feedback and "sum over the examples" in feedback.message
    feedback = ch05.check_stable_bce(lambda z, y: -jnp.mean(jax.nn.softplus(z) - y * z))
    assert not feedback and "wrong sign" in feedback.message


def test_check_error_counts():
    def right(z, y):
        predicted, actual = z > 0, y == 1
        return jnp.mean(predicted == actual), jnp.sum(predicted & ~actual), jnp.sum(~predicted & actual)

    assert ch05.check_error_counts(right)

    def swapped(z, y):
        accuracy, fp, fn = right(z, y)
        return accuracy, fn, fp

    feedback = ch05.check_error_counts(swapped)
    assert not feedback and "swapped" in feedback.message
    feedback = ch05.check_error_counts(lambda z, y: right(z - 0.5, y))
    assert not feedback and "compared the logits with 0.5" in feedback.message
    feedback = ch05.check_error_counts(lambda z, y: (jnp.sum((z > 0) == (y == 1)),) + right(z, y)[1:])
    assert not feedback and "fraction" in feedback.message
    feedback = ch05.check_error_counts(lambda z, y: right(z, y)[:2])
    assert not feedback and "should return a tuple" in feedback.message


def test_check_radial_classifier():
    def perfect(X):
        return (jnp.mean(X**2, axis=1) < 1).astype(jnp.float32)

    assert ch05.check_radial_classifier(perfect)
    feedback = ch05.check_radial_classifier(lambda X: jnp.full(X.shape[0], 0.6))
    assert not feedback and "squared features" in feedback.message
    feedback = ch05.check_radial_classifier(lambda X: 1.0 - perfect(X))
    assert not feedback and "swapped" in feedback.message
    feedback = ch05.check_radial_classifier(lambda X: 3.0 * perfect(X) - 1.0)
    assert not feedback and "probabilities in [0, 1]" in feedback.message
    feedback = ch05.check_radial_classifier(lambda X: perfect(X)[:, None])
    assert not feedback and "one probability per point" in feedback.message


def test_check_random_init():
    assert ch05.check_random_init(lambda key, dim: {"w": 0.01 * jax.random.normal(key, (dim,)), "b": jnp.zeros(())})
    rng = np.random.default_rng(0)
    frozen = ch05.check_random_init(lambda key, dim: {"w": jnp.asarray(0.01 * rng.normal(size=dim)), "b": jnp.zeros(())})
    assert not frozen and "frozen" in frozen.message
    feedback = ch05.check_random_init(lambda key, dim: {"w": jax.random.normal(key, (dim,)), "b": jnp.zeros(())})
    assert not feedback and "scale it by 0.01" in feedback.message
    feedback = ch05.check_random_init(lambda key, dim: {"w": jnp.zeros(dim), "b": jnp.zeros(())})
    assert not feedback and "all zeros" in feedback.message
    feedback = ch05.check_random_init(lambda key, dim: {"w": 0.01 * jax.random.normal(key, (dim, 1)), "b": jnp.zeros(())})
    assert not feedback and "shape (5,)" in feedback.message
