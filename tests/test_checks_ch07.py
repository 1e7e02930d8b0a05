"""The corpus of Chapter 7's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch07


def adam_first(grads, lr, b1=0.9, b2=0.999, eps=1e-8, correct=True, sign=-1.0):
    def update(g):
        m, v = (1 - b1) * g, (1 - b2) * g**2
        if correct:
            m, v = m / (1 - b1), v / (1 - b2)
        return sign * lr * m / (jnp.sqrt(v) + eps)

    return jax.tree.map(update, grads)


def _loops_forever(updates, state, params=None):
    while True:
        pass


CORPUS = {
    "check_optax_bce": [
        right(ch07.check_optax_bce, lambda z, y: jnp.mean(optax.sigmoid_binary_cross_entropy(z, y))),
        right(ch07.check_optax_bce, jax.jit(lambda z, y: optax.sigmoid_binary_cross_entropy(z, y).mean())),
        right(ch07.check_optax_bce, lambda z, y: jnp.sum(optax.sigmoid_binary_cross_entropy(z, y)) / len(y)),
        right(ch07.check_optax_bce, lambda z, y: np.mean(np.logaddexp(0.0, z) - y * z)),
        wrong(
            ch07.check_optax_bce,
            lambda z, y: jnp.mean(optax.sigmoid_binary_cross_entropy(jax.nn.sigmoid(z), y)),
            "takes logits, not probabilities",
        ),
        wrong(ch07.check_optax_bce, lambda z, y: jnp.sum(optax.sigmoid_binary_cross_entropy(z, y)), "not the sum"),
        wrong(ch07.check_optax_bce, lambda z, y: optax.sigmoid_binary_cross_entropy(z, y), "take the mean"),
        wrong(
            ch07.check_optax_bce,
            lambda z, y: jnp.mean(optax.sigmoid_binary_cross_entropy(z, 1 - y)),
            "labels are flipped",
        ),
    ],
    "check_adam_first_step": [
        right(ch07.check_adam_first_step, adam_first),
        right(ch07.check_adam_first_step, lambda grads, lr: jax.tree.map(lambda g: -lr * jnp.sign(g), grads)),
        right(ch07.check_adam_first_step, jax.jit(lambda grads, lr: adam_first(grads, lr))),
        right(
            ch07.check_adam_first_step, lambda grads, lr: {k: -lr * g / (np.abs(g) + 1e-8) for k, g in grads.items()}
        ),
        wrong(ch07.check_adam_first_step, lambda grads, lr: adam_first(grads, lr, sign=1.0), "ADD"),
        wrong(ch07.check_adam_first_step, lambda grads, lr: adam_first(grads, lr, correct=False), "bias correction"),
        wrong(
            ch07.check_adam_first_step,
            lambda grads, lr: jax.tree.map(lambda g: -lr * g, grads),
            "differs from the reference",
        ),
        wrong(ch07.check_adam_first_step, lambda grads, lr: list(adam_first(grads, lr).values()), "dict"),
    ],
    "check_clipped_sgd": [
        right(ch07.check_clipped_sgd, optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.1))),
        right(ch07.check_clipped_sgd, optax.chain(optax.clip_by_global_norm(1), optax.scale(-0.1))),
        right(ch07.check_clipped_sgd, optax.chain(optax.clip_by_global_norm(1.0), optax.scale_by_learning_rate(0.1))),
        right(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(learning_rate=0.1, momentum=None)),
        ),
        wrong(ch07.check_clipped_sgd, optax.chain(optax.clip(1.0), optax.sgd(0.1)), "clips each entry separately"),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.sgd(0.1), optax.clip_by_global_norm(1.0)),
            "clipped after the SGD step",
        ),
        wrong(ch07.check_clipped_sgd, optax.sgd(0.1), "was not clipped"),
        wrong(ch07.check_clipped_sgd, optax.chain(optax.clip_by_global_norm(1.0), optax.scale(0.1)), "wrong sign"),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(1.0)),
            "times the expected one",
        ),
        wrong(ch07.check_clipped_sgd, optax.clip_by_global_norm, "GradientTransformation"),
    ],
}
CHECKS = {
    "check_optax_bce": (ch07.check_optax_bce, True),
    "check_adam_first_step": (ch07.check_adam_first_step, True),
    "check_clipped_sgd": (ch07.check_clipped_sgd, False),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}
ROBUSTNESS["check_clipped_sgd"] += [
    wrong(
        ch07.check_clipped_sgd,
        optax.GradientTransformation(lambda p: (), lambda u, s, p=None: (_ for _ in ()).throw(ValueError("bad"))),
        "raised ValueError",
    ),
    wrong(
        ch07.check_clipped_sgd,
        optax.GradientTransformation(lambda p: (), lambda u, s, p=None: None),
        "forget the return",
    ),
]
_looping = optax.GradientTransformation(lambda p: (), _loops_forever)


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch07) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


def test_an_optimiser_whose_update_never_returns_is_stopped():
    from jaxbook.checks import _core

    previous, _core.TIME_LIMIT = _core.TIME_LIMIT, 0.3
    try:
        feedback = ch07.check_clipped_sgd(_looping)
    finally:
        _core.TIME_LIMIT = previous
    assert not feedback and "was stopped" in feedback.message


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
