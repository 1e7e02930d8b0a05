"""Checkers for the exercises of Chapter 6 (a two-layer network by hand).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are the network's formulas in float64 NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays, sample_size_hints
from jaxbook.checks._core import Feedback, call_student, checker, fail
from jaxbook.checks._references import sigmoid

#: The parameters of the two-layer network, in the order Chapter 6 lists them.
PARAM_NAMES = ("W1", "b1", "w2", "b2")


def _np_logits(
    params: dict,
    X: np.ndarray,
    *,
    sigmoid_hidden: bool = True,
    b1: bool = True,
    b2: bool = True,
    transpose: bool = False,
) -> np.ndarray:
    W1 = params["W1"].T if transpose else params["W1"]
    pre = X @ W1 + (params["b1"] if b1 else 0.0)
    h = sigmoid(pre) if sigmoid_hidden else pre
    return h @ params["w2"] + (params["b2"] if b2 else 0.0)


def _test_problems() -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """Two small problems in float64 NumPy: (params, X, y) for widths 2 and 5."""
    rng = np.random.default_rng(606)
    problems = []
    for n, width in [(7, 2), (30, 5)]:
        params = {
            "W1": 1.5 * rng.normal(size=(2, width)),
            "b1": 1.5 * rng.normal(size=width),
            "w2": 1.5 * rng.normal(size=width),
            "b2": np.float64(1.5 * rng.normal()),
        }
        X = rng.uniform(size=(n, 2))
        y = (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(np.float64)
        problems.append((params, X, y))
    return problems


def _variants(params: dict, X: np.ndarray) -> dict[str, np.ndarray]:
    """What typical slips compute, for the forward pass."""
    correct = _np_logits(params, X)
    variants = {
        "the hidden layer needs its sigmoid: h = sigmoid(X @ W1 + b1), not X @ W1 + b1": _np_logits(
            params, X, sigmoid_hidden=False
        ),
        "the output is a logit: return h @ w2 + b2 without a sigmoid (the loss applies it)": sigmoid(correct),
        "the hidden bias b1 is missing": _np_logits(params, X, b1=False),
        "the output bias b2 is missing": _np_logits(params, X, b2=False),
    }
    if params["W1"].shape[0] == params["W1"].shape[1]:
        variants["W1 is used transposed: its rows are the inputs (x, y), its columns the hidden units"] = _np_logits(
            params, X, transpose=True
        )
    return variants


def _np_gradients(params: dict, X: np.ndarray, y: np.ndarray, *, sigmoid_derivative: bool = True) -> dict:
    """The gradient of the mean cross-entropy, by the chain rule in float64."""
    h = sigmoid(X @ params["W1"] + params["b1"])
    z = h @ params["w2"] + params["b2"]
    r = (sigmoid(z) - y) / X.shape[0]
    delta = r[:, None] * params["w2"] * (h * (1.0 - h) if sigmoid_derivative else 1.0)
    return {"W1": X.T @ delta, "b1": delta.sum(axis=0), "w2": h.T @ r, "b2": r.sum()}


def _network_batch(params: dict) -> list[dict]:
    """Three networks of the same width: ``params`` and two others derived from it."""
    flipped = {name: -value for name, value in params.items()}
    shrunk = {name: 0.5 * value + 0.1 for name, value in params.items()}
    return [params, flipped, shrunk]


def _stack(networks: list[dict]) -> dict:
    return {name: np.stack([net[name] for net in networks]) for name in PARAM_NAMES}


@checker("logits_fn", function=True)
def check_logits(logits_fn: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 6.1: ``logits_fn(params_batch, X)`` should return the logits of a BATCH of networks,
    shape ``(k, n)``, where every leaf of ``params_batch`` has a leading axis of length ``k`` (as
    ``jaxbook.nn.init_batch`` returns them) and ``X`` has shape ``(n, 2)``.

    The reference is the network's formula in float64 NumPy, network by network, on batches of
    three networks of widths 2 and 5.
    """
    for i, (params, X, _) in enumerate(_test_problems(), start=1):
        networks = _network_batch(params)
        k, n = len(networks), X.shape[0]
        got = call_student(logits_fn, _stack(networks), X, name="logits_fn", where=f"on test batch {i}")
        expected = np.stack([_np_logits(net, X) for net in networks])
        got_array = as_array(got)
        if got_array is not None:
            if got_array.shape == (n, k):
                return Feedback(
                    False, f"logits_fn returns shape {got_array.shape}: put one row per network, shape ({k}, {n})"
                )
            if got_array.shape in ((k, n, 1), (n, 1)):
                return Feedback(
                    False,
                    f"logits_fn returns shape {got_array.shape}; return one logit per point and network, shape ({k}, {n})",
                )
            if got_array.shape == (n,):
                return Feedback(
                    False,
                    f"logits_fn returns shape ({n},), the logits of one network; map over the {k} networks "
                    "(the leading axis of every leaf), for instance with jax.vmap",
                )
            if got_array.shape == expected.shape and not np.allclose(got_array, expected, atol=1e-4):
                for message, _ in _variants(params, X).items():
                    wrong = np.stack([_variants(net, X)[message] for net in networks])
                    if np.allclose(got_array, wrong, atol=1e-4):
                        return Feedback(False, message)
                if np.allclose(got_array, np.broadcast_to(expected[0], expected.shape), atol=1e-4):
                    return Feedback(False, "every row is the first network's logits: use each network's own parameters")
        result = compare_arrays(got, expected, name=f"logits on test batch {i}", rtol=1e-4, atol=1e-4)
        if not result.ok:
            return result
    return Feedback(True, "logits_fn agrees with the reference on batches of 3 networks of widths 2 and 5")


def _hand_params(params: Any) -> dict[str, np.ndarray]:
    if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
        keys = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise fail(f"params should be a dict with the keys {list(PARAM_NAMES)}; got {keys}")
    shapes = {"W1": (2, 2), "b1": (2,), "w2": (2,), "b2": ()}
    arrays = {}
    for name, shape in shapes.items():
        array = as_array(params[name])
        if array is None or array.shape != shape:
            got = type(params[name]).__name__ if array is None else array.shape
            raise fail(f"params[{name!r}] should have shape {shape} for a network of width 2; got {got}")
        if not np.all(np.isfinite(array)):
            raise fail(f"params[{name!r}] contains NaN or infinity")
        arrays[name] = array
    return arrays


@checker("hand_params")
def check_hand_made_hill(params: Any, data: Any, *, target: float = 0.95) -> Feedback:
    """Exercise 6.2: hand-chosen ``params`` (width 2) should reach ``target`` validation accuracy
    on ``data.X_val``, ``data.y_val`` (Chapter 6's hill data).

    The nine numbers must be round (at most one decimal each), as numbers chosen by hand are:
    parameters copied from a trained network are never round, and do not answer the exercise.
    Diagnoses flipped classes (accuracy near ``1 - target``) and a network that predicts one class
    everywhere.
    """
    params = _hand_params(params)
    not_round = [
        name
        for name in PARAM_NAMES
        if not np.allclose(10 * params[name], np.round(10 * params[name]), rtol=0, atol=1e-3)
    ]
    if not_round:
        return Feedback(
            False,
            f"params[{not_round[0]!r}] holds numbers with more than one decimal: choose the nine numbers by hand, "
            "as round numbers (trained parameters copied from a run of this chapter are not a hand-made hill)",
        )
    X_val, y_val = np.asarray(data.X_val, dtype=np.float64), np.asarray(data.y_val, dtype=np.float64)
    predicted = _np_logits(params, X_val) >= 0
    acc = float(np.mean(predicted == (y_val == 1.0)))
    if acc >= target:
        return Feedback(True, f"validation accuracy {acc:.3f} >= {target:.2f}: two half-planes make the hill")
    if 1.0 - acc >= target:
        return Feedback(
            False,
            f"accuracy {acc:.3f}: your network predicts the classes the wrong way round "
            "(class 1 is ABOVE the hill); negate w2 and b2",
        )
    if bool(np.all(predicted)) or not bool(np.any(predicted)):
        return Feedback(False, f"accuracy {acc:.3f}: the network predicts one class everywhere; check the sign of b2")
    return Feedback(False, f"validation accuracy {acc:.3f} < {target:.2f}: look at where each unit's line lies")


@checker("grad_fn", function=True)
def check_gradients(grad_fn: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 6.4: ``grad_fn(params, X, y)`` should return the gradient of ``jaxbook.nn.loss``
    as a dict with the keys and shapes of ``params``. The reference is the chain rule in float64
    NumPy, which the unit tests compare with ``jax.grad``.
    """
    for i, (params, X, y) in enumerate(_test_problems(), start=1):
        got = call_student(grad_fn, params, X, y, name="grad_fn", where=f"on test problem {i}")
        if not isinstance(got, dict) or set(got) != set(PARAM_NAMES):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return Feedback(False, f"grad_fn should return a dict with keys {list(PARAM_NAMES)}; got {keys}")
        expected = _np_gradients(params, X, y)
        without = _np_gradients(params, X, y, sigmoid_derivative=False)
        n = X.shape[0]
        hints = sample_size_hints(n)
        hints[float(n)] = "the loss is a mean over the n points: divide the summed gradient by n"
        hints[1.0 / n] = "you divided by n twice"
        for name in PARAM_NAMES:
            result = compare_arrays(
                got[name],
                expected[name],
                name=f"the gradient for {name} on test problem {i}",
                rtol=1e-3,
                atol=1e-5,
                hints=hints,
            )
            if not result.ok:
                got_array = as_array(got[name])
                if (
                    name in ("W1", "b1")
                    and got_array is not None
                    and got_array.shape == without[name].shape
                    and np.allclose(got_array, without[name], rtol=1e-3, atol=1e-5)
                ):
                    return Feedback(False, f"the gradient for {name} misses the sigmoid's derivative h (1 - h)")
                return result
    return Feedback(True, "grad_fn agrees with the chain rule (and jax.grad) on 2 test problems")


def _np_deltas(params: dict, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two backpropagated errors, in float64: dL/dz (n,) and dL/da (n, width), a = X W1 + b1."""
    h = sigmoid(X @ params["W1"] + params["b1"])
    delta_out = (sigmoid(h @ params["w2"] + params["b2"]) - y) / X.shape[0]
    return delta_out, delta_out[:, None] * params["w2"] * h * (1.0 - h)


def _pair(got: Any, shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> tuple[Any, Any]:
    if isinstance(got, dict) or not isinstance(got, tuple | list) or len(got) != 2:
        kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, tuple | list) else type(got).__name__
        raise fail(f"deltas_fn should return a pair (delta_out, delta_hidden); got {kind}")
    first, second = as_array(got[0]), as_array(got[1])
    if first is not None and second is not None and first.shape == shapes[1] and second.shape == shapes[0]:
        raise fail("the pair is in the wrong order: return (delta_out, delta_hidden), the output layer's first")
    return got[0], got[1]


@checker("deltas_fn", function=True)
def check_deltas(deltas_fn: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 6.3: ``deltas_fn(params, X, y)`` should return the backpropagated errors
    ``(delta_out, delta_hidden)``: the derivative of the mean cross-entropy with respect to each
    logit, shape ``(n,)``, and with respect to each hidden pre-activation ``X @ W1 + b1``, shape
    ``(n, width)``. These intermediate quantities are what backpropagation computes and
    ``jax.grad`` of the parameters does not return; the reference is the chain rule in float64.
    """
    for i, (params, X, y) in enumerate(_test_problems(), start=1):
        n, width = X.shape[0], params["w2"].shape[0]
        got = call_student(deltas_fn, params, X, y, name="deltas_fn", where=f"on test problem {i}")
        got_out, got_hidden = _pair(got, ((n,), (n, width)))
        delta_out, delta_hidden = _np_deltas(params, X, y)
        out_array = as_array(got_out)
        if out_array is not None and out_array.shape == (n,):
            p = sigmoid(_np_logits(params, X))
            if np.allclose(out_array, p / n, rtol=1e-3, atol=1e-7) or np.allclose(out_array, p, rtol=1e-3):
                return Feedback(False, "delta_out is the derivative of the loss, p - y (over n), not the probability p")
        hints = sample_size_hints(n)
        hints[float(n)] = "the loss is a mean over the n points: delta_out is (p - y) / n"
        hints[1.0 / n] = "you divided by n twice"
        result = compare_arrays(
            got_out, delta_out, name=f"delta_out on test problem {i}", rtol=1e-3, atol=1e-7, hints=hints
        )
        if not result.ok:
            return result
        hidden_array = as_array(got_hidden)
        if hidden_array is not None and hidden_array.shape == (width,):
            return Feedback(
                False,
                f"delta_hidden has shape ({width},): keep one row per point, shape ({n}, {width}); sum only for b1",
            )
        if hidden_array is not None and hidden_array.shape == delta_hidden.shape:
            h = sigmoid(X @ params["W1"] + params["b1"])
            slips = {
                "delta_hidden misses the sigmoid's derivative h (1 - h): that is dL/dh, not dL/da": delta_out[:, None]
                * params["w2"],
                "delta_hidden uses the output's derivative p (1 - p); the hidden units need their own h (1 - h)": (
                    delta_out[:, None]
                    * params["w2"]
                    * (sigmoid(_np_logits(params, X)) * (1 - sigmoid(_np_logits(params, X))))[:, None]
                ),
                "delta_hidden misses the output weight w2: the error reaches unit j through w2[j]": delta_out[:, None]
                * h
                * (1 - h),
            }
            if not np.allclose(hidden_array, delta_hidden, rtol=1e-3, atol=1e-8):
                for message, wrong in slips.items():
                    if np.allclose(hidden_array, wrong, rtol=1e-3, atol=1e-8):
                        return Feedback(False, message)
        result = compare_arrays(
            got_hidden, delta_hidden, name=f"delta_hidden on test problem {i}", rtol=1e-3, atol=1e-8, hints=hints
        )
        if not result.ok:
            return result
    return Feedback(True, "deltas_fn returns the backpropagated errors of both layers on 2 test problems")


#: Keys and initial scales on which check_initial_spread calls the student's function.
_SPREAD_CALLS = ((11, 3.0), (12, 2.0), (13, 2.0))


def _spread_reference(X: np.ndarray, scale: float) -> float:
    # every entry of W1 and b1 is N(0, scale^2), independent of the inputs: for one point,
    # Var(a) = scale^2 (x^2 + y^2 + 1); over the data the variance is the mean of that
    return float(scale * np.sqrt(np.mean(np.sum(X**2, axis=1)) + 1.0))


@checker("spread_fn", function=True)
def check_initial_spread(spread_fn: Callable[[Any, float], Any], data: Any, *, rtol: float = 0.07) -> Feedback:
    """Exercise 6.5: ``spread_fn(key, init_scale)`` should MEASURE the standard deviation of the
    hidden pre-activations ``Xs @ W1 + b1`` of many freshly drawn width-2 networks, where ``Xs``
    is ``data.X_val`` standardised column by column.

    The reference is the variance-propagation formula ``init_scale * sqrt(mean |x|^2 + 1)``; a
    measurement agrees with it within ``rtol`` (7 %, about four Monte Carlo standard errors with
    1000 networks). A function that returns the same number for two different keys computes the
    formula instead of measuring, and is not accepted.
    """
    X = np.asarray(data.X_val, dtype=np.float64)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    got = []
    for seed, scale in _SPREAD_CALLS:
        import jax  # the student's function takes a JAX key; jax is a dependency of the book

        value = call_student(spread_fn, jax.random.key(seed), scale, name="spread_fn", where=f"with init_scale={scale}")
        got.append(as_number(value, f"spread_fn(key, {scale})"))
        expected = _spread_reference(Xs, scale)
        g = got[-1]
        if not np.isfinite(g):
            return Feedback(False, f"spread_fn returned {g} for init_scale={scale}")
        if abs(g - expected) <= rtol * expected:
            continue
        raw = _spread_reference(X, scale)
        no_bias = float(scale * np.sqrt(np.mean(np.sum(Xs**2, axis=1))))
        if abs(g - expected**2) <= rtol * expected**2:
            return Feedback(
                False, f"spread_fn gives {g:.3g} for init_scale={scale}: that is a variance; take its square root"
            )
        if abs(g - raw) <= rtol * raw:
            return Feedback(False, f"spread_fn gives {g:.3g} for init_scale={scale}: standardise the inputs first")
        if abs(g - no_bias) <= rtol * no_bias:
            return Feedback(
                False,
                f"spread_fn gives {g:.3g} for init_scale={scale}: the bias b1 is missing from X @ W1 + b1, or you took "
                "the spread within each network (around its own mean, which removes b1's share): take the standard "
                "deviation of all the pre-activations of all the networks at once",
            )
        if 0 <= g <= 0.5 < expected:
            return Feedback(
                False,
                f"spread_fn gives {g:.3g} for init_scale={scale}: that is the spread after the sigmoid; "
                "measure the pre-activations X @ W1 + b1",
            )
        return Feedback(
            False,
            f"spread_fn gives {g:.4g} for init_scale={scale}, but the pre-activations of many networks have a "
            f"standard deviation near {expected:.3g} (draw at least 1000 networks)",
        )
    if got[1] == got[2]:
        return Feedback(
            False, "spread_fn returns exactly the same number for two different keys: measure it from random draws"
        )
    return Feedback(True, f"your measurements agree with init_scale * sqrt(3): {got[0]:.3f} at 3, {got[1]:.3f} at 2")
