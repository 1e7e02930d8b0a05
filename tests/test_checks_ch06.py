"""The corpus of Chapter 6's checkers: right answers written several ways, common slips named."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch06


class Hill(NamedTuple):
    X_val: np.ndarray
    y_val: np.ndarray


rng = np.random.default_rng(6)
X_val = rng.uniform(size=(1000, 2))
hill = Hill(X_val.astype(np.float32), (X_val[:, 1] >= 2.5 * X_val[:, 0] * (1 - X_val[:, 0])).astype(np.float32))


def tent(k=30.0, s=1.3, c=0.1):
    return {
        "W1": jnp.array([[-k * s, k * s], [k, k]]),
        "b1": jnp.array([-k * c, -k * (s + c)]),
        "w2": jnp.array([20.0, 20.0]),
        "b2": jnp.array(-10.0),
    }


def hand(params):
    return ch06.check_hand_made_hill(params, hill)


def forward(params, X):
    h = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


def backprop(params, X, y, derivative=True, divide=True):
    h = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    z = h @ params["w2"] + params["b2"]
    r = (jax.nn.sigmoid(z) - y) / (X.shape[0] if divide else 1)
    delta = jnp.outer(r, params["w2"]) * (h * (1.0 - h) if derivative else 1.0)
    return {"W1": X.T @ delta, "b1": delta.sum(axis=0), "w2": h.T @ r, "b2": r.sum()}


def loss(params, X, y):
    z = forward(params, X)
    return jnp.mean(jax.nn.softplus(z) - y * z)


def deltas(params, X, y, divide=True, derivative="hidden", sign=1.0, with_w2=True):
    h = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    p = jax.nn.sigmoid(h @ params["w2"] + params["b2"])
    out = sign * (p - y) / (X.shape[0] if divide else 1)
    slope = {"hidden": h * (1.0 - h), "none": 1.0, "output": (p * (1.0 - p))[:, None]}[derivative]
    return out, out[:, None] * (params["w2"] if with_w2 else 1.0) * slope


def deltas_by_grad(params, X, y):
    # an alternative valid method: jax.grad with respect to the logits and to the pre-activations
    def loss_from_pre(a):
        z = jax.nn.sigmoid(a) @ params["w2"] + params["b2"]
        return jnp.mean(jax.nn.softplus(z) - y * z)

    def loss_from_z(z):
        return jnp.mean(jax.nn.softplus(z) - y * z)

    a = X @ params["W1"] + params["b1"]
    return jax.grad(loss_from_z)(jax.nn.sigmoid(a) @ params["w2"] + params["b2"]), jax.grad(loss_from_pre)(a)


def spread(key, init_scale, num_networks=1000, standardise=True, bias=True, after="none", variance=False):
    X = jnp.asarray(hill.X_val, jnp.float32)
    if standardise:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    z = init_scale * jax.random.normal(key, (num_networks, 9))
    W1, b1 = z[:, :4].reshape(-1, 2, 2), z[:, 4:6]
    a = jnp.einsum("pi,kiu->kpu", X, W1) + (b1[:, None, :] if bias else 0.0)
    if after == "sigmoid":
        a = jax.nn.sigmoid(a)
    return float(jnp.var(a) if variance else jnp.std(a))


def spread_within_networks(key, s):
    # a slip: the spread of each network around its own mean, pooled; that mean is b1, so b1's share is lost
    Xs = (hill.X_val - hill.X_val.mean(0)) / hill.X_val.std(0)
    W1 = s * jax.random.normal(key, (1000, 2, 2))
    b1 = s * jax.random.normal(jax.random.fold_in(key, 1), (1000, 1, 2))
    a = jnp.einsum("pi,kiu->kpu", Xs, W1) + b1
    return jnp.sqrt(jnp.mean(jnp.var(a, axis=1)))


def spread_numpy(key, init_scale):
    # NumPy in float64, the inputs standardised with the sample standard deviation (ddof=1), a loop over networks
    seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = np.asarray(hill.X_val, np.float64)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    values = [Xs @ (init_scale * rng.normal(size=(2, 2))) + init_scale * rng.normal(size=2) for _ in range(1500)]
    return np.std(np.stack(values))


def spread_for_the_formula(key, init_scale):
    return init_scale * 3**0.5


def spread_hand(params):
    return ch06.check_initial_spread(params, hill)


CORPUS = {
    "check_logits": [
        right(ch06.check_logits, jax.vmap(forward, in_axes=(0, None))),
        right(ch06.check_logits, jax.jit(jax.vmap(forward, in_axes=(0, None)))),
        right(
            ch06.check_logits,
            lambda p, X: (
                jnp.einsum(
                    "knu,ku->kn", jax.nn.sigmoid(jnp.einsum("ni,kiu->knu", X, p["W1"]) + p["b1"][:, None, :]), p["w2"]
                )
                + p["b2"][:, None]
            ),
        ),
        right(  # a Python loop over the networks, returning a list of NumPy arrays
            ch06.check_logits,
            lambda p, X: [
                (1 / (1 + np.exp(-(np.asarray(X) @ p["W1"][j] + p["b1"][j])))) @ p["w2"][j] + p["b2"][j]
                for j in range(len(p["b2"]))
            ],
        ),
        wrong(ch06.check_logits, lambda p, X: forward(jax.tree.map(lambda v: v[0], p), X), "map over the 3 networks"),
        wrong(ch06.check_logits, forward, "could not be broadcast"),
        wrong(
            ch06.check_logits,
            jax.vmap(lambda p, X: (X @ p["W1"] + p["b1"]) @ p["w2"] + p["b2"], in_axes=(0, None)),
            "needs its sigmoid",
        ),
        wrong(
            ch06.check_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(forward(p, X)), in_axes=(0, None)),
            "without a sigmoid",
        ),
        wrong(
            ch06.check_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(X @ p["W1"]) @ p["w2"] + p["b2"], in_axes=(0, None)),
            "hidden bias b1",
        ),
        wrong(
            ch06.check_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(X @ p["W1"] + p["b1"]) @ p["w2"], in_axes=(0, None)),
            "output bias b2",
        ),
        wrong(ch06.check_logits, lambda p, X: jax.vmap(forward, in_axes=(0, None))(p, X).T, "one row per network"),
        wrong(
            ch06.check_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(X @ p["W1"].T + p["b1"]) @ p["w2"] + p["b2"], in_axes=(0, None)),
            "transposed",
        ),
        wrong(
            ch06.check_logits,
            lambda p, X: jnp.stack([forward(jax.tree.map(lambda v: v[0], p), X)] * len(p["b2"])),
            "first network",
        ),
    ],
    "check_hand_made_hill": [
        right(hand, tent()),
        right(hand, {name: np.asarray(v, np.float64) for name, v in tent().items()}),
        right(hand, {name: np.asarray(v).tolist() for name, v in tent().items()}),
        right(hand, {**tent(k=60.0), "b2": -10.0}),
        wrong(hand, {**tent(), "w2": -tent()["w2"], "b2": -tent()["b2"]}, "wrong way round"),
        wrong(hand, {**tent(), "b2": jnp.array(100.0)}, "one class everywhere"),
        wrong(hand, {**tent(), "W1": jnp.ones((2, 3))}, "shape (2, 2)"),
        wrong(hand, {k: v for k, v in tent().items() if k != "b2"}, "keys"),
        wrong(hand, {**tent(), "b1": jnp.array([jnp.nan, 0.0])}, "NaN"),
        wrong(hand, tent(s=0.5, c=0.3), "look at where each unit's line lies"),
        wrong(hand, {name: 1.0137 * v for name, v in tent().items()}, "more than one decimal"),  # as trained weights
        wrong(hand, {**tent(), "b2": jnp.array(-10.25)}, "round numbers"),
    ],
    "check_gradients": [
        right(ch06.check_gradients, backprop),
        right(ch06.check_gradients, jax.grad(loss)),
        right(ch06.check_gradients, jax.jit(backprop, static_argnames=("derivative", "divide"))),
        right(
            ch06.check_gradients, lambda p, X, y: {k: np.asarray(v, np.float64) for k, v in backprop(p, X, y).items()}
        ),
        wrong(ch06.check_gradients, lambda p, X, y: backprop(p, X, y, derivative=False), "sigmoid's derivative"),
        wrong(ch06.check_gradients, lambda p, X, y: backprop(p, X, y, divide=False), "divide the summed gradient by n"),
        wrong(
            ch06.check_gradients,
            lambda p, X, y: jax.tree.map(lambda g: g / X.shape[0], backprop(p, X, y)),
            "divided by n twice",
        ),
        wrong(ch06.check_gradients, lambda p, X, y: list(backprop(p, X, y).values()), "dict"),
        wrong(ch06.check_gradients, lambda p, X, y: jax.tree.map(lambda g: -g, backprop(p, X, y)), "wrong sign"),
    ],
    "check_deltas": [
        right(ch06.check_deltas, deltas),
        right(ch06.check_deltas, jax.jit(deltas, static_argnames=("divide", "derivative", "sign", "with_w2"))),
        right(ch06.check_deltas, lambda p, X, y: [np.asarray(d, np.float64) for d in deltas(p, X, y)]),
        right(ch06.check_deltas, deltas_by_grad),
        wrong(ch06.check_deltas, lambda p, X, y: deltas(p, X, y, divide=False), "(p - y) / n"),
        wrong(ch06.check_deltas, lambda p, X, y: deltas(p, X, y, derivative="none"), "misses the sigmoid's derivative"),
        wrong(ch06.check_deltas, lambda p, X, y: deltas(p, X, y, derivative="output"), "their own h (1 - h)"),
        wrong(ch06.check_deltas, lambda p, X, y: deltas(p, X, y, with_w2=False), "misses the output weight w2"),
        wrong(ch06.check_deltas, lambda p, X, y: deltas(p, X, y, sign=-1.0), "sign"),
        wrong(ch06.check_deltas, lambda p, X, y: deltas(p, X, y)[::-1], "wrong order"),
        wrong(
            ch06.check_deltas, lambda p, X, y: (deltas(p, X, y)[0], deltas(p, X, y)[1].sum(axis=0)), "one row per point"
        ),
        wrong(ch06.check_deltas, lambda p, X, y: jax.nn.sigmoid(forward(p, X)) / X.shape[0], "pair"),
        wrong(
            ch06.check_deltas,
            lambda p, X, y: (jax.nn.sigmoid(forward(p, X)), deltas(p, X, y)[1]),
            "not the probability p",
        ),
        wrong(ch06.check_deltas, lambda p, X, y: {"out": deltas(p, X, y)[0]}, "pair"),
    ],
    "check_initial_spread": [
        right(spread_hand, spread),
        right(spread_hand, lambda key, s: np.float64(spread(key, s, num_networks=3000))),
        right(
            spread_hand,
            jax.jit(
                lambda key, s: jnp.std(
                    jnp.einsum(
                        "pi,kiu->kpu",
                        (hill.X_val - hill.X_val.mean(0)) / hill.X_val.std(0),
                        s * jax.random.normal(key, (1000, 2, 2)),
                    )
                    + s * jax.random.normal(jax.random.fold_in(key, 1), (1000, 1, 2))
                )
            ),
        ),
        right(spread_hand, spread_numpy),
        wrong(spread_hand, lambda key, s: spread(key, s, standardise=False), "standardise the inputs"),
        wrong(spread_hand, lambda key, s: spread(key, s, bias=False), "the bias b1 is missing"),
        wrong(spread_hand, lambda key, s: spread(key, s, variance=True), "that is a variance"),
        wrong(spread_hand, spread_within_networks, "within each network"),
        wrong(spread_hand, lambda key, s: spread(key, s, after="sigmoid"), "after the sigmoid"),
        wrong(spread_hand, spread_for_the_formula, "measure it from random draws"),
        wrong(spread_hand, lambda key, s: spread(key, s, num_networks=3), "at least 1000 networks"),
        wrong(spread_hand, lambda key, s: 3.464, "standard deviation near"),
    ],
}
CHECKS = {
    "check_logits": (ch06.check_logits, True),
    "check_hand_made_hill": (hand, False),
    "check_gradients": (ch06.check_gradients, True),
    "check_deltas": (ch06.check_deltas, True),
    "check_initial_spread": (spread_hand, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch06) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
