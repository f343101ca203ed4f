"""The reference functions of chapter 1 against independent computations."""

import warnings

import numpy as np
import pytest

from autograder import chain_rule as ref
from autograder.cases import answer


def test_sigmoid_matches_its_definition_and_saturates_without_warning():
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(ref.sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saturated = ref.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(saturated, [0.0, 1.0])
    np.testing.assert_allclose(ref.sigmoid(-z), 1.0 - ref.sigmoid(z), atol=1e-15)


@pytest.mark.parametrize("f, f_prime, x", [
    (np.sin, np.cos, np.linspace(-3, 3, 13)),
    (np.exp, np.exp, np.array([[-1.0, 0.0], [0.5, 2.0]])),
    (np.tanh, lambda t: 1 - np.tanh(t) ** 2, 0.3),
])
def test_numerical_derivative_matches_the_derivative_elementwise(f, f_prime, x):
    estimate = ref.numerical_derivative(f, x)
    assert estimate.shape == np.shape(x)
    np.testing.assert_allclose(estimate, f_prime(np.asarray(x)), rtol=1e-9, atol=1e-10)


def test_central_difference_error_is_second_order_and_forward_first_order():
    # Halving h divides a truncation error of order h^p by 2^p; h stays large enough that
    # round-off (about 1e-16 / h) is negligible against it.
    x, exact = 1.0, np.cos(1.0)
    steps = np.array([1e-2, 5e-3])
    central = [abs(ref.numerical_derivative(np.sin, x, h) - exact) for h in steps]
    forward = [abs(ref.forward_difference(np.sin, x, h) - exact) for h in steps]
    assert central[0] / central[1] == pytest.approx(4.0, rel=1e-3)
    assert forward[0] / forward[1] == pytest.approx(2.0, rel=1e-2)
    # Leading terms: h^2/6 f''' = -h^2 cos(x)/6 and h/2 f'' = -h sin(x)/2.
    assert central[0] == pytest.approx(1e-4 * np.cos(x) / 6, rel=1e-3)
    assert forward[0] == pytest.approx(1e-2 * np.sin(x) / 2, rel=1e-2)


def test_round_off_takes_over_for_tiny_steps():
    exact = np.cos(1.0)
    error_at_best_step = abs(ref.numerical_derivative(np.sin, 1.0, 1e-5) - exact)
    error_at_tiny_step = abs(ref.numerical_derivative(np.sin, 1.0, 1e-13) - exact)
    assert error_at_tiny_step > 100 * error_at_best_step


@pytest.mark.parametrize("f_prime, g, g_prime, composite", [
    (np.cos, np.square, lambda t: 2 * t, lambda t: np.sin(t ** 2)),
    (np.exp, np.sin, np.cos, lambda t: np.exp(np.sin(t))),
    (lambda u: ref.sigmoid(u) * (1 - ref.sigmoid(u)), lambda t: 3 * t - 1, lambda t: 3 + 0 * t,
     lambda t: ref.sigmoid(3 * t - 1)),
])
def test_chain_rule_derivative_matches_finite_differences_of_the_composite(f_prime, g, g_prime, composite):
    x = np.linspace(-2, 2, 9).reshape(3, 3)
    np.testing.assert_allclose(ref.chain_rule_derivative(f_prime, g, g_prime, x),
                               ref.numerical_derivative(composite, x), rtol=1e-8, atol=1e-9)


def test_numerical_jacobian_of_a_linear_map_is_its_matrix():
    matrix = np.arange(6.0).reshape(2, 3) - 2.5
    np.testing.assert_allclose(ref.numerical_jacobian(lambda v: matrix @ v, np.ones(3)), matrix, atol=1e-9)


def test_jacobians_of_a_composition_multiply():
    # f(g(x)) with g: R^2 -> R^3 and f: R^3 -> R^2: J_{f o g}(x) = J_f(g(x)) J_g(x).
    def g(v):
        return np.array([v[0] * v[1], np.sin(v[0]), v[1] ** 2])

    def f(u):
        return np.array([u[0] + u[1] * u[2], np.exp(u[0])])

    x = np.array([0.7, -1.3])
    product = ref.numerical_jacobian(f, g(x)) @ ref.numerical_jacobian(g, x)
    np.testing.assert_allclose(ref.numerical_jacobian(lambda v: f(g(v)), x), product, rtol=1e-7)


def test_numerical_jacobian_of_a_scalar_function_has_the_shape_of_its_input():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_allclose(ref.numerical_jacobian(lambda m: np.sum(m ** 3), x), 3 * x ** 2, rtol=1e-8)


def test_neuron_worked_by_hand():
    # z = 0.5 * 1 - 0.25 * 2 + 0 = 0, a = 1/2, dL/dz = (1/2 - 1) * 1/2 * 1/2 = -1/8.
    loss, dw, db = ref.neuron_backward(np.array([0.5, -0.25]), 0.0, np.array([1.0, 2.0]), 1.0)
    assert loss == pytest.approx(0.125, abs=1e-15)
    np.testing.assert_allclose(dw, [-0.125, -0.25], atol=1e-15)
    assert db == pytest.approx(-0.125, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_neuron_backward_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    w, x = rng.standard_normal(4), rng.standard_normal(4)
    b, y = float(rng.standard_normal()), float(rng.uniform())
    loss, dw, db = ref.neuron_backward(w, b, x, y)
    assert loss == pytest.approx(0.5 * (1 / (1 + np.exp(-(w @ x + b))) - y) ** 2, rel=1e-12)
    np.testing.assert_allclose(dw, ref.numerical_jacobian(lambda v: ref.neuron_backward(v, b, x, y)[0], w),
                               rtol=1e-6, atol=1e-11)
    assert db == pytest.approx(float(ref.numerical_derivative(lambda c: ref.neuron_backward(w, c, x, y)[0], b)),
                               rel=1e-6, abs=1e-11)


def test_neuron_backward_leaves_its_inputs_alone_and_names_bad_shapes():
    w, x = np.array([0.3, -0.2]), np.array([1.0, 4.0])
    kept = w.copy(), x.copy()
    ref.neuron_backward(w, 0.1, x, 0.0)
    np.testing.assert_array_equal(w, kept[0])
    np.testing.assert_array_equal(x, kept[1])
    with pytest.raises(ValueError, match=r"neuron_backward: `x` must have shape \(d,\) = \(2,\) \(d = 2 from `w`\); "
                                         r"got shape \(3,\)"):
        ref.neuron_backward(w, 0.1, np.ones(3), 0.0)


def test_by_hand_answers_are_the_hand_computed_values():
    # d/dx sin(x^2) = 2x cos(x^2); the question's neuron has z = 0, a = 1/2, dL/dz = -1/8.
    assert float(answer("dh_dx").expected()) == pytest.approx(3.0 * np.cos(2.25), abs=1e-15)
    np.testing.assert_allclose(answer("neuron_dw").expected(), [-0.125, -0.375], atol=1e-15)


