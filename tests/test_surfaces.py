"""Tests for jaxbook.surfaces and jaxbook.scaling (Chapter 2), and for the descent they draw."""

import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from jaxbook import scaling, surfaces
from jaxbook.train import gradient_descent


def bowl(t):
    return t[0] ** 2 + t[1] ** 2


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- the descent on the isotropic quadratic: t_k = (1 - 2 lr)^k t_0 -------------------------


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.3, 0.5, 0.9, 1.05])
def test_descent_on_isotropic_quadratic_matches_closed_form(lr):
    start = np.array([2.0, 1.0])
    num_steps = 15
    _, history = gradient_descent(
        bowl, jnp.asarray(start, jnp.float32), lr=lr, num_steps=num_steps, record_params=True, check_divergence=False
    )
    factors = (1 - 2 * lr) ** np.arange(num_steps + 1)
    np.testing.assert_allclose(history["params"], factors[:, None] * start, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(history["loss"], 5.0 * factors**2, rtol=1e-5, atol=1e-6)


def test_one_step_by_hand():
    t, history = gradient_descent(bowl, jnp.array([2.0, 1.0]), lr=0.1, num_steps=1)
    np.testing.assert_allclose(t, [1.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(history["loss"], [5.0, 3.2], rtol=1e-6)


def test_anisotropic_quadratic_each_coordinate_has_its_own_factor():
    a, b, lr = 1.0, 10.0, 0.095
    _, history = gradient_descent(
        lambda t: a * t[0] ** 2 + b * t[1] ** 2, jnp.array([-2.0, 1.0]), lr=lr, num_steps=10, record_params=True
    )
    k = np.arange(11)
    expected = np.stack([-2.0 * (1 - 2 * a * lr) ** k, (1 - 2 * b * lr) ** k], axis=1)
    np.testing.assert_allclose(history["params"], expected, rtol=1e-5, atol=1e-6)


# --- evaluate_on_grid ----------------------------------------------------------------------


def test_evaluate_on_grid_matches_numpy_broadcasting():
    def f(t):
        return 3.0 * t[0] ** 2 - t[0] * t[1] + jnp.sin(t[1])

    T0, T1, Z = surfaces.evaluate_on_grid(f, (-1.0, 2.0), (0.0, 3.0), num=7)
    g0, g1 = np.meshgrid(np.linspace(-1, 2, 7), np.linspace(0, 3, 7))
    np.testing.assert_allclose(T0, g0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(T1, g1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(Z, 3 * g0**2 - g0 * g1 + np.sin(g1), rtol=1e-5, atol=1e-6)


def test_regression_cost_reference_numbers():
    x, y = jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.2, 2.8])

    def cost(b):
        return jnp.mean((b[0] + b[1] * x - y) ** 2)

    _, _, Z = surfaces.evaluate_on_grid(cost, (2.0, 3.0), (2.0, 3.0), num=2)
    assert Z[0, 0] == pytest.approx(50.48 / 3, rel=1e-6)  # 16.8267: the mean over n = 3 at (2, 2)
    fit = LinearRegression().fit(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.2, 2.8]))
    assert fit.coef_[0] == pytest.approx(0.9) and fit.intercept_ == pytest.approx(0.2)
    b, _ = gradient_descent(lambda b: cost(b), jnp.array([2.0, 2.0]), lr=0.1, num_steps=2000)
    np.testing.assert_allclose(b, [0.2, 0.9], atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(f="not a function"), r"f must be a function"),
        (
            dict(t0_range=(1.0, -1.0)),
            r"t0_range must be a finite pair \(low, high\) with low < high; got \(1.0, -1.0\)",
        ),
        (dict(t1_range=(0.0, np.inf)), r"t1_range must be a finite pair"),
        (dict(t1_range=3.0), r"t1_range must be a pair \(low, high\) of numbers; got 3.0"),
        (dict(num=1), r"num must be at least 2 grid points per axis; got 1"),
        (dict(num=2.5), r"num must be a positive integer; got 2.5"),
        (
            dict(f=lambda t: t),
            r"f must return a scalar for one point t of shape \(2,\); .* gave shape \(9, 2\), expected \(9,\)",
        ),
    ],
)
def test_evaluate_on_grid_rejects_bad_input(kwargs, match):
    args = dict(f=bowl, t0_range=(-1.0, 1.0), t1_range=(-1.0, 1.0), num=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        surfaces.evaluate_on_grid(args.pop("f"), args.pop("t0_range"), args.pop("t1_range"), **args)


# --- plot_surface and plot_paths -----------------------------------------------------------


def test_plot_surface_returns_a_figure_with_a_3d_surface_and_labelled_contours():
    fig = surfaces.plot_surface(bowl, (-2, 2), (-2, 2), num=11, levels=[0, 1, 2, 4, 8], title="bowl")
    ax3d, ax = fig.axes[:2]
    assert ax3d.name == "3d"
    assert ax.get_xlabel() == "$t_0$" and ax.get_ylabel() == "$t_1$"
    assert len(ax.texts) > 0  # contour labels
    assert fig._suptitle.get_text() == "bowl"


@pytest.mark.parametrize(
    ("levels", "match"),
    [
        ([3.0, 1.0], r"levels must be a count or at least two increasing values"),
        (0, r"levels must be a positive integer; got 0"),
        ([1.0, np.nan], r"levels must be finite"),
    ],
)
def test_plot_surface_rejects_bad_levels(levels, match):
    with pytest.raises(ValueError, match=match):
        surfaces.plot_surface(bowl, (-1, 1), (-1, 1), levels=levels)


def test_plot_paths_draws_each_path_and_the_start():
    _, history = gradient_descent(bowl, jnp.array([2.0, 1.0]), lr=0.1, num_steps=5, record_params=True)
    ax = surfaces.plot_paths(
        bowl,
        {"lr = 0.1": history["params"], "other": np.array([[1.0, 1.0], [0.5, 0.2]])},
        (-3, 3),
        (-3, 3),
        num=21,
        minimum=(0, 0),
    )
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["lr = 0.1", "other"] and "start" in labels and "minimum" in labels
    np.testing.assert_allclose(ax.get_lines()[0].get_xydata(), history["params"], rtol=1e-6)
    assert ax.get_xlim() == (-3.0, 3.0)


@pytest.mark.parametrize(
    ("paths", "match"),
    [
        ({}, r"paths must be a non-empty mapping"),
        ([[0.0, 1.0]], r"paths must be a non-empty mapping .* got list"),
        (
            {"a": np.zeros((4, 3))},
            r"paths\['a'\] must have shape \(num_points, 2\), one \(t0, t1\) per row; got shape \(4, 3\)",
        ),
        ({"a": np.zeros(4)}, r"paths\['a'\] must be 2-D; got shape \(4,\)"),
        ({"a": np.array([[0.0, 1.0], [np.nan, 1.0]])}, r"paths\['a'\] must be finite; got NaN at index \(1, 0\)"),
    ],
)
def test_plot_paths_rejects_bad_paths(paths, match):
    with pytest.raises(ValueError, match=match):
        surfaces.plot_paths(bowl, paths, (-1, 1), (-1, 1))


# --- scaling -------------------------------------------------------------------------------


def test_standardize_matches_numpy():
    x = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    z, mean, sd = scaling.standardize(jnp.asarray(x))
    np.testing.assert_allclose(z, (x - x.mean()) / x.std(), rtol=1e-5, atol=1e-6)
    assert float(mean) == pytest.approx(x.mean()) and float(sd) == pytest.approx(x.std(), rel=1e-6)


def test_unstandardize_recovers_the_least_squares_line():
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 15, size=200)
    y = 32 + 1.8 * x + rng.normal(scale=3, size=200)
    xs, x_mean, x_sd = scaling.standardize(jnp.asarray(x, jnp.float32))
    ys, y_mean, y_sd = scaling.standardize(jnp.asarray(y, jnp.float32))
    b1 = float(jnp.mean(xs * ys))  # least squares on standardised data: b0 = 0, b1 = correlation
    intercept, slope = scaling.unstandardize_coefficients(jnp.array([0.0, b1]), x_mean, x_sd, y_mean, y_sd)
    slope_ref, intercept_ref = np.polyfit(x, y, 1)
    assert float(slope) == pytest.approx(slope_ref, rel=1e-4)
    assert float(intercept) == pytest.approx(intercept_ref, rel=1e-4)
    # the slip that drops b1 from the intercept's last term is off by (1 - b1) * x_mean * y_sd / x_sd
    slip = float(y_mean) - float(x_mean) * float(y_sd) / float(x_sd)
    assert intercept_ref - slip == pytest.approx((1 - b1) * x.mean() * y.std() / x.std(), rel=1e-3)


def test_thermometer_reference_numbers():
    import jax

    from jaxbook import data

    celsius, fahrenheit = data.celsius_fahrenheit(jax.random.key(14))
    c, f = np.asarray(celsius, np.float64), np.asarray(fahrenheit, np.float64)
    slope, intercept = np.polyfit(c, f, 1)
    slip = f.mean() - c.mean() * f.std() / c.std()
    assert round(intercept, 1) == 31.9 and round(slip, 1) == 31.5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: scaling.standardize(jnp.ones(4)), r"x must not be constant"),
        (lambda: scaling.standardize(jnp.ones((2, 2))), r"x must be 1-D; got shape \(2, 2\)"),
        (
            lambda: scaling.unstandardize_coefficients(jnp.zeros(3), 0.0, 1.0, 0.0, 1.0),
            r"coef_std must have shape \(2,\) = \(b0, b1\); got shape \(3,\)",
        ),
        (
            lambda: scaling.unstandardize_coefficients(jnp.zeros(2), 0.0, 0.0, 0.0, 1.0),
            r"x_sd must be a positive finite number; got 0.0",
        ),
        (
            lambda: scaling.unstandardize_coefficients(jnp.zeros(2), 0.0, 1.0, 0.0, -2.0),
            r"y_sd must be a positive finite number; got -2.0",
        ),
    ],
)
def test_scaling_rejects_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
