r"""The chain rule, numerical derivatives and the backward pass of one neuron (chapter 1).

All functions work on float64 arrays and never modify their inputs.
"""

import numpy as np

from autograder.shapes import checked_arrays


def sigmoid(z):
    r"""The logistic function, computed without overflow for any finite ``z``.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}} = e^{-\log(1 + e^{-z})}

    ``np.logaddexp(0, -z)`` is :math:`\log(1 + e^{-z})` evaluated stably, so ``z = -1000`` gives 0
    and ``z = 1000`` gives 1 without a warning.

    z: array of any shape (or a number); the result has the same shape.
    """
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def numerical_derivative(f, x, h=1e-5):
    r"""Central-difference estimate of :math:`f'(x)`, elementwise for an array ``x``.

    .. math:: f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}

    Its truncation error is :math:`\frac{h^2}{6} f'''(x)`, against :math:`\frac{h}{2} f''(x)` for
    the forward difference: one order of ``h`` better for the same two evaluations of ``f``.

    f: an elementwise function of arrays (``np.sin``...); x: array of any shape (or a number);
    returns an array of the shape of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2.0 * h)


def forward_difference(f, x, h=1e-5):
    r"""Forward-difference estimate of :math:`f'(x)`, the one-sided quotient of the definition.

    .. math:: f'(x) \approx \frac{f(x + h) - f(x)}{h}

    Shown beside ``numerical_derivative`` to measure how much the central difference gains.
    f, x: as in ``numerical_derivative``; returns an array of the shape of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x)) / h


def numerical_jacobian(f, x, h=1e-5):
    r"""Central-difference Jacobian of any array function ``f`` at ``x``.

    .. math:: J_{i, j} = \frac{\partial f_i}{\partial x_j}
              \approx \frac{f_i(x + h e_j) - f_i(x - h e_j)}{2h}

    One pair of evaluations per entry of ``x``, so it is a check for small inputs, not a way to
    train. x: array of shape ``S``; ``f(x)`` of shape ``T``; returns shape ``T + S`` (for a scalar
    ``f`` that is the gradient, of the shape of ``x``).
    """
    x = np.asarray(x, dtype=np.float64)
    out_shape = np.shape(f(x))
    jacobian = np.empty(out_shape + (x.size,))
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = h
        step = step.reshape(x.shape)
        jacobian[..., j] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2.0 * h)
    return jacobian.reshape(out_shape + x.shape)


def chain_rule_derivative(f_prime, g, g_prime, x):
    r"""Derivative of the composite :math:`f(g(x))` by the chain rule, elementwise.

    .. math:: \frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)

    The outer derivative is evaluated at the inner value :math:`u = g(x)`, not at :math:`x`.
    f_prime, g, g_prime: elementwise functions; x: array of any shape (or a number);
    returns an array of the shape of ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    return f_prime(g(x)) * g_prime(x)


def neuron_forward(w, b, x, y):
    r"""Forward pass of one sigmoid neuron with a squared loss, keeping every intermediate value.

    .. math:: z = w^\top x + b,\qquad a = \sigma(z),\qquad L = \tfrac12 (a - y)^2

    w, x: shape ``(d,)``; b, y: numbers. Returns the dict ``{"z", "a", "loss"}`` of floats.
    """
    w, x = checked_arrays("neuron_forward", w=(w, "d"), x=(x, "d"))
    z = float(w @ x + b)
    a = float(sigmoid(z))
    return {"z": z, "a": a, "loss": 0.5 * (a - y) ** 2}


def neuron_backward(w, b, x, y):
    r"""Loss of one sigmoid neuron and its gradient with respect to the weights and the bias.

    The chain rule through :math:`L = \tfrac12 (a - y)^2`, :math:`a = \sigma(z)`, :math:`z = w^\top x + b`:

    .. math:: \frac{\partial L}{\partial z} = (a - y)\, \sigma(z)(1 - \sigma(z)),\qquad
              \frac{\partial L}{\partial w} = \frac{\partial L}{\partial z}\, x,\qquad
              \frac{\partial L}{\partial b} = \frac{\partial L}{\partial z}

    w, x: shape ``(d,)``; b, y: numbers. Returns ``(loss, dw, db)``: a float, shape ``(d,)``, a float.
    """
    w, x = checked_arrays("neuron_backward", w=(w, "d"), x=(x, "d"))
    forward = neuron_forward(w, b, x, y)
    a = forward["a"]
    dz = (a - y) * a * (1.0 - a)
    return forward["loss"], dz * x, dz
