"""The corpus of Chapter 5's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.metrics import roc_auc_score
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import _references, ch05


def bce_log_sigmoid(z, y):
    return -jnp.mean(y * jax.nn.log_sigmoid(z) + (1 - y) * jax.nn.log_sigmoid(-z))


def counts(z, y):
    predicted, actual = z > 0, y == 1
    return jnp.mean(predicted == actual), jnp.sum(predicted & ~actual), jnp.sum(~predicted & actual)


def _fit_squared_features(dim=10, n=3000, penalty=1e-3):
    """Logistic regression on [1, x^2] by Newton's method in NumPy (a trained model, as asked)."""
    rng = np.random.default_rng(55)
    X = rng.normal(size=(n, dim))
    y = (np.sqrt(np.mean(X**2, axis=1)) < 1.0).astype(np.float64)
    F = np.column_stack([np.ones(n), X**2])
    w = np.zeros(dim + 1)
    for _ in range(25):
        p = _references.sigmoid(F @ w)
        H = F.T @ (F * (p * (1 - p))[:, None]) / n + penalty * np.eye(dim + 1)
        w = w - np.linalg.solve(H, F.T @ (p - y) / n + penalty * w)
    return w


w_sq = _fit_squared_features()
w_raw = np.linspace(-0.1, 0.1, 11)


def predict_trained(X):
    return jax.nn.sigmoid(w_sq[0] + (X**2) @ jnp.asarray(w_sq[1:], jnp.float32))


def init(key, dim):
    return jnp.concatenate([jnp.zeros(1), 0.01 * jax.random.normal(key, (dim,))])


def slopes_with_zero(slopes):
    return jnp.concatenate([jnp.zeros(1), slopes])


def pairs_auc(s, y):
    positive, negative = s[y == 1], s[y == 0]
    return jnp.mean((positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :]))


def pairs_auc_masked(s, y):
    pair = (y[:, None] == 1) & (y[None, :] == 0)
    score = (s[:, None] > s[None, :]) + 0.5 * (s[:, None] == s[None, :])
    return jnp.sum(jnp.where(pair, score, 0.0)) / jnp.sum(pair)


def ranks_auc(s, y):
    """The Mann-Whitney form: mean rank of the class-1 scores (ties get mean ranks), an alternative valid method."""
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for value in np.unique(s):  # mean rank for ties
        ranks[s == value] = ranks[s == value].mean()
    n_pos, n_neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    return (ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


CORPUS = {
    "check_stable_bce": [
        right(ch05.check_stable_bce, bce_log_sigmoid),
        right(ch05.check_stable_bce, lambda z, y: jnp.mean(jax.nn.softplus(z) - y * z)),
        right(ch05.check_stable_bce, lambda z, y: jnp.sum(jnp.logaddexp(0.0, z) - y * z) / z.shape[0]),
        right(ch05.check_stable_bce, jax.jit(lambda z, y: jnp.mean(optax.sigmoid_binary_cross_entropy(z, y)))),
        wrong(
            ch05.check_stable_bce,
            lambda z, y: -jnp.mean(y * jnp.log(jax.nn.sigmoid(z)) + (1 - y) * jnp.log(1 - jax.nn.sigmoid(z))),
            "naive",
        ),
        wrong(ch05.check_stable_bce, lambda z, y: jnp.sum(jax.nn.softplus(z) - y * z), "sum over the examples"),
        wrong(ch05.check_stable_bce, lambda z, y: jax.nn.softplus(z) - y * z, "one loss per example"),
        wrong(ch05.check_stable_bce, lambda z, y: jnp.mean(jax.nn.softplus(z) - (1 - y) * z), "labels are swapped"),
    ],
    "check_error_counts": [
        right(ch05.check_error_counts, counts),
        right(ch05.check_error_counts, lambda z, y: jnp.array(counts(z, y))),  # an array, not a tuple
        right(ch05.check_error_counts, lambda z, y: [float(v) for v in counts(z, y)]),
        right(ch05.check_error_counts, lambda z, y: counts(jax.nn.sigmoid(z) - 0.5, y)),
        right(ch05.check_error_counts, jax.jit(counts)),
        wrong(ch05.check_error_counts, lambda z, y: tuple(counts(z, y)[i] for i in (0, 2, 1)), "swapped"),
        wrong(ch05.check_error_counts, lambda z, y: counts(z - 0.5, y), "compared the logits with 0.5"),
        wrong(ch05.check_error_counts, lambda z, y: (jnp.sum((z > 0) == (y == 1)),) + counts(z, y)[1:], "fraction"),
        wrong(ch05.check_error_counts, lambda z, y: (1 - counts(z, y)[0],) + counts(z, y)[1:], "error rate"),
        wrong(ch05.check_error_counts, lambda z, y: counts(z, y)[:2], "three numbers"),
        wrong(
            ch05.check_error_counts,
            lambda z, y: (counts(z, y)[0], jnp.mean((z > 0) & (y == 0)), jnp.mean((z <= 0) & (y == 1))),
            "counts",
        ),
    ],
    "check_radial_classifier": [
        right(ch05.check_radial_classifier, predict_trained),
        right(ch05.check_radial_classifier, jax.jit(predict_trained)),
        right(
            ch05.check_radial_classifier,
            lambda X: _references.sigmoid(np.column_stack([np.ones(len(X)), np.asarray(X) ** 2]) @ w_sq),
        ),
        wrong(ch05.check_radial_classifier, lambda X: jnp.mean(X**2, axis=1) < 1, "writes down the rule"),
        wrong(
            ch05.check_radial_classifier,
            lambda X: jax.nn.sigmoid(50.0 * (1.0 - jnp.mean(X**2, axis=1))),
            "writes down the rule",
        ),
        wrong(ch05.check_radial_classifier, lambda X: jax.nn.sigmoid(w_raw[0] + X @ w_raw[1:]), "squared features"),
        wrong(ch05.check_radial_classifier, lambda X: 1.0 - predict_trained(X), "swapped"),
        wrong(ch05.check_radial_classifier, lambda X: w_sq[0] + (X**2) @ w_sq[1:], "probabilities in [0, 1]"),
        wrong(ch05.check_radial_classifier, lambda X: predict_trained(X)[:, None], "shape"),
    ],
    "check_random_init": [
        right(ch05.check_random_init, init),
        right(
            ch05.check_random_init, lambda key, dim: jnp.zeros(dim + 1).at[1:].set(jax.random.normal(key, (dim,)) / 100)
        ),
        right(
            ch05.check_random_init,
            lambda key, dim: jnp.concatenate(
                [jnp.zeros(1), 0.01 * jax.random.normal(jax.random.split(key)[0], (dim,))]
            ),
        ),
        right(
            ch05.check_random_init,
            lambda key, dim: jnp.array([0.0, *list(jax.random.normal(key, shape=(dim,), dtype=jnp.float32) * 0.01)]),
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: slopes_with_zero(0.02 * jax.random.normal(key, (dim,))),
            "spread by 0.02",
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: slopes_with_zero(0.01 * jax.random.uniform(key, (dim,))),
            "not centred",
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: slopes_with_zero(
                0.01 * jnp.sqrt(3.0) * jax.random.uniform(key, (dim,), minval=-1, maxval=1)
            ),
            "normal draw",
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: slopes_with_zero(jnp.asarray(0.01 * np.random.default_rng(0).normal(size=dim))),
            "frozen",
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: slopes_with_zero(jax.random.normal(key, (dim,))),
            "standard deviation 1",
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: slopes_with_zero(0.0001 * jax.random.normal(key, (dim,))),
            "not by the variance",
        ),
        wrong(
            ch05.check_random_init,
            lambda key, dim: jnp.concatenate([jnp.ones(1), 0.01 * jax.random.normal(key, (dim,))]),
            "intercept b[0] should be 0",
        ),
        wrong(ch05.check_random_init, lambda key, dim: 0.01 * jax.random.normal(key, (dim,)), "intercept b[0] and the"),
        wrong(
            ch05.check_random_init,
            lambda key, dim: {"w": 0.01 * jax.random.normal(key, (dim,)), "b": 0.0},
            "one array b of shape",
        ),
    ],
}
CORPUS["check_auc"] = [
    right(ch05.check_auc, pairs_auc),
    right(ch05.check_auc, jax.jit(lambda s, y: pairs_auc_masked(s, y))),  # jitted: masks instead of indexing
    right(ch05.check_auc, lambda s, y: float(np.mean(ranks_auc(np.asarray(s, np.float64), np.asarray(y))))),
    right(ch05.check_auc, lambda s, y: roc_auc_score(np.asarray(y), np.asarray(s))),  # the same number
    right(ch05.check_auc, lambda s, y: [pairs_auc(s, y)]),  # one number in a list
    wrong(ch05.check_auc, lambda s, y: pairs_auc(s, 1 - y), "classes are swapped"),
    wrong(ch05.check_auc, lambda s, y: jnp.mean(s[y == 1][:, None] > s[y == 0][None, :]), "ties are not counted"),
    wrong(ch05.check_auc, lambda s, y: jnp.mean(s[y == 1][:, None] >= s[y == 0][None, :]), "not one"),
    wrong(
        ch05.check_auc,
        lambda s, y: jnp.sum((s[y == 1][:, None] > s[y == 0]) + 0.5 * (s[y == 1][:, None] == s[y == 0])) / len(y) ** 2,
        "number of (class-1, class-0) pairs",
    ),
    wrong(ch05.check_auc, lambda s, y: jnp.mean((s > 0) == (y == 1)), "accuracy"),
    wrong(ch05.check_auc, lambda s, y: 0.83, "share of correctly ordered pairs"),  # a number read off elsewhere
]
CHECKS = {
    "check_stable_bce": (ch05.check_stable_bce, True),
    "check_error_counts": (ch05.check_error_counts, True),
    "check_radial_classifier": (ch05.check_radial_classifier, True),
    "check_random_init": (ch05.check_random_init, True),
    "check_auc": (ch05.check_auc, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch05) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


def test_fresh_points_are_the_chapters():
    from jaxbook import logistic

    X, y = logistic.radial_data(jax.random.key(2025), 2000, dim=10)
    X_check, y_check = ch05._radial_points(2000, 10)
    assert np.array_equal(np.asarray(X), np.asarray(X_check)) and np.array_equal(np.asarray(y), y_check)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
