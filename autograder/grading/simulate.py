"""A simulated class: submissions whose grades are known in advance.

``build_class`` writes ``submitted/<student>/<chapter>/<notebook>.ipynb`` from the release
notebooks (what students receive) and the source notebooks (the solutions), as a class would
hand them in:

- ``full``: every solution cell answered with the source's solution; it must get every point;
- ``blank``: the release untouched; it must get none;
- ``partial``: the first few solution cells answered, the rest untouched; it loses the questions
  answered by the untouched cells;
- ``mistake``: the full solution with one solution cell replaced by a classic mistake
  (``autograder.cases.student_mistakes``); it loses points in the questions that mistake lists
  and in no other;
- ``stale``: the first classic mistake of a graded function, handed in with its visible test
  cells still showing the success line of an earlier run (a student who broke the code after
  testing it, or edited the check): it loses points like the mistake, and the trusted grader
  should report that the notebook's own results disagree with its verdict.

Students are named after what they hand in, so a report or a CSV reads at a glance:
``full-1``, ``blank-1``, ``partial-1``, ``mistake<k>-1`` (the ``k``-th classic mistake of each
chapter; a chapter with fewer mistakes gets no submission from that student) and ``stale-1``.
The suffix numbers the copies. Grading tests and the grading benchmark compare grades with ``grading_errors``.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from autograder.cases import case_set, student_mistakes
from autograder.checking import success_message
from autograder.grading.questions import graded_notebook, strip_solution_markers


#: the names ``build_class`` gives its students
SIMULATED_STUDENT = re.compile(r"^(full|blank|partial|mistake\d+|stale)-\d+$")


@dataclass(frozen=True)
class Submission:
    """One simulated submission and the questions its grading must take points from."""

    student: str
    chapter: str
    kind: str
    description: str
    lost_questions: tuple


@dataclass(frozen=True)
class _Plan:
    """What one simulated student hands in for one chapter."""

    student: str
    kind: str
    description: str
    answers: dict
    lost: tuple
    shown_passing: tuple = ()


def _solution_cells(notebook):
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def _visible_success(question):
    """The line ``check`` prints when every visible case of ``question`` passes."""
    return success_message(question, len(case_set(question).visible()), hidden=False) + "\n"


def _handed_in(release, source, plan):
    """The release notebook filled in as ``plan`` says.

    Solution cells named in ``plan.answers`` get that code (``None``: the source's solution); the
    visible test cells of ``plan.shown_passing`` keep the success output of an earlier run.
    """
    submission = nbformat.from_dict(release)
    solutions = _solution_cells(source)
    for grade_id, cell in _solution_cells(submission).items():
        if grade_id in plan.answers:
            code = plan.answers[grade_id]
            cell.source = strip_solution_markers(solutions[grade_id].source) if code is None else code.strip("\n")
    visible_tests = {f"test_{question}": question for question in plan.shown_passing}
    for number, cell in enumerate(submission.cells, start=1):
        question = visible_tests.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if question is not None:
            cell.execution_count = number
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=_visible_success(question))]
    return submission


def _plans(graded, copy, rng):
    """What every simulated student of one copy of the class hands in for the chapter of ``graded``."""
    everything = dict.fromkeys(graded.solution_cells)
    all_questions = tuple(q.name for q in graded.questions)
    yield _Plan(f"full-{copy}", "full", "full solution", everything, ())
    yield _Plan(f"blank-{copy}", "blank", "the release, untouched", {}, all_questions)
    cells = graded.solution_cells
    answered = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
    kept = dict.fromkeys(cells[:answered])
    yield _Plan(f"partial-{copy}", "partial", f"answered the first {answered} of {len(cells)} solution cells", kept,
                tuple(q.name for q in graded.questions if q.solution_cell not in kept))
    mistakes = student_mistakes(graded.chapter)
    for number, mistake in enumerate(mistakes, start=1):
        if mistake.cell not in cells:
            raise ValueError(f"{graded.chapter}: the classic mistake {mistake.description!r} replaces cell "
                             f"{mistake.cell!r}, which is not a solution cell of {graded.name}.ipynb")
        yield _Plan(f"mistake{number}-{copy}", "mistake", mistake.description,
                    {**everything, mistake.cell: mistake.code}, tuple(mistake.questions))
    stale = next((m for m in mistakes if any(_has_visible_test(graded, q) for q in m.questions)), None)
    if stale is not None:
        yield _Plan(f"stale-{copy}", "stale", f"{stale.description}, showing the passing outputs of an earlier run",
                    {**everything, stale.cell: stale.code}, tuple(stale.questions),
                    tuple(q for q in stale.questions if _has_visible_test(graded, q)))


def _has_visible_test(graded, question):
    """Whether ``question`` is a graded function with a visible test cell (``test_<question>``)."""
    try:
        case_set(question)
    except KeyError:
        return False
    return f"test_{question}" in graded.question(question).test_cells


def _release_and_source(root, graded):
    chapter = graded.chapter
    release_path = Path(root) / "notebooks" / chapter / f"{graded.name}.ipynb"
    if not release_path.is_file():
        raise FileNotFoundError(f"{release_path} is missing: run `course release {chapter}` first")
    release = nbformat.read(release_path, as_version=4)
    source = nbformat.read(Path(root) / "solutions" / chapter / f"{graded.name}.ipynb", as_version=4)
    return release, source


def solved_notebook(course_root, chapter):
    """The release notebook of ``chapter`` with every solution cell answered by the source's solution."""
    graded = graded_notebook(course_root, chapter)
    full = _Plan("", "full", "full solution", dict.fromkeys(graded.solution_cells), ())
    return _handed_in(*_release_and_source(course_root, graded), full)


def build_class(course_root, chapters, copies=1, seed=0):
    """Write the simulated class of ``chapters`` into ``<course_root>/submitted/`` and list its submissions.

    Needs the release notebooks (``course release``). ``copies`` repeats the class under other
    student names (the partial submissions stop at a different cell, drawn from
    ``np.random.default_rng(seed)``). Returns one ``Submission`` per written notebook, in the
    order written; existing files of the same students are overwritten.
    """
    root = Path(course_root)
    rng = np.random.default_rng(seed)
    submissions = []
    for chapter in chapters:
        graded = graded_notebook(root, chapter)
        release, source = _release_and_source(root, graded)
        for copy in range(1, copies + 1):
            for plan in _plans(graded, copy, rng):
                folder = root / "submitted" / plan.student / chapter
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(_handed_in(release, source, plan), folder / f"{graded.name}.ipynb")
                submissions.append(Submission(plan.student, chapter, plan.kind, plan.description, plan.lost))
    return submissions


def grading_errors(course_root, submissions, scores):
    """Every way ``scores`` disagrees with what the simulated ``submissions`` deserve; empty when grading is right.

    ``scores`` maps ``(student, chapter)`` to ``{question: points}`` (e.g. read from the gradebook).
    A question a submission leaves untouched (the blank release, the unanswered cells of a partial
    one) gets no point; a classic mistake loses some points of each question it lists (a mistake
    may pass the visible test and fail only the hidden one); every other question gets all its points.
    """
    notebooks = {chapter: graded_notebook(course_root, chapter) for chapter in {s.chapter for s in submissions}}
    errors = []
    for submission in submissions:
        got = scores.get((submission.student, submission.chapter))
        where = f"{submission.student}/{submission.chapter} ({submission.kind}: {submission.description})"
        if got is None:
            errors.append(f"{where}: no grade")
            continue
        for question in notebooks[submission.chapter].questions:
            points = got.get(question.name)
            if question.name not in submission.lost_questions:
                wanted, ok = f"all {question.points:g} points", points == question.points
            elif submission.kind in ("mistake", "stale"):
                wanted, ok = f"fewer than {question.points:g} points", points is not None and points < question.points
            else:
                wanted, ok = "0 points", points == 0
            if not ok:
                errors.append(f"{where}: {question.name} got {points} points, expected {wanted}")
    return errors
