"""Visible cases as the grader runs them: the same structure, values the student never saw.

A notebook's visible test shows its cases' inputs and expected outputs, so a function that only
looks its inputs up in a table of those outputs would pass it. When the instructor grades, each
visible case is redrawn from the course secret before it is sent to the sandbox, and the
expected output is computed by the reference on the redrawn inputs. What makes a case the case it
is stays: shapes, dtypes, masks and labels, integer arguments (sizes, steps, head counts), and
any array of two distinct values or fewer (zeros, identities, one-hot rows). The rest moves by a
map that keeps ties and order:

- an array of whole numbers (the small hand-picked matrices of the visible cases) becomes
  ``k * x + c`` with integers ``k`` in 2..3 and ``c`` in -1..1, still whole numbers;
- any other float array becomes ``a * x + b * s`` with ``a`` in [0.7, 0.9] or [1.1, 1.4], ``b`` in
  [-0.5, 0.5] and ``s`` the array's largest magnitude: large logits stay large;
- a float argument that is not a whole number (a step size, a learning rate, a norm) is scaled by
  a factor in [0.9, 1.1].

A case set whose visible cases have nothing to redraw by these rules (only integer arguments,
as ``sinusoidal_positions``) names its own redraw in its case module: ``REDRAW = {name: function
(case, rng) -> case}``.
"""

import dataclasses
import functools

import numpy as np

from autograder import cases as registry


def redraw_case(name, case, rng):
    """``case`` of the graded function ``name`` with values drawn from ``rng``, its structure kept."""
    special = _own_redraws().get(name)
    if special is not None:
        return special(case, rng)
    return dataclasses.replace(case, args=tuple(_value(a, rng) for a in case.args),
                               kwargs={key: _value(v, rng) for key, v in case.kwargs.items()})


@functools.cache
def _own_redraws():
    return {name: redraw for module in registry.case_modules().values()
            for name, redraw in getattr(module, "REDRAW", {}).items()}


def _value(value, rng):
    if isinstance(value, np.ndarray):
        return _array(value, rng)
    if isinstance(value, float) and value != round(value):
        return value * rng.uniform(0.9, 1.1)
    if isinstance(value, list):
        return [_value(item, rng) for item in value]
    if isinstance(value, tuple):
        return tuple(_value(item, rng) for item in value)
    if isinstance(value, dict):
        return {key: _value(item, rng) for key, item in value.items()}
    return value  # integers, booleans, strings, test-case functions: the case's structure


def _array(array, rng):
    if array.dtype.kind != "f" or array.size == 0 or np.unique(array).size <= 2 or not np.all(np.isfinite(array)):
        return array
    if np.all(array == np.round(array)):
        return array * rng.integers(2, 4) + rng.integers(-1, 2)
    scale = rng.choice([rng.uniform(0.7, 0.9), rng.uniform(1.1, 1.4)])
    return array * scale + rng.uniform(-0.5, 0.5) * np.max(np.abs(array))
