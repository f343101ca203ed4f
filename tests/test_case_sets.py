"""Every chapter's case sets: the reference passes them, and every classic mistake is caught and named.

The hidden cases draw their values from a seed the grader keeps secret, so the properties are checked
for several seeds, not only the notebook's.
"""

import numpy as np
import pytest

from autograder.calling import run_case
from autograder.cases import CHAPTERS, _chapter_modules, reference_namespace
from autograder.checking import NOTEBOOK_HIDDEN_SEED, diagnose, judge, judge_answer

SEEDS = (NOTEBOOK_HIDDEN_SEED, 1, 2)
CASE_SETS = [case_set for module in _chapter_modules().values() for case_set in module.CASE_SETS]
ANSWERS = [item for module in _chapter_modules().values() for item in module.ANSWERS]


def _verdicts(case_set, function, cases, hidden):
    namespace = reference_namespace()
    return [judge(case_set, case, run_case(function, case, namespace), number=i + 1, total=len(cases), hidden=hidden)
            for i, case in enumerate(cases)]


def test_every_chapter_has_cases_and_unique_names():
    assert list(CHAPTERS) == sorted(CHAPTERS) and len(CHAPTERS) == 8
    names = [item.name for item in CASE_SETS + ANSWERS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case_set", CASE_SETS, ids=lambda c: c.name)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_passes_its_visible_and_hidden_cases(case_set, seed):
    assert case_set.visible() and case_set.hidden_cases(seed)
    for hidden, cases in ((False, case_set.visible()), (True, case_set.hidden_cases(seed))):
        failed = [v.message for v in _verdicts(case_set, case_set.reference, cases, hidden) if not v.passed]
        assert not failed, failed


@pytest.mark.parametrize("case_set, mistake", [(c, m) for c in CASE_SETS for m in c.mistakes],
                         ids=lambda item: getattr(item, "name", getattr(item, "description", "")[:50]))
@pytest.mark.parametrize("seed", SEEDS)
def test_every_classic_mistake_fails_a_hidden_case_and_is_named(case_set, mistake, seed):
    verdicts = _verdicts(case_set, mistake.function, case_set.hidden_cases(seed), hidden=True)
    assert any(not v.passed for v in verdicts), "the hidden cases do not catch this mistake"
    assert diagnose(verdicts) == mistake.description, "caught but not named, or named as another mistake"


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
def test_every_answer_accepts_its_value_and_rejects_a_wrong_one(answer):
    expected = np.asarray(answer.expected(), dtype=np.float64)
    assert judge_answer(answer, expected, hidden=True).passed
    assert not judge_answer(answer, expected + 10 * answer.atol + 0.01 + 0.1 * np.abs(expected), hidden=True).passed
