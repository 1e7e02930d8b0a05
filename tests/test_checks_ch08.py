"""The corpus of Chapter 8's checkers: right answers written several ways, common slips named."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook import flax_models
from jaxbook.checks import ch08


def step(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(flax_models.sigmoid_loss)(model, X, y)
    optimizer.update(model, grads)
    return loss


def step_separately(model, optimizer, X, y):
    loss = flax_models.sigmoid_loss(model, X, y)
    grads = nnx.grad(flax_models.sigmoid_loss)(model, X, y)
    optimizer.update(model, grads)
    return loss


def loss_after(model, optimizer, X, y):
    step(model, optimizer, X, y)
    return flax_models.sigmoid_loss(model, X, y)


def no_update(model, optimizer, X, y):
    loss, _ = nnx.value_and_grad(flax_models.sigmoid_loss)(model, X, y)
    return loss


def twice(model, optimizer, X, y):
    loss, grads = nnx.value_and_grad(flax_models.sigmoid_loss)(model, X, y)
    optimizer.update(model, grads)
    optimizer.update(model, grads)
    return loss


def no_return(model, optimizer, X, y):
    step(model, optimizer, X, y)


N = 64 * 256 + 256 + 256 * 10 + 10

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
        wrong(ch08.check_train_step, jax.jit(step), "plain jax.jit"),
        wrong(ch08.check_train_step, loss_after, "before the update"),
        wrong(ch08.check_train_step, no_update, "did not change"),
        wrong(ch08.check_train_step, twice, "twice"),
        wrong(ch08.check_train_step, no_return, "returned None"),
    ],
    "check_parameter_count": [
        right(ch08.check_parameter_count, N),
        right(ch08.check_parameter_count, np.int64(N)),
        right(ch08.check_parameter_count, jnp.array(N)),
        right(ch08.check_parameter_count, float(N)),
        wrong(ch08.check_parameter_count, 64 * 256 + 256 * 10, "weights only"),
        wrong(ch08.check_parameter_count, 64 * 256 + 256, "hidden layer only"),
        wrong(ch08.check_parameter_count, N + 0.5, "whole number"),
        wrong(ch08.check_parameter_count, 64 * 256 + 64 + 256 * 10 + 256, "one bias per input"),
        wrong(ch08.check_parameter_count, 64 * 256 * 10, "multiplies"),
        wrong(ch08.check_parameter_count, str(N), "number"),
    ],
}
CHECKS = {
    "check_two_logits": (ch08.check_two_logits, True),
    "check_train_step": (ch08.check_train_step, True),
    "check_parameter_count": (ch08.check_parameter_count, False),
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
