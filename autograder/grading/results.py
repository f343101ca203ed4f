"""What grading produced for each submission, as the feedback, the CSV export and the class report read it.

Points come from nbgrader's gradebook, the one record of grades. What a student reads about each
test cell (the success line or the checking layer's failure message, never a traceback) comes
from the autograded notebook ``autograded/<student>/<chapter>/<notebook>.ipynb``, where
``course grade`` (like ``nbgrader autograde``) stores each test cell's output. The grading record
of ``course grade`` (``autograder.grading.records``) adds the trusted verdict's diagnosed
mistakes, its flags, the results the submitted notebook showed that the verdict contradicts,
and why a submission failed or stopped; without a record (a course graded by ``nbgrader
autograde``), mistakes are read from the messages, and a submission in ``submitted/`` that has
no grade in the gradebook has failed grading.

Scores are nbgrader's: a cell's score is its hand-given score when the formgrader set one, else its
autograded score; a submission's score is its points minus the late penalty nbgrader's
``LateSubmissionPlugin`` assigned (never below 0), as ``nbgrader export`` computes it. Each
submission has one status, so counts add up: ``graded``, ``to grade by hand`` (a manually graded
cell has an answer and no score yet: grade it in the formgrader) or ``failed`` (no grade, or the
last grading failed: the points shown, if any, are those of an earlier grading).
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory

from autograder.grading import records
from autograder.grading.course import nbgrader_config
from autograder.grading.questions import graded_notebook

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CLASSIC_MISTAKE = re.compile(r"^\s*This matches a classic mistake: (?P<mistake>.+?)\.?\s*$", re.MULTILINE)
_MODIFIED_INPUT = re.compile(r"your function modified its input .* in place")
_HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                            re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Student:
    """A student of the gradebook."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""


@dataclass
class CellResult:
    """One graded test cell of one submission: its points and what the student reads about it."""

    grade_id: str
    score: float
    max_score: float
    hidden: bool
    released_source: str = ""
    message: str = ""
    mistakes: tuple = ()
    pending: bool = False
    manual: bool = False

    @property
    def passed(self):
        return self.score >= self.max_score


@dataclass
class SubmissionResult:
    """The grading of one student's notebook of one chapter."""

    student: str
    chapter: str
    cells: dict = field(default_factory=dict)
    code: dict = field(default_factory=dict)
    failure: str | None = None
    stopped: str = ""
    notes: list = field(default_factory=list)
    mismatches: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    recorded: bool = False
    late_penalty: float = 0.0
    seconds_late: float = 0.0
    comments: dict = field(default_factory=dict)
    text_answers: frozenset = frozenset()

    @property
    def graded(self):
        """Whether the gradebook holds this submission's points (a failure may still be reported beside them)."""
        return bool(self.cells)

    @property
    def raw_score(self):
        """The points of every cell, before the late penalty."""
        return sum(cell.score for cell in self.cells.values())

    @property
    def score(self):
        """The score after nbgrader's late penalty, as ``nbgrader export`` computes it."""
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def status(self):
        """``failed``, ``to grade by hand`` or ``graded``: exactly one, so that counts add up."""
        if self.failure or not self.cells:
            return "failed"
        if any(cell.pending for cell in self.cells.values()):
            return "to grade by hand"
        return "graded"

    @property
    def late(self):
        return self.seconds_late > 0

    def pending_questions(self, notebook):
        """Questions with a cell still to grade by hand, in notebook order."""
        return [q.name for q in notebook.questions if any(self.cells[g].pending for g in q.test_cells if g in self.cells)]

    def question_points(self, notebook):
        """``{question: points}`` in notebook order."""
        return {question.name: sum(self.cells[grade_id].score for grade_id in question.test_cells)
                for question in notebook.questions}

    def question_mistakes(self, notebook):
        """``{question: diagnosed mistakes}`` for the questions where the checking layer recognised one."""
        found = {}
        for question in notebook.questions:
            mistakes = dict.fromkeys(m for grade_id in question.test_cells for m in self.cells[grade_id].mistakes)
            if mistakes:
                found[question.name] = tuple(mistakes)
        return found


@dataclass
class ClassResults:
    """Every student and every submission of some chapters, with each chapter's questions."""

    students: list
    notebooks: dict
    submissions: dict

    @property
    def recorded(self):
        """Whether ``course grade`` left grading records (mismatches and flags are known)."""
        return any(submission.recorded for submission in self.submissions.values())

    def get(self, student, chapter):
        """The ``SubmissionResult`` of ``student`` in ``chapter``, or ``None`` when they submitted nothing."""
        return self.submissions.get((student, chapter))


def released_source(source):
    """A test cell as students received it: the hidden region removed, as nbgrader's release does."""
    return _HIDDEN_REGION.sub("", source).strip("\n")


def diagnosed_mistakes(message):
    """The classic mistakes named in a failure message of the checking layer, without repeats."""
    found = [match["mistake"] for match in _CLASSIC_MISTAKE.finditer(message)]
    if _MODIFIED_INPUT.search(message):
        found.append("modifies its input")
    return tuple(dict.fromkeys(found))


def _without_hidden_lines(text, hidden_source):
    """``text`` minus any line that quotes the hidden region of ``hidden_source`` (e.g. a warning's source line)."""
    hidden = {line.strip() for line in hidden_source.splitlines() if line.strip()} - \
             {line.strip() for line in released_source(hidden_source).splitlines()}
    return "\n".join(line for line in text.splitlines() if not any(h in line for h in hidden))


def cell_message(cell):
    """What the student reads about a test cell: its printed lines and its error, never the traceback."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text.rstrip("\n"))
        elif output.output_type == "error":
            value = output.get("evalue", "")
            parts.append(value if output.ename == "CheckFailed" else f"{output.ename}: {value}".rstrip(": "))
    text = _ANSI.sub("", "\n".join(part for part in parts if part))
    return _without_hidden_lines(text, cell.source)


def _autograded_cells(path):
    if not path.is_file():
        return {}
    notebook = nbformat.read(path, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
            if "grade_id" in cell.metadata.get("nbgrader", {})}


def _students(gradebook):
    return [Student(s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or "")
            for s in sorted(gradebook.students, key=lambda s: s.id)]


def _submitted_students(root, chapter, notebook_name):
    return sorted(path.parent.parent.name for path in (root / "submitted").glob(f"*/{chapter}/{notebook_name}.ipynb"))


def _from_record(result, record, notebook):
    """Copy into ``result`` what the grading record of ``course grade`` says beyond the points."""
    result.recorded = True
    if record.get("status") == "failed":
        result.failure = record.get("reason") or "grading failed"
    graded = record.get("notebooks", {}).get(notebook.name, {})
    result.stopped = graded.get("stopped", "")
    result.notes = list(graded.get("notes", []))
    result.mismatches = [m for m in record.get("mismatches", []) if m.get("notebook") == notebook.name]
    result.flags = list(record.get("flags", []))
    if record.get("sandboxed") is False:
        result.flags.append({"kind": "unsandboxed", "question": None,
                             "message": "graded without the operating-system sandbox (course grade --unsandboxed)"})
    return graded.get("tests", {})


@dataclass
class _Stored:
    """What the gradebook holds about one submitted notebook."""

    grades: dict
    late_penalty: float
    seconds_late: float
    comments: dict


def _submission(root, chapter, notebook, student, stored, record):
    """The ``SubmissionResult`` of one student, from the gradebook (``stored``, or None) and the grading record."""
    result = SubmissionResult(student, chapter)
    trusted_tests = _from_record(result, record, notebook) if record else {}
    if stored is None:
        result.failure = result.failure or "no grade in the gradebook: grading failed or has not run"
        return result
    grades = stored.grades
    result.late_penalty, result.seconds_late, result.comments = stored.late_penalty, stored.seconds_late, stored.comments
    missing = [grade_id for question in notebook.questions for grade_id in question.test_cells
               if grade_id not in grades]
    if missing:
        result.failure = f"the gradebook has no grade for {', '.join(missing)}: release and grade this chapter again"
        return result
    cells = _autograded_cells(root / "autograded" / student / chapter / f"{notebook.name}.ipynb")
    if not cells:
        result.failure = result.failure or f"autograded/{student}/{chapter}/{notebook.name}.ipynb is missing"
    for question in notebook.questions:
        for grade_id in question.test_cells:
            cell = cells.get(grade_id)
            score, max_score, pending = grades[grade_id]
            if question.manual:
                result.cells[grade_id] = CellResult(grade_id, score, max_score, hidden=False, pending=pending,
                                                    manual=True, message=result.comments.get(grade_id, ""))
                continue
            source = cell.source if cell is not None else ""
            message = cell_message(cell) if cell is not None else ""
            trusted = trusted_tests.get(grade_id)
            result.cells[grade_id] = CellResult(
                grade_id, score, max_score, hidden="### BEGIN HIDDEN TESTS" in source or grade_id.endswith("_hidden"),
                released_source=released_source(source), message=message, pending=pending,
                mistakes=tuple(trusted.get("mistakes", ())) if trusted is not None else diagnosed_mistakes(message))
    result.code = {grade_id: cells[grade_id].source for grade_id in notebook.solution_cells if grade_id in cells}
    result.text_answers = frozenset(grade_id for grade_id in result.code if cells[grade_id].cell_type != "code")
    return result


def read_class(root, chapters):
    """Read the gradebook, ``submitted/`` and ``autograded/`` of ``chapters`` into a ``ClassResults``."""
    root = Path(root)
    notebooks = {chapter: graded_notebook(root, chapter) for chapter in chapters}
    db_url = CourseDirectory(config=nbgrader_config(root)).db_url
    database = db_url.removeprefix("sqlite:///")
    if db_url.startswith("sqlite:///") and not Path(database).is_file():
        # nbgrader would create an empty gradebook here; there is nothing to read yet
        raise FileNotFoundError(f"no gradebook at {database}: run `course release` and `course grade` first")
    submissions = {}
    with Gradebook(db_url) as gradebook:
        students = _students(gradebook)
        for chapter, notebook in notebooks.items():
            try:
                assignment = gradebook.find_assignment(chapter)
            except MissingEntry:
                assignment = None
            graded = {}
            for submitted in (assignment.submissions if assignment is not None else []):
                for submitted_notebook in submitted.notebooks:
                    if submitted_notebook.name == notebook.name:
                        graded[submitted.student_id] = _Stored(
                            {g.name: (float(g.score), float(g.max_score), bool(g.needs_manual_grade))
                             for g in submitted_notebook.grades},
                            float(submitted_notebook.late_submission_penalty or 0.0),
                            float(submitted.total_seconds_late or 0.0),
                            {c.name: c.manual_comment for c in submitted_notebook.comments if c.manual_comment})
            recorded = records.load_all(root, chapter)
            for student in sorted(set(graded) | set(recorded) | set(_submitted_students(root, chapter, notebook.name))):
                submissions[student, chapter] = _submission(root, chapter, notebook, student, graded.get(student),
                                                            recorded.get(student))
    known = {student.id for student in students}
    students += [Student(student) for student in sorted({s for s, _ in submissions} - known)]
    return ClassResults(sorted(students, key=lambda s: s.id), notebooks, submissions)

