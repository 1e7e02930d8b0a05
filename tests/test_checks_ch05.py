"""The corpus of Chapter 5's checkers: right answers written several ways, common slips named."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.metrics import roc_auc_score
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook import logistic
from jaxbook.checks import ch05


def bce_log_sigmoid(z, y):
    return -jnp.mean(y * jax.nn.log_sigmoid(z) + (1 - y) * jax.nn.log_sigmoid(-z))


def counts(z, y):
    predicted, actual = z > 0, y == 1
    return jnp.mean(predicted == actual), jnp.sum(predicted & ~actual), jnp.sum(~predicted & actual)


def interactions(P):
    j, k = jnp.triu_indices(P.shape[1], k=1)
    return jnp.concatenate([P, P[:, j] * P[:, k]], axis=1)


def interactions_loops(P):
    """A double loop over the pairs, the columns stacked."""
    d = P.shape[1]
    columns = [P[:, j] for j in range(d)] + [P[:, j] * P[:, k] for j in range(d) for k in range(j + 1, d)]
    return jnp.stack(columns, axis=1)


def interactions_outer(P):
    """Every product from one outer product, the pairs above the diagonal picked with NumPy indices."""
    j, k = np.triu_indices(P.shape[1], k=1)
    return jnp.hstack([P, jnp.einsum("ni,nj->nij", P, P)[:, j, k]])


def interactions_combinations(P):
    """itertools.combinations lists the pairs in the same order; column_stack of the columns."""
    pairs = itertools.combinations(range(P.shape[1]), 2)
    return jnp.column_stack([P] + [P[:, j] * P[:, k] for j, k in pairs])


def interactions_with(pairs):
    """The coordinates, then the products of the pairs that pairs(d) lists."""
    return lambda P: jnp.concatenate([P] + [P[:, j : j + 1] * P[:, k : k + 1] for j, k in pairs(P.shape[1])], axis=1)


def scikit_learn_interactions(P):
    from sklearn.preprocessing import PolynomialFeatures

    return PolynomialFeatures(2, interaction_only=True, include_bias=False).fit_transform(np.asarray(P))


def interactions_vmap_rows(P):
    """One point at a time, vmapped; the products listed by a double loop."""

    def row(x):
        d = x.shape[0]
        return jnp.concatenate([x, jnp.array([x[j] * x[k] for j in range(d) for k in range(j + 1, d)])])

    return jax.vmap(row)(P)


def numpy_interactions(P):
    """Right values in NumPy, which cannot take a traced array under jit."""
    P = np.asarray(P)
    j, k = np.triu_indices(P.shape[1], k=1)
    return np.concatenate([P, P[:, j] * P[:, k]], axis=1)


def interactions_boolean_mask(P):
    """Right values, but the pairs picked with a jnp boolean mask, which jit cannot compile."""
    d = P.shape[1]
    above = jnp.triu(jnp.ones((d, d), dtype=bool), k=1)
    return jnp.concatenate([P, (P[:, :, None] * P[:, None, :])[:, above]], axis=1)


#: Variance 1 / fan_in with fan_in the first axis of the shape (dim, num_units), untruncated.
lecun_untruncated = jax.nn.initializers.variance_scaling(1.0, "fan_in", "normal")


def units(key, num_units, dim):
    slopes = jax.random.normal(key, (num_units, dim)) / jnp.sqrt(dim)
    return jnp.concatenate([jnp.zeros((num_units, 1)), slopes], axis=1)


def units_split(key, num_units, dim):
    """One subkey per unit, vmapped; the scale written as a power."""

    def one(key):
        return jnp.concatenate([jnp.zeros(1), jax.random.normal(key, (dim,)) * (1 / dim) ** 0.5])

    return jax.vmap(one)(jax.random.split(key, num_units))


def units_fold_in(key, num_units, dim):
    """A Python loop over the units, each key folded in from the unit's number, the scale from NumPy."""
    rows = [
        jnp.concatenate([jnp.zeros(1), jax.random.normal(jax.random.fold_in(key, u), (dim,)) / np.sqrt(dim)])
        for u in range(num_units)
    ]
    return jnp.stack(rows)


def units_scaled(scale):
    """The right draw with the slopes multiplied by scale(dim)."""
    return lambda key, num_units, dim: units(key, num_units, dim).at[:, 1:].multiply(scale(dim))


def units_with_slopes(draw):
    return lambda key, num_units, dim: jnp.concatenate([jnp.zeros((num_units, 1)), draw(key, num_units, dim)], axis=1)


def units_reused_key(key, num_units, dim):
    row = jnp.concatenate([jnp.zeros(1), jax.random.normal(key, (dim,)) / jnp.sqrt(dim)])
    return jnp.stack([row] * num_units)


def units_antithetic(key, num_units, dim):
    """Half the units the negatives of the others: right spread, but not independent."""
    half = jax.random.normal(key, ((num_units + 1) // 2, dim)) / jnp.sqrt(dim)
    slopes = jnp.concatenate([half, -half])[:num_units]
    return jnp.concatenate([jnp.zeros((num_units, 1)), slopes], axis=1)


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
    "check_interaction_features": [
        right(ch05.check_interaction_features, interactions),
        right(ch05.check_interaction_features, jax.jit(interactions)),
        right(ch05.check_interaction_features, interactions_loops),
        right(ch05.check_interaction_features, interactions_outer),
        right(ch05.check_interaction_features, interactions_combinations),
        right(ch05.check_interaction_features, interactions_vmap_rows),
        wrong(ch05.check_interaction_features, scikit_learn_interactions, "not NumPy or scikit-learn"),
        wrong(ch05.check_interaction_features, numpy_interactions, "not NumPy or scikit-learn"),
        wrong(ch05.check_interaction_features, interactions_boolean_mask, "pick the pairs with integer indices"),
        wrong(ch05.check_interaction_features, lambda P: interactions(jnp.sign(P)), "differs from the reference"),
        wrong(
            ch05.check_interaction_features,
            lambda P: jnp.concatenate([P, jnp.abs(interactions(P)[:, P.shape[1] :])], axis=1),
            "differs from the reference",
        ),
        wrong(ch05.check_interaction_features, logistic.squared_features, "squared features"),
        wrong(ch05.check_interaction_features, lambda P: interactions(P)[:, P.shape[1] :], "products alone"),
        wrong(
            ch05.check_interaction_features,
            interactions_with(lambda d: [(j, k) for j in range(d) for k in range(j, d)]),
            "include the squares",
        ),
        wrong(
            ch05.check_interaction_features,
            interactions_with(lambda d: [(j, k) for j in range(d) for k in range(d) if j != k]),
            "each pair in twice",
        ),
        wrong(
            ch05.check_interaction_features,
            interactions_with(lambda d: [(j, k) for k in range(d) for j in range(k)]),
            "in another order",
        ),
        wrong(ch05.check_interaction_features, interactions_with(lambda d: [(0, 1)]), "only one product"),
        wrong(ch05.check_interaction_features, lambda P: interactions(P).T, "should have shape"),
        wrong(ch05.check_interaction_features, lambda P: logistic.with_intercept(interactions(P)), "column of ones"),
        wrong(ch05.check_interaction_features, lambda P: 2 * interactions(P), "differs from the reference"),
    ],
    "check_init_units": [
        right(ch05.check_init_units, units),
        right(ch05.check_init_units, units_split),
        right(ch05.check_init_units, jax.jit(units, static_argnums=(1, 2))),
        right(ch05.check_init_units, units_fold_in),
        wrong(ch05.check_init_units, units_reused_key, "one key was reused"),
        wrong(ch05.check_init_units, units_antithetic, "correlated"),
        wrong(ch05.check_init_units, units_scaled(lambda d: d**0.5), "standard deviation 1:"),
        wrong(ch05.check_init_units, units_scaled(lambda d: d**-0.5), "variance 1/dim^2"),
        wrong(ch05.check_init_units, units_scaled(lambda d: 2**0.5), "He's rule"),
        wrong(ch05.check_init_units, units_scaled(lambda d: 0.01 * d**0.5), "fixed standard deviation 0.01"),
        wrong(
            ch05.check_init_units,
            units_with_slopes(lambda key, u, d: jax.random.uniform(key, (u, d)) * jnp.sqrt(12.0 / d)),
            "not centred",
        ),
        wrong(
            ch05.check_init_units,
            units_with_slopes(lambda key, u, d: jax.random.uniform(key, (u, d), minval=-1.0) * jnp.sqrt(3.0 / d)),
            "not normal",
        ),
        wrong(
            ch05.check_init_units,
            units_with_slopes(lambda key, u, d: jnp.asarray(np.random.default_rng(0).normal(size=(u, d)) / np.sqrt(d))),
            "frozen",
        ),
        wrong(ch05.check_init_units, lambda key, u, d: units(key, u, d).T, "transpose it"),
        wrong(ch05.check_init_units, lambda key, u, d: units(key, u, d)[:, 1:], "the intercept b[0] and"),
        right(
            ch05.check_init_units,
            lambda key, u, d: (
                (jax.random.normal(key, (u, d + 1)) / jnp.sqrt(d)).at[:, 0].set(0.0)
            ),  # one draw, b0 zeroed
        ),
        right(
            ch05.check_init_units,
            lambda key, u, d: jnp.concatenate(
                [jnp.zeros((u, 1)), jax.nn.initializers.variance_scaling(1.0, "fan_in", "normal")(key, (d, u)).T],
                axis=1,
            ),
        ),
        wrong(
            ch05.check_init_units,
            units_with_slopes(lambda key, u, d: jax.random.truncated_normal(key, -2.0, 2.0, (u, d)) / jnp.sqrt(d)),
            "spread by",  # a truncated normal, not rescaled: sd 0.88 / sqrt(dim); the KS test alone passes it
        ),
        wrong(
            ch05.check_init_units,
            units_with_slopes(lambda key, u, d: jax.random.rademacher(key, (u, d)).astype(jnp.float32) / jnp.sqrt(d)),
            "not normal",
        ),
        wrong(
            ch05.check_init_units, units_scaled(lambda d: (d / (d + 1)) ** 0.5), "spread by"
        ),  # variance 1 / (dim + 1)
        wrong(ch05.check_init_units, lambda key, u, d: units(key, u, d).at[:, 0].set(0.1), "intercept (column 0)"),
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
    "check_interaction_features": (ch05.check_interaction_features, True),
    "check_init_units": (ch05.check_init_units, True),
    "check_auc": (ch05.check_auc, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch05) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


def test_interaction_reference_is_scikit_learns():
    from sklearn.preprocessing import PolynomialFeatures

    points = np.random.default_rng(0).normal(size=(7, 4))
    expected = PolynomialFeatures(2, interaction_only=True, include_bias=False).fit_transform(points)
    assert np.allclose(ch05._interactions(points), expected, rtol=1e-12, atol=0)


def test_penalised_fit_is_scikit_learns():
    from sklearn.linear_model import LogisticRegression

    points, y = ch05._xor_data(58, 2000)
    features = ch05._interactions(points)
    b = ch05._fit_logistic(features, y, lam=1e-3)
    fit = LogisticRegression(C=1 / (len(y) * 1e-3), tol=1e-10, max_iter=10_000).fit(features, y)
    assert np.allclose(b, np.concatenate([fit.intercept_, fit.coef_[0]]), atol=1e-3)


def test_ks_distance_is_scipys():
    from scipy import stats

    values = np.random.default_rng(1).normal(size=500) * 1.1
    assert np.isclose(ch05._ks_distance(values), stats.kstest(values, "norm").statistic, rtol=1e-9)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
