"""Calling a student's function on one test case, and the wire format of inputs and outputs.

This is the half of checking that may run where student code runs (the notebook's kernel or the
grading sandbox). It never sees a reference implementation or an expected value: it calls, it
records what came back, and it turns that into plain numpy arrays. The verdict is given by
``autograder.checking.judge`` in the process that holds the reference.
"""

import base64
import contextlib
import copy
import io
import os
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import inputs


@dataclass(frozen=True)
class Case:
    """One call of a graded function: a label a student can read, and its arguments."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Prior:
    """An argument that is itself the output of another function of the same notebook.

    ``rnn_backward(dh, cache)`` takes the ``cache`` returned by the notebook's own
    ``rnn_forward``: ``Prior("rnn_forward", (x, h0, Wx, Wh, b), pick=1)``. On the reference side the
    reference function of that name is called instead.
    """

    function: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    pick: int | None = None


@dataclass
class Outcome:
    """What one call produced: a plain value (arrays, tuples of arrays) or an error, and side effects."""

    value: object = None
    error: str | None = None
    modified: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    output: str = ""


class UnsupportedValue(TypeError):
    """A function returned something that is not numbers: an object, a string, a dict..."""


def plain(value):
    """``value`` as plain float/int/bool numpy arrays (tuples and lists become tuples).

    ndarray subclasses and objects with ``__array__`` are copied into a base ``ndarray``, so an
    object that overrides ``__eq__`` or ``__array_ufunc__`` cannot take part in the comparison.
    """
    if isinstance(value, (tuple, list)):
        return tuple(plain(item) for item in value)
    if value is None or isinstance(value, (str, bytes, dict)):
        raise UnsupportedValue(f"returned {type(value).__name__} where numbers were expected")
    try:
        array = np.array(value, copy=True, subok=False, order="C")
    except Exception as error:  # the object's own __array__ may raise anything
        raise UnsupportedValue(f"returned a {type(value).__name__} that numpy cannot read: {error}") from None
    if array.dtype.kind not in "biuf":
        raise UnsupportedValue(
            f"returned a {type(value).__name__} holding {array.dtype} values; expected real numbers"
        )
    return array


def _resolve(argument, namespace):
    if isinstance(argument, inputs.Fn):
        return argument.function
    if isinstance(argument, Prior):
        function = namespace.get(argument.function)
        if not callable(function):
            raise NameError(f"this case needs your `{argument.function}` first, and it is not defined")
        result = function(*_resolve_all(argument.args, namespace), **_resolve_all(argument.kwargs, namespace))
        return result if argument.pick is None else result[argument.pick]
    return copy.deepcopy(argument)


def _resolve_all(arguments, namespace):
    if isinstance(arguments, dict):
        return {name: _resolve(value, namespace) for name, value in arguments.items()}
    return tuple(_resolve(value, namespace) for value in arguments)


def _same(before, after):
    """Whether an argument still holds what it held before the call (arrays inside lists included)."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and np.array_equal(before, after, equal_nan=True)
    if isinstance(before, (list, tuple)):
        return len(before) == len(after) and all(_same(a, b) for a, b in zip(before, after))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    return True


#: Folders whose frames are not the student's: this package, numpy, the standard library.
_LIBRARY_FOLDERS = tuple(str(Path(p).resolve()) + os.sep for p in {
    Path(__file__).parent, Path(np.__file__).parent, Path(os.__file__).parent})


def _student_line(error):
    """``\n  at line 4 of your cell, in softmax: return e / s``: the deepest frame of the student's code."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)[1:]
              if not str(Path(frame.filename).resolve()).startswith(_LIBRARY_FOLDERS)
              and not frame.filename.startswith("<frozen")]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line and frame.line.strip() else ""
    return f"\n  at line {frame.lineno} of your cell, in {frame.name}{code}"[:300]


def run_case(function, case, namespace):
    """Call ``function`` on a fresh copy of ``case``'s arguments and record the outcome.

    ``namespace`` resolves ``Prior`` arguments (the notebook's globals). Warnings and anything
    written to stderr are recorded instead of printed: a correct answer must not lose points for
    a harmless numpy warning.
    """
    captured = io.StringIO()
    outcome = Outcome()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(captured), \
            contextlib.redirect_stderr(captured):
        warnings.simplefilter("always")
        try:
            args = _resolve_all(case.args, namespace)
            kwargs = _resolve_all(case.kwargs, namespace)
            kept_args, kept_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
            result = function(*args, **kwargs)
            outcome.modified = [i for i, (a, b) in enumerate(zip(kept_args, args)) if not _same(a, b)]
            outcome.modified += [name for name in kwargs if not _same(kept_kwargs[name], kwargs[name])]
            outcome.value = plain(result)
        except Exception as error:
            outcome.error = f"{type(error).__name__}: {error}" + _student_line(error)
    outcome.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    outcome.output = captured.getvalue()[-2000:]
    return outcome


# --- wire format: JSON-safe, no pickle, so a grader never unpickles what a sandbox sent ---

def to_wire(value):
    """Encode arrays, numbers, strings, tuples, dicts, ``Fn``, ``Prior``, ``Case`` and ``Outcome`` as JSON-safe data."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        return {"ndarray": base64.b64encode(buffer.getvalue()).decode("ascii")}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, list):  # a list argument stays a list: a student's code may append to it
        return {"list": [to_wire(item) for item in value]}
    if isinstance(value, tuple):
        return {"tuple": [to_wire(item) for item in value]}
    if isinstance(value, dict):
        return {"dict": {str(key): to_wire(item) for key, item in value.items()}}
    if isinstance(value, inputs.Fn):
        return {"fn": value.name}
    if isinstance(value, Prior):
        return {"prior": [value.function, to_wire(value.args), to_wire(value.kwargs), value.pick]}
    if isinstance(value, Case):
        return {"case": [value.label, to_wire(value.args), to_wire(value.kwargs)]}
    if isinstance(value, Outcome):
        return {"outcome": [to_wire(value.value), value.error, to_wire(value.modified),
                            list(value.warnings), value.output]}
    raise TypeError(f"cannot send a {type(value).__name__} to or from the sandbox")


def from_wire(data):
    """Inverse of ``to_wire``; arrays are read with ``allow_pickle=False``."""
    if not isinstance(data, dict):
        return data
    ((kind, payload),) = data.items()
    if kind == "ndarray":
        return np.load(io.BytesIO(base64.b64decode(payload)), allow_pickle=False)
    if kind == "tuple":
        return tuple(from_wire(item) for item in payload)
    if kind == "list":
        return [from_wire(item) for item in payload]
    if kind == "dict":
        return {key: from_wire(item) for key, item in payload.items()}
    if kind == "fn":
        return inputs.Fn(payload)
    if kind == "prior":
        function, args, kwargs, pick = payload
        return Prior(function, from_wire(args), from_wire(kwargs), pick)
    if kind == "case":
        label, args, kwargs = payload
        return Case(label, from_wire(args), from_wire(kwargs))
    if kind == "outcome":
        value, error, modified, caught, output = payload
        return Outcome(from_wire(value), error, list(from_wire(modified)), list(caught), output)
    raise ValueError(f"unknown wire record {kind!r}")

