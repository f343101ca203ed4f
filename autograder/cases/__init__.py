"""Test cases of every graded function and numeric answer, chapter by chapter.

Each module listed in ``CHAPTERS`` defines ``CASE_SETS`` (``autograder.checking.CaseSet``),
``ANSWERS`` (``autograder.checking.Answer``) and ``STUDENT_MISTAKES`` (``StudentMistake``: wrong
code a student plausibly submits, used to simulate a class and to test that grading catches it). Names are unique across the course, so a test cell
only says ``check(softmax, "softmax")``.
"""

import functools
import importlib
from dataclasses import dataclass

#: assignment name -> module holding its cases
CHAPTERS = {
    "01_chain_rule": "autograder.cases.chain_rule",
    "02_gradient_descent": "autograder.cases.gradient_descent",
    "03_softmax": "autograder.cases.softmax",
    "04_dot_product_attention": "autograder.cases.attention",
    "05_backprop_through_time": "autograder.cases.bptt",
    "06_rnn": "autograder.cases.rnn",
    "07_self_attention": "autograder.cases.self_attention",
}


@dataclass(frozen=True)
class StudentMistake:
    """A plausible wrong submission: the code of solution cell ``cell`` replaced by ``code``.

    Grading must take points from the test cells of ``questions`` (graded function or answer
    names, whose test cells are ``test_<name>`` and ``test_<name>_hidden``) and from no other.
    """

    cell: str
    description: str
    code: str
    questions: tuple


@functools.cache
def _chapter_modules():
    return {chapter: importlib.import_module(module) for chapter, module in CHAPTERS.items()}


@functools.cache
def _index():
    case_sets, answers, chapter_of = {}, {}, {}
    for chapter, module in _chapter_modules().items():
        for item in module.CASE_SETS:
            case_sets[item.name] = item
            chapter_of[item.name] = chapter
        for item in module.ANSWERS:
            answers[item.name] = item
            chapter_of[item.name] = chapter
    return case_sets, answers, chapter_of


def case_set(name):
    """The ``CaseSet`` of the graded function ``name``."""
    case_sets = _index()[0]
    if name not in case_sets:
        raise KeyError(f"no graded function named {name!r}; known: {', '.join(sorted(case_sets))}")
    return case_sets[name]


def answer(name):
    """The ``Answer`` of the numeric question ``name``."""
    answers = _index()[1]
    if name not in answers:
        raise KeyError(f"no numeric question named {name!r}; known: {', '.join(sorted(answers))}")
    return answers[name]


def chapter_of(name):
    """The assignment that grades the function or answer ``name``."""
    return _index()[2][name]


def reference_namespace():
    """Reference function of every graded name, used to resolve ``Prior`` arguments."""
    return {name: item.reference for name, item in _index()[0].items()}


def student_mistakes(chapter):
    """The ``StudentMistake`` list of an assignment."""
    return _chapter_modules()[chapter].STUDENT_MISTAKES
