"""Checkers for the exercises of Chapter 6 (a two-layer network by hand).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are the network's formulas in float64 NumPy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays, require, sample_size_hints
from jaxbook.checks._core import Feedback, StudentError, call_student, checker, fail
from jaxbook.checks._references import sigmoid

#: The parameters of the two-layer network, in the order Chapter 6 lists them.
PARAM_NAMES = ("W1", "b1", "w2", "b2")


def _np_logits(params: dict, X: np.ndarray) -> np.ndarray:
    """The logits of the two-layer network with sigmoid hidden units, in float64 NumPy."""
    h = sigmoid(X @ params["W1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


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


def _np_head_logits(
    params: dict,
    X: np.ndarray,
    *,
    sigmoid_hidden: bool = True,
    b1: bool = True,
    b2: str = "rows",
    output_sigmoid: bool = False,
    transpose_W1: bool = False,
) -> np.ndarray:
    """Logits of k heads on one shared hidden layer, shape (k, n), in float64 (variants: slips)."""
    W1 = params["W1"].T if transpose_W1 else params["W1"]
    pre = X @ W1 + (params["b1"] if b1 else 0.0)
    h = sigmoid(pre) if sigmoid_hidden else pre
    z = params["w2"] @ h.T  # (k, n)
    if b2 == "rows":
        z = z + params["b2"][:, None]
    elif b2 == "columns":  # b2[j] added to point j: what (w2 @ h.T) + b2 does when n == k
        z = z + params["b2"][None, :]
    return sigmoid(z) if output_sigmoid else z


def _head_problems() -> list[tuple[dict, np.ndarray]]:
    """(params, X) with a shared hidden layer and k heads: widths 2, 5, 3 with 3, 4, 4 heads; the
    last has as many points as heads, so that a bias added along the wrong axis can be seen."""
    rng = np.random.default_rng(616)
    problems = []
    for n, width, k in [(7, 2, 3), (30, 5, 4), (4, 3, 4)]:
        params = {
            "W1": 1.5 * rng.normal(size=(2, width)),
            "b1": 1.5 * rng.normal(size=width),
            "w2": 1.5 * rng.normal(size=(k, width)),
            "b2": 1.5 * rng.normal(size=k),
        }
        problems.append((params, rng.uniform(size=(n, 2))))
    return problems


@checker("head_logits", function=True)
def check_head_logits(head_logits: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 6.1: ``head_logits(params, X)`` should return the logits of ``k`` heads that share
    one hidden layer, shape ``(k, n)``: ``params["W1"]`` is ``(2, width)`` and ``params["b1"]``
    ``(width,)`` (shared), ``params["w2"]`` is ``(k, width)`` and ``params["b2"]`` ``(k,)`` (one
    row and one bias per head), and ``X`` is ``(n, 2)``.

    The reference is the network's formula in float64 NumPy, on parameters and points of the
    checker's own (widths 2, 5 and 3 with 3, 4 and 4 heads; the last problem has as many points
    as heads).
    """
    for i, (params, X) in enumerate(_head_problems(), start=1):
        k, n = params["w2"].shape[0], X.shape[0]
        try:
            got = call_student(head_logits, params, X, name="head_logits", where=f"on test problem {i}")
        except StudentError as exc:
            if "inconsistent sizes" in exc.feedback.message:
                return Feedback(
                    False,
                    f"jax.vmap was asked to map axes of different lengths on test problem {i}: W1, b1 and X have "
                    f"no head axis (W1's first axis has length 2, w2's has length k = {k}); map only w2 and b2 "
                    "(in_axes 0) and pass the shared leaves and X whole (in_axes None)",
                )
            if "broadcast" in exc.feedback.message:
                raise fail(
                    f"{exc.feedback.message} (a matrix of shape (k, n) = ({k}, {n}) plus b2 of shape ({k},) lines b2 "
                    "up with the points, not the heads: add b2[:, None], or let jax.vmap hand each head its own b2[i])"
                ) from None
            raise
        expected = _np_head_logits(params, X)
        got_array = as_array(got)
        if got_array is not None:
            if got_array.shape == (n, k) and n != k:
                return Feedback(
                    False,
                    f"head_logits returns shape ({n}, {k}), one row per point: the result is transposed; "
                    f"return one row per head, shape ({k}, {n})",
                )
            if got_array.shape in ((n,), (k,)) and n != k:
                what = "one head's logits" if got_array.shape == (n,) else "one number per head"
                return Feedback(
                    False,
                    f"head_logits returns shape {got_array.shape}, {what}: return every head's logit at every "
                    f"point, shape ({k}, {n})",
                )
            if got_array.shape == (k,) and n == k:
                pairs = np.array([expected[j, j] for j in range(k)])
                if np.allclose(got_array, pairs, atol=1e-4):
                    return Feedback(
                        False,
                        "head_logits returns head i's logit at point i only: X was mapped together with the "
                        "heads; pass X whole to every head (in_axes None for X)",
                    )
            if got_array.shape == expected.shape and np.all(np.isfinite(got_array)):
                if not np.allclose(got_array, expected, rtol=1e-4, atol=1e-4):
                    slips = {
                        "the hidden layer needs its sigmoid: h = sigmoid(X @ W1 + b1), not X @ W1 + b1": (
                            _np_head_logits(params, X, sigmoid_hidden=False)
                        ),
                        "the output is a logit: return h @ w2 + b2 without a sigmoid": _np_head_logits(
                            params, X, output_sigmoid=True
                        ),
                        "the hidden bias b1 is missing": _np_head_logits(params, X, b1=False),
                        "the heads' biases b2 are missing": _np_head_logits(params, X, b2="none"),
                        "every row is the first head's logits: use each head's own w2[i] and b2[i]": np.broadcast_to(
                            expected[0], expected.shape
                        ),
                    }
                    if n == k:
                        slips[
                            "head i's bias b2[i] belongs to row i: it was added to column i (point i); add "
                            "b2[:, None] to a (k, n) matrix"
                        ] = _np_head_logits(params, X, b2="columns")
                    if params["W1"].shape[0] == params["W1"].shape[1]:
                        slips["W1 is used transposed: its rows are the inputs (x, y), its columns the hidden units"] = (
                            _np_head_logits(params, X, transpose_W1=True)
                        )
                    for message, wrong in slips.items():
                        if np.allclose(got_array, wrong, rtol=1e-4, atol=1e-4):
                            return Feedback(False, message)
        require(compare_arrays(got, expected, name=f"the logits on test problem {i}", rtol=1e-4, atol=1e-4))
    return Feedback(True, "head_logits agrees with the formula for 3 and 4 heads on hidden layers of widths 2, 5 and 3")


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


def _pair(got: Any, shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> tuple[Any, Any]:
    if isinstance(got, dict) or not isinstance(got, tuple | list) or len(got) != 2:
        kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, tuple | list) else type(got).__name__
        raise fail(f"deltas_fn should return a pair (delta_out, delta_hidden); got {kind}")
    first, second = as_array(got[0]), as_array(got[1])
    if first is not None and second is not None and first.shape == shapes[1] and second.shape == shapes[0]:
        raise fail("the pair is in the wrong order: return (delta_out, delta_hidden), the output layer's first")
    return got[0], got[1]


# --- hidden units with any activation ---------------------------------------------------------
# The references use the NumPy functions below, in float64. The student's function is given JAX
# versions whose derivative JAX does not know (a custom_jvp rule that raises): they run eagerly,
# under jax.jit and jax.vmap, but jax.grad or jax.vjp through them stops with NO_JAX_DERIVATIVE.

NO_JAX_DERIVATIVE = "JAX has no derivative for the check's activation"


def _np_tanh(a: Any) -> np.ndarray:
    return np.tanh(np.asarray(a, dtype=np.float64))


def _np_tanh_slope(a: Any) -> np.ndarray:
    return 1.0 - np.tanh(np.asarray(a, dtype=np.float64)) ** 2


def _np_softsign(a: Any) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a / (1.0 + np.abs(a))


def _np_softsign_slope(a: Any) -> np.ndarray:
    return 1.0 / (1.0 + np.abs(np.asarray(a, dtype=np.float64))) ** 2


def _np_sigmoid(a: Any) -> np.ndarray:
    return sigmoid(np.asarray(a, dtype=np.float64))


def _np_sigmoid_slope(a: Any) -> np.ndarray:
    s = sigmoid(np.asarray(a, dtype=np.float64))
    return s * (1.0 - s)


#: The activations the checks pass, as (name, f, f'), in float64 NumPy.
ACTIVATIONS = (
    ("tanh", _np_tanh, _np_tanh_slope),
    ("softsign a / (1 + |a|)", _np_softsign, _np_softsign_slope),
    ("sigmoid", _np_sigmoid, _np_sigmoid_slope),
)


def _without_jax_derivative(function: Callable, what: str) -> Callable:
    """``function`` (written with jax.numpy) as a function JAX can run and jit but not differentiate."""
    import jax  # the student's code runs on JAX; jax is a dependency of the book

    wrapped = jax.custom_jvp(function)

    @wrapped.defjvp
    def _no_derivative(primals, tangents):
        raise TypeError(
            f"{NO_JAX_DERIVATIVE} ({what}): jax.grad and jax.vjp cannot differentiate through it; "
            "use the slope that the check passes"
        )

    return wrapped


@functools.cache
def _student_activations() -> dict[str, tuple[Callable, Callable]]:
    """Name -> (activation, slope) as handed to the student's function: jax.numpy, float32 by
    default, written so that the slopes keep their relative precision where the unit saturates.
    Each is jitted (the check's own functions, not the student's), so that a call on a new shape
    compiles one program instead of one per jax.numpy operation; made once, shared by the checks."""
    import jax
    import jax.numpy as jnp

    formulas = {
        "tanh": (jnp.tanh, lambda a: 1.0 / jnp.cosh(a) ** 2),
        "softsign a / (1 + |a|)": (lambda a: a / (1.0 + jnp.abs(a)), lambda a: 1.0 / (1.0 + jnp.abs(a)) ** 2),
        "sigmoid": (jax.nn.sigmoid, lambda a: jax.nn.sigmoid(a) * jax.nn.sigmoid(-a)),
    }
    return {
        name: (jax.jit(_without_jax_derivative(f, "activation")), jax.jit(_without_jax_derivative(f_slope, "slope")))
        for name, (f, f_slope) in formulas.items()
    }


def _activation_cases() -> list[tuple[str, Callable, Callable, dict, np.ndarray, np.ndarray]]:
    """(name, f, f', params, X, y): tanh and softsign on widths 2 and 5, then the sigmoid."""
    problems = _test_problems()
    return [
        (*ACTIVATIONS[0], *problems[0]),
        (*ACTIVATIONS[1], *problems[1]),
        (*ACTIVATIONS[0], *problems[1]),
        (*ACTIVATIONS[2], *problems[0]),
    ]


def _np_activation_deltas(
    params: dict, X: np.ndarray, y: np.ndarray, f: Callable, f_slope: Callable, *, slip: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """dL/dz (n,) and dL/da (n, width) for h = f(a), a = X W1 + b1, in float64; ``slip`` names a
    common mistake, to recognise it."""
    a = X @ params["W1"] + params["b1"]
    h = _np_sigmoid(a) if slip == "sigmoid forward" else f(a)
    p = sigmoid(h @ params["w2"] + params["b2"])
    delta_out = (p - y) / X.shape[0]
    slope = {
        "": f_slope(a),
        "slope at h": f_slope(h),
        "sigmoid slope": h * (1.0 - h),
        "no slope": 1.0,
        "output slope": (p * (1.0 - p))[:, None],
        "sigmoid forward": _np_sigmoid_slope(a),
    }[slip if slip != "no w2" else ""]
    w2 = 1.0 if slip == "no w2" else params["w2"]
    return delta_out, delta_out[:, None] * w2 * slope


_DELTA_SLIPS = {
    "slope at h": "the slope is taken at h = f(a); the chain rule needs f'(a), at the pre-activation: slope(a)",
    "sigmoid slope": "delta_hidden uses the sigmoid's derivative h (1 - h) for every activation; the hidden units use "
    "the activation passed in, whose derivative is slope(a)",
    "no slope": "delta_hidden misses the activation's derivative: that is dL/dh; multiply by slope(a) to get dL/da",
    "output slope": "delta_hidden uses the output's derivative p (1 - p); the hidden units need their own slope(a)",
    "no w2": "delta_hidden misses the output weight w2: the error reaches unit j through w2[j]",
    "sigmoid forward": "these are the errors of sigmoid hidden units: compute h = activation(X @ W1 + b1) with the "
    "activation passed in, and its slope with slope",
}


def _call_with_activation(function: Any, args: tuple, *, name: str, where: str) -> Any:
    try:
        return call_student(function, *args, name=name, where=where)
    except StudentError as exc:
        message = exc.feedback.message
        if NO_JAX_DERIVATIVE in message:
            raise fail(
                f"{name} differentiated the activation with JAX {where} (jax.grad or jax.vjp): the check's activation "
                "and slope are functions whose derivative JAX does not know. Apply the chain rule yourself: compute "
                "a, then activation(a) and slope(a) as arrays"
            ) from None
        if "not a valid JAX type" in message or "as an abstract array" in message:
            raise fail(
                f"{name} is jitted with activation and slope as traced arguments {where}, and jax.jit can only trace "
                "arrays: that is no slip in the chain rule; mark them static, "
                'jax.jit(..., static_argnames=("activation", "slope")), or leave out jax.jit'
            ) from None
        if "Tracer" in message:
            raise fail(
                f"{message}. (Under jax.jit or jax.grad, NumPy functions such as np.tanh cannot take traced arrays: "
                "use jax.numpy, or leave out jax.jit; the check's own activation and slope accept traced arrays)"
            ) from None
        raise


@checker("deltas_fn", function=True)
def check_activation_deltas(deltas_fn: Callable[..., Any]) -> Feedback:
    """Exercise 6.3: ``deltas_fn(params, X, y, activation, slope)`` should return the backpropagated
    errors ``(delta_out, delta_hidden)`` of a network whose hidden units are ``h = activation(a)``,
    ``a = X @ W1 + b1``: the derivative of the mean cross-entropy with respect to each logit,
    shape ``(n,)``, and with respect to each pre-activation, shape ``(n, width)``.

    ``activation`` and ``slope`` (its derivative; tanh, softsign, the sigmoid) are functions JAX
    can run and jit but not differentiate: the answer must apply the chain rule through the hidden
    layer itself, and a jitted answer (activation and slope static) is accepted. The reference is the chain rule in float64, which the unit tests compare with
    ``jax.grad`` of the same network written with JAX's own activations.
    """
    given = _student_activations()
    for i, (act_name, f, f_slope, params, X, y) in enumerate(_activation_cases(), start=1):
        n, width = X.shape[0], params["w2"].shape[0]
        where = f"on test problem {i} ({act_name}, width {width})"
        got = _call_with_activation(deltas_fn, (params, X, y, *given[act_name]), name="deltas_fn", where=where)
        got_out, got_hidden = _pair(got, ((n,), (n, width)))
        delta_out, delta_hidden = _np_activation_deltas(params, X, y, f, f_slope)
        out_array = as_array(got_out)
        if out_array is not None and out_array.shape == (n,):
            p = sigmoid(f(X @ params["W1"] + params["b1"]) @ params["w2"] + params["b2"])
            if np.allclose(out_array, p / n, rtol=1e-3, atol=1e-7) or np.allclose(out_array, p, rtol=1e-3):
                return Feedback(False, "delta_out is the derivative of the loss, p - y (over n), not the probability p")
            wrong_out, _ = _np_activation_deltas(params, X, y, f, f_slope, slip="sigmoid forward")
            if act_name != "sigmoid" and np.allclose(out_array, wrong_out, rtol=1e-3, atol=1e-7):
                return Feedback(False, _DELTA_SLIPS["sigmoid forward"])
        hints = sample_size_hints(n)
        hints[float(n)] = "the loss is a mean over the n points: delta_out is (p - y) / n"
        hints[1.0 / n] = "you divided by n twice"
        require(compare_arrays(got_out, delta_out, name=f"delta_out {where}", rtol=1e-3, atol=1e-7, hints=hints))
        hidden_array = as_array(got_hidden)
        if hidden_array is not None and hidden_array.shape == (width,):
            return Feedback(
                False,
                f"delta_hidden has shape ({width},): keep one row per point, shape ({n}, {width}); sum only for b1",
            )
        if (
            hidden_array is not None
            and hidden_array.shape == delta_hidden.shape
            and not np.allclose(hidden_array, delta_hidden, rtol=1e-3, atol=1e-8)
        ):
            for slip, message in _DELTA_SLIPS.items():
                if slip == "sigmoid slope" and act_name == "sigmoid":
                    continue
                _, wrong = _np_activation_deltas(params, X, y, f, f_slope, slip=slip)
                if np.allclose(hidden_array, wrong, rtol=1e-3, atol=1e-8):
                    return Feedback(False, message)
        require(
            compare_arrays(got_hidden, delta_hidden, name=f"delta_hidden {where}", rtol=1e-3, atol=1e-8, hints=hints)
        )
    return Feedback(
        True,
        "deltas_fn carries the errors through tanh, softsign and sigmoid units by the chain rule (4 test problems)",
    )


def _np_activation_gradients(
    params: dict, X: np.ndarray, y: np.ndarray, f: Callable, f_slope: Callable, *, slip: str = ""
) -> dict:
    """The gradient of the mean cross-entropy for hidden units h = f(a), by the chain rule in float64."""
    h = f(X @ params["W1"] + params["b1"])
    delta_out, delta_hidden = _np_activation_deltas(params, X, y, f, f_slope, slip=slip)
    return {"W1": X.T @ delta_hidden, "b1": delta_hidden.sum(axis=0), "w2": h.T @ delta_out, "b2": delta_out.sum()}


@checker("grad_fn", function=True)
def check_activation_gradients(grad_fn: Callable[..., Any]) -> Feedback:
    """Exercise 6.4: ``grad_fn(params, X, y, activation, slope)`` should return the gradient of the
    mean cross-entropy of a network with hidden units ``h = activation(X @ W1 + b1)``, as a dict
    with the keys and shapes of ``params``. ``activation`` and ``slope`` cannot be differentiated
    by JAX, as for :func:`check_activation_deltas`; the reference is the chain rule in float64 NumPy, which
    the unit tests compare with ``jax.grad``.
    """
    given = _student_activations()
    for i, (act_name, f, f_slope, params, X, y) in enumerate(_activation_cases(), start=1):
        width = params["w2"].shape[0]
        where = f"on test problem {i} ({act_name}, width {width})"
        got = _call_with_activation(grad_fn, (params, X, y, *given[act_name]), name="grad_fn", where=where)
        if not isinstance(got, dict) or set(got) != set(PARAM_NAMES):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return Feedback(False, f"grad_fn should return a dict with keys {list(PARAM_NAMES)}; got {keys}")
        expected = _np_activation_gradients(params, X, y, f, f_slope)
        n = X.shape[0]
        hints = sample_size_hints(n)
        hints[float(n)] = "the loss is a mean over the n points: divide the summed gradient by n"
        hints[1.0 / n] = "you divided by n twice"
        for name in PARAM_NAMES:
            result = compare_arrays(
                got[name], expected[name], name=f"the gradient for {name} {where}", rtol=1e-3, atol=1e-5, hints=hints
            )
            if result.ok:
                continue
            got_array = as_array(got[name])
            if got_array is not None and got_array.shape == expected[name].shape:
                for slip, message in _DELTA_SLIPS.items():
                    if slip == "sigmoid slope" and act_name == "sigmoid":
                        continue
                    wrong = _np_activation_gradients(params, X, y, f, f_slope, slip=slip)[name]
                    if np.allclose(got_array, wrong, rtol=1e-3, atol=1e-5):
                        return Feedback(
                            False,
                            f"the gradient for {name}: {message.replace('delta_hidden', 'the error at the hidden layer')}",
                        )
            return result
    return Feedback(
        True, "grad_fn agrees with the chain rule through tanh, softsign and sigmoid units (4 test problems)"
    )


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
