"""Functions that test cases pass as arguments (``f`` of ``numerical_derivative``, ``grad`` of
``gradient_descent``...), known by name so that a case can be sent to the grading sandbox as data.

Add a function here with ``register``; a case then passes ``Fn("name")``.
"""

import numpy as np

_FUNCTIONS = {}


def register(name):
    """Decorator: make ``function`` available to test cases as ``Fn(name)``."""

    def add(function):
        _FUNCTIONS[name] = function
        return function

    return add


class Fn:
    """A named test-case function; calling it calls the registered function."""

    def __init__(self, name):
        if name not in _FUNCTIONS:
            raise KeyError(f"no test-case function named {name!r}; known: {sorted(_FUNCTIONS)}")
        self.name = name
        self.function = _FUNCTIONS[name]

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __repr__(self):
        return f"Fn({self.name!r})"

    def __deepcopy__(self, memo):
        return self


register("sin")(np.sin)
register("cos")(np.cos)
register("exp")(np.exp)
register("tanh")(np.tanh)


# Chapter 1: inner and outer functions of composites, with their derivatives. The logistic
# function is written as 0.5 (1 + tanh(x/2)) so that this module stays free of reference code.
register("square")(np.square)
register("double")(lambda x: 2.0 * x)
register("cube")(lambda x: x ** 3)
register("tanh_prime")(lambda x: 1.0 - np.tanh(x) ** 2)
register("sigmoid")(lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)))
register("sigmoid_prime")(lambda x: 0.25 * (1.0 - np.tanh(0.5 * x) ** 2))
register("softplus")(lambda x: np.logaddexp(0.0, x))
register("three_x_minus_one")(lambda x: 3.0 * x - 1.0)
register("three")(lambda x: np.full(np.shape(x), 3.0))

# Chapter 2: gradients handed to gradient_descent ("double" is the gradient of sum(x**2)).
_TILTED_BOWL = np.array([[3.0, 1.0], [1.0, 2.0]])
register("grad_tilted_bowl")(lambda x: _TILTED_BOWL @ x)
register("grad_quartic")(lambda x: 4.0 * x ** 3)
