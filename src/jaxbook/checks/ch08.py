"""Checkers for the exercises of Chapter 8 (networks with Flax NNX).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxbook import flax_models
from jaxbook.checks._compare import as_array, as_number, compare_arrays
from jaxbook.checks._core import Feedback, call_student, checker
from jaxbook.checks._references import sigmoid


@checker("two_logits", function=True)
def check_two_logits(two_logits: Callable[[Any], Any]) -> Feedback:
    """Exercise 8.1: ``two_logits(z)`` should turn one logit per example, shape ``(n,)``, into two,
    shape ``(n, 2)``, whose softmax is ``(1 - sigmoid(z), sigmoid(z))``.

    Any pair whose difference is ``z`` is right (``(0, z)``, ``(-z/2, z/2)``,
    ``(log_sigmoid(-z), log_sigmoid(z))``). Diagnoses swapped columns, stacking along the wrong
    axis, and probabilities passed as logits.
    """
    z = np.array([-30.0, -2.0, -0.5, 0.0, 0.7, 3.0, 25.0], dtype=np.float32)
    got = as_array(call_student(two_logits, jnp.asarray(z), name="two_logits"))
    if got is None:
        return Feedback(False, "two_logits should return an array of shape (n, 2)")
    if got.shape == (2, z.size):
        return Feedback(False, f"two_logits returns shape {got.shape}; stack along the last axis to get ({z.size}, 2)")
    if got.shape != (z.size, 2):
        return Feedback(False, f"two_logits returns shape {got.shape}; expected ({z.size}, 2)")
    if not np.all(np.isfinite(got)):
        return Feedback(False, f"two_logits returns NaN or infinity for z = {z.tolist()} (is there a log of 0?)")
    p = sigmoid(z)
    if np.allclose(got, np.column_stack([1.0 - p, p]), atol=1e-5) or np.allclose(
        got, np.column_stack([p, 1.0 - p]), atol=1e-5
    ):
        return Feedback(
            False,
            "those are the probabilities (1 - sigmoid(z), sigmoid(z)), not logits: softmax would turn them into "
            "other probabilities. Return logits whose difference is z, e.g. (0, z)",
        )
    shifted = got - got.max(axis=1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    if np.allclose(softmax[:, 0], p, atol=1e-5):
        return Feedback(False, "the classes are swapped: column 1 must be the logit of class 1, so put z second")
    result = compare_arrays(softmax[:, 1], p, name="softmax(two_logits(z))[:, 1]", rtol=1e-4, atol=1e-5)
    if result.ok:
        return Feedback(True, "softmax of your two logits equals sigmoid(z): only their difference matters")
    return result


def _params(model: nnx.Module) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]


def _plain_jax_jit(function: Any) -> bool:
    """A function wrapped in ``jax.jit`` (not ``nnx.jit``)."""
    return (
        hasattr(function, "lower")
        and hasattr(function, "__wrapped__")
        and not type(function).__module__.startswith("flax")
    )


#: The weight of the L2 penalty on the kernels in Exercise 8.2.
PENALTY = 0.01


def _penalised_loss(model: flax_models.MLP, X: Any, y: Any) -> Any:
    penalty = sum(jnp.sum(layer.kernel[...] ** 2) for layer in [*model.hidden, model.output])
    return flax_models.sigmoid_loss(model, X, y) + PENALTY * penalty


def _penalised_loss_with_biases(model: flax_models.MLP, X: Any, y: Any) -> Any:
    penalty = sum(jnp.sum(layer.bias[...] ** 2) for layer in [*model.hidden, model.output])
    return _penalised_loss(model, X, y) + PENALTY * penalty


_VARIANTS = {  # the reference step, and two slips whose updates it can recognise
    "right": _penalised_loss,
    "no penalty": flax_models.sigmoid_loss,
    "biases too": _penalised_loss_with_biases,
}


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b))


def _step_data() -> tuple[jax.Array, jax.Array]:
    X = jax.random.uniform(jax.random.key(81), (64, 2))
    return X, (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(jnp.float32)


def _new_step_model() -> flax_models.MLP:  # nonzero biases, so that penalising them shows at once
    return flax_models.MLP(2, [2], 1, bias_init=nnx.initializers.normal(0.5), rngs=nnx.Rngs(8))


@functools.cache
def _reference_steps() -> tuple[dict[str, list[float]], dict[str, list[np.ndarray]]]:
    """Two Adam steps of the reference and of each slip in ``_VARIANTS``, from identical models.

    Returns the penalised loss before and after each reference step and the unpenalised loss before
    it, and every variant's parameters after the two steps. They depend on nothing the student
    passes, so they are computed once per process, in one compiled call.
    """
    X, y = _step_data()
    models = {name: _new_step_model() for name in _VARIANTS}
    optimizers = {name: nnx.Optimizer(m, optax.adam(0.1), wrt=nnx.Param) for name, m in models.items()}

    @nnx.jit
    def two_steps(models, optimizers, X, y):
        expected: dict[str, list[jax.Array]] = {"before": [], "after": [], "unpenalised": []}
        for _ in range(2):
            expected["before"].append(_penalised_loss(models["right"], X, y))
            expected["unpenalised"].append(flax_models.sigmoid_loss(models["right"], X, y))
            for name, loss_fn in _VARIANTS.items():
                optimizers[name].update(models[name], nnx.grad(loss_fn)(models[name], X, y))
            expected["after"].append(_penalised_loss(models["right"], X, y))
        return expected

    expected = two_steps(models, optimizers, X, y)
    return (
        {key: [float(value) for value in values] for key, values in expected.items()},
        {name: _params(m) for name, m in models.items()},
    )


@checker("train_step", function=True)
def check_train_step(train_step: Callable[..., Any]) -> Feedback:
    """Exercise 8.2: ``train_step(model, optimizer, X, y)`` should compute the penalised loss
    ``flax_models.sigmoid_loss(model, X, y) + 0.01 * (sum of the squared kernel entries)`` (no
    biases) and its gradient with ``nnx.value_and_grad``, apply ``optimizer.update(model, grads)``
    and return the penalised loss before the update.

    Two steps are compared with references on identical models. Diagnoses a step wrapped in plain
    ``jax.jit`` (it runs, but works on copies of the model, so the update is silently dropped), no
    update, two updates per step, an update without the penalty or with the biases penalised too,
    a returned loss without the penalty, and the loss computed after the update.
    """
    X, y = _step_data()
    model = _new_step_model()
    optimizer = nnx.Optimizer(model, optax.adam(0.1), wrt=nnx.Param)
    before = _params(model)
    expected, reference_params = _reference_steps()
    losses = [
        call_student(train_step, model, optimizer, X, y, name="train_step", where=f"at step {k + 1}", allow_none=True)
        for k in range(2)
    ]
    after = _params(model)
    if all(np.array_equal(a, b) for a, b in zip(before, after)):
        if _plain_jax_jit(train_step):
            return Feedback(
                False,
                "train_step is wrapped in plain jax.jit: it runs without an error, but on copies of the model and "
                "optimizer, so optimizer.update changes the copies and the update is silently dropped. Use nnx.jit, "
                "which carries the in-place changes back out",
            )
        computed = [as_array(loss) for loss in losses]
        if all(c is not None and c.size == 1 for c in computed) and np.allclose(
            [float(c.ravel()[0]) for c in computed], expected["before"][0], rtol=1e-4, atol=1e-6
        ):
            return Feedback(
                False,
                "the loss is right but the model's parameters did not change: call optimizer.update(model, grads) "
                "(and if the step is inside jax.jit, use nnx.jit instead: jax.jit silently drops the update)",
            )
        return Feedback(False, "the model's parameters did not change: call optimizer.update(model, grads)")
    if int(np.asarray(optimizer.step[...])) == 4:
        return Feedback(False, "optimizer.update was called twice per step")
    if not _same(after, reference_params["right"]):
        if _same(after, reference_params["no penalty"]):
            return Feedback(
                False,
                "the update ignores the penalty: differentiate the penalised loss, sigmoid_loss + 0.01 * the sum of "
                "the squared kernel entries",
            )
        if _same(after, reference_params["biases too"]):
            return Feedback(False, "the penalty includes the biases: only the kernels (the weights) are penalised")
        for g, e in zip(after, reference_params["right"]):
            result = compare_arrays(g, e, name="the parameters after two steps", rtol=1e-4, atol=1e-6)
            if not result.ok:
                return Feedback(
                    False,
                    f"{result.message} (is the loss sigmoid_loss + {PENALTY} * the sum of the squared kernel entries, "
                    "and the optimizer the one passed in?)",
                )
    if any(loss is None for loss in losses):
        return Feedback(False, "train_step should return the loss; it returned None")
    got = [as_number(loss, "the returned loss") for loss in losses]
    if np.allclose(got, expected["before"], rtol=1e-4, atol=1e-6):
        return Feedback(
            True, "train_step matches nnx.value_and_grad of the penalised loss + optimizer.update over two steps"
        )
    if np.allclose(got, expected["after"], rtol=1e-4, atol=1e-6):
        return Feedback(
            False,
            "the returned loss is computed after the update: return the loss before the update, "
            "the one nnx.value_and_grad gives with the gradient",
        )
    if np.allclose(got, expected["unpenalised"], rtol=1e-4, atol=1e-6):
        return Feedback(False, "the returned loss leaves out the penalty: return the penalised loss you differentiated")
    return compare_arrays(got[-1], expected["before"][-1], name="the returned loss", rtol=1e-4, atol=1e-6)


#: Networks on which ``count_params`` is tried: the capstone's, the hill's, deeper and thinner ones.
_SIZES = ([64, 256, 10], [2, 2, 1], [2, 3, 3, 1], [784, 128, 64, 10], [5, 1])


@checker("count_params", function=True)
def check_parameter_count(count_params: Callable[[Any], Any]) -> Feedback:
    """Exercise 8.3: ``count_params(sizes)`` should return the number of parameters of a fully
    connected network with layer sizes ``sizes`` (``[64, 256, 10]`` for the capstone's network):
    an ``nnx.Linear(a, b)`` between each pair of consecutive sizes, ``a * b`` weights and ``b``
    biases each, so ``sum(a * b + b)``.

    Tried on five networks of one to three layers, so that a number read off one model (the same
    answer for every network) is caught. Diagnoses weights only, one bias per input, a layer left
    out, multiplied sizes, and a count that is not a whole number.
    """
    got: list[float] = []
    for sizes in _SIZES:
        value = as_number(
            call_student(count_params, list(sizes), name="count_params", where=f"for sizes {sizes}"),
            f"count_params({sizes})",
        )
        if not float(value).is_integer():
            return Feedback(False, f"count_params({sizes}) returns {value:g}; a count of parameters is a whole number")
        got.append(float(value))
    pairs = [list(zip(sizes[:-1], sizes[1:])) for sizes in _SIZES]

    def formula(layer: Callable[[int, int], int], layers: Callable[[list[tuple[int, int]]], Any] = lambda p: p) -> list:
        return [float(sum(layer(a, b) for a, b in layers(p))) for p in pairs]

    expected = formula(lambda a, b: a * b + b)
    if got == expected:
        return Feedback(
            True,
            f"{int(got[0])} parameters for [64, 256, 10]: 64x256 + 256 + 256x10 + 10, and right for deeper networks too",
        )
    if len(set(got)) == 1:
        return Feedback(
            False,
            f"count_params returns {got[0]:g} for every network: compute the count from sizes, "
            "one nnx.Linear between each pair of consecutive sizes",
        )
    if got == formula(lambda a, b: a * b):
        return Feedback(False, "count_params counts the weights only: each layer also has one bias per output")
    if got == formula(lambda a, b: a * b + a):
        return Feedback(False, "count_params gives each layer one bias per input; a bias belongs to each output unit")
    if got == formula(lambda a, b: a * b + b, lambda p: p[:1]) or got == formula(
        lambda a, b: a * b + b, lambda p: p[:-1]
    ):
        return Feedback(
            False,
            "count_params leaves out a layer: there is one nnx.Linear between each pair of consecutive sizes, "
            "len(sizes) - 1 layers in all",
        )
    if got == [float(np.prod(sizes)) for sizes in _SIZES] or got == [
        float(np.prod(np.add(sizes, 1))) for sizes in _SIZES
    ]:
        return Feedback(False, "count_params multiplies the layers' sizes; add up the layers' counts instead")
    for sizes, g, e in zip(_SIZES, got, expected):
        if g != e:
            return Feedback(
                False,
                f"count_params({sizes}) returns {g:g}, expected {e:g}: each nnx.Linear(a, b) has a*b weights and b biases",
            )
    return Feedback(False, "count_params gives a wrong count")  # unreachable: got == expected is handled above


@checker("dropped")
def check_dropout(dropped: Any, rate: float = 0.25, shape: tuple[int, int] = (1000, 100)) -> Feedback:
    """Exercise 8.4: ``dropped`` should be the output of ``nnx.Dropout(rate)`` in training mode applied
    to ``jnp.ones(shape)``: a fraction ``rate`` of zeros, scattered at random, and the kept entries
    scaled to ``1 / (1 - rate)``.

    The fraction of zeros must lie within about 5 standard errors of ``rate``, and the spread of
    the zeros per row must be that of independent draws (a mask built by hand with exactly the
    same number of zeros in every row, or the zeros in a block, is not a measurement). Diagnoses
    evaluation mode, missing rescaling, the keep probability used as the drop rate, and a mask
    built by hand.
    """
    got = as_array(dropped)
    if got is None:
        return Feedback(False, f"dropped should be the layer's output, an array of shape {shape}")
    if got.shape != shape:
        return Feedback(False, f"dropped has shape {got.shape}; apply the layer to jnp.ones({shape})")
    if not np.all(np.isfinite(got)):
        return Feedback(False, "dropped contains NaN or infinity")
    keep = 1.0 / (1.0 - rate)
    zero = np.isclose(got, 0.0)
    if not zero.any() and np.allclose(got, 1.0):
        return Feedback(
            False,
            "nothing was dropped: the layer ran in evaluation mode (deterministic). Call layer.train() first, "
            "or create it with deterministic=False",
        )
    fraction = zero.mean()
    if abs(fraction - (1 - rate)) <= 5 * np.sqrt(rate * (1 - rate) / got.size):
        return Feedback(
            False,
            f"{fraction:.3f} of the entries are zero: rate is the probability of dropping an entry, "
            f"so about {rate} should be zero (was the layer made with rate {1 - rate}?)",
        )
    kept = got[~zero]
    if kept.size and np.allclose(kept, 1.0):
        return Feedback(
            False,
            f"the kept entries are 1, but nnx.Dropout scales them by 1 / (1 - rate) = {keep:.4g} so that the mean "
            "stays 1: apply the nnx.Dropout layer itself rather than a hand-made mask",
        )
    if not np.allclose(kept, keep, rtol=1e-5):
        return Feedback(
            False, f"the kept entries should all equal 1 / (1 - rate) = {keep:.4g}; got values {np.unique(kept)[:4]}"
        )
    n = got.size
    if abs(fraction - rate) > 5 * np.sqrt(rate * (1 - rate) / n) + 1e-12:
        return Feedback(
            False, f"{fraction:.4f} of the entries are zero; nnx.Dropout({rate}) drops about {rate} of them"
        )
    per_row = zero.sum(axis=1)
    expected_variance = shape[1] * rate * (1 - rate)
    if not 0.5 * expected_variance <= per_row.var() <= 1.6 * expected_variance:
        return Feedback(
            False,
            f"the zeros are not scattered like independent draws (the number per row has variance "
            f"{per_row.var():.3g}, dropout gives about {expected_variance:.3g}): measure the layer's output "
            "instead of building the answer by hand",
        )
    return Feedback(
        True,
        f"{fraction:.4f} of the entries are zero and the others are {keep:.4g}, so the mean is {got.mean():.3f}, "
        "close to 1: inverted dropout keeps the expected activation unchanged",
    )
