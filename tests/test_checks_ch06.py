"""The corpus of Chapter 6's checkers: right answers written several ways, common slips named."""

from functools import partial
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


def deltas(params, X, y, divide=True, derivative="hidden", sign=1.0, with_w2=True):
    h = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    p = jax.nn.sigmoid(h @ params["w2"] + params["b2"])
    out = sign * (p - y) / (X.shape[0] if divide else 1)
    slope = {"hidden": h * (1.0 - h), "none": 1.0, "output": (p * (1.0 - p))[:, None]}[derivative]
    return out, out[:, None] * (params["w2"] if with_w2 else 1.0) * slope


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


def one_head(params, X):
    h = jax.nn.sigmoid(X @ params["W1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


SHARED = {"W1": None, "b1": None, "w2": 0, "b2": 0}


def heads(params, X):
    return jax.vmap(one_head, in_axes=(SHARED, None))(params, X)


def heads_by_matrix(params, X):
    return (jax.nn.sigmoid(X @ params["W1"] + params["b1"]) @ params["w2"].T + params["b2"]).T


def heads_loop(params, X):
    # a Python loop over the heads, in NumPy float64, returning a list of rows
    h = 1 / (1 + np.exp(-(np.asarray(X) @ params["W1"] + params["b1"])))
    return [h @ params["w2"][i] + params["b2"][i] for i in range(len(params["b2"]))]


def heads_one_head_only(params, X):
    return one_head({**params, "w2": params["w2"][0], "b2": params["b2"][0]}, X)


def np_sigmoid(a):
    return 1 / (1 + np.exp(-np.asarray(a, np.float64)))


def deltas_any(params, X, y, activation, slope, slip=""):
    a = X @ params["W1"] + params["b1"]
    h = np_sigmoid(a) if slip == "sigmoid forward" else activation(a)
    p = jax.nn.sigmoid(h @ params["w2"] + params["b2"])
    out = (p - y) / (1 if slip == "sum" else X.shape[0])
    factor = {
        "": slope(a),
        "at h": slope(h),
        "sigmoid slope": h * (1.0 - h),
        "no slope": 1.0,
        "output slope": (p * (1.0 - p))[:, None],
        "sigmoid forward": h * (1.0 - h),  # the sigmoid everywhere, ignoring the activation passed in
        "sum": slope(a),
        "no w2": slope(a),
    }[slip]
    return out, out[:, None] * (1.0 if slip == "no w2" else params["w2"]) * factor


def deltas_by_vjp(params, X, y, activation, slope):
    # an alternative valid method: jax.vjp and jax.grad for the JAX stages, the chain rule by hand
    # through the activation
    a = X @ params["W1"] + params["b1"]
    h = jnp.asarray(activation(a), jnp.float32)
    z, pull_output = jax.vjp(lambda h: h @ params["w2"] + params["b2"], h)
    delta_out = jax.grad(lambda z: jnp.mean(jax.nn.softplus(z) - y * z))(z)
    (dL_dh,) = pull_output(delta_out)
    return delta_out, dL_dh * slope(a)


def deltas_numpy(params, X, y, activation, slope):
    a = np.asarray(X) @ params["W1"] + params["b1"]
    out = (np_sigmoid(activation(a) @ params["w2"] + params["b2"]) - y) / len(y)
    return [out, np.outer(out, params["w2"]) * slope(a)]


def deltas_by_autodiff(params, X, y, activation, slope):
    # jax.grad through the activation: what the exercise cannot be solved with
    def loss_from_pre(a):
        z = activation(a) @ params["w2"] + params["b2"]
        return jnp.mean(jax.nn.softplus(z) - y * z)

    a = X @ params["W1"] + params["b1"]
    return deltas_any(params, X, y, activation, slope)[0], jax.grad(loss_from_pre)(jnp.asarray(a))


def grads_any(params, X, y, activation, slope, slip="", divide=True):
    h = (
        np_sigmoid(X @ params["W1"] + params["b1"])
        if slip == "sigmoid forward"
        else activation(X @ params["W1"] + params["b1"])
    )
    out, hidden = deltas_any(params, X, y, activation, slope, slip=slip)
    g = {"W1": X.T @ hidden, "b1": hidden.sum(axis=0), "w2": h.T @ out, "b2": out.sum()}
    return g if divide else jax.tree.map(lambda v: v * X.shape[0], g)


def grads_by_vjp(params, X, y, activation, slope):
    # the linear stages pulled back with jax.vjp, the activation by hand
    delta_out, delta_hidden = deltas_by_vjp(params, X, y, activation, slope)
    h = jnp.asarray(activation(X @ params["W1"] + params["b1"]), jnp.float32)
    _, pull_first = jax.vjp(lambda W1, b1: X @ W1 + b1, params["W1"], params["b1"])
    _, pull_output = jax.vjp(lambda w2, b2: h @ w2 + b2, params["w2"], params["b2"])
    g_W1, g_b1 = pull_first(jnp.asarray(delta_hidden))
    g_w2, g_b2 = pull_output(delta_out)
    return {"W1": g_W1, "b1": g_b1, "w2": g_w2, "b2": g_b2}


def grads_by_autodiff(params, X, y, activation, slope):
    def loss_of(p):
        z = activation(X @ p["W1"] + p["b1"]) @ p["w2"] + p["b2"]
        return jnp.mean(jax.nn.softplus(z) - y * z)

    return jax.grad(loss_of)(params)


CORPUS = {
    "check_head_logits": [
        right(ch06.check_head_logits, heads),
        right(ch06.check_head_logits, jax.jit(heads)),
        right(ch06.check_head_logits, heads_by_matrix),
        right(ch06.check_head_logits, heads_loop),
        right(  # float64 NumPy with einsum
            ch06.check_head_logits,
            lambda p, X: (
                np.einsum("ku,nu->kn", p["w2"], np_sigmoid(np.asarray(X) @ p["W1"] + p["b1"])) + p["b2"][:, None]
            ),
        ),
        wrong(ch06.check_head_logits, lambda p, X: heads_by_matrix(p, X).T, "transposed"),
        wrong(ch06.check_head_logits, jax.vmap(one_head, in_axes=(0, None)), "no head axis"),
        wrong(ch06.check_head_logits, jax.vmap(one_head, in_axes=(SHARED, 0)), "axes of different lengths"),
        wrong(
            ch06.check_head_logits,
            lambda p, X: p["w2"] @ jax.nn.sigmoid(X @ p["W1"] + p["b1"]).T + p["b2"],
            "add b2[:, None]",
        ),
        wrong(ch06.check_head_logits, heads_one_head_only, "one head's logits"),
        wrong(
            ch06.check_head_logits,
            jax.vmap(lambda p, X: (X @ p["W1"] + p["b1"]) @ p["w2"] + p["b2"], in_axes=(SHARED, None)),
            "needs its sigmoid",
        ),
        wrong(ch06.check_head_logits, lambda p, X: jax.nn.sigmoid(heads(p, X)), "without a sigmoid"),
        wrong(
            ch06.check_head_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(X @ p["W1"]) @ p["w2"] + p["b2"], in_axes=(SHARED, None)),
            "hidden bias b1",
        ),
        wrong(
            ch06.check_head_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(X @ p["W1"] + p["b1"]) @ p["w2"], in_axes=(SHARED, None)),
            "biases b2 are missing",
        ),
        wrong(
            ch06.check_head_logits,
            jax.vmap(lambda p, X: jax.nn.sigmoid(X @ p["W1"].T + p["b1"]) @ p["w2"] + p["b2"], in_axes=(SHARED, None)),
            "transposed",
        ),
        wrong(ch06.check_head_logits, lambda p, X: jnp.stack([heads(p, X)[0]] * len(p["b2"])), "first head"),
        wrong(ch06.check_head_logits, lambda p, X: np.ones((3, 7)), "differs from the reference"),  # hard-coded
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
    "check_activation_gradients": [
        right(ch06.check_activation_gradients, grads_any),
        right(ch06.check_activation_gradients, grads_by_vjp),
        right(ch06.check_activation_gradients, jax.jit(grads_any, static_argnames=("activation", "slope"))),
        right(
            ch06.check_activation_gradients,
            lambda p, X, y, f, fp: {k: np.asarray(v, np.float64) for k, v in grads_any(p, X, y, f, fp).items()},
        ),
        right(  # sums written as einsum, in float64 NumPy
            ch06.check_activation_gradients,
            lambda p, X, y, f, fp: (
                lambda out, hidden, h: {
                    "W1": np.einsum("ni,nu->iu", X, hidden),
                    "b1": np.einsum("nu->u", hidden),
                    "w2": np.einsum("nu,n->u", h, out),
                    "b2": np.sum(out),
                }
            )(*deltas_numpy(p, X, y, f, fp), f(X @ p["W1"] + p["b1"])),
        ),
        wrong(ch06.check_activation_gradients, grads_by_autodiff, "differentiated the activation with JAX"),
        wrong(  # the same, jitted: still autodiff through the activation
            ch06.check_activation_gradients,
            jax.jit(grads_by_autodiff, static_argnums=(3, 4)),
            "derivative JAX does not know",
        ),
        wrong(ch06.check_activation_gradients, partial(grads_any, slip="at h"), "pre-activation"),
        wrong(ch06.check_activation_gradients, partial(grads_any, slip="sigmoid slope"), "sigmoid's derivative"),
        wrong(
            ch06.check_activation_gradients, partial(grads_any, slip="no slope"), "misses the activation's derivative"
        ),
        wrong(ch06.check_activation_gradients, partial(grads_any, slip="sigmoid forward"), "sigmoid hidden units"),
        wrong(ch06.check_activation_gradients, partial(grads_any, divide=False), "divide the summed gradient by n"),
        wrong(
            ch06.check_activation_gradients,
            lambda p, X, y, f, fp: jax.tree.map(lambda g: g / X.shape[0], grads_any(p, X, y, f, fp)),
            "divided by n twice",
        ),
        wrong(ch06.check_activation_gradients, lambda p, X, y, f, fp: list(grads_any(p, X, y, f, fp).values()), "dict"),
        wrong(
            ch06.check_activation_gradients,
            lambda p, X, y, f, fp: jax.tree.map(lambda g: -g, grads_any(p, X, y, f, fp)),
            "wrong sign",
        ),
        wrong(ch06.check_activation_gradients, lambda p, X, y, f, fp: backprop(p, X, y), "sigmoid"),
        wrong(  # hard-coded numbers
            ch06.check_activation_gradients,
            lambda p, X, y, f, fp: {"W1": np.ones((2, 2)), "b1": np.ones(2), "w2": np.ones(2), "b2": 1.0},
            "differs",
        ),
    ],
    "check_activation_deltas": [
        right(ch06.check_activation_deltas, deltas_any),
        right(ch06.check_activation_deltas, deltas_by_vjp),
        right(ch06.check_activation_deltas, deltas_numpy),
        right(
            ch06.check_activation_deltas,
            lambda p, X, y, f, fp: tuple(np.asarray(d, np.float32) for d in deltas_any(p, X, y, f, fp)),
        ),
        wrong(ch06.check_activation_deltas, deltas_by_autodiff, "derivative JAX does not know"),
        right(ch06.check_activation_deltas, jax.jit(deltas_any, static_argnums=(3, 4))),  # jitted by habit
        wrong(  # jitted with the functions as traced arguments: no slip in the chain rule, and said so
            ch06.check_activation_deltas, jax.jit(deltas_any), "no slip in the chain rule"
        ),
        wrong(  # np.tanh of a traced array inside jax.jit
            ch06.check_activation_deltas,
            jax.jit(lambda p, X, y, f, fp: deltas_any(p, X, y, np.tanh, fp), static_argnums=(3, 4)),
            "use jax.numpy",
        ),
        wrong(ch06.check_activation_deltas, partial(deltas_any, slip="sum"), "(p - y) / n"),
        wrong(ch06.check_activation_deltas, partial(deltas_any, slip="at h"), "at the pre-activation"),
        wrong(
            ch06.check_activation_deltas, partial(deltas_any, slip="sigmoid slope"), "sigmoid's derivative h (1 - h)"
        ),
        wrong(ch06.check_activation_deltas, partial(deltas_any, slip="no slope"), "misses the activation's derivative"),
        wrong(ch06.check_activation_deltas, partial(deltas_any, slip="output slope"), "output's derivative"),
        wrong(ch06.check_activation_deltas, partial(deltas_any, slip="no w2"), "misses the output weight w2"),
        wrong(ch06.check_activation_deltas, partial(deltas_any, slip="sigmoid forward"), "sigmoid hidden units"),
        wrong(ch06.check_activation_deltas, lambda p, X, y, f, fp: deltas(p, X, y), "sigmoid"),
        wrong(ch06.check_activation_deltas, lambda p, X, y, f, fp: deltas_any(p, X, y, f, fp)[::-1], "wrong order"),
        wrong(
            ch06.check_activation_deltas,
            lambda p, X, y, f, fp: (deltas_any(p, X, y, f, fp)[0], deltas_any(p, X, y, f, fp)[1].sum(axis=0)),
            "one row per point",
        ),
        wrong(
            ch06.check_activation_deltas,
            lambda p, X, y, f, fp: (
                jax.nn.sigmoid(f(X @ p["W1"] + p["b1"]) @ p["w2"] + p["b2"]),
                deltas_any(p, X, y, f, fp)[1],
            ),
            "not the probability p",
        ),
        wrong(ch06.check_activation_deltas, lambda p, X, y, f, fp: {"out": 0.0}, "pair"),
        wrong(  # hard-coded: the zeros of the first test problem's shapes
            ch06.check_activation_deltas, lambda p, X, y, f, fp: (np.zeros(7), np.zeros((7, 2))), "differs"
        ),
        wrong(ch06.check_activation_deltas, lambda p, X, y: deltas(p, X, y), "raised TypeError"),  # three arguments
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
    "check_head_logits": (ch06.check_head_logits, True),
    "check_hand_made_hill": (hand, False),
    "check_activation_gradients": (ch06.check_activation_gradients, True),
    "check_activation_deltas": (ch06.check_activation_deltas, True),
    "check_initial_spread": (spread_hand, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch06) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)


def test_the_activations_given_to_students_are_the_references_and_cannot_be_differentiated():
    # the jax.numpy activations and slopes handed to the student's function agree with the float64
    # NumPy references (relative precision kept where the units saturate), run under jax.jit, and
    # stop jax.grad with a message the checkers recognise
    a = np.linspace(-12.0, 12.0, 241)
    given = ch06._student_activations()
    for name, f, f_slope in ch06.ACTIVATIONS:
        g, g_slope = given[name]
        np.testing.assert_allclose(np.asarray(g(a)), f(a), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(np.asarray(g_slope(a)), f_slope(a), rtol=1e-4)
        np.testing.assert_allclose(np.asarray(jax.jit(g_slope)(a)), f_slope(a), rtol=1e-4)
        with pytest.raises(TypeError, match=ch06.NO_JAX_DERIVATIVE):
            jax.grad(lambda x, g=g: g(x).sum())(jnp.asarray(a))
