"""Generic diagnosis: what a wrong output says about the code that made it, for any graded function.

Each case set lists its classic mistakes by hand (``CaseSet.mistakes``). The checks here need no
such list, so that a mistake nobody foresaw is still named when the output shows what it is:

- **Counterfactuals.** The reference run on the same case with one argument changed: left out
  (zero), with its sign flipped, transposed, swapped with (or used for) another argument of the same shape, a
  flag or a mask ignored, a count off by one, another axis. When the student's output is the
  reference's on the changed case, the change names the mistake ("`b` is left out").
- **Symptoms.** Relations between the expected and the actual output: a factor that is one of the
  inputs' sizes, an input added or missing, an input returned unchanged, a different factor in
  each row, one time step late, an axis lost, an error of shapes in a matrix product.

Nothing here holds an answer: counterfactuals call whatever reference the checking layer gives
them (the student bundle records their outputs on the visible cases at release time instead).
"""

import inspect
import itertools
import re

import numpy as np

from autograder.calling import Case, Prior
from autograder.inputs import Fn

#: Tolerances under which two outputs are "the same" in a diagnosis.
RTOL, ATOL = 1e-6, 1e-9
#: At most this many arguments' pairs are tried as swaps (a function with many same-shaped weights).
MAX_SWAPS = 12


def arguments_of(reference, case):
    """``{parameter: value}`` of ``case`` with the reference's defaults filled in, or None if it does not bind."""
    try:
        bound = inspect.signature(reference).bind(*case.args, **case.kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    return dict(bound.arguments)


# --- counterfactuals: the reference on the case with one argument changed ---

def counterfactual_cases(reference, case):
    """``[(description, changed case)]``: every change of one argument of ``case`` that applies to it.

    A description never depends on the case's values, so that the same change tried on several
    cases is the same candidate mistake (``checking.diagnose`` keeps one only when it explains
    every failing case and contradicts none it was tried on).
    """
    values = arguments_of(reference, case)
    if values is None:
        return []
    found = []

    def changed(description, name, value):
        found.append((description, _with(case, values, {name: value})))

    numeric = {name: value for name, value in values.items() if _is_numeric_array(value)}
    for name, value in values.items():
        if isinstance(value, (Prior, Fn)) or callable(value):
            continue
        if isinstance(value, (bool, np.bool_)):
            changed(f"`{name}={bool(value)}` is ignored (the output is the one for {name}={not value})", name, not value)
        elif isinstance(value, np.ndarray) and value.dtype == bool:
            changed(f"`{name}` is ignored (the output is the one without it)", name, None)
            changed(f"`{name}` is inverted (True and False exchanged)", name, ~value)
        elif name == "axis" and isinstance(value, (int, np.integer)):
            found += _axis_changes(values, case, value)
        elif isinstance(value, (int, np.integer)) and "seed" not in name:
            for other, words in ((value - 1, f"{name} - 1"), (value + 1, f"{name} + 1")):
                if other >= 1:
                    changed(f"`{name}` is off by one (the output is the one for {words})", name, other)
            if value > 2:
                changed(f"`{name}` is ignored (the output is the one for {name} = 1)", name, 1)
        elif isinstance(value, dict):
            found += _dict_changes(values, case, name, value)
        elif name in numeric:
            found += _array_changes(values, case, name, value)
    pairs = [(a, b) for a, b in itertools.combinations(numeric, 2)
             if np.shape(numeric[a]) == np.shape(numeric[b]) and np.ndim(numeric[a]) > 0
             and not np.array_equal(numeric[a], numeric[b])]
    for a, b in pairs[:MAX_SWAPS]:
        found += [(f"`{a}` and `{b}` are swapped", _with(case, values, {a: values[b], b: values[a]})),
                  (f"`{a}` is used where `{b}` belongs", _with(case, values, {b: values[a]})),
                  (f"`{b}` is used where `{a}` belongs", _with(case, values, {a: values[b]}))]
    return found


def _with(case, values, changes):
    """``case`` with every argument passed by name, ``changes`` applied."""
    return Case(case.label, (), {**values, **changes})


def _is_numeric_array(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (np.ndarray, float, np.floating)):
        return False
    return np.asarray(value).dtype.kind == "f"


def _array_changes(values, case, name, value, key=None):
    """Left out, sign flipped, transposed: the numeric argument ``name`` (or its entry ``key``, a dict's)."""
    label = name if key is None else f"{name}['{key}']"

    def with_value(new):
        return _with(case, values, {name: new if key is None else {**values[name], key: new}})

    if not np.any(value):
        return []
    found = [(f"`{label}` is left out (the output is the one for {label} = 0)", with_value(np.zeros_like(value))),
             (f"`{label}` has the wrong sign", with_value(-value))]
    if np.ndim(value) == 2 and value.shape[0] == value.shape[1] and not np.allclose(value, value.T):
        found.append((f"`{label}` is used transposed ({label}.T where {label} belongs)", with_value(value.T.copy())))
    return found


def _dict_changes(values, case, name, value):
    return [change for key, entry in value.items() if _is_numeric_array(entry)
            for change in _array_changes(values, case, name, entry, key)]


def _axis_changes(values, case, axis):
    ndim = max((np.ndim(v) for v in values.values() if isinstance(v, np.ndarray)), default=0)
    if ndim < 2:
        return []
    axis = int(axis) % ndim
    found = [("the sum or maximum runs over the whole array instead of along `axis`",
              _with(case, values, {"axis": None}))]
    if axis != ndim - 1:
        found.append(("`axis` is ignored (the output is the one along the last axis)",
                      _with(case, values, {"axis": -1})))
    if axis != 0:
        found.append(("`axis` is ignored (the output is the one along axis 0)",
                      _with(case, values, {"axis": 0})))
    return found


# --- symptoms: relations between the expected and the actual output ---

def value_problems(expected, got, arguments):
    """Phrases (``is ...``, ``has ...``) that describe how ``got`` relates to ``expected``, same shapes.

    ``arguments`` is ``{parameter: value}`` of the case (None when unknown): sizes and inputs to
    name a factor, a term added or missing, an input returned unchanged.
    """
    arguments = arguments or {}
    if expected.size == 0 or not np.all(np.isfinite(got)):
        return set()
    if np.any(expected) and not np.any(got):
        return {"is all zeros: never computed, or never added to"}
    if expected.size > 1 and np.allclose(got, -expected, RTOL, ATOL) and np.any(expected):
        return {"has the wrong sign"}
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and np.allclose(got, expected.T, RTOL, ATOL):
        return {"is transposed"}
    if expected.ndim and len(expected) > 1 and np.allclose(got, expected[-1:], RTOL, ATOL):
        return {"holds the last row's value in every row: one array was stored again and again while it changed "
                "in place (store a copy)"}
    found = _factor_problems(expected, got, arguments)
    if found:
        return found
    found |= _input_problems(expected, got, arguments)
    if not found and expected.ndim >= 2:
        found |= _per_row_factor(expected, got)
    return found


def _factor_problems(expected, got, arguments):
    """A constant factor: named when it is simple (2, 1/2...) or one of the inputs' sizes; else, for an
    array, its value; an array off by nearly the same factor everywhere, that factor roughly."""
    if not np.any(expected):
        return set()
    factor = float(np.vdot(expected, got) / np.vdot(expected, expected))
    if abs(factor) < 1e-12 or abs(factor - 1) < 1e-9:
        return set()
    if np.allclose(got, factor * expected, RTOL, ATOL):
        named = _named_factor(factor, arguments)
        if named:
            return named
        if expected.size > 1:
            return {f"is off by a constant factor ({factor:.4g} times what it should be)"}
    mask = np.abs(expected) > 1e-6 * np.max(np.abs(expected))
    ratios = got[mask] / expected[mask]
    middle = float(np.median(ratios))
    if abs(middle - 1) < 0.05 or middle == 0 or not np.all(np.abs(ratios / middle - 1) < 0.02):
        return set()
    rounded = float(f"{middle:.2g}")
    if expected.size == 1 and rounded not in (0.5, 2.0, 0.25, 4.0, -1.0):
        return set()  # one number off by some factor says nothing
    return {f"is about {rounded:g} times what it should be"}


def _sizes(arguments):
    """``{expression: size}`` for every axis of every array argument, and products of two of them."""
    single = {}
    for name, value in arguments.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
            for axis, size in enumerate(value.shape):
                if size > 1:
                    single.setdefault(f"{name}.shape[{axis}]", size)
    sizes = dict(single)
    for (a, x), (b, y) in itertools.combinations(single.items(), 2):
        sizes.setdefault(f"{a} * {b}", x * y)
    for name, size in single.items():
        sizes.setdefault(f"sqrt({name})", np.sqrt(size))
    return sizes


def _named_factor(factor, arguments):
    simple = {2: "twice what it should be (a factor 2 too many)", 0.5: "half what it should be (a factor 2 missing)",
              -1: "of the wrong sign", 4: "four times what it should be", 0.25: "a quarter of what it should be"}
    for value, words in simple.items():
        if np.isclose(factor, value, rtol=1e-6):
            return {f"is {words}"}
    found = set()
    for expression, size in _sizes(arguments).items():
        if size in (2, 4):
            continue  # already said as a plain number
        if np.isclose(factor, size, rtol=1e-6):
            found.add(f"is {expression} times too large (a sum where a mean belongs, or a division missing)")
        elif np.isclose(factor * size, 1, rtol=1e-6):
            found.add(f"is {expression} times too small (divided by {expression} once too often)")
    return found


def _input_problems(expected, got, arguments):
    """An input returned unchanged, added once too often, or missing."""
    found = set()
    difference = got - expected
    for name, value in _flat_inputs(arguments):
        if value.shape == got.shape and np.allclose(got, value, RTOL, ATOL):
            found.add(f"is the input `{name}` returned unchanged")
        try:
            fits = np.broadcast_shapes(value.shape, got.shape) == got.shape
        except ValueError:
            fits = False
        if not fits or not np.any(value):
            continue
        if np.allclose(difference, value, RTOL, ATOL):
            found.add(f"has `{name}` added once too often")
        elif np.allclose(difference, -value, RTOL, ATOL):
            found.add(f"is missing `+ {name}`")
    return found


def _flat_inputs(arguments):
    """``(expression, array)`` for every float array among the arguments, in lists and dicts too."""
    for name, value in arguments.items():
        if isinstance(value, (list, tuple)):
            members = ((f"{name}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            members = ((f"{name}['{key}']", item) for key, item in value.items())
        else:
            members = [(name, value)]
        yield from ((label, item) for label, item in members
                    if isinstance(item, np.ndarray) and _is_numeric_array(item))


def _per_row_factor(expected, got):
    """Every row (or column) off by its own factor: a normalisation by the wrong sum, or none."""
    for axis, word in ((-1, "row"), (-2, "column")):
        scale = np.sum(expected * got, axis=axis, keepdims=True) / np.maximum(
            np.sum(expected * expected, axis=axis, keepdims=True), 1e-300)
        if np.allclose(got, scale * expected, RTOL, ATOL) and not np.allclose(scale, scale.flat[0], RTOL, ATOL):
            return {f"is off by a different factor in each {word}: divided by the wrong sum, or not normalised"}
    return set()


def shifted(expected, got, axis, word):
    """``is one time step late``...: ``got`` holds along ``axis`` what ``expected`` holds one index away."""
    size = expected.shape[axis]
    if size < 2:
        return set()
    take = lambda array, start, stop: np.take(array, range(start, stop), axis=axis)  # noqa: E731
    if np.allclose(take(got, 1, size), take(expected, 0, size - 1), RTOL, ATOL):
        return {f"is one {word} late: {word} t holds what {word} t - 1 should (a loop or an index off by one)"}
    if np.allclose(take(got, 0, size - 1), take(expected, 1, size), RTOL, ATOL):
        return {f"is one {word} early: {word} t holds what {word} t + 1 should (a loop or an index off by one)"}
    return set()


def shape_problems(expected_shape, got_shape, arguments):
    """Phrases for an output of the wrong shape: an axis lost or added, a scalar, axes reordered."""
    expected_shape, got_shape = tuple(expected_shape), tuple(got_shape)
    if got_shape == () and expected_shape:
        return {f"is a single number where an array of shape {expected_shape} belongs"}
    if len(got_shape) == len(expected_shape) - 1:
        lost = [axis for axis in range(len(expected_shape))
                if expected_shape[:axis] + expected_shape[axis + 1:] == got_shape]
        if lost:
            return {f"has lost axis {lost[0]} (a sum, a max or an index without keepdims, or a row picked "
                    "where all belong)"}
    if len(got_shape) == len(expected_shape) + 1:
        return {"has an extra axis (an array of shape (n,) broadcast against one of shape (n, 1)?)"}
    if len(got_shape) == len(expected_shape) and sorted(got_shape) == sorted(expected_shape):
        return {"has its axes in the wrong order (a transpose missing or too many)"}
    for name, value in _flat_inputs(arguments or {}):
        if value.shape == got_shape:
            return {f"has the shape of the input `{name}`: the wrong input is used or returned"}
    return set()


_MATMUL = re.compile(r"^ValueError: matmul: Input operand \d has a mismatch in its core dimension")
_BROADCAST = re.compile(r"^ValueError: operands could not be broadcast together")
_ALIGNED = re.compile(r"^ValueError: shapes \(.*\) and \(.*\) not aligned")
_WHERE = re.compile(r"at line (\d+) of your cell")


def error_problem(error):
    """A sentence for an error whose cause is the shapes of the student's own arrays, or None."""
    first = error.split("\n")[0]
    where = _WHERE.search(error)
    place = f" at line {where.group(1)} of your cell" if where else ""
    if _MATMUL.match(first) or _ALIGNED.match(first):
        return (f"a matrix product{place} has operands whose inner sizes do not match: check the order of "
                "the operands and which one needs a transpose")
    if _BROADCAST.match(first):
        return (f"two arrays{place} have shapes that cannot be broadcast together: an axis lost "
                "(keepdims=True?) or a transpose missing")
    if first.startswith("IndexError"):
        return f"an index{place} runs past the end of an axis: a loop one step too long?"
    return None


def mask_problem(got, arguments):
    """A row of nan where a mask is in play: the row's every score was masked (softmax 0 / 0)."""
    masked = any((isinstance(v, (bool, np.bool_)) and v) or (isinstance(v, np.ndarray) and v.dtype == bool)
                 for v in (arguments or {}).values())
    if masked and got.ndim >= 2 and np.any(np.all(np.isnan(got), axis=-1)):
        return ("a row has every score masked, so its softmax is 0 / 0 = nan: the mask hides the wrong entries "
                "(every query keeps at least one key: with a causal mask, itself)")
    return None
