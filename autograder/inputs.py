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
