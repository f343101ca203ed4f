"""Submissions as the grader reads them: found in ``submitted/``, fingerprinted, rebuilt for grading.

A submission is the folder ``submitted/<student>/<assignment>/`` (nbgrader's layout). Its
fingerprint is a hash of every file in it (paths and bytes) and of the assignment's own
fingerprint, so a resubmission, a changed test or a new secret all lead to regrading.

The notebook that is graded is rebuilt from the release, never taken as submitted: every cell
that is not a solution cell (instructions, setup, tests) is the trusted one, in the released
order, whatever the student did to it (edited, emptied, moved, deleted, points changed); each
solution cell holds the student's answer (or the release stub if they deleted it); cells the
student added stay where they were, after the released cell they followed.
"""

import ast
import base64
import fnmatch
import glob
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4.nbbase import random_cell_id

#: bump when grading itself changes, so that every submission is graded again
GRADER_VERSION = "1"
#: a submission folder larger than this is not graded (it is not a notebook and a few data files)
MAX_SUBMISSION_BYTES = 50 * 2**20


class SubmissionError(ValueError):
    """This submission cannot be graded; the message says why, for the instructor's summary."""


@dataclass
class Submission:
    assignment: str
    student: str
    folder: Path
    files: dict = field(default_factory=dict)
    skipped_links: list = field(default_factory=list)
    fingerprint: str = ""
    timestamp: object = None


@dataclass
class GradedCell:
    """A cell of the notebook to grade: the trusted cell (None for a cell the student added) and its content."""

    cell: dict
    trusted: object = None
    student_wrote: bool = False


@dataclass
class Rebuilt:
    cells: list
    notes: list
    notebook_said: dict


def find_submissions(coursedir, assignment, students=()):
    """Every ``submitted/<student>/<assignment>/`` folder, by student id."""
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    found = []
    for folder in sorted(Path(p) for p in glob.glob(pattern)):
        student = Path(os.path.relpath(folder, coursedir.format_path(coursedir.submitted_directory, ".", "."))).parts[0]
        if folder.is_dir() and (not students or student in students):
            found.append(Submission(assignment, student, folder))
    return found


def read_submission(submission, coursedir, assignment_fingerprint):
    """Read the submission's files (symbolic links are skipped: they may point at anything) and fingerprint them."""
    total, digest = 0, hashlib.sha256(f"{GRADER_VERSION}:{assignment_fingerprint}".encode())
    for folder, folders, names in os.walk(submission.folder):
        folders[:] = sorted(f for f in folders if not any(fnmatch.fnmatch(f, p) for p in coursedir.ignore))
        for name in sorted(names):
            path = Path(folder) / name
            relative = str(path.relative_to(submission.folder))
            if any(fnmatch.fnmatch(name, p) for p in coursedir.ignore):
                continue
            if path.is_symlink() or not path.is_file() or not _utf8(relative):
                # links may point at anything, pipes and devices block, and a name that is not
                # UTF-8 cannot travel to the sandbox: none of them is a file of the notebook
                submission.skipped_links.append(relative.encode("utf-8", "replace").decode())
                continue
            data = path.read_bytes()
            total += len(data)
            if total > MAX_SUBMISSION_BYTES:
                raise SubmissionError(f"the submission is larger than {MAX_SUBMISSION_BYTES >> 20} MB")
            submission.files[relative] = data
            digest.update(f"{relative}\0{len(data)}\0".encode())
            digest.update(data)
    submission.fingerprint = digest.hexdigest()
    try:
        submission.timestamp = coursedir.get_existing_timestamp(str(submission.folder))
    except Exception:  # dateutil raises several kinds on text that is not a date
        raise SubmissionError("timestamp.txt is not a date and time; nbgrader writes one like "
                              "'2026-11-20 10:00:00.000000 UTC'") from None
    return submission


def _utf8(name):
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encoded_files(submission):
    return {relative: base64.b64encode(data).decode("ascii") for relative, data in submission.files.items()}


def read_notebook(submission, name):
    """The submitted notebook ``name``, or a SubmissionError saying what is wrong with it."""
    filename = f"{name}.ipynb"
    if filename not in submission.files:
        others = sorted(f for f in submission.files if f.endswith(".ipynb"))
        hint = f"; found {', '.join(others)} (renamed?)" if others else ""
        raise SubmissionError(f"{filename} is missing{hint}")
    data = submission.files[filename]
    if not data.strip():
        raise SubmissionError(f"{filename} is empty")
    try:
        text = data.decode("utf-8")
        notebook = nbformat.reads(text, as_version=4)
    except UnicodeDecodeError:
        raise SubmissionError(f"{filename} is not text (not UTF-8)") from None
    except (json.JSONDecodeError, ValueError) as error:
        raise SubmissionError(f"{filename} is not a readable notebook (malformed JSON?): {error}") from None
    except Exception as error:  # nbformat raises many kinds on a damaged file
        raise SubmissionError(f"{filename} is not a readable notebook: {type(error).__name__}: {error}") from None
    if not isinstance(notebook.get("cells"), list):
        raise SubmissionError(f"{filename} has no list of cells")
    return notebook


def rebuild(trusted_notebook, submitted):
    """The cells to grade: trusted cells in released order, the student's answers and added cells."""
    by_id = {cell.grade_id: cell for cell in trusted_notebook.cells if cell.grade_id is not None}
    answers, added, notes, notebook_said, seen = {}, {}, [], {}, set()
    anchor = None
    for cell in submitted.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        grade_id = _grade_id(cell)
        trusted = by_id.get(grade_id)
        if trusted is not None and grade_id not in seen:
            seen.add(grade_id)
            anchor = grade_id
            if trusted.solution:
                answers[grade_id] = cell
            else:
                notes += _tampering(trusted, cell)
                if trusted.is_check_cell and trusted.grade:
                    notebook_said[grade_id] = _notebook_result(trusted, cell)
            continue
        added.setdefault(anchor, []).append(_added_cell(cell))
    for trusted in trusted_notebook.cells:
        if trusted.grade_id is not None and trusted.grade_id not in seen:
            kind = "solution" if trusted.solution else "test" if trusted.grade else "locked"
            notes.append(f"the {kind} cell {trusted.grade_id} was deleted; "
                         + ("graded as unanswered" if trusted.solution else "restored"))
            if trusted.is_check_cell and trusted.grade:
                notebook_said[trusted.grade_id] = "deleted"
    cells = [GradedCell(_added_cell(c)) for c in added.get(None, [])]
    for trusted in trusted_notebook.cells:
        cell = _fresh(trusted.cell)
        student_wrote = False
        if trusted.solution and trusted.grade_id in answers:
            cell["source"] = _text(answers[trusted.grade_id].get("source", ""))
            student_wrote = True
        cells.append(GradedCell(cell, trusted, student_wrote))
        cells += [GradedCell(c, None, True) for c in added.get(trusted.grade_id, [])]
    return Rebuilt(cells, notes, notebook_said)


def _grade_id(cell):
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _text(source):
    return "".join(source) if isinstance(source, list) else str(source)


def _fresh(cell):
    fresh = {"cell_type": cell["cell_type"], "metadata": json.loads(json.dumps(cell.get("metadata", {}))),
             "source": cell["source"]}
    if "id" in cell:
        fresh["id"] = cell["id"]
    if cell["cell_type"] == "code":
        fresh.update(outputs=[], execution_count=None)
    return fresh


def _added_cell(cell):
    """A cell the student added (or a duplicate of a released one): kept, without grading metadata."""
    metadata = {key: value for key, value in (cell.get("metadata") or {}).items() if key != "nbgrader"}
    kept = {"cell_type": cell["cell_type"], "metadata": json.loads(json.dumps(metadata, default=str)),
            "source": _text(cell.get("source", "")), "id": random_cell_id()}
    if cell["cell_type"] == "code":
        kept.update(outputs=[], execution_count=None)
    return kept


def _tampering(trusted, cell):
    """What the student changed in a cell they may not change (it is restored whatever it was)."""
    notes = []
    if _text(cell.get("source", "")) != trusted.released_source:
        kind = "test" if trusted.grade else "locked"
        emptied = not _text(cell.get("source", "")).strip()
        notes.append(f"the {kind} cell {trusted.grade_id} was {'emptied' if emptied else 'edited'}; restored")
    if trusted.grade:
        claimed = (cell.get("metadata", {}).get("nbgrader") or {}).get("points")
        try:
            changed = claimed is not None and float(claimed) != float(trusted.points)
        except (TypeError, ValueError):
            changed = True
        if changed:
            notes.append(f"the points of {trusted.grade_id} were changed to {claimed!r}; "
                         f"graded out of {trusted.points:g}")
    if cell.get("cell_type") != trusted.cell["cell_type"]:
        notes.append(f"the cell {trusted.grade_id} was turned into {cell.get('cell_type')}; restored")
    return notes


def _notebook_result(trusted, cell):
    """What the submitted notebook itself showed for a test cell: passed, failed, not run, or hidden
    (a hidden test is not in the student's copy, so the notebook cannot have run it)."""
    if not _calls_checks(trusted.released_source):
        return "hidden"
    outputs = cell.get("outputs") or []
    if any(isinstance(o, dict) and (o.get("output_type") == "error" or
                                    (o.get("output_type") == "stream" and o.get("name") == "stderr"))
           for o in outputs):
        return "failed"
    if not outputs and cell.get("execution_count") is None:
        return "not run"
    return "passed"


def _calls_checks(source):
    from autograder.grading.assignments import CHECK_FUNCTIONS
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CHECK_FUNCTIONS
               for node in ast.walk(tree))
