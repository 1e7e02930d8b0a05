"""The corpus of Chapter 7's checkers: right answers written several ways, common slips named."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch07


def adam_loop(grads, lr, bias_correction, b1=0.9, b2=0.999, eps=1e-8, slip=""):
    # Adam written from its formulas, a Python loop over the steps; slip: a common mistake
    m = s = jnp.zeros_like(grads[0])
    updates = []
    for t, g in enumerate(grads, start=0 if slip == "t from 0" else 1):
        if slip == "fresh state":
            m = s = jnp.zeros_like(g)
        m = b1 * m + (g if slip == "heavy ball" else (1 - b1) * g)
        s = b2 * s + (1 - b2) * g**2
        step = 1 if slip == "fresh state" else t
        correct = bias_correction if slip != "always" else True
        m_hat, s_hat = (m / (1 - b1**step), s / (1 - b2**step)) if correct else (m, s)
        denominator = jnp.sqrt(s_hat + eps) if slip == "eps inside" else jnp.sqrt(s_hat) + eps
        updates.append((1.0 if slip == "plus" else -1.0) * lr * m_hat / denominator)
    return jnp.stack(updates)


def adam_scan(grads, lr, bias_correction):
    # lax.scan over the steps, the correction switched by jnp.where, jitted
    def step(carry, g):
        m, s, t = carry
        t = t + 1.0
        m, s = 0.9 * m + 0.1 * g, 0.999 * s + 0.001 * g**2
        m_hat = jnp.where(bias_correction, m / (1 - 0.9**t), m)
        s_hat = jnp.where(bias_correction, s / (1 - 0.999**t), s)
        return (m, s, t), -lr * m_hat / (jnp.sqrt(s_hat) + 1e-8)

    zero = jnp.zeros_like(grads[0])
    return jax.lax.scan(step, (zero, zero, 0.0), grads)[1]


def adam_numpy_closed_form(grads, lr, bias_correction):
    # float64 NumPy, the moments as weighted sums over the past gradients, a list of rows
    g = np.asarray(grads, np.float64)
    out = []
    for t in range(1, len(g) + 1):
        weights1 = 0.1 * 0.9 ** np.arange(t - 1, -1, -1)
        weights2 = 0.001 * 0.999 ** np.arange(t - 1, -1, -1)
        m = np.tensordot(weights1, g[:t], axes=1)
        s = np.tensordot(weights2, g[:t] ** 2, axes=1)
        if bias_correction:
            m, s = m / (1 - 0.9**t), s / (1 - 0.999**t)
        out.append(-lr * m / (np.sqrt(s) + 1e-8))
    return out


def adam_m_only(grads, lr, bias_correction):
    # the bias correction applied to m only: the uncorrected updates times 1 / (1 - b1**t)
    updates = adam_loop(grads, lr, False)
    if not bias_correction:
        return updates
    t = jnp.arange(1, len(grads) + 1).reshape((-1,) + (1,) * (jnp.ndim(grads) - 1))
    return updates / (1 - 0.9**t)


def adam_with_optax_when_it_can(grads, lr, bias_correction):
    # optax.adam for the corrected updates, the formulas for the others: also right
    if not bias_correction:
        return adam_loop(grads, lr, False)
    tx = optax.adam(lr)
    state = tx.init(grads[0])
    updates = []
    for g in grads:
        u, state = tx.update(g, state)
        updates.append(u)
    return jnp.stack(updates)


class _Velocity(NamedTuple):
    v: dict


def momentum_namedtuple(lr, beta):
    def init(params):
        return _Velocity(jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        v = jax.tree.map(lambda v, g: beta * v + g, state.v, grads)
        return jax.tree.map(lambda v: -lr * v, v), _Velocity(v)

    return optax.GradientTransformation(init, update)


def momentum_numpy_dict(lr, beta):
    def init(params):
        return {k: np.zeros_like(p) for k, p in params.items()}

    def update(grads, state, params=None):
        v = {k: beta * state[k] + g for k, g in grads.items()}
        return {k: -lr * x for k, x in v.items()}, v

    return optax.GradientTransformation(init, update)


def momentum_jitted(lr, beta):
    @jax.jit
    def update(grads, state, params=None):
        v = jax.tree.map(lambda v, g: beta * v + g, state, grads)
        return jax.tree.map(lambda v: -lr * v, v), v

    return optax.GradientTransformation(lambda p: jax.tree.map(jnp.zeros_like, p), update)


def momentum_wrong(lr, beta, *, carry=True, ema=False, sign=-1.0, old_first=False):
    def init(params):
        return jax.tree.map(jnp.zeros_like, params)

    def update(grads, state, params=None):
        v = jax.tree.map(lambda v, g: beta * v + ((1 - beta) * g if ema else g), state, grads)
        step_with = state if old_first else v
        return jax.tree.map(lambda v: sign * lr * v, step_with), (v if carry else state)

    return optax.GradientTransformation(init, update)


def rmsprop_sizes_loop(lr, g, num_steps):
    tx = optax.rmsprop(lr)
    theta = jnp.zeros(1)
    state = tx.init(theta)
    sizes = []
    for _ in range(num_steps):
        updates, state = tx.update(jnp.array([g]), state, theta)
        sizes.append(float(jnp.abs(updates[0])))
    return sizes


def rmsprop_sizes_scan(lr, g, num_steps):
    tx = optax.rmsprop(lr)
    theta = jnp.zeros((), dtype=jnp.float32)

    def step(state, _):
        updates, state = tx.update(jnp.float32(g), state, theta)
        return state, jnp.abs(updates)

    _, sizes = jax.lax.scan(step, tx.init(theta), length=num_steps)
    return sizes


def rmsprop_sizes_params(lr, g, num_steps):
    # also applies the updates to a parameter (the gradient stays g: a linear loss g * theta)
    tx = optax.rmsprop(learning_rate=lr)
    theta = np.float64(1.0)
    state, sizes = tx.init(theta), []
    for _ in range(num_steps):
        updates, state = tx.update(np.float64(g), state, theta)
        new = optax.apply_updates(theta, updates)
        sizes.append(abs(float(new) - float(theta)))
        theta = new
    return np.array(sizes)


def rmsprop_sizes_reinit(lr, g, num_steps):
    tx = optax.rmsprop(lr)
    theta = jnp.zeros(1)
    return [float(jnp.abs(tx.update(jnp.array([g]), tx.init(theta), theta)[0][0])) for _ in range(num_steps)]


def rmsprop_sizes_with(tx_factory, lr, g, num_steps, sign=False):
    tx = tx_factory(lr)
    theta = jnp.zeros(1)
    state, sizes = tx.init(theta), []
    for _ in range(num_steps):
        updates, state = tx.update(jnp.array([g]), state, theta)
        sizes.append(float(updates[0]) if sign else float(jnp.abs(updates[0])))
    return sizes


@partial(jax.jit, static_argnames=("tx", "loss_fn"))
def loop_scan(tx, loss_fn, params, X, y, rows):
    def step(carry, batch):
        params, state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, X[batch], y[batch])
        updates, state = tx.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, tx.init(params)), rows)
    return params, losses


def loop_scan_plain(tx, loss_fn, params, X, y, rows):
    # the same scan, not jitted: X is indexed with a traced batch
    def step(carry, batch):
        params, state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, X[batch], y[batch])
        updates, state = tx.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, tx.init(params)), rows)
    return params, losses


def loop_python(tx, loss_fn, params, X, y, rows):
    state, losses = tx.init(params), []
    for batch in rows:
        loss = loss_fn(params, X[batch], y[batch])
        grads = jax.grad(loss_fn)(params, X[batch], y[batch])
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        losses.append(loss)
    return params, losses


def loop_in_place(tx, loss_fn, params, X, y, rows):
    # writes each step's parameters back into the dict it was given, as a Python loop may
    state, losses = tx.init(dict(params)), []
    for batch in rows:
        loss, grads = jax.value_and_grad(loss_fn)(dict(params), X[batch], y[batch])
        updates, state = tx.update(grads, state, dict(params))
        params.update(optax.apply_updates(dict(params), updates))
        losses.append(loss)
    return params, losses


def loop_scan_dict_carry(tx, loss_fn, params, X, y, rows):
    X, y = jnp.asarray(X, dtype=jnp.float32), jnp.asarray(y, dtype=jnp.float32)

    def step(carry, batch):
        loss, grads = jax.value_and_grad(loss_fn)(carry["params"], X[batch], y[batch])
        updates, state = tx.update(grads, carry["state"], carry["params"])
        return {"params": optax.apply_updates(carry["params"], updates), "state": state}, loss

    carry, losses = jax.lax.scan(step, {"params": params, "state": tx.init(params)}, jnp.asarray(rows))
    return carry["params"], list(np.asarray(losses))


def loop_slip(tx, loss_fn, params, X, y, rows, slip):
    state, losses = tx.init(params), []
    for batch in rows:
        Xb, yb = (X, y) if slip == "full" else (X[batch], y[batch])
        if slip == "reinit":
            state = tx.init(params)
        loss, grads = jax.value_and_grad(loss_fn)(params, Xb, yb)
        updates, state = tx.update(grads, state, params)
        if slip == "subtract":
            params = jax.tree.map(lambda p, u: p - u, params, updates)
        else:
            params = optax.apply_updates(params, updates)
        losses.append(loss_fn(params, Xb, yb) if slip == "after" else loss)
    if slip == "losses only":
        return losses
    return params, jnp.stack(losses)


def _loops_forever(updates, state, params=None):
    while True:
        pass


CORPUS = {
    "check_optax_bce": [
        right(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.sum(w * optax.sigmoid_binary_cross_entropy(z, y)) / jnp.sum(w),
        ),
        right(
            ch07.check_optax_bce,
            jax.jit(lambda z, y, w: jnp.average(optax.sigmoid_binary_cross_entropy(z, y), weights=w)),
        ),
        right(
            ch07.check_optax_bce,
            lambda z, y, w: (
                float(np.dot(np.asarray(w, np.float64), np.logaddexp(0.0, np.asarray(z, np.float64)) - y * z))
                / float(np.sum(w))
            ),
        ),
        right(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.mean((w / jnp.mean(w)) * optax.sigmoid_binary_cross_entropy(z, y)),
        ),
        wrong(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.average(optax.sigmoid_binary_cross_entropy(jax.nn.sigmoid(z), y), weights=w),
            "takes logits, not probabilities",
        ),
        wrong(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.mean(optax.sigmoid_binary_cross_entropy(z, y)),
            "weights are ignored",
        ),
        wrong(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.mean(w * optax.sigmoid_binary_cross_entropy(z, y)),
            "divided by the number of examples",
        ),
        wrong(
            ch07.check_optax_bce, lambda z, y, w: jnp.sum(w * optax.sigmoid_binary_cross_entropy(z, y)), "weighted sum"
        ),
        wrong(
            ch07.check_optax_bce, lambda z, y, w: w * optax.sigmoid_binary_cross_entropy(z, y), "one loss per example"
        ),
        wrong(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.average(optax.sigmoid_binary_cross_entropy(z, 1 - y), weights=w),
            "labels are flipped",
        ),
        wrong(
            ch07.check_optax_bce,
            lambda z, y, w: jnp.average(
                -y * jnp.log(jax.nn.sigmoid(z)) - (1 - y) * jnp.log(1 - jax.nn.sigmoid(z)), weights=w
            ),
            "overflows",
        ),
    ],
    "check_adam_updates": [
        right(ch07.check_adam_updates, adam_loop),
        right(ch07.check_adam_updates, jax.jit(adam_scan)),
        right(ch07.check_adam_updates, adam_numpy_closed_form),
        right(ch07.check_adam_updates, adam_with_optax_when_it_can),
        wrong(ch07.check_adam_updates, partial(adam_loop, slip="always"), "bias-corrected"),
        wrong(ch07.check_adam_updates, lambda g, lr, c: adam_loop(g, lr, False), "no bias correction"),
        wrong(ch07.check_adam_updates, partial(adam_loop, slip="plus"), "wrong sign"),
        wrong(ch07.check_adam_updates, partial(adam_loop, slip="fresh state"), "carried from one step to the next"),
        wrong(ch07.check_adam_updates, partial(adam_loop, slip="eps inside"), "eps is inside the square root"),
        wrong(ch07.check_adam_updates, partial(adam_loop, slip="heavy ball"), "running mean"),
        wrong(ch07.check_adam_updates, partial(adam_loop, b1=0.999, b2=0.9), "swapped"),
        wrong(ch07.check_adam_updates, partial(adam_loop, slip="t from 0"), "counted from 1"),
        wrong(ch07.check_adam_updates, lambda g, lr, c: jnp.abs(adam_loop(g, lr, c)), "sizes"),
        wrong(ch07.check_adam_updates, lambda g, lr, c: -lr * jnp.sign(g), "differs from the reference"),
        wrong(ch07.check_adam_updates, lambda g, lr, c: adam_loop(g, lr, c)[-1], "shape"),
        wrong(ch07.check_adam_updates, lambda g, lr, c: optax.adam(lr), "numeric"),
        right(ch07.check_adam_updates, jax.jit(adam_loop, static_argnums=(2,))),
        right(  # float64 lists
            ch07.check_adam_updates, lambda g, lr, c: np.asarray(adam_numpy_closed_form(g, lr, c), np.float64).tolist()
        ),
        wrong(  # the correction applied to m only
            ch07.check_adam_updates,
            adam_m_only,
            "only m is bias-corrected",
        ),
        wrong(ch07.check_adam_updates, lambda g, lr, c: adam_loop(g, 1.0, c), "not multiplied by the learning rate"),
    ],
    "check_clipped_sgd": [
        right(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.add_decayed_weights(0.01), optax.sgd(0.1)),
        ),
        right(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1), optax.add_decayed_weights(1e-2), optax.scale(-0.1)),
        ),
        right(
            ch07.check_clipped_sgd,
            optax.chain(
                optax.clip_by_global_norm(1.0),
                optax.add_decayed_weights(weight_decay=0.01),
                optax.scale_by_learning_rate(0.1),
            ),
        ),
        right(
            ch07.check_clipped_sgd,
            optax.chain(
                optax.chain(optax.clip_by_global_norm(1.0), optax.add_decayed_weights(0.01)),
                optax.sgd(learning_rate=0.1, momentum=None),
            ),
        ),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip(1.0), optax.add_decayed_weights(0.01), optax.sgd(0.1)),
            "clips each entry separately",
        ),
        wrong(ch07.check_clipped_sgd, optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.1)), "no weight decay"),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.add_decayed_weights(0.01), optax.clip_by_global_norm(1.0), optax.sgd(0.1)),
            "added before the clipping",
        ),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.add_decayed_weights(0.01), optax.sgd(0.1), optax.clip_by_global_norm(1.0)),
            "SGD step was clipped to norm 1",
        ),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(10.0), optax.add_decayed_weights(0.01), optax.sgd(0.1)),
            "the clipping threshold",
        ),
        wrong(ch07.check_clipped_sgd, optax.chain(optax.add_decayed_weights(0.01), optax.sgd(0.1)), "was not clipped"),
        wrong(ch07.check_clipped_sgd, optax.sgd(0.1), "this is plain SGD"),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.1), optax.add_decayed_weights(0.01)),
            "added after the SGD step",
        ),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.add_decayed_weights(-0.01), optax.sgd(0.1)),
            "decay has the wrong sign",
        ),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.add_decayed_weights(0.01), optax.scale(0.1)),
            "update has the wrong sign",
        ),
        wrong(
            ch07.check_clipped_sgd,
            optax.chain(optax.clip_by_global_norm(1.0), optax.add_decayed_weights(0.01), optax.sgd(1.0)),
            "times the expected one",
        ),
        wrong(ch07.check_clipped_sgd, optax.clip_by_global_norm, "GradientTransformation"),
    ],
    "check_momentum": [
        right(ch07.check_momentum, momentum_namedtuple),
        right(ch07.check_momentum, momentum_numpy_dict),
        right(ch07.check_momentum, momentum_jitted),
        right(ch07.check_momentum, lambda lr, beta: optax.chain(optax.trace(decay=beta), optax.scale(-lr))),
        wrong(ch07.check_momentum, lambda lr, beta: momentum_wrong(lr, beta, carry=False), "not carried"),
        wrong(ch07.check_momentum, lambda lr, beta: momentum_wrong(lr, beta, ema=True), "running mean"),
        wrong(ch07.check_momentum, lambda lr, beta: momentum_wrong(lr, beta, sign=1.0), "wrong sign"),
        wrong(ch07.check_momentum, lambda lr, beta: momentum_wrong(lr, beta, old_first=True), "first update is zero"),
        wrong(ch07.check_momentum, momentum_namedtuple(0.1, 0.9), "should be a function"),
        wrong(ch07.check_momentum, lambda lr, beta: momentum_namedtuple(lr, beta).update, "GradientTransformation"),
    ],
    "check_rmsprop_step_sizes": [
        right(ch07.check_rmsprop_step_sizes, rmsprop_sizes_loop),
        right(ch07.check_rmsprop_step_sizes, rmsprop_sizes_scan),
        right(ch07.check_rmsprop_step_sizes, jax.jit(rmsprop_sizes_scan, static_argnums=2)),
        right(ch07.check_rmsprop_step_sizes, rmsprop_sizes_params),
        wrong(ch07.check_rmsprop_step_sizes, rmsprop_sizes_reinit, "initialised afresh"),
        wrong(ch07.check_rmsprop_step_sizes, lambda lr, g, n: rmsprop_sizes_with(optax.adam, lr, g, n), "Adam"),
        wrong(
            ch07.check_rmsprop_step_sizes,
            lambda lr, g, n: rmsprop_sizes_with(optax.rmsprop, lr, g, n, sign=True),
            "signed updates",
        ),
        wrong(
            ch07.check_rmsprop_step_sizes,
            lambda lr, g, n: [lr / np.sqrt(1 - 0.9**t) for t in range(1, n + 1)],
            "leave eps out",
        ),
        wrong(
            ch07.check_rmsprop_step_sizes,
            lambda lr, g, n: [lr * abs(g) / (np.sqrt((1 - 0.9**t) * g**2) + 1e-8) for t in range(1, n + 1)],
            "outside the square root",
        ),
        wrong(
            ch07.check_rmsprop_step_sizes,
            lambda lr, g, n: rmsprop_sizes_with(lambda lr: optax.rmsprop(lr, decay=0.99), lr, g, n),
            "differs from the reference",
        ),
    ],
    "check_train_on_batches": [
        right(ch07.check_train_on_batches, loop_scan),
        right(ch07.check_train_on_batches, loop_scan_plain),
        right(ch07.check_train_on_batches, loop_python),
        right(ch07.check_train_on_batches, loop_scan_dict_carry),
        right(ch07.check_train_on_batches, jax.jit(loop_python, static_argnums=(0, 1))),
        right(ch07.check_train_on_batches, loop_in_place),  # each optimiser's run gets params afresh
        wrong(ch07.check_train_on_batches, partial(loop_slip, slip="reinit"), "state is not carried"),
        wrong(ch07.check_train_on_batches, partial(loop_slip, slip="full"), "used all of X"),
        wrong(ch07.check_train_on_batches, partial(loop_slip, slip="subtract"), "subtracted"),
        wrong(ch07.check_train_on_batches, partial(loop_slip, slip="after"), "after each update"),
        wrong(ch07.check_train_on_batches, partial(loop_slip, slip="losses only"), "pair (params, losses)"),
    ],
}
CHECKS = {
    "check_optax_bce": (ch07.check_optax_bce, True),
    "check_adam_updates": (ch07.check_adam_updates, True),
    "check_clipped_sgd": (ch07.check_clipped_sgd, False),
    "check_momentum": (ch07.check_momentum, True),
    "check_rmsprop_step_sizes": (ch07.check_rmsprop_step_sizes, True),
    "check_train_on_batches": (ch07.check_train_on_batches, True),
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
