"""Test cases of every graded function and numeric answer, found by convention.

A **case module** is any module of this package (``autograder/cases/<topic>.py``) defining
``CASE_SETS`` (``autograder.checking.CaseSet``), ``ANSWERS`` (``autograder.checking.Answer``) and
``STUDENT_MISTAKES`` (``StudentMistake``: wrong code a student plausibly submits, used to simulate
a class and to test that grading catches it). Every case module is discovered: a test cell only
says ``check(softmax, "softmax")``, and names are unique across the package.

A **chapter** is a folder ``solutions/<chapter>/`` of the course holding one source notebook. Its
case module is ``autograder.cases.<topic>``, the chapter name without its leading number
(``03_softmax`` -> ``softmax``), unless a case module declares ``CHAPTER = "<chapter>"`` (as
``attention`` does for ``04_dot_product_attention``). A chapter may have no case module at all:
its questions are then graded by ordinary nbgrader test cells (asserts) or by hand.
"""

import functools
import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

#: the course this package is developed in (the project root), whose chapters ``CHAPTERS`` lists
PROJECT = Path(__file__).resolve().parents[2]
_CHAPTER_NUMBER = re.compile(r"^\d+_")


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
def case_modules():
    """Every case module of the package, by module name (``softmax``, ``attention``...)."""
    return {info.name: importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


def course_chapters(root):
    """The chapters of the course at ``root``: every ``solutions/<chapter>/`` folder holding a notebook, sorted."""
    solutions = Path(root) / "solutions"
    if not solutions.is_dir():
        return []
    return sorted(folder.name for folder in solutions.iterdir()
                  if folder.is_dir() and not folder.name.startswith(".") and any(folder.glob("*.ipynb")))


def chapter_module(chapter):
    """The case module of ``chapter``: the one declaring ``CHAPTER = chapter``, else ``<topic>``; None if neither."""
    modules = case_modules()
    declared = [module for module in modules.values() if getattr(module, "CHAPTER", None) == chapter]
    if declared:
        return declared[0]
    module = modules.get(_CHAPTER_NUMBER.sub("", chapter))
    claimed = getattr(module, "CHAPTER", None)
    return module if claimed in (None, chapter) else None


@functools.cache
def _chapter_modules():
    """Chapter -> case module, for the chapters of this project that have one."""
    return {chapter: module for chapter in course_chapters(PROJECT) if (module := chapter_module(chapter)) is not None}


def __getattr__(name):
    # ``CHAPTERS`` (chapter -> case module name, for this project) is computed on first use, so that
    # importing the package does not import every case module
    if name == "CHAPTERS":
        return {chapter: module.__name__ for chapter, module in _chapter_modules().items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _index():
    case_sets, answers = {}, {}
    for name, module in sorted(case_modules().items()):
        for item in getattr(module, "CASE_SETS", ()):
            if item.name in case_sets or item.name in answers:
                raise ValueError(f"autograder.cases.{name}: the name {item.name!r} is already taken by another "
                                 "case module; names are unique across the course")
            case_sets[item.name] = item
        for item in getattr(module, "ANSWERS", ()):
            if item.name in case_sets or item.name in answers:
                raise ValueError(f"autograder.cases.{name}: the name {item.name!r} is already taken by another "
                                 "case module; names are unique across the course")
            answers[item.name] = item
    return case_sets, answers


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


def reference_namespace():
    """Reference function of every graded name, used to resolve ``Prior`` arguments."""
    return {name: item.reference for name, item in _index()[0].items()}


def student_mistakes(chapter):
    """The ``StudentMistake`` list of an assignment (empty for a chapter without a case module)."""
    module = chapter_module(chapter)
    return list(getattr(module, "STUDENT_MISTAKES", ())) if module is not None else []
