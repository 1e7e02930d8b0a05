"""The corpus of Chapter 8's checkers: right answers written several ways, common slips named."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from test_checks_core import Computed, assert_corpus_size, params, right, robustness, run, wrong

from jaxbook import flax_models
from jaxbook.checks import ch08


def penalised(model, X, y):
    kernels = [layer.kernel[...] for layer in (*model.hidden, model.output)]
    return flax_models.sigmoid_loss(model, X, y) + 0.01 * sum(jnp.sum(k**2) for k in kernels)


def penalised_by_path(model, X, y):
    """The kernels picked from the parameter pytree by name, the penalty as a mean times a count."""
    leaves = jax.tree_util.tree_leaves_with_path(nnx.to_pure_dict(nnx.state(model, nnx.Param)))
    kernels = [leaf for path, leaf in leaves if "kernel" in jax.tree_util.keystr(path)]
    return flax_models.sigmoid_loss(model, X, y) + 1e-2 * sum(jnp.mean(k**2) * k.size for k in kernels)


def with_biases(model, X, y):
    layers = [*model.hidden, model.output]
    return penalised(model, X, y) + 0.01 * sum(jnp.sum(layer.bias[...] ** 2) for layer in layers)


def step(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(penalised)(model, X, y)
    optimizer.update(model, grads)
    return loss


def step_by_path(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(penalised_by_path)(model, X, y)
    optimizer.update(model, grads)
    return loss


def step_separately(model, optimizer, X, y):
    loss = penalised(model, X, y)
    grads = nnx.grad(penalised)(model, X, y)
    optimizer.update(model, grads)
    return loss


def loss_after(model, optimizer, X, y):
    step(model, optimizer, X, y)
    return penalised(model, X, y)


def no_update(model, optimizer, X, y):
    loss, _ = nnx.value_and_grad(penalised)(model, X, y)
    return loss


def twice(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(penalised)(model, X, y)
    optimizer.update(model, grads)
    optimizer.update(model, grads)
    return loss


def no_return(model, optimizer, X, y):
    step(model, optimizer, X, y)


def no_penalty(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(flax_models.sigmoid_loss)(model, X, y)
    optimizer.update(model, grads)
    return loss


def penalty_on_biases(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(with_biases)(model, X, y)
    optimizer.update(model, grads)
    return loss


def penalty_only_reported(model, optimizer, X, y):
    no_penalty(model, optimizer, X, y)
    return penalised(model, X, y)


def unpenalised_returned(model, optimizer, X, y):
    loss = flax_models.sigmoid_loss(model, X, y)
    step(model, optimizer, X, y)
    return loss


def penalty_output_only(model, optimizer, X, y):
    def loss_fn(model, X, y):
        return flax_models.sigmoid_loss(model, X, y) + 0.01 * jnp.sum(model.output.kernel[...] ** 2)

    loss, grads = nnx.value_and_grad(loss_fn)(model, X, y)
    optimizer.update(model, grads)
    return loss


def fresh_optimizer(model, optimizer, X, y):
    """A new optimiser at every step: Adam's moments start from zero each time."""
    own = nnx.Optimizer(model, optax.adam(0.1), wrt=nnx.Param)
    loss, grads = nnx.value_and_grad(penalised)(model, X, y)
    own.update(model, grads)
    return loss


_plain_jit_step = jax.jit(step)


def hidden_plain_jit(model, optimizer, X, y):
    """jax.jit inside an ordinary function: only the behaviour shows it."""
    return _plain_jit_step(model, optimizer, X, y)


def dropout_output(rate, seed, shape=(1000, 100)):
    layer = nnx.Dropout(rate, rngs=nnx.Rngs(dropout=seed))
    return layer(jnp.ones(shape))


def jitted_dropout():
    layer = nnx.Dropout(0.25, rngs=nnx.Rngs(dropout=3))
    return nnx.jit(lambda layer, x: layer(x))(layer, jnp.ones((1000, 100)))


def dropout_eval():
    layer = nnx.Dropout(0.25, rngs=nnx.Rngs(dropout=0))
    layer.eval()
    return layer(jnp.ones((1000, 100)))


def hand_mask_unscaled():
    return jax.random.bernoulli(jax.random.key(0), 0.75, (1000, 100)).astype(jnp.float32)


def hand_built_rows():
    """Exactly 25 zeros at the start of every row: 0.25 zeros, right values, not a measurement."""
    row = np.r_[np.zeros(25), np.full(75, 4 / 3)]
    return np.tile(row, (1000, 1))


N = 64 * 256 + 256 + 256 * 10 + 10


def count_by_loop(sizes):
    total = 0
    for i in range(len(sizes) - 1):
        total += sizes[i] * sizes[i + 1] + sizes[i + 1]
    return total


def count_by_building(sizes):
    """An alternative valid method: build the network and count its nnx.Param leaves."""
    model = flax_models.MLP(sizes[0], list(sizes[1:-1]), sizes[-1], rngs=nnx.Rngs(0))
    return sum(leaf.size for leaf in jax.tree.leaves(nnx.state(model, nnx.Param)))


CORPUS = {
    "check_two_logits": [
        right(ch08.check_two_logits, lambda z: jnp.stack([jnp.zeros_like(z), z], axis=1)),
        right(ch08.check_two_logits, lambda z: jnp.stack([-z / 2, z / 2], axis=-1)),
        right(
            ch08.check_two_logits, jax.jit(lambda z: jnp.stack([jax.nn.log_sigmoid(-z), jax.nn.log_sigmoid(z)], axis=1))
        ),
        right(ch08.check_two_logits, lambda z: np.column_stack([np.zeros(len(z)), np.asarray(z, np.float64)])),
        wrong(
            ch08.check_two_logits,
            lambda z: jnp.stack([1 - jax.nn.sigmoid(z), jax.nn.sigmoid(z)], axis=1),
            "probabilities",
        ),
        wrong(ch08.check_two_logits, lambda z: jnp.stack([z, jnp.zeros_like(z)], axis=1), "swapped"),
        wrong(ch08.check_two_logits, lambda z: jnp.stack([jnp.zeros_like(z), z]), "last axis"),
        wrong(ch08.check_two_logits, lambda z: z, "expected (7, 2)"),
        wrong(
            ch08.check_two_logits,
            lambda z: jnp.stack([jnp.log(1 - jax.nn.sigmoid(z)), jnp.log(jax.nn.sigmoid(z))], axis=1),
            "log of 0",
        ),
    ],
    "check_train_step": [
        right(ch08.check_train_step, step),
        right(ch08.check_train_step, nnx.jit(step)),
        right(ch08.check_train_step, step_separately),
        right(ch08.check_train_step, step_by_path),
        wrong(ch08.check_train_step, jax.jit(step), "plain jax.jit"),
        wrong(ch08.check_train_step, hidden_plain_jit, "jax.jit silently drops the update"),
        wrong(ch08.check_train_step, loss_after, "return the loss before the update"),
        wrong(ch08.check_train_step, nnx.jit(loss_after), "return the loss before the update"),
        wrong(ch08.check_train_step, no_update, "call optimizer.update"),
        wrong(ch08.check_train_step, twice, "twice"),
        wrong(ch08.check_train_step, no_return, "returned None"),
        wrong(ch08.check_train_step, no_penalty, "ignores the penalty"),
        wrong(ch08.check_train_step, penalty_only_reported, "ignores the penalty"),
        wrong(ch08.check_train_step, penalty_on_biases, "includes the biases"),
        wrong(ch08.check_train_step, unpenalised_returned, "leaves out the penalty"),
        wrong(ch08.check_train_step, penalty_output_only, "the sum of the squared kernel entries"),
        wrong(ch08.check_train_step, fresh_optimizer, "the optimizer the one passed in"),
    ],
    "check_dropout": [
        right(ch08.check_dropout, Computed(lambda: dropout_output(0.25, 0))),
        right(ch08.check_dropout, Computed(lambda: np.asarray(dropout_output(0.25, 7), dtype=np.float64))),
        right(ch08.check_dropout, Computed(lambda: dropout_output(0.25, 123).tolist())),
        right(ch08.check_dropout, Computed(jitted_dropout)),
        wrong(ch08.check_dropout, Computed(dropout_eval), "evaluation mode"),
        wrong(ch08.check_dropout, Computed(hand_mask_unscaled), "scales them by 1 / (1 - rate)"),
        wrong(ch08.check_dropout, Computed(lambda: dropout_output(0.75, 0)), "probability of dropping"),
        wrong(ch08.check_dropout, Computed(hand_built_rows), "independent draws"),
        wrong(
            ch08.check_dropout,
            Computed(lambda: dropout_output(0.25, 0, shape=(100, 1000))),
            "apply the layer to jnp.ones",
        ),
        wrong(ch08.check_dropout, 0.25, "shape"),
    ],
    "check_parameter_count": [
        right(ch08.check_parameter_count, lambda sizes: sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))),
        right(ch08.check_parameter_count, count_by_loop),
        right(ch08.check_parameter_count, lambda sizes: int(np.dot(sizes[:-1], sizes[1:]) + np.sum(sizes[1:]))),
        right(ch08.check_parameter_count, count_by_building),
        right(
            ch08.check_parameter_count, lambda sizes: float(np.sum((np.array(sizes[:-1]) + 1) * np.array(sizes[1:])))
        ),
        wrong(ch08.check_parameter_count, lambda sizes: N, "for every network"),
        wrong(
            ch08.check_parameter_count, lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:])), "weights only"
        ),
        wrong(
            ch08.check_parameter_count,
            lambda sizes: sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:])),
            "one bias per input",
        ),
        wrong(ch08.check_parameter_count, lambda sizes: sizes[0] * sizes[1] + sizes[1], "leaves out a layer"),
        wrong(ch08.check_parameter_count, lambda sizes: int(np.prod(sizes)), "multiplies"),
        wrong(ch08.check_parameter_count, lambda sizes: count_by_loop(sizes) + 0.5, "whole number"),
        wrong(ch08.check_parameter_count, lambda sizes: count_by_loop(sizes) + 1, "expected"),
    ],
}
CHECKS = {
    "check_two_logits": (ch08.check_two_logits, True),
    "check_train_step": (ch08.check_train_step, True),
    "check_dropout": (ch08.check_dropout, False),
    "check_parameter_count": (ch08.check_parameter_count, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}
# train_step is called for its effect on the model, so a step that returns nothing is judged by that
ROBUSTNESS["check_train_step"] = [
    dataclasses.replace(c, phrase="did not change") if c.phrase == "forget the return" else c
    for c in ROBUSTNESS["check_train_step"]
]


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch08) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
