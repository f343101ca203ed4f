"""Cases of chapter 1: numerical derivatives, the chain rule, the backward pass of one neuron."""

import numpy as np

from autograder import chain_rule as ref
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake
from autograder.inputs import Fn


def _forward_difference(f, x, h=1e-5):
    return ref.forward_difference(f, x, h)


def _backward_difference(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    return (f(x) - f(x - h)) / h


def _central_over_h(f, x, h=1e-5):
    return 2.0 * ref.numerical_derivative(f, x, h)


def _ignores_h(f, x, h=1e-5):
    return ref.numerical_derivative(f, x)


def _precedence(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / 2 * h


def _inner_derivative_at_inner_value(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=np.float64)
    return f_prime(g(x)) * g_prime(g(x))


def _outer_at_inner_derivative(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=np.float64)
    return f_prime(g_prime(x)) * g_prime(x)


def _without_inner_derivative(f_prime, g, g_prime, x):
    return f_prime(g(np.asarray(x, dtype=np.float64)))


def _outer_at_x(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=np.float64)
    return f_prime(x) * g_prime(x)


def _factors_added(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=np.float64)
    return f_prime(g(x)) + g_prime(x)


def _times_inner_value(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=np.float64)
    return f_prime(g(x)) * g(x)


def _neuron_with_dz(w, b, x, y, dz_of):
    """A neuron backward pass whose only change is how dL/dz is computed from (z, a, y)."""
    forward = ref.neuron_forward(w, b, x, y)
    dz = dz_of(forward["z"], forward["a"], y)
    return forward["loss"], dz * np.asarray(x, dtype=np.float64), dz


def _sigmoid_derivative_of_z(w, b, x, y):
    return _neuron_with_dz(w, b, x, y, lambda z, a, y: (a - y) * z * (1 - z))


def _no_sigmoid_derivative(w, b, x, y):
    return _neuron_with_dz(w, b, x, y, lambda z, a, y: a - y)


def _residual_sign(w, b, x, y):
    return _neuron_with_dz(w, b, x, y, lambda z, a, y: (y - a) * a * (1 - a))


def _without_bias(w, b, x, y):
    return ref.neuron_backward(w, 0.0, x, y)


def _sigmoid_sign_flipped(w, b, x, y):
    a = 1.0 / (1.0 + np.exp(np.dot(w, x) + b))
    dz = (a - y) * a * (1 - a)
    return 0.5 * (a - y) ** 2, dz * np.asarray(x, dtype=np.float64), dz


def _no_sigmoid_derivative_no_half(w, b, x, y):
    loss, _, _ = ref.neuron_backward(w, b, x, y)
    a = ref.neuron_forward(w, b, x, y)["a"]
    return 2.0 * loss, (a - y) * np.asarray(x, dtype=np.float64), a - y


def _times_w(w, b, x, y):
    loss, dw, db = ref.neuron_backward(w, b, x, y)
    return loss, db * np.asarray(w, dtype=np.float64), db


def _loss_without_half(w, b, x, y):
    loss, dw, db = ref.neuron_backward(w, b, x, y)
    return 2.0 * loss, dw, db


def _gradient_of_loss_without_half(w, b, x, y):
    loss, dw, db = ref.neuron_backward(w, b, x, y)
    return loss, 2.0 * dw, 2.0 * db


def _numerical_derivative_visible():
    return [
        Case("sin at x = 1", (Fn("sin"), 1.0)),
        Case("exp at four points", (Fn("exp"), np.array([-1.0, 0.0, 0.5, 2.0]))),
        Case("tanh with h = 1e-3", (Fn("tanh"), np.array([0.3, -1.2])), {"h": 1e-3}),
    ]


def _numerical_derivative_hidden(rng):
    return [
        Case("x**3 on a (2, 3) array with h = 1e-2", (Fn("cube"), rng.uniform(-2, 2, (2, 3))), {"h": 1e-2}),
        Case("sin with h = 1e-4 given by position", (Fn("sin"), rng.uniform(-3, 3, 5), 1e-4)),
        Case("exp with a large step h = 0.1", (Fn("exp"), rng.uniform(-1, 1, 4)), {"h": 0.1}),
        Case("softplus far from 0", (Fn("softplus"), np.array([-30.0, -5.0, 0.0, 5.0, 30.0]) + rng.uniform(0, 0.1))),
        Case("a 0-d array", (Fn("tanh"), np.array(rng.uniform(-1, 1)))),
    ]


def _chain_rule_visible():
    return [
        Case("exp(sin(x)) at x = 0.5", (Fn("exp"), Fn("sin"), Fn("cos"), 0.5)),
        Case("tanh(x**2) at four points", (Fn("tanh_prime"), Fn("square"), Fn("double"),
                                           np.array([-1.0, 0.0, 0.5, 2.0]))),
    ]


def _chain_rule_hidden(rng):
    return [
        Case("sin(x**2) on a (2, 3) array", (Fn("cos"), Fn("square"), Fn("double"), rng.uniform(-2, 2, (2, 3)))),
        Case("sin(x)**2: the same two functions in the other order",
             (Fn("double"), Fn("sin"), Fn("cos"), rng.uniform(-2, 2, 5))),
        Case("sigmoid(3x - 1)", (Fn("sigmoid_prime"), Fn("three_x_minus_one"), Fn("three"), rng.uniform(-2, 2, 4))),
        Case("softplus(tanh(x))", (Fn("sigmoid"), Fn("tanh"), Fn("tanh_prime"), rng.uniform(-2, 2, 4))),
        Case("a 0-d array", (Fn("cos"), Fn("exp"), Fn("exp"), np.array(rng.uniform(-1, 1)))),
    ]


def _neuron_visible():
    return [
        Case("two inputs, target 1", (np.array([0.5, -0.3]), 0.1, np.array([1.0, 2.0]), 1.0)),
        Case("three inputs, target 0", (np.array([0.2, 0.4, -0.6]), -0.5, np.array([1.5, -1.0, 0.5]), 0.0)),
    ]


def _neuron_hidden(rng):
    return [
        Case("one input", (rng.standard_normal(1), float(rng.standard_normal()), rng.standard_normal(1), 1.0)),
        Case("ten inputs, a target between 0 and 1",
             (rng.standard_normal(10), float(rng.standard_normal()), rng.standard_normal(10), float(rng.uniform()))),
        Case("all-zero weights, so only the bias acts", (np.zeros(3), float(rng.uniform(-2, 2)),
                                                        rng.standard_normal(3), 0.0)),
        Case("a saturated neuron, z about -800", (np.array([-400.0, -400.0]), float(rng.uniform(-1, 1)),
                                                   np.array([1.0, 1.0]), 1.0)),
        Case("large inputs, z about 3", (np.array([0.001, 0.002]), 1.0 + float(rng.uniform()),
                                          np.array([500.0, 400.0]), 0.0)),
    ]


CASE_SETS = (
    CaseSet(
        "numerical_derivative", ref.numerical_derivative, _numerical_derivative_visible,
        _numerical_derivative_hidden,
        mistakes=(
            Mistake("the forward difference (f(x+h) - f(x)) / h: its error is of order h, "
                    "the central difference's of order h**2", _forward_difference),
            Mistake("the backward difference (f(x) - f(x-h)) / h instead of the central difference",
                    _backward_difference),
            Mistake("divided by h instead of 2h: the two points are 2h apart", _central_over_h),
            Mistake("ignored the argument h and always used 1e-5", _ignores_h),
            Mistake("wrote / 2 * h, which multiplies by h: the denominator needs parentheses, / (2 * h)", _precedence),
        ),
    ),
    CaseSet(
        "chain_rule_derivative", ref.chain_rule_derivative, _chain_rule_visible, _chain_rule_hidden,
        mistakes=(
            Mistake("the inner derivative is missing: multiply f'(g(x)) by g'(x)", _without_inner_derivative),
            Mistake("evaluated the outer derivative at x; it must be evaluated at the inner value g(x)", _outer_at_x),
            Mistake("added the two factors; the chain rule multiplies them", _factors_added),
            Mistake("multiplied by g(x) instead of g'(x)", _times_inner_value),
            Mistake("evaluated the inner derivative at g(x); g' is evaluated at x", _inner_derivative_at_inner_value),
            Mistake("evaluated the outer derivative at g'(x); it is evaluated at the inner value g(x)",
                    _outer_at_inner_derivative),
        ),
    ),
    CaseSet(
        "neuron_backward", ref.neuron_backward, _neuron_visible, _neuron_hidden,
        output_names=("loss", "dw", "db"),
        mistakes=(
            Mistake("the sigmoid's derivative is sigmoid(z) (1 - sigmoid(z)), not z (1 - z)", _sigmoid_derivative_of_z),
            Mistake("the factor sigmoid'(z) = a (1 - a) of the chain is missing", _no_sigmoid_derivative),
            Mistake("the gradient has the wrong sign: dL/da = a - y, not y - a", _residual_sign),
            Mistake("dw is dL/dz times w; it is dL/dz times x (z = w @ x + b changes with w_i at rate x_i)", _times_w),
            Mistake("the loss is missing its factor 1/2", _loss_without_half),
            Mistake("the bias is missing from z = w @ x + b", _without_bias),
            Mistake("the sigmoid has the wrong sign: sigmoid(z) = 1 / (1 + exp(-z))", _sigmoid_sign_flipped),
            Mistake("the loss is missing its 1/2 and the chain is missing sigmoid'(z) = a (1 - a)",
                    _no_sigmoid_derivative_no_half),
            Mistake("the gradient is twice too large: the 1/2 of the loss cancels the 2 of the square",
                    _gradient_of_loss_without_half),
        ),
    ),
)

#: The point of the by-hand derivative of sin(x**2).
QUESTION_X = 1.5
#: The neuron of the by-hand question: chosen so that z = 0 and sigmoid(z) = 1/2.
QUESTION_NEURON = (np.array([1.0, -0.5]), 0.5, np.array([1.0, 3.0]), 1.0)

ANSWERS = (
    Answer("dh_dx", lambda: ref.chain_rule_derivative(np.cos, np.square, lambda t: 2 * t, QUESTION_X),
           atol=5e-4, hint="Outer derivative cos(u) at u = x**2, times the inner derivative 2x."),
    Answer("neuron_dw", lambda: ref.neuron_backward(*QUESTION_NEURON)[1], atol=5e-4, shape=(2,),
           hint="dL/dw = (a - y) a (1 - a) x; first compute z and a = sigmoid(z)."),
)

STUDENT_MISTAKES = (
    StudentMistake("numerical_derivative", "forward difference", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x)) / h
''', ("numerical_derivative",)),
    StudentMistake("chain_rule_derivative", "inner derivative forgotten", '''
def chain_rule_derivative(f_prime, g, g_prime, x):
    return f_prime(g(x))
''', ("chain_rule_derivative",)),
    StudentMistake("neuron_backward", "derivative of the sigmoid taken as z (1 - z)", '''
def neuron_backward(w, b, x, y):
    z = w @ x + b
    a = sigmoid(z)
    loss = 0.5 * (a - y) ** 2
    dz = (a - y) * z * (1 - z)
    return loss, dz * x, dz
''', ("neuron_backward",)),
    StudentMistake("by_hand", "inner derivative forgotten in the derivative at a point", '''
dh_dx = float(np.cos(1.5 ** 2))
neuron_dw = np.array([-0.125, -0.375])
''', ("dh_dx",)),
)
