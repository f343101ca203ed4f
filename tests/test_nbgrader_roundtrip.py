"""The nbgrader round trip of every chapter, done with nbgrader's own commands in one temporary course.

For each chapter: the source notebook validates, the release fails validation, and ``nbgrader
autograde`` of the simulated class (``autograder.grading.simulate``) gives the solutions full marks,
the untouched release zero, and each plausible mistake of ``autograder.cases`` fewer points in its
own questions and full points in every other.
The release notebooks committed in ``notebooks/`` must be what ``course release`` generates now.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.cases import CHAPTERS
from autograder.grading.questions import graded_notebook, question_of
from autograder.grading.release import release
from autograder.grading.simulate import build_class, grading_errors
from conftest import PROJECT, copy_course, run_nbgrader

pytestmark = pytest.mark.nbgrader

CHAPTER_NAMES = [name for name in CHAPTERS if (PROJECT / "solutions" / name).is_dir()]
VALIDATING = re.compile(r"Validating '([^']+)'\n(.*?)(?=\[ValidateApp \| INFO\] Validating|\Z)", re.DOTALL)


def _selected_chapters(session):
    """The chapters of the tests pytest will run (``-k 03_softmax`` grades chapter 3 only)."""
    wanted = {item.callspec.params["chapter"] for item in session.items
              if item.module.__name__ == __name__ and hasattr(item, "callspec")}
    return [chapter for chapter in CHAPTER_NAMES if chapter in wanted]


@pytest.fixture(scope="module")
def course(request, tmp_path_factory):
    chapters = _selected_chapters(request.session)
    root = copy_course(tmp_path_factory.mktemp("roundtrip"))
    release(root, chapters)
    # The trusted grader's tests cover partial and stale submissions; nbgrader's kernel per notebook
    # makes each one cost seconds here, so this class is the solution, the blank and each mistake.
    submissions = []
    for submission in build_class(root, chapters):
        if submission.kind in ("partial", "stale"):
            shutil.rmtree(root / "submitted" / submission.student / submission.chapter)
        else:
            submissions.append(submission)
    # One nbgrader command at a time: two that start kernels together can race for the same port
    # (jupyter_client picks free ports before the kernel binds them).
    for chapter in chapters:
        run_nbgrader(["autograde", chapter, "--force"], root)
    validation = {}
    for folder in ("solutions", "notebooks"):
        paths = [f"{folder}/{c}/{graded_notebook(root, c).name}.ipynb" for c in chapters]
        for path, report in VALIDATING.findall(run_nbgrader(["validate", *paths], root).stdout):
            validation[str(Path(path).relative_to(root))] = report
    return root, submissions, validation


def _scores(root, submissions):
    """(student, chapter) -> {question: points} from nbgrader's gradebook."""
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for submission in submissions:
            notebook = gradebook.find_submission_notebook(
                graded_notebook(root, submission.chapter).name, submission.chapter, submission.student)
            points = scores.setdefault((submission.student, submission.chapter), {})
            for grade in notebook.grades:
                points[question_of(grade.name)] = points.get(question_of(grade.name), 0) + grade.score
    return scores


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_release_is_up_to_date(course, chapter):
    root = course[0]
    name = graded_notebook(root, chapter).name
    generated = json.loads((root / "notebooks" / chapter / f"{name}.ipynb").read_text())
    committed = json.loads((PROJECT / "notebooks" / chapter / f"{name}.ipynb").read_text())
    assert generated == committed, f"notebooks/{chapter} is out of date: run `make release` and commit it"


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_source_validates_and_release_does_not(course, chapter):
    root, _, validation = course
    name = graded_notebook(root, chapter).name
    source = validation[f"solutions/{chapter}/{name}.ipynb"]
    assert "Success! Your notebook passes all the tests." in source, source
    released = validation[f"notebooks/{chapter}/{name}.ipynb"]
    assert "VALIDATION FAILED" in released, released


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_autograde_gives_each_simulated_student_what_they_deserve(course, chapter):
    root, submissions, _ = course
    ours = [s for s in submissions if s.chapter == chapter]
    scores = _scores(root, ours)
    kinds = {s.kind for s in ours}
    assert kinds == {"full", "blank", "mistake"}
    full = scores[("full-1", chapter)]
    assert sum(full.values()) == graded_notebook(root, chapter).max_points > 0
    assert sum(scores[("blank-1", chapter)].values()) == 0
    assert grading_errors(root, ours, scores) == []
