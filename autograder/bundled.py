"""Visible test cases as data: where ``check`` finds its cases in the student bundle.

In the course repository, ``autograder.checking`` takes its cases from the reference package
(``autograder.cases``). The student bundle that ``course release`` writes holds no reference, no
hidden case and no expected answer: it carries ``visible_cases.json`` instead, written at release
time by ``autograder.grading.bundle``, with for each graded function its visible cases, the
reference's output on each, and what each classic mistake returns on each (so that a failure
names the mistake as it does in the repository); for each numeric question, only the shape of
its answer. This module turns that data back into what ``checking.judge`` reads.
"""

import copy
import functools
import inspect
import json
from pathlib import Path

import numpy as np

from autograder.calling import from_wire

DATA = Path(__file__).with_name("visible_cases.json")
HIDDEN_NOTE = "{name}: the hidden tests run when your instructor grades the notebook."


def available():
    """Whether this installation is a student bundle (it has the data, and no reference package)."""
    return DATA.is_file()


@functools.cache
def _data():
    return json.loads(DATA.read_text())


def visible_cases(name):
    """[(case set, case, expected output)] of the graded function ``name``, one case set per case whose
    reference and classic mistakes replay what was recorded for that case."""
    from autograder.checking import CaseSet, Mistake
    functions = _data()["functions"]
    if name not in functions:
        raise KeyError(f"no graded function named {name!r} in this bundle; known: {', '.join(sorted(functions))}")
    entry = functions[name]
    parameters = entry["parameters"]
    found = []
    for recorded in entry["cases"]:
        expected = from_wire(recorded["expected"])
        mistakes = tuple(Mistake(description, _Replay(result, parameters)) for description, result in recorded["mistakes"])
        case_set = CaseSet(name, _Replay({"value": recorded["expected"]}, parameters), list, list, mistakes=mistakes,
                           counterfactuals=False,
                           **{key: tuple(value) if isinstance(value, list) else value
                              for key, value in entry["options"].items()})
        found.append((case_set, from_wire(recorded["case"]), expected))
    return found


def answer(name):
    """The ``Answer`` of a numeric question, as far as its visible test needs it: its shape, never its value."""
    from autograder.checking import Answer
    answers = _data()["answers"]
    if name not in answers:
        raise KeyError(f"no numeric question named {name!r} in this bundle; known: {', '.join(sorted(answers))}")
    shape = tuple(answers[name]["shape"])
    return Answer(name, lambda: np.zeros(shape), shape=shape, hint=answers[name]["hint"])


class _Replay:
    """A function that returns (or raises) what the reference or a classic mistake did on one case."""

    def __init__(self, result, parameters):
        self.result = result
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in parameters])

    def __call__(self, *args, **kwargs):
        if "error" in self.result:
            kind, _, message = self.result["error"].partition(": ")
            raise type(kind, (Exception,), {})(message)
        return copy.deepcopy(from_wire(self.result["value"]))
