"""Visible cases as the grader runs them (``autograder.grading.redraw``): a function that memorised the
visible outputs fails them, a correct one passes them, in every chapter, whatever the secret."""

import numpy as np
import pytest

from autograder import cases as registry
from autograder.calling import plain, run_case
from autograder.checking import expected_output, judge
from autograder.grading.course import chapters
from autograder.grading.redraw import _own_redraws, redraw_case
from autograder.inputs import Fn
from conftest import PROJECT

GRADED = [case_set for chapter in chapters(PROJECT) if registry.chapter_module(chapter)
          for case_set in registry.chapter_module(chapter).CASE_SETS]
SEEDS = range(4)


def _memoriser(case_set):
    """A submission that answers the visible cases from a table of their outputs, and zeros otherwise."""
    table = [(case, expected_output(case_set, case)) for case in case_set.visible()]

    def memorised(*args, **kwargs):
        for case, output in table:
            if _same(case.args, args) and _same(case.kwargs, kwargs):
                return output
        return np.zeros_like(plain(table[0][1])) if not isinstance(table[0][1], tuple) else \
            tuple(np.zeros_like(item) for item in table[0][1])
    return memorised


def _same(a, b):
    if isinstance(a, Fn):  # the student's function receives the plain function behind a test-case function
        return b is a.function
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _verdicts(case_set, function, cases):
    namespace = registry.reference_namespace()
    return [judge(case_set, case, run_case(function, case, namespace), number=i + 1, total=len(cases), hidden=False)
            for i, case in enumerate(cases)]


@pytest.mark.parametrize("case_set", GRADED, ids=lambda case_set: case_set.name)
def test_memorised_visible_outputs_fail_and_the_reference_passes_the_redrawn_cases(case_set):
    memorised = _memoriser(case_set)
    assert all(v.passed for v in _verdicts(case_set, memorised, case_set.visible())), "the memoriser is not one"
    for seed in SEEDS:
        rng = np.random.default_rng([seed, *case_set.name.encode()])
        redrawn = [redraw_case(case_set.name, case, rng) for case in case_set.visible()]
        if case_set.name not in _own_redraws():  # a case module's own redraw may say what it changed
            assert [case.label for case in redrawn] == [case.label for case in case_set.visible()]
        assert all(v.passed for v in _verdicts(case_set, case_set.reference, redrawn)), seed
        assert not all(v.passed for v in _verdicts(case_set, memorised, redrawn)), seed


def test_the_structure_of_a_case_is_kept():
    """Shapes, dtypes, masks and labels, integers and two-valued arrays stay; the rest moves."""
    from autograder.calling import Case
    mask = np.tril(np.ones((3, 3), dtype=bool))
    case = Case("any", (np.array([[1.0, 2.0, 3.0]]), np.eye(3), mask, np.array([2, 0, 1]), 4, 0.5, np.array([1e4, 1e4 + 1, 1e4 + 3.5])))
    redrawn = redraw_case("softmax", case, np.random.default_rng(0))
    scores, identity, kept_mask, labels, count, rate, large = redrawn.args
    assert scores.shape == (1, 3) and np.all(scores == np.round(scores)) and np.all(np.diff(scores) > 0)
    assert not np.array_equal(scores, case.args[0])
    assert np.array_equal(identity, np.eye(3)) and np.array_equal(kept_mask, mask) and np.array_equal(labels, [2, 0, 1])
    assert count == 4 and 0.45 <= rate <= 0.55 and rate != 0.5
    assert np.all(large > 1e3) and np.all(np.diff(large) > 0)
