"""Tests for jaxbook.flax_models (Chapter 8), the Chapter 8 checkers, and the consistency of the
three versions of the hill network: by hand (Chapter 6), with optax (Chapter 7), with NNX (Chapter 8)."""

import flax.linen as linen
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxbook import flax_models, hill, nn, optim, train
from jaxbook.checks import ch08


def idiom(model, optimizer, X, y):
    """The NNX idiom written out, value_and_grad then optimizer.update: the tests' reference step."""
    loss, grads = nnx.value_and_grad(flax_models.sigmoid_loss)(model, X, y)
    optimizer.update(model, grads)
    return loss


#: The reference step compiled once per shape (eagerly, each of its operations is a program of its own).
idiom_step = nnx.jit(idiom)


@pytest.mark.parametrize("seed,width", [(0, 2), (1, 2), (2, 3)])
def test_hand_written_optax_and_nnx_losses_agree(seed, width):
    """The consistency test of issue 5: same parameters, same loss, in all three chapters."""
    data = hill.hill_data(jax.random.key(10 + seed), n_train=500, n_val=10)
    params = nn.init_params(jax.random.key(seed), width=width, init_scale=2.0)
    # each version compiled (jax.jit / nnx.jit), one program per version and width rather than one per operation
    hand = nn.loss(params, data.X_train, data.y_train)
    with_optax = jax.jit(lambda z, y: jnp.mean(optax.sigmoid_binary_cross_entropy(z, y)))(
        nn.logits(params, data.X_train), data.y_train
    )
    module = flax_models.from_params(params)
    with_nnx = nnx.jit(flax_models.sigmoid_loss)(module, data.X_train, data.y_train)
    np.testing.assert_allclose(with_optax, hand, rtol=1e-6)
    np.testing.assert_allclose(with_nnx, hand, rtol=1e-6)
    np.testing.assert_allclose(
        nnx.jit(lambda m, X: m(X))(module, data.X_train)[:, 0], nn.logits(params, data.X_train), rtol=1e-5, atol=1e-6
    )
    # and the gradients agree too, parameter by parameter
    grads_hand = jax.jit(jax.grad(nn.loss))(params, data.X_train, data.y_train)
    grads_nnx = nnx.jit(nnx.grad(flax_models.sigmoid_loss))(module, data.X_train, data.y_train)
    np.testing.assert_allclose(grads_nnx["hidden"][0]["kernel"][...], grads_hand["W1"], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads_nnx["output"]["kernel"][...][:, 0], grads_hand["w2"], rtol=1e-4, atol=1e-7)


def test_one_sgd_step_is_the_same_in_all_three_chapters():
    data = hill.hill_data(jax.random.key(3), n_train=300, n_val=10)
    params = nn.init_params(jax.random.key(4))
    by_hand, _ = train.gradient_descent(nn.loss, params, lr=0.5, num_steps=1, data=(data.X_train, data.y_train))
    with_optax, _ = optim.fit(nn.loss, params, optax.sgd, lr=0.5, num_steps=1, data=(data.X_train, data.y_train))
    module = flax_models.from_params(params)
    optimizer = nnx.Optimizer(module, optax.sgd(0.5), wrt=nnx.Param)
    idiom_step(module, optimizer, data.X_train, data.y_train)
    with_nnx = flax_models.to_params(module)
    for name in nn.PARAM_NAMES:
        np.testing.assert_allclose(with_optax[name], by_hand[name], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(with_nnx[name], by_hand[name], rtol=1e-5, atol=1e-7)


def test_from_params_and_to_params_round_trip_and_errors():
    params = nn.init_params(jax.random.key(0), width=3)
    back = flax_models.to_params(flax_models.from_params(params))
    for name in nn.PARAM_NAMES:
        np.testing.assert_allclose(back[name], params[name], rtol=1e-7)
    with pytest.raises(ValueError, match=r"params\['W1'\] must have shape \(2, width\); got \(3, 2\)"):
        flax_models.from_params({**params, "W1": jnp.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"params\['w2'\] must have shape \(3,\); got \(2,\)"):
        flax_models.from_params({**params, "w2": jnp.zeros(2)})
    with pytest.raises(ValueError, match="hill model"):
        flax_models.to_params(flax_models.MLP(5, [3], 1, rngs=nnx.Rngs(0)))


def test_two_logits_are_one_logit_in_disguise():
    model = flax_models.MLP(2, [2], 2, rngs=nnx.Rngs(5))
    X = jax.random.uniform(jax.random.key(6), (40, 2))
    y = hill.hill_labels(X)
    as_one = flax_models.to_params(model)
    # each side in one compiled program, rather than each of its operations eagerly
    two_logits = nnx.jit(
        lambda model, X, y: (
            jax.nn.softmax(model(X), axis=1)[:, 1],
            flax_models.softmax_loss(model, X, y),
            flax_models.predict(model, X),
        )
    )
    one_logit = jax.jit(
        lambda p, X, y: (jax.nn.sigmoid(nn.logits(p, X)), nn.loss(p, X, y), (nn.logits(p, X) >= 0).astype(jnp.int32))
    )
    p_two, loss_two, predicted_two = two_logits(model, X, y)
    p_one, loss_one, predicted_one = one_logit(as_one, X, y)
    np.testing.assert_allclose(p_two, p_one, atol=1e-6)
    np.testing.assert_allclose(loss_two, loss_one, rtol=1e-5)
    np.testing.assert_array_equal(predicted_two, predicted_one)


def test_mlp_matches_numpy_and_linen():
    model = flax_models.MLP(3, [4, 5], 2, activation=nnx.relu, rngs=nnx.Rngs(7))
    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    h = X
    for layer in model.hidden:
        h = np.maximum(0, h @ np.asarray(layer.kernel[...]) + np.asarray(layer.bias[...]))
    expected = h @ np.asarray(model.output.kernel[...]) + np.asarray(model.output.bias[...])
    forward = nnx.jit(lambda model, X: model(X))  # one compiled program per model, not one per operation
    np.testing.assert_allclose(forward(model, X), expected, rtol=1e-5, atol=1e-6)

    class LinenNet(linen.Module):
        @linen.compact
        def __call__(self, x):
            h = linen.sigmoid(linen.Dense(2)(x))  # declared first, so named Dense_0
            return linen.Dense(1)(h)

    hill_model = flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(1))
    variables = {
        "params": {
            "Dense_0": {"kernel": hill_model.hidden[0].kernel[...], "bias": hill_model.hidden[0].bias[...]},
            "Dense_1": {"kernel": hill_model.output.kernel[...], "bias": hill_model.output.bias[...]},
        }
    }
    np.testing.assert_allclose(jax.jit(LinenNet().apply)(variables, X[:, :2]), forward(hill_model, X[:, :2]), rtol=1e-6)


def test_fit_trains_in_place_and_matches_a_python_loop():
    data = hill.hill_data(jax.random.key(2), n_train=200, n_val=10)
    model = flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(3))
    twin = flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(3))
    trained, history = flax_models.fit(
        flax_models.sigmoid_loss,
        model,
        optax.adam,
        lr=0.05,
        num_steps=7,
        data=(data.X_train, data.y_train),
        batch_size=50,
        key=jax.random.key(4),
    )
    assert trained is model
    assert history["loss"].shape == (7,) and history["epoch_loss"].shape == (2,)
    # four batches of 50 per epoch, each epoch a fresh permutation from its own key
    orders = [np.asarray(jax.random.permutation(k, 200)) for k in jax.random.split(jax.random.key(4), 2)]
    twin_optimizer = nnx.Optimizer(twin, optax.adam(0.05), wrt=nnx.Param)

    X_train, y_train = np.asarray(data.X_train), np.asarray(data.y_train)
    for t in range(7):
        idx = orders[t // 4][50 * (t % 4) : 50 * (t % 4 + 1)]
        loss = idiom_step(twin, twin_optimizer, X_train[idx], y_train[idx])
        np.testing.assert_allclose(history["loss"][t], loss, rtol=1e-5)
    np.testing.assert_allclose(model.hidden[0].kernel[...], twin.hidden[0].kernel[...], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        history["epoch_loss"][-1], flax_models.sigmoid_loss(twin, data.X_train, data.y_train), rtol=1e-5
    )


def test_train_step_is_the_nnx_idiom():
    data = hill.hill_data(jax.random.key(2), n_train=100, n_val=10)
    models = [flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(3)) for _ in range(2)]
    optimizers = [nnx.Optimizer(m, optax.adam(0.05), wrt=nnx.Param) for m in models]
    start = np.asarray(models[0].output.kernel[...])
    loss = flax_models.train_step(flax_models.sigmoid_loss, models[0], optimizers[0], data.X_train, data.y_train)
    # eagerly, not under nnx.jit: the reference does not rely on the write-back that train_step's nnx.jit does
    expected = idiom(models[1], optimizers[1], data.X_train, data.y_train)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    assert not np.allclose(models[0].output.kernel[...], start)  # the step changed the model in place
    np.testing.assert_allclose(models[0].output.kernel[...], models[1].output.kernel[...], rtol=1e-6)
    assert int(optimizers[0].step[...]) == 1


def test_fit_detects_divergence_and_bad_arguments():
    data = hill.hill_data(jax.random.key(2), n_train=100, n_val=10)
    model = flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(3))
    XY = (data.X_train, data.y_train)
    with pytest.raises(train.DivergenceError, match="try a smaller learning rate"):
        flax_models.fit(
            flax_models.sigmoid_loss,
            model,
            optax.sgd,
            lr=1e12,
            num_steps=5,
            data=XY,
            batch_size=50,
            key=jax.random.key(0),
        )
    with pytest.raises(ValueError, match=r"batch_size must be at most the number of rows \(100\); got 500"):
        flax_models.fit(
            flax_models.sigmoid_loss,
            model,
            optax.sgd,
            lr=0.1,
            num_steps=5,
            data=XY,
            batch_size=500,
            key=jax.random.key(0),
        )
    with pytest.raises(ValueError, match="must have the same number of rows"):
        flax_models.fit(
            flax_models.sigmoid_loss,
            model,
            optax.sgd,
            lr=0.1,
            num_steps=5,
            data=(data.X_train, data.y_train[:50]),
            batch_size=5,
            key=jax.random.key(0),
        )


def test_standardise_uses_training_statistics_only():
    rng = np.random.default_rng(1)
    X_train, X_val = rng.normal(3, 2, size=(50, 3)), rng.normal(10, 1, size=(7, 3))
    X_train[:, 2] = 4.0  # a constant feature
    a, b = flax_models.standardise(X_train, X_val)
    np.testing.assert_allclose(a[:, :2].mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(a[:, :2].std(0), 1, atol=1e-5)
    np.testing.assert_allclose(b[:, 0], (X_val[:, 0] - X_train[:, 0].mean()) / X_train[:, 0].std(), rtol=1e-5)
    assert np.all(a[:, 2] == 0)
    with pytest.raises(ValueError, match="X_val must have 3 columns like X_train; got 2"):
        flax_models.standardise(X_train, X_val[:, :2])


# --- the Chapter 8 checkers ---------------------------------------------------------------------


def test_check_two_logits():
    assert ch08.check_two_logits(lambda z: jnp.stack([jnp.zeros_like(z), z], axis=1)).ok
    assert ch08.check_two_logits(lambda z: jnp.stack([-z / 2, z / 2], axis=1)).ok
    assert "swapped" in ch08.check_two_logits(lambda z: jnp.stack([z, jnp.zeros_like(z)], axis=1)).message
    assert "last axis" in ch08.check_two_logits(lambda z: jnp.stack([jnp.zeros_like(z), z])).message
    assert "expected (7, 2)" in ch08.check_two_logits(lambda z: z).message


def test_check_train_step():
    def penalised(model, X, y):
        kernels = [layer.kernel[...] for layer in (*model.hidden, model.output)]
        return flax_models.sigmoid_loss(model, X, y) + 0.01 * sum(jnp.sum(k**2) for k in kernels)

    def good(model, optimizer, X, y):
        loss, grads = nnx.value_and_grad(penalised)(model, X, y)
        optimizer.update(model, grads)
        return loss

    def no_update(model, optimizer, X, y):
        return penalised(model, X, y)

    def twice(model, optimizer, X, y):
        good(model, optimizer, X, y)
        return good(model, optimizer, X, y)

    def wrong_loss(model, optimizer, X, y):
        loss, grads = nnx.value_and_grad(lambda m, X, y: jnp.mean((m(X)[:, 0] - y) ** 2))(model, X, y)
        optimizer.update(model, grads)
        return loss

    assert ch08.check_train_step(good).ok
    assert ch08.check_train_step(nnx.jit(good)).ok
    assert "optimizer.update" in ch08.check_train_step(no_update).message
    assert "twice" in ch08.check_train_step(twice).message
    assert "sigmoid_loss" in ch08.check_train_step(wrong_loss).message


def test_check_parameter_count():
    def layers(sizes):
        return list(zip(sizes[:-1], sizes[1:]))

    assert ch08.check_parameter_count(lambda sizes: sum(a * b + b for a, b in layers(sizes))).ok
    assert "weights only" in ch08.check_parameter_count(lambda sizes: sum(a * b for a, b in layers(sizes))).message
    assert "leaves out a layer" in ch08.check_parameter_count(lambda sizes: sizes[0] * sizes[1] + sizes[1]).message
    assert "every network" in ch08.check_parameter_count(lambda sizes: 19210).message
    assert "should be a function" in ch08.check_parameter_count(19210).message
    assert "whole number" in ch08.check_parameter_count(lambda sizes: 0.5).message
