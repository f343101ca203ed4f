"""The nbgrader round trip of every chapter, done with nbgrader's own commands in one temporary course.

For each chapter: the source notebook validates, the release fails validation, a submission with
the solutions gets full marks from ``nbgrader autograde``, the untouched release gets zero, and
each plausible mistake of ``autograder.cases`` loses the points of its questions only. The
release notebooks committed in ``notebooks/`` must be what ``course release`` generates now.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.cases import CHAPTERS, student_mistakes
from autograder.grading.release import release
from conftest import PROJECT, copy_course, run_nbgrader

pytestmark = pytest.mark.nbgrader

CHAPTER_NAMES = [name for name in CHAPTERS if (PROJECT / "solutions" / name).is_dir()]
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.MULTILINE)
VALIDATING = re.compile(r"Validating '([^']+)'\n(.*?)(?=\[ValidateApp \| INFO\] Validating|\Z)", re.DOTALL)


def _notebook_name(chapter):
    (path,) = (PROJECT / "solutions" / chapter).glob("*.ipynb")
    return path.stem


def _solution_cells(chapter):
    source = nbformat.read(str(PROJECT / "solutions" / chapter / f"{_notebook_name(chapter)}.ipynb"), as_version=4)
    return {cell.metadata.nbgrader["grade_id"]: MARKER.sub("", cell.source)
            for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def _submission(chapter, replaced):
    """The release notebook with the solution cells filled in, ``replaced`` (cell id -> code) overriding some."""
    notebook = nbformat.read(str(PROJECT / "notebooks" / chapter / f"{_notebook_name(chapter)}.ipynb"), as_version=4)
    filled = {**_solution_cells(chapter), **replaced}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in filled:
            cell.source = filled[grade_id]
    return notebook


def _students(chapter):
    """student id -> (notebook, questions expected to lose points; None means every question)."""
    short = chapter.split("_")[0]
    students = {f"ch{short}-solution": (_submission(chapter, {}), ()),
                f"ch{short}-blank": (None, None)}
    for index, mistake in enumerate(student_mistakes(chapter)):
        students[f"ch{short}-mistake{index}"] = (_submission(chapter, {mistake.cell: mistake.code}), mistake.questions)
    return students


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
    expected = {}
    for chapter in chapters:
        name = _notebook_name(chapter)
        for student, (notebook, losing) in _students(chapter).items():
            folder = root / "submitted" / student / chapter
            folder.mkdir(parents=True)
            if notebook is None:
                (folder / f"{name}.ipynb").write_bytes((root / "notebooks" / chapter / f"{name}.ipynb").read_bytes())
            else:
                nbformat.write(notebook, str(folder / f"{name}.ipynb"))
            expected[(chapter, student)] = losing
    # Disjoint students per chapter, so two autograde processes never touch the same files; one
    # validate command per folder, as nbgrader's start-up costs more than validating a notebook.
    commands = [["autograde", chapter, "--force"] for chapter in chapters]
    commands += [["validate", *(f"{folder}/{c}/{_notebook_name(c)}.ipynb" for c in chapters)]
                 for folder in ("solutions", "notebooks")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        processes = list(pool.map(lambda args: run_nbgrader(args, root), commands))
    validation = {}
    for process in processes[-2:]:
        for path, report in VALIDATING.findall(process.stdout):
            validation[str(Path(path).relative_to(root))] = report
    return root, expected, validation


def _scores(root, chapter, student):
    """grade cell id -> (score, max score) from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(_notebook_name(chapter), chapter, student)
        return {grade.name: (grade.score, grade.max_score) for grade in submission.grades}


def _question(grade_id):
    return re.sub(r"_hidden$", "", grade_id.removeprefix("test_"))


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_release_is_up_to_date(course, chapter):
    root = course[0]
    name = _notebook_name(chapter)
    generated = json.loads((root / "notebooks" / chapter / f"{name}.ipynb").read_text())
    committed = json.loads((PROJECT / "notebooks" / chapter / f"{name}.ipynb").read_text())
    assert generated == committed, f"notebooks/{chapter} is out of date: run `make release` and commit it"


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_source_validates_and_release_does_not(course, chapter):
    validation = course[2]
    name = _notebook_name(chapter)
    source = validation[f"solutions/{chapter}/{name}.ipynb"]
    assert "Success! Your notebook passes all the tests." in source, source
    released = validation[f"notebooks/{chapter}/{name}.ipynb"]
    assert "VALIDATION FAILED" in released, released


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_solution_gets_full_marks_and_blank_gets_zero(course, chapter):
    root = course[0]
    short = chapter.split("_")[0]
    solution = _scores(root, chapter, f"ch{short}-solution")
    assert solution and all(score == maximum for score, maximum in solution.values()), solution
    blank = _scores(root, chapter, f"ch{short}-blank")
    assert sum(score for score, _ in blank.values()) == 0, blank


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_each_mistake_loses_its_questions_points_only(course, chapter):
    root, expected, _ = course
    for (mistake_chapter, student), questions in expected.items():
        if mistake_chapter != chapter or "mistake" not in student:
            continue
        scores = _scores(root, chapter, student)
        lost = {_question(cell) for cell, (score, maximum) in scores.items() if score < maximum}
        assert lost == set(questions), f"{student}: lost points on {sorted(lost)}, expected {sorted(questions)}"
