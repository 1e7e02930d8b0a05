"""The corpus of Chapter 9's checkers: right answers written several ways, common slips named."""

import os
import subprocess
import sys
import textwrap
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch09


def robust_loss(b, X, y, kind, delta, half=False, offset=True, swapped=False, reduce=jnp.mean):
    r = X @ b - y
    if kind != "huber":
        return reduce(r**2)
    a = jnp.abs(r)
    line = 2 * delta * a - (delta**2 if offset else 0.0)
    inside, outside = (line, r**2) if swapped else (r**2, line)
    return reduce(jnp.where(a <= delta, inside, outside)) * (0.5 if half else 1.0)


@partial(jax.jit, static_argnums=3)
def robust_loss_minimum(b, X, y, kind, delta):
    """h(r) = q**2 + 2 delta (|r| - q) with q = min(|r|, delta), and a sum divided by n."""
    a = jnp.abs(X @ b - y)
    q = jnp.minimum(a, delta) if kind == "huber" else a
    return jnp.sum(q**2 + 2 * delta * (a - q)) / y.shape[0]


def robust_loss_optax(b, X, y, kind, delta):
    if kind == "huber":
        return 2.0 * optax.losses.huber_loss(X @ b, y, delta=delta).mean()
    return optax.losses.squared_error(X @ b, y).mean()


PER_EXAMPLE_LOSSES = {
    "squared": lambda r, delta: r**2,
    "huber": lambda r, delta: jnp.where(jnp.abs(r) <= delta, r**2, 2 * delta * jnp.abs(r) - delta**2),
}


def robust_loss_by_name(b, X, y, kind, delta):
    return jnp.mean(PER_EXAMPLE_LOSSES[kind](X @ b - y, delta))


def robust_loss_clipped(b, X, y, kind="squared", delta=1.0):
    """The residual clipped to [-delta, delta]: c**2 + 2 delta (|r| - |c|), a strict < nowhere needed."""
    r = X @ b - y
    if kind != "huber":
        return jnp.mean(jnp.square(r))
    c = jnp.clip(r, -delta, delta)
    return jnp.mean(c**2 + 2 * delta * (jnp.abs(r) - jnp.abs(c)))


def robust_loss_float_delta(b, X, y, kind, delta):
    return robust_loss(b, X, y, kind, float(delta))  # float() needs the value of a traced delta


def robust_loss_kinds_swapped(b, X, y, kind, delta):
    return robust_loss(b, X, y, "squared" if kind == "huber" else "huber", delta)


def robust_loss_python_if(b, X, y, kind, delta):
    r = X @ b - y
    if kind == "huber":
        return jnp.mean(jnp.stack([ri**2 if jnp.abs(ri) <= delta else 2 * delta * jnp.abs(ri) - delta**2 for ri in r]))
    return jnp.mean(r**2)


def example_loss(w, x_i, y_i):
    z = x_i @ w
    return jax.nn.softplus(z) - y_i * z


per_example = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))


def formula(w, X, y):
    return (jax.nn.sigmoid(X @ w) - y)[:, None] * X


def mse(b, X, y):
    return jnp.mean((X @ b - y) ** 2)


def momentum(b, X, y, lr, beta, num_steps, dampened=False, after=False, old_velocity=False, carry="tuple"):
    def body(state, _):
        b, v = (state["b"], state["v"]) if carry == "dict" else state
        value, grad = jax.value_and_grad(mse)(b, X, y)
        v_new = beta * v + ((1 - beta) * grad if dampened else grad)
        b_new = b - lr * (v if old_velocity else v_new)
        new = {"b": b_new, "v": v_new} if carry == "dict" else (b_new, v_new)
        return new, (mse(b_new, X, y) if after else value)

    start = {"b": b, "v": jnp.zeros_like(b)} if carry == "dict" else (b, jnp.zeros_like(b))
    final, losses = jax.lax.scan(body, start, length=num_steps)
    return (final["b"] if carry == "dict" else final[0]), losses


def momentum_optax(b, X, y, lr, beta, num_steps):
    tx = optax.sgd(lr, momentum=beta)

    def body(state, _):
        b, opt_state = state
        value, grad = jax.value_and_grad(mse)(b, X, y)
        updates, opt_state = tx.update(grad, opt_state)
        return (optax.apply_updates(b, updates), opt_state), value

    (b, _), losses = jax.lax.scan(body, (b, tx.init(b)), length=num_steps)
    return b, losses


def plain_gd(b, X, y, lr, beta, num_steps):
    def body(b, _):
        value, grad = jax.value_and_grad(mse)(b, X, y)
        return b - lr * grad, value

    return jax.lax.scan(body, b, length=num_steps)


MOMENTUM_STATIC = ("num_steps", "dampened", "after", "old_velocity", "carry")

CORPUS = {
    "check_static_choice": [
        right(ch09.check_static_choice, jax.jit(robust_loss, static_argnames="kind")),
        right(ch09.check_static_choice, robust_loss_minimum),
        right(ch09.check_static_choice, jax.jit(robust_loss_optax, static_argnames=("kind",))),
        right(ch09.check_static_choice, jax.jit(robust_loss_by_name, static_argnums=3)),
        right(ch09.check_static_choice, jax.jit(robust_loss_clipped, static_argnames=["kind"])),
        right(ch09.check_static_choice, jax.jit(jax.jit(robust_loss, static_argnums=3), static_argnames="kind")),
        wrong(ch09.check_static_choice, jax.jit(robust_loss), "Make kind static"),
        wrong(ch09.check_static_choice, jax.jit(robust_loss, static_argnums=(3, 4)), "delta is static too"),
        wrong(
            ch09.check_static_choice, jax.jit(robust_loss_float_delta, static_argnames="kind"), "delta must stay traced"
        ),
        wrong(ch09.check_static_choice, jax.jit(robust_loss_kinds_swapped, static_argnames="kind"), "off by a factor"),
        wrong(
            ch09.check_static_choice,
            jax.jit(lambda b, X, y, kind, delta: robust_loss(b, X, y, kind, 1.0), static_argnames="kind"),
            "off by a factor",
        ),
        wrong(
            ch09.check_static_choice,
            lambda b, X, y, kind, delta: jax.jit(partial(robust_loss, kind=kind, delta=delta))(b, X, y),
            "not jitted",
        ),
        wrong(ch09.check_static_choice, jax.jit(robust_loss, static_argnames="delta"), "Make kind static"),
        wrong(ch09.check_static_choice, jax.jit(robust_loss, static_argnames=("kind", "delta")), "delta is static too"),
        wrong(ch09.check_static_choice, jax.jit(robust_loss, static_argnames=("kind", "X")), "an array (b, X or y)"),
        wrong(ch09.check_static_choice, jax.jit(robust_loss_python_if, static_argnames="kind"), "jnp.where"),
        wrong(ch09.check_static_choice, robust_loss, "not jitted"),
        wrong(
            ch09.check_static_choice, jax.jit(partial(robust_loss, half=True), static_argnames="kind"), "textbook Huber"
        ),
        wrong(
            ch09.check_static_choice, jax.jit(partial(robust_loss, offset=False), static_argnames="kind"), "- delta**2"
        ),
        wrong(ch09.check_static_choice, jax.jit(partial(robust_loss, swapped=True), static_argnames="kind"), "swapped"),
        wrong(
            ch09.check_static_choice,
            jax.jit(partial(robust_loss, reduce=lambda v: v), static_argnames="kind"),
            "one loss per example",
        ),
        wrong(
            ch09.check_static_choice,
            jax.jit(partial(robust_loss, reduce=jnp.sum), static_argnames="kind"),
            "a sum over",
        ),
        wrong(
            ch09.check_static_choice,
            jax.jit(lambda b, X, y, kind, delta: 3.0, static_argnames="kind"),
            "off by a factor",
        ),
    ],
    "check_per_example_grads": [
        right(ch09.check_per_example_grads, per_example),
        right(ch09.check_per_example_grads, formula),
        right(ch09.check_per_example_grads, jax.jit(per_example)),
        right(
            ch09.check_per_example_grads,
            lambda w, X, y: np.stack([np.asarray(jax.grad(example_loss)(w, X[i], y[i])) for i in range(len(y))]),
        ),
        wrong(ch09.check_per_example_grads, lambda w, X, y: formula(w, X, y).T, "one row per example"),
        wrong(
            ch09.check_per_example_grads,
            lambda w, X, y: formula(w, X, y).sum(axis=0),
            "sum of the per-example gradients",
        ),
        wrong(ch09.check_per_example_grads, lambda w, X, y: formula(w, X, y).mean(axis=0), "mean gradient"),
        wrong(ch09.check_per_example_grads, lambda w, X, y: jax.nn.sigmoid(X @ w)[:, None] * X, "- y_i z_i"),
        wrong(ch09.check_per_example_grads, lambda w, X, y: -formula(w, X, y), "wrong sign"),
        wrong(
            ch09.check_per_example_grads,
            jax.vmap(jax.grad(example_loss, argnums=1), in_axes=(None, 0, 0)),
            "with respect to x_i",
        ),
    ],
    "check_trace_count": [
        right(ch09.check_trace_count, 3),
        right(ch09.check_trace_count, np.int64(3)),
        right(ch09.check_trace_count, 3.0),
        wrong(ch09.check_trace_count, 5, "one trace per call"),
        wrong(ch09.check_trace_count, 2, "counts only the shapes"),
        wrong(ch09.check_trace_count, 1, "one program for every call"),
        wrong(ch09.check_trace_count, 4, "is not the number of traces"),
        wrong(ch09.check_trace_count, 3.5, "whole number"),
    ],
    "check_momentum_with_history": [
        right(ch09.check_momentum_with_history, jax.jit(momentum, static_argnames=MOMENTUM_STATIC)),
        right(ch09.check_momentum_with_history, jax.jit(partial(momentum, carry="dict"), static_argnames="num_steps")),
        right(ch09.check_momentum_with_history, jax.jit(momentum_optax, static_argnames="num_steps")),
        wrong(
            ch09.check_momentum_with_history, jax.jit(plain_gd, static_argnames="num_steps"), "plain gradient descent"
        ),
        wrong(
            ch09.check_momentum_with_history,
            jax.jit(partial(momentum, dampened=True), static_argnames="num_steps"),
            "dampened",
        ),
        wrong(
            ch09.check_momentum_with_history,
            jax.jit(partial(momentum, old_velocity=True), static_argnames="num_steps"),
            "old velocity",
        ),
        wrong(
            ch09.check_momentum_with_history,
            jax.jit(partial(momentum, after=True), static_argnames="num_steps"),
            "loss after step t",
        ),
        wrong(ch09.check_momentum_with_history, momentum, "not jitted"),
        wrong(ch09.check_momentum_with_history, jax.jit(momentum), "declare num_steps static"),
    ],
}
CHECKS = {
    "check_static_choice": (ch09.check_static_choice, True),
    "check_per_example_grads": (ch09.check_per_example_grads, True),
    "check_trace_count": (ch09.check_trace_count, False),
    "check_momentum_with_history": (ch09.check_momentum_with_history, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    # check_masked_grad needs several devices: its corpus runs in a subprocess below
    assert set(CORPUS) | {"check_masked_grad"} == {name for name in dir(ch09) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)


MASKED_GRAD_CORPUS = textwrap.dedent(
    """
    import jax
    jax.config.update("jax_num_cpu_devices", 4)
    from functools import partial
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P
    from jaxbook.checks import ch09

    mesh = jax.make_mesh((4,), ("data",), devices=jax.devices("cpu"))
    rows = P("data")
    specs = dict(mesh=mesh, in_specs=(P(), rows, rows, rows), out_specs=P())
    psum, pmean = partial(jax.lax.psum, axis_name="data"), partial(jax.lax.pmean, axis_name="data")

    def losses(w, X, y):
        z = X @ w
        return jax.nn.softplus(z) - y * z

    def grad_of_weighted_mean(w, X, y, mask):  # the sums added over the devices before jax.grad
        return jax.grad(lambda w: psum(jnp.sum(mask * losses(w, X, y))) / psum(jnp.sum(mask)))(w)

    def local_grad(w, X, y, mask, divide_by=None, reduce=None):
        g = jax.grad(lambda w: jnp.sum(mask * losses(w, X, y)))(w)
        g = reduce(g) if reduce else g
        return g / (divide_by(mask) if divide_by else 1.0)

    def by_hand(w, X, y, mask):  # the gradient written out: X^T (mask (sigmoid(X w) - y))
        return psum(X.T @ (mask * (jax.nn.sigmoid(X @ w) - y))) / psum(jnp.sum(mask))

    def grad_of(loss):
        return lambda w, X, y, mask: jax.grad(lambda w: loss(w, X, y, mask))(w)

    def boolean_index(w, X, y, mask):
        keep = mask > 0
        return jax.grad(lambda w: psum(jnp.sum(losses(w, X[keep], y[keep]))))(w)

    def psum_of_a_pair(w, X, y, mask):  # value_and_grad of one psum of (sum, count)
        def loss(w):
            total, count = psum((jnp.sum(mask * losses(w, X, y)), jnp.sum(mask)))
            return total / count

        return jax.value_and_grad(loss)(w)[1]

    def per_example_grads(w, X, y, mask, reduce=psum):  # vmap of jax.grad, then the masked sum
        g = jax.vmap(jax.grad(lambda w, x, t: jax.nn.softplus(x @ w) - t * (x @ w)), in_axes=(None, 0, 0))(w, X, y)
        return reduce(mask @ g) / psum(jnp.sum(mask))

    def weighted_means(w, X, y, mask):  # each device's mean weighted by its share of the real rows
        share = jnp.sum(mask) / psum(jnp.sum(mask))
        return jax.grad(lambda w: psum(share * jnp.sum(mask * losses(w, X, y)) / jnp.sum(mask)))(w)

    def stub(w, X, y, mask):
        raise NotImplementedError("write masked_logistic_grad here")

    count = lambda mask: psum(jnp.sum(mask))
    cases = {
        "right, grad of the psum'd sums": jax.jit(jax.shard_map(grad_of_weighted_mean, **specs)),
        "right, not jitted, local grad over the psum'd count": jax.shard_map(
            partial(local_grad, divide_by=count), **specs
        ),
        "right, check_vma=False and psum of the gradients": jax.shard_map(
            partial(local_grad, divide_by=count, reduce=psum), check_vma=False, **specs
        ),
        "right, the gradient by hand": jax.jit(jax.shard_map(by_hand, **specs)),
        "right, pmean of the sums over pmean of the counts": jax.shard_map(
            grad_of(lambda w, X, y, m: pmean(jnp.sum(m * losses(w, X, y))) / pmean(jnp.sum(m))), **specs
        ),
        "right, value_and_grad of a psum'd pair": jax.jit(jax.shard_map(psum_of_a_pair, **specs)),
        "right, check_vma=False, vmap per-example gradients": jax.shard_map(
            per_example_grads, check_vma=False, **specs
        ),
        "right, the devices' means weighted by their rows": jax.shard_map(weighted_means, **specs),
        "right, P(None) for w": jax.shard_map(
            psum_of_a_pair, mesh=mesh, in_specs=(P(None), rows, rows, rows), out_specs=P()
        ),
        "wrong, vmap per-example gradients under check_vma, psum'd": jax.shard_map(per_example_grads, **specs),
        "wrong, padding in the sum, real rows in the count": jax.shard_map(
            grad_of(lambda w, X, y, m: psum(jnp.sum(losses(w, X, y))) / psum(jnp.sum(m))), **specs
        ),
        "wrong, masked sum, not mean": jax.shard_map(
            grad_of(lambda w, X, y, m: psum(jnp.sum(m * losses(w, X, y)))), **specs
        ),
        "wrong, mean of the means": jax.shard_map(
            grad_of(lambda w, X, y, m: pmean(jnp.sum(m * losses(w, X, y)) / jnp.sum(m))), **specs
        ),
        "wrong, mask ignored": jax.shard_map(grad_of(lambda w, X, y, m: pmean(jnp.mean(losses(w, X, y)))), **specs),
        "wrong, divided by every row": jax.shard_map(
            grad_of(lambda w, X, y, m: pmean(jnp.mean(m * losses(w, X, y)))), **specs
        ),
        "wrong, psum after grad": jax.shard_map(partial(local_grad, divide_by=count, reduce=psum), **specs),
        "wrong, pmean of the sums": jax.shard_map(
            grad_of(lambda w, X, y, m: pmean(jnp.sum(m * losses(w, X, y))) / psum(jnp.sum(m))), **specs
        ),
        "wrong, no collective": jax.shard_map(
            partial(local_grad, divide_by=jnp.sum), check_vma=False, **specs
        ),
        "wrong, a per-device count": jax.shard_map(partial(local_grad, divide_by=jnp.sum), **specs),
        "wrong, grad of each device's mean": jax.shard_map(
            grad_of(lambda w, X, y, m: jnp.sum(m * losses(w, X, y)) / jnp.sum(m)), **specs
        ),
        "wrong, check_vma=False and grad of the psum'd sums": jax.shard_map(
            grad_of_weighted_mean, check_vma=False, **specs
        ),
        "wrong, stacked": jax.shard_map(
            grad_of_weighted_mean, mesh=mesh, in_specs=specs["in_specs"], out_specs=rows
        ),
        "wrong, boolean indexing": jax.shard_map(boolean_index, **specs),
        "wrong, automatic": lambda w, X, y, mask: jax.grad(
            lambda w: jnp.sum(mask * losses(w, X, y)) / jnp.sum(mask)
        )(w),
        "wrong, sign": jax.shard_map(lambda *args: -grad_of_weighted_mean(*args), **specs),
        "wrong, None": None,
        "wrong, placeholder": ...,
        "wrong, a number": 0.25,
        "wrong, stub": stub,
        "wrong, raises": lambda w, X, y, mask: 1 / 0,
    }
    for name, answer in cases.items():
        print(name, "|", ch09.check_masked_grad(answer, mesh))
    right_answer = jax.shard_map(psum_of_a_pair, **specs)
    print("wrong, mesh None |", ch09.check_masked_grad(right_answer, None))
    other = jax.make_mesh((4,), ("batch",), devices=jax.devices("cpu"))
    print("wrong, mesh without 'data' |", ch09.check_masked_grad(right_answer, other))
    """
)


def test_check_masked_grad_corpus_on_four_devices():
    """Right and wrong shard_map gradients of a padded batch, in a subprocess with 4 simulated CPU devices."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", MASKED_GRAD_CORPUS], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    verdicts = dict(line.split(" | ") for line in result.stdout.strip().splitlines())
    phrases = {
        "wrong, vmap per-example gradients under check_vma, psum'd": "differs from the reference",
        "wrong, padding in the sum, real rows in the count": "differs from the reference",
        "wrong, masked sum, not mean": "off by a factor",
        "wrong, mesh None": "the chapter's mesh",
        "wrong, mesh without 'data'": "no axis 'data'",
        "wrong, mean of the means": "mean of the devices' mean losses",
        "wrong, mask ignored": "padding rows were counted",
        "wrong, divided by every row": "divided by every row",
        "wrong, psum after grad": "4 times too large",
        "wrong, pmean of the sums": "4 times too small",
        "wrong, no collective": "first device's real rows only",
        "wrong, a per-device count": "differs from device to device",
        "wrong, grad of each device's mean": "sum of the devices' mean gradients",
        "wrong, check_vma=False and grad of the psum'd sums": "4 times the first device's gradient alone",
        "wrong, stacked": "stacked, one per device",
        "wrong, boolean indexing": "indexes with the mask",
        "wrong, automatic": "without jax.shard_map",
        "wrong, sign": "wrong sign",
        "wrong, None": "is None",
        "wrong, placeholder": "placeholder",
        "wrong, a number": "should be a function",
        "wrong, stub": "still raises NotImplementedError",
        "wrong, raises": "raised ZeroDivisionError",
    }
    for name, verdict in verdicts.items():
        if name.startswith("right"):
            assert verdict.startswith("Correct:"), (name, verdict)
        else:
            assert verdict.startswith("Not yet:") and phrases[name] in verdict, (name, verdict)
    assert len(verdicts) == 32
