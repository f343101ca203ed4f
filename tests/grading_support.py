"""Helpers of the grading tests: a released course of chapter 3, and students who hand in notebooks."""

import sys
from pathlib import Path

import nbformat

from conftest import copy_course

CHAPTER = "03_softmax"
NOTEBOOK = "softmax"


def released_course(folder):
    """A temporary course whose gradebook knows chapter 3 (nbgrader's generate_assignment, once)."""
    # jsonschema's optional IRI grammar costs seconds to import and nothing here needs it
    sys.modules.setdefault("rfc3987_syntax", None)
    from autograder.grading.release import release

    root = copy_course(folder)
    release(root, [CHAPTER])
    return root


def solved_notebook(root):
    """The release notebook with every solution cell answered by the source's solution."""
    from autograder.grading.simulate import solved_notebook as solved

    return solved(root, CHAPTER)


def release_notebook(root):
    return nbformat.read(Path(root) / "notebooks" / CHAPTER / f"{NOTEBOOK}.ipynb", as_version=4)


def cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def add_cell_after(notebook, grade_id, source):
    """Insert a code cell the student wrote right after the cell ``grade_id``."""
    index = notebook.cells.index(cell(notebook, grade_id))
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def hand_in(root, student, notebook=None, *, raw=None, name=f"{NOTEBOOK}.ipynb", timestamp="2026-11-20 10:00:00 UTC"):
    """Write ``submitted/<student>/03_softmax/``: the notebook (or ``raw`` bytes) and a timestamp."""
    folder = Path(root) / "submitted" / student / CHAPTER
    folder.mkdir(parents=True, exist_ok=True)
    if notebook is not None:
        nbformat.write(notebook, folder / name)
    if raw is not None:
        (folder / name).write_bytes(raw)
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


def grade(root, students=(), **options):
    """``course grade 03_softmax`` in this process (no progress bar); returns the summary."""
    sys.modules.setdefault("rfc3987_syntax", None)
    from autograder.grading.engine import grade as run

    options.setdefault("jobs", 2)
    return run(root, [CHAPTER], students=students, progress=False, **options)


def record(root, student):
    from autograder.grading.records import load

    return load(root, CHAPTER, student)


def gradebook_scores(root, student):
    """{graded cell: auto score} of ``student``'s chapter 3 in the gradebook, None if not there."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gradebook:
        try:
            submission = gradebook.find_submission(CHAPTER, student)
        except MissingEntry:
            return None
        return {grade.name: grade.auto_score for notebook in submission.notebooks for grade in notebook.grades}


def lost_cells(root, student):
    """The graded cells where ``student`` did not get every point, per the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(CHAPTER, student)
        return sorted(grade.name for notebook in submission.notebooks for grade in notebook.grades
                      if grade.auto_score != grade.max_score)


def graded_outputs(root, student, grade_id):
    """The outputs of cell ``grade_id`` in the graded notebook of ``autograded/``."""
    notebook = nbformat.read(Path(root) / "autograded" / student / CHAPTER / f"{NOTEBOOK}.ipynb", as_version=4)
    return next(c.outputs for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
