"""Tests for jaxbook.optim (Chapter 7), the Chapter 7 checkers, and the consistency of the
hand-written network (Chapter 6) with its optax version (Chapter 7)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import statsmodels.api as sm

from jaxbook import hill, losses, nn, optim, train
from jaxbook.checks import ch07


def test_fit_with_sgd_is_plain_gradient_descent():
    f = lambda t: jnp.sum(jnp.array([1.0, 10.0]) * t**2)
    start = jnp.array([2.0, 1.0])
    t_optax, h_optax = optim.fit(f, start, optax.sgd, lr=0.04, num_steps=25, record_params=True)
    t_gd, h_gd = train.gradient_descent(f, start, lr=0.04, num_steps=25, record_params=True)
    np.testing.assert_allclose(t_optax, t_gd, rtol=1e-5)
    np.testing.assert_allclose(h_optax["loss"], h_gd["loss"], rtol=1e-5)
    assert h_optax["params"].shape == (26, 2)
    # closed form: each coordinate is multiplied by (1 - 2 lr a) per step
    np.testing.assert_allclose(t_optax, start * (1 - 2 * 0.04 * jnp.array([1.0, 10.0])) ** 25, rtol=1e-4)


def test_fit_matches_a_python_loop_with_adam_and_minibatches():
    data = hill.hill_data(jax.random.key(0), n_train=300, n_val=10)
    params = nn.init_params(jax.random.key(1))
    final, history = optim.fit(
        nn.loss,
        params,
        optax.adam,
        lr=0.05,
        num_steps=12,
        data=(data.X_train, data.y_train),
        batch_size=100,
        key=jax.random.key(2),
    )
    # three batches of 100 per epoch, each epoch a fresh permutation from its own key
    orders = [np.asarray(jax.random.permutation(k, 300)) for k in jax.random.split(jax.random.key(2), 4)]
    assert all(sorted(order.tolist()) == list(range(300)) for order in orders)
    tx = optax.adam(0.05)

    @jax.jit  # the loop's step compiled once, rather than each of its operations eagerly
    def step(p, state, X, y):
        loss, grads = jax.value_and_grad(nn.loss)(p, X, y)
        updates, state = tx.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss

    state = tx.init(params)
    p = params
    X_train, y_train = np.asarray(data.X_train), np.asarray(data.y_train)
    for t in range(12):
        idx = orders[t // 3][100 * (t % 3) : 100 * (t % 3 + 1)]
        p, state, loss = step(p, state, X_train[idx], y_train[idx])
        np.testing.assert_allclose(history["loss"][t], loss, rtol=1e-5)
        if t % 3 == 2:  # the end of an epoch: the loss on all the data
            np.testing.assert_allclose(history["epoch_loss"][t // 3], nn.loss(p, data.X_train, data.y_train), rtol=1e-5)
    for name in nn.PARAM_NAMES:
        np.testing.assert_allclose(final[name], p[name], rtol=1e-4, atol=1e-6)
    assert history["loss"].shape == (12,) and history["epoch_loss"].shape == (4,)


def test_fit_detects_divergence_and_bad_arguments():
    f = lambda t: jnp.sum(10.0 * t**2)
    with pytest.raises(train.DivergenceError, match="try a smaller learning rate, e.g. lr=0.02"):
        optim.fit(f, jnp.ones(2), optax.sgd, lr=0.2, num_steps=40)
    nan_loss = lambda t: jnp.sum(t**2) + jnp.log(-1.0)
    with pytest.raises(train.DivergenceError, match="became nan"):
        optim.fit(nan_loss, jnp.ones(2), optax.adam, lr=0.1, num_steps=3)
    with pytest.raises(ValueError, match="lr must be a positive finite number; got -1"):
        optim.fit(f, jnp.ones(2), optax.sgd, lr=-1, num_steps=3)
    with pytest.raises(ValueError, match="key must be a jax.random.key when batch_size is given"):
        optim.fit(
            nn.loss,
            nn.init_params(jax.random.key(0)),
            optax.sgd,
            lr=1.0,
            num_steps=3,
            data=(jnp.zeros((5, 2)), jnp.zeros(5)),
            batch_size=2,
        )
    with pytest.raises(ValueError, match=r"batch_size must be at most the number of rows \(5\); got 10"):
        optim.fit(
            nn.loss,
            nn.init_params(jax.random.key(0)),
            optax.sgd,
            lr=1.0,
            num_steps=3,
            data=(jnp.zeros((5, 2)), jnp.zeros(5)),
            batch_size=10,
            key=jax.random.key(0),
        )
    with pytest.raises(ValueError, match="must have the same number of rows"):
        optim.fit(
            nn.loss,
            nn.init_params(jax.random.key(0)),
            optax.sgd,
            lr=1.0,
            num_steps=3,
            data=(jnp.zeros((5, 2)), jnp.zeros(4)),
            batch_size=2,
            key=jax.random.key(0),
        )


def test_optax_loss_equals_the_hand_written_loss():
    """Consistency: Chapter 6's loss and Chapter 7's optax.sigmoid_binary_cross_entropy agree."""
    data = hill.hill_data(jax.random.key(3), n_train=400, n_val=10)
    for seed in range(3):
        params = nn.init_params(jax.random.key(seed), init_scale=3.0)
        optax_loss = jnp.mean(optax.sigmoid_binary_cross_entropy(nn.logits(params, data.X_train), data.y_train))
        np.testing.assert_allclose(optax_loss, nn.loss(params, data.X_train, data.y_train), rtol=1e-6)


def test_hill_study_matches_single_runs():
    data = hill.hill_data(jax.random.key(0), n_train=200, n_val=50)
    keys = jax.random.split(jax.random.key(1), 3)
    inputs = optim.study_inputs(keys, jax.random.key(2), 200, num_steps=30, batch_size=50, init_scale=0.5)
    study = optim.hill_study(optax.adam, [0.01, 0.1], inputs, data)
    assert study.val_accuracy.shape == (2, 3) and not bool(study.diverged.any())
    for i, lr in enumerate([0.01, 0.1]):
        for j in range(3):
            start = nn.init_params(keys[j], init_scale=0.5)
            np.testing.assert_allclose(start["W1"], inputs.params["W1"][j], rtol=1e-6)
            final, history = optim.fit(
                nn.loss,
                start,
                optax.adam,
                lr=lr,
                num_steps=30,
                data=(data.X_train, data.y_train),
                batch_size=50,
                key=jax.random.key(2),
            )
            np.testing.assert_allclose(study.train_loss[i, j], history["epoch_loss"][-1], rtol=1e-4)
            np.testing.assert_allclose(study.val_accuracy[i, j], nn.accuracy(final, data.X_val, data.y_val), atol=0.021)
    fewer = optim.select_seeds(inputs, 2)
    assert fewer.params["b2"].shape == (2,) and fewer.indices.shape == (30, 50)


def test_hill_study_marks_divergence_and_rejects_bad_inputs():
    data = hill.hill_data(jax.random.key(0), n_train=100, n_val=20)
    inputs = optim.study_inputs(
        jax.random.split(jax.random.key(1), 2), jax.random.key(2), 100, num_steps=20, batch_size=20
    )
    study = optim.hill_study(optax.sgd, [1e30], inputs, data)
    assert bool(study.diverged.all())
    with pytest.raises(ValueError, match="lrs must all be positive"):
        optim.hill_study(optax.sgd, [0.1, -1.0], inputs, data)
    with pytest.raises(ValueError, match="inputs were drawn for more points than data's 50 training points"):
        optim.hill_study(optax.sgd, [0.1], inputs, hill.hill_data(jax.random.key(0), n_train=50, n_val=20))
    with pytest.raises(ValueError, match="inputs must be a StudyInputs"):
        optim.hill_study(optax.sgd, [0.1], (1, 2), data)
    with pytest.raises(ValueError, match="keys must be a 1-D batch of keys"):
        optim.study_inputs(jax.random.key(0), jax.random.key(1), 100, num_steps=2, batch_size=2)


def test_lbfgs_reaches_the_logistic_maximum_likelihood():
    key_X, key_y = jax.random.split(jax.random.key(5))
    X = jax.random.normal(key_X, (500, 3))
    b_true = jnp.array([0.3, 1.0, -1.0, 0.5])
    y = jax.random.bernoulli(key_y, jax.nn.sigmoid(b_true[0] + X @ b_true[1:])).astype(jnp.float32)
    loss = lambda b, X, y: losses.binary_cross_entropy(b[0] + X @ b[1:], y)
    b, info = optim.lbfgs(loss, jnp.zeros(4), data=(X, y), tol=1e-5)
    reference = sm.Logit(np.asarray(y, dtype=np.float64), sm.add_constant(np.asarray(X, dtype=np.float64))).fit(disp=0)
    np.testing.assert_allclose(b, reference.params, atol=1e-3)
    assert float(info["grad_norm"]) < 1e-5 and 1 <= int(info["num_steps"]) < 100
    with pytest.raises(ValueError, match="tol must be a positive finite number"):
        optim.lbfgs(loss, jnp.zeros(4), data=(X, y), tol=0.0)


# --- the Chapter 7 checkers ---------------------------------------------------------------------


def test_check_optax_bce():
    def per_example(z, y):
        return optax.sigmoid_binary_cross_entropy(z, y)

    assert ch07.check_optax_bce(lambda z, y, w: jnp.average(per_example(z, y), weights=w)).ok
    assert ch07.check_optax_bce(lambda z, y, w: jnp.sum(w * per_example(z, y)) / jnp.sum(w)).ok
    assert "weights are ignored" in ch07.check_optax_bce(lambda z, y, w: losses.binary_cross_entropy(z, y)).message
    assert "one loss per example" in ch07.check_optax_bce(lambda z, y, w: w * per_example(z, y)).message
    assert "weighted sum" in ch07.check_optax_bce(lambda z, y, w: jnp.sum(w * per_example(z, y))).message
    probs = lambda z, y, w: jnp.average(per_example(jax.nn.sigmoid(z), y), weights=w)
    assert "takes logits, not probabilities" in ch07.check_optax_bce(probs).message
    naive = lambda z, y, w: losses.naive_binary_cross_entropy(z, y)
    assert "overflows" in ch07.check_optax_bce(naive).message


def test_check_adam_updates_reference_is_optax_adam_with_the_correction():
    # the checker's NumPy formulas, with the bias correction, give optax.adam's updates on every test input
    for _, grads, lr in ch07._adam_cases():
        np.testing.assert_allclose(
            ch07._np_adam_updates(grads, lr, True), ch07._optax_adam_updates(grads, lr), rtol=1e-4, atol=1e-7 * lr
        )
    # and without it, on a constant gradient, the closed form lr (1 - b1**t) / (sqrt(1 - b2**t) + eps / |g|)
    t = np.arange(1, 201)
    np.testing.assert_allclose(
        -ch07._np_adam_updates(np.ones(200), 1.0, False), (1 - 0.9**t) / (np.sqrt(1 - 0.999**t) + 1e-8), rtol=1e-12
    )


def test_check_adam_updates():
    def formulas(grads, lr, bias_correction):
        return ch07._np_adam_updates(np.asarray(grads), lr, bias_correction)

    assert ch07.check_adam_updates(formulas).ok
    assert "wrong sign" in ch07.check_adam_updates(lambda g, lr, c: -formulas(g, lr, c)).message
    assert "no bias correction" in ch07.check_adam_updates(lambda g, lr, c: formulas(g, lr, False)).message
    assert "bias-corrected" in ch07.check_adam_updates(lambda g, lr, c: formulas(g, lr, True)).message
    assert "numeric" in ch07.check_adam_updates(lambda g, lr, c: "updates").message


def test_check_clipped_sgd():
    clip, decay, sgd = optax.clip_by_global_norm(1.0), optax.add_decayed_weights(0.01), optax.sgd(0.1)
    assert ch07.check_clipped_sgd(optax.chain(clip, decay, sgd)).ok
    assert "clips each entry separately" in ch07.check_clipped_sgd(optax.chain(optax.clip(1.0), decay, sgd)).message
    assert "no weight decay" in ch07.check_clipped_sgd(optax.chain(clip, sgd)).message
    assert "before the clipping" in ch07.check_clipped_sgd(optax.chain(decay, clip, sgd)).message
    assert "SGD step was clipped" in ch07.check_clipped_sgd(optax.chain(decay, sgd, clip)).message
    assert "was not clipped" in ch07.check_clipped_sgd(optax.sgd(0.1)).message
    assert "GradientTransformation" in ch07.check_clipped_sgd(lambda g: g).message


def test_recommended_follows_its_schedule_in_closed_form():
    # With a constant gradient, Adam's bias-corrected moments are exactly g and g^2, so each update
    # is -lr_t * g / (|g| + eps): the schedule itself, times the sign. The gradient (norm 5) is
    # clipped to norm 1 first, which leaves its sign unchanged.
    tx = optim.recommended(0.05)
    g = jnp.array([3.0, -4.0])

    def step(state, _):
        updates, state = tx.update(g, state)
        return state, updates

    _, updates = jax.jit(lambda s: jax.lax.scan(step, s, length=3000))(tx.init(jnp.zeros(2)))
    steps = np.array([0, 1000, 1999, 2000, 2500, 2999])
    expected_lr = np.where(steps < 2000, 0.05, 0.05 * 0.5 * (1 + np.cos(np.pi * (steps - 2000) / 1000)))
    np.testing.assert_allclose(
        np.asarray(updates)[steps], -expected_lr[:, None] * np.array([1.0, -1.0]), rtol=1e-4, atol=1e-8
    )
