"""``course grade``: autograde every submission, several at a time, with trusted verdicts.

For each submission under ``submitted/<student>/<assignment>/`` (nbgrader's layout):

1. its files are read and fingerprinted; a submission whose grading record (``records``) has
   the same fingerprint is skipped as unchanged;
2. its notebook is rebuilt from the release (``submissions.rebuild``) and the steps to run are
   sent to an executor (``executors``): a warm sandbox host forks a jailed child that runs the
   student's cells and calls their functions on the grader's cases (``sandbox``);
3. back in this process, the outcomes are judged against the reference (``judging``), which
   writes the test cells' outputs; nbgrader's own ``SaveAutoGrades`` and ``AssignLatePenalties``
   then score the graded notebook into the gradebook, in one transaction per submission;
4. the graded folder is built beside ``autograded/<student>/<assignment>/`` and renamed into
   place, and the grading record is written last.

Every write happens in this process, one submission at a time, with Ctrl-C held back until the
submission's writes are done: a run stopped at any point (even by SIGKILL) leaves every
submission either graded or not, never half, and the next run grades what is left. A submission
that cannot be graded (missing, empty or malformed notebook...) gets a failed row and its old
grades stay as they were.
"""

import contextlib
import datetime
import shutil
import signal
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import nbformat
from sqlalchemy.exc import SAWarning

from autograder.grading import records
from autograder.grading.assignments import InstructorError, load_assignment
from autograder.grading.course import replace_folder
from autograder.grading.judging import build_steps, judge_notebook
from autograder.grading.sandbox import SandboxFailed
from autograder.grading.submissions import (SubmissionError, encoded_files, find_submissions, read_notebook,
                                            read_submission, rebuild)

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 2048
DEFAULT_FILE_MB = 64


@dataclass
class Row:
    """One line of the summary: a submission graded, skipped as unchanged, or failed (with the reason)."""

    assignment: str
    student: str
    status: str
    reason: str = ""
    score: float | None = None
    max_score: float | None = None
    mismatches: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    stopped: list = field(default_factory=list)
    refused: list = field(default_factory=list)


@dataclass
class Summary:
    rows: list
    seconds: float
    notes: list


@dataclass
class _Pending:
    submission: object
    assignment: object
    rebuilt: dict
    futures: dict
    sandboxed: bool = True


def grade(root, chapters, *, students=(), jobs=2, scheduler=None, timeout=DEFAULT_TIMEOUT,
          memory_mb=DEFAULT_MEMORY_MB, force=False, progress=True, sandboxed=True):
    """Grade the submissions of ``chapters`` in the course at ``root``; return the summary.

    ``sandboxed=False`` runs submitted code without the operating-system sandbox (for machines
    that cannot make one, and notebooks the instructor trusts): every row and record says so.
    Raises ``SandboxUnavailable`` before grading anything when a sandbox cannot be made.
    """
    from autograder.grading.executors import open_executor
    started = time.monotonic()
    executor = open_executor(jobs, scheduler, sandboxed)
    try:
        from nbgrader.api import Gradebook
        from nbgrader.coursedir import CourseDirectory
        from autograder.grading.course import nbgrader_config

        config = nbgrader_config(root)
        coursedir = CourseDirectory(config=config)
        rows, notes = [], []
        limits = {"timeout": float(timeout), "memory_mb": int(memory_mb), "file_mb": DEFAULT_FILE_MB}
        with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook, _shared_gradebook(gradebook) as shared, \
                warnings.catch_warnings():
            # nbgrader's add_submission builds rows that SQLAlchemy's autoflush warns about; they are right
            warnings.simplefilter("ignore", SAWarning)
            writer = _Writer(root, coursedir, shared, config)
            work = []
            for chapter in chapters:
                found = find_submissions(coursedir, chapter, students)
                if not found:
                    continue  # nothing handed in: the chapter may not even be released yet
                try:
                    assignment = load_assignment(root, coursedir, gradebook, chapter)
                except InstructorError as error:
                    rows.append(Row(chapter, "*", "failed", f"the assignment cannot be graded: {error}"))
                    continue
                notes += [f"{chapter}: copies of {name} cannot be detected, the solution in solutions/ is the "
                          "reference statement for statement" for name in assignment.copy_check_skipped]
                work += [(assignment, submission) for submission in found]
            todo = []
            for assignment, submission in work:
                try:
                    read_submission(submission, coursedir, assignment.fingerprint)
                except (SubmissionError, OSError) as error:
                    rows.append(writer.failed(submission, str(error)))
                    continue
                except Exception as error:
                    rows.append(writer.failed(submission, _grader_error("reading the submission", error)))
                    continue
                if not force and writer.unchanged(submission):
                    rows.append(Row(submission.assignment, submission.student, "unchanged"))
                else:
                    todo.append((assignment, submission))
            rows += _run(todo, executor, writer, limits, progress)
        if not sandboxed:
            notes.append("UNSANDBOXED: submitted code ran without the operating-system sandbox (--unsandboxed)")
        return Summary(rows, time.monotonic() - started, notes)
    finally:
        executor.close()


def _run(todo, executor, writer, limits, progress):
    """Keep the executor busy while this process judges and writes what comes back, in order of completion."""
    from tqdm import tqdm
    rows = []
    queue = list(reversed(todo))
    in_flight = {}
    window = 2 * getattr(executor, "workers", 2) + 2
    with tqdm(total=len(todo), unit="submission", desc="grading", disable=not progress, leave=False) as bar:
        while queue or in_flight:
            while queue and len(in_flight) < window:
                assignment, submission = queue.pop()
                try:
                    pending = _prepare(assignment, submission, limits, executor)
                except Exception as error:
                    pending = Row(submission.assignment, submission.student, "failed",
                                  _grader_error("preparing the notebook", error))
                if isinstance(pending, Row):
                    rows.append(writer.failed(submission, pending.reason))
                    bar.update()
                    continue
                in_flight[id(pending)] = pending
            done = [p for p in in_flight.values() if all(f.done() for f in p.futures.values())]
            if not done:
                # a timeout keeps Ctrl-C prompt: a blocked wait would only see it when a job ends
                wait([f for p in in_flight.values() for f in p.futures.values()], timeout=0.5,
                     return_when=FIRST_COMPLETED)
                continue
            for pending in done:
                del in_flight[id(pending)]
                rows.append(writer.finish(pending))
                bar.update()
    return rows


def _prepare(assignment, submission, limits, executor):
    """Rebuild each notebook of the submission and send it to the executor; a Row if it cannot be graded."""
    rebuilt, futures = {}, {}
    try:
        for trusted in assignment.notebooks:
            rebuilt[trusted.name] = rebuild(trusted, read_notebook(submission, trusted.name))
    except SubmissionError as error:
        return Row(submission.assignment, submission.student, "failed", str(error))
    files = encoded_files(submission)
    for trusted in assignment.notebooks:
        steps = build_steps(rebuilt[trusted.name].cells, assignment)
        futures[trusted.name] = executor.submit({"files": files, "steps": steps, "limits": limits})
    return _Pending(submission, assignment, rebuilt, futures)


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C and SIGTERM back while one submission's results are written; deliver them after."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _OneTransaction:
    """The gradebook session as nbgrader's code sees it while one submission is written: its
    ``commit`` only flushes, and the grader commits once at the end, so the submission is in the
    gradebook entirely or not at all."""

    def __init__(self, session):
        self._session = session

    def commit(self):
        """Nothing: the session autoflushes before every query, and the grader commits at the end."""

    def __getattr__(self, name):
        return getattr(self._session, name)


class _Rows:
    """The grade and comment rows of one submitted notebook, read in two queries: nbgrader's
    ``find_grade``/``find_comment`` answer the same rows with six joins per cell."""

    def __init__(self, gradebook, notebook, assignment, student):
        from nbgrader.api import BaseCell, Comment, Grade
        submitted = gradebook.find_submission_notebook(notebook, assignment, student)
        self.key = (notebook, assignment, student)
        self.grades, self.comments = ({name: row for name, row in gradebook.db.query(BaseCell.name, table)
                                       .join(table, table.cell_id == BaseCell.id)
                                       .filter(table.notebook_id == submitted.id)}
                                      for table in (Grade, Comment))


class _SharedGradebook:
    """Our open gradebook, lent to nbgrader's preprocessors instead of the one each would open."""

    def __init__(self, gradebook):
        self.gradebook = gradebook
        self.rows = None

    def __call__(self, db_url=None, *args, **kwargs):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):
        return getattr(self.gradebook, name)

    def find_grade(self, grade_cell, notebook, assignment, student):
        if self.rows is not None and self.rows.key == (notebook, assignment, student) and grade_cell in self.rows.grades:
            return self.rows.grades[grade_cell]
        return self.gradebook.find_grade(grade_cell, notebook, assignment, student)

    def find_comment(self, solution_cell, notebook, assignment, student):
        if self.rows is not None and self.rows.key == (notebook, assignment, student) and solution_cell in self.rows.comments:
            return self.rows.comments[solution_cell]
        return self.gradebook.find_comment(solution_cell, notebook, assignment, student)


@contextlib.contextmanager
def _shared_gradebook(gradebook):
    """Let nbgrader's preprocessors use our open gradebook instead of opening one per notebook."""
    from nbgrader.preprocessors import latesubmissions, saveautogrades

    shared = _SharedGradebook(gradebook)
    with mock.patch.object(saveautogrades, "Gradebook", shared), mock.patch.object(latesubmissions, "Gradebook", shared):
        yield shared


class _Writer:
    """Everything that writes: the gradebook, ``autograded/``, the grading records."""

    def __init__(self, root, coursedir, gradebook, config):
        from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
        self.root, self.coursedir, self.gradebook = Path(root), coursedir, gradebook
        self.save_grades = SaveAutoGrades(config=config)
        self.late_penalties = AssignLatePenalties(config=config)

    def autograded(self, submission):
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, submission.student,
                                               submission.assignment))

    def unchanged(self, submission):
        """Graded before, from the same files, with its graded folder and gradebook entry still there."""
        from nbgrader.api import MissingEntry
        record = records.load(self.root, submission.assignment, submission.student)
        if not record or record.get("status") != "graded" or record.get("fingerprint") != submission.fingerprint:
            return False
        if not self.autograded(submission).is_dir():
            return False
        try:
            self.gradebook.find_submission(submission.assignment, submission.student)
        except MissingEntry:
            return False
        return True

    def failed(self, submission, reason):
        with _signals_held():
            records.save(self.root, {
                "assignment": submission.assignment, "student": submission.student, "status": "failed",
                "reason": reason, "fingerprint": submission.fingerprint, "graded_at": _now(),
            })
        return Row(submission.assignment, submission.student, "failed", reason)

    def finish(self, pending):
        """Judge the sandbox's results and write the submission; a failed Row if anything goes wrong."""
        submission, assignment = pending.submission, pending.assignment
        try:
            results = {name: future.result() for name, future in pending.futures.items()}
        except SandboxFailed as error:
            return self.failed(submission, f"the sandbox failed: {error}")
        except Exception as error:
            return self.failed(submission, _grader_error("running the notebook", error))
        notebooks, judgements = {}, {}
        try:
            for trusted in assignment.notebooks:
                rebuilt = pending.rebuilt[trusted.name]
                judgements[trusted.name] = judge_notebook(rebuilt.cells, results[trusted.name], assignment)
                notebooks[trusted.name] = nbformat.from_dict({
                    "cells": [graded.cell for graded in rebuilt.cells], "metadata": trusted.metadata,
                    "nbformat": 4, "nbformat_minor": trusted.nbformat_minor})
        except Exception as error:
            return self.failed(submission, _grader_error("judging the notebook", error))
        pending.sandboxed = all(result.get("sandboxed", True) for result in results.values())
        with _signals_held():
            return self._write(pending, notebooks, judgements)

    def _write(self, pending, notebooks, judgements):
        submission, assignment = pending.submission, pending.assignment
        final = self.autograded(submission)
        staging = final.parent / f".{final.name}.grading"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            self._stage(submission, assignment, notebooks, staging)
            scores = self._save_grades(submission, notebooks)
        except Exception as error:
            shutil.rmtree(staging, ignore_errors=True)
            return self.failed(submission, f"could not write the grades: {type(error).__name__}: {error}")
        replace_folder(staging, final)
        record = self._record(pending, judgements, scores)
        records.save(self.root, record)
        return Row(submission.assignment, submission.student, "graded", score=record["score"],
                   max_score=record["max_score"], mismatches=record["mismatches"],
                   flags=[f for f in record["flags"] if f["question"]],
                   refused=[f["message"] for f in record["flags"] if not f["question"]],
                   stopped=[f"{name}: {nb['stopped']}" for name, nb in record["notebooks"].items() if nb["stopped"]])

    def _stage(self, submission, assignment, notebooks, staging):
        """The graded folder as nbgrader's autograde makes it: the submitted files, the source's own
        files over them, and the graded notebooks."""
        staging.mkdir(parents=True)
        for relative, data in submission.files.items():
            if Path(relative).suffix == ".ipynb" and Path(relative).stem in notebooks:
                continue
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        source = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment.name))
        for relative in assignment.source_files:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target)
        for name, notebook in notebooks.items():
            (staging / f"{name}.ipynb").write_text(nbformat.writes(notebook))

    def _save_grades(self, submission, notebooks):
        """Score the graded notebooks with nbgrader's preprocessors, in one gradebook transaction."""
        shared = self.gradebook
        gradebook = shared.gradebook
        session = gradebook.db
        gradebook.db = _OneTransaction(session)
        try:
            gradebook.update_or_create_student(submission.student)
            if submission.timestamp:
                gradebook.update_or_create_submission(submission.assignment, submission.student,
                                                      timestamp=submission.timestamp)
            else:
                gradebook.update_or_create_submission(submission.assignment, submission.student)
            cells = {}
            for name, notebook in notebooks.items():
                resources = {"nbgrader": {"notebook": name, "assignment": submission.assignment,
                                          "student": submission.student, "db_url": self.coursedir.db_url}}
                shared.rows = _Rows(gradebook, name, submission.assignment, submission.student)
                self.save_grades.preprocess(notebook, resources)
                self.late_penalties.preprocess(notebook, resources)
                cells[name] = {grade_id: grade.auto_score for grade_id, grade in shared.rows.grades.items()}
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            gradebook.db = session
            shared.rows = None
        scores = {}
        for name in notebooks:
            stored = gradebook.find_submission_notebook(name, submission.assignment, submission.student)
            scores[name] = {"score": stored.score, "max_score": stored.max_score, "cells": cells[name]}
        total = gradebook.find_submission(submission.assignment, submission.student)
        scores["*"] = {"score": total.score, "max_score": total.max_score}
        return scores

    def _record(self, pending, judgements, scores):
        submission = pending.submission
        notebooks, mismatches, flags = {}, [], []
        for name, judgement in judgements.items():
            said = pending.rebuilt[name].notebook_said
            tests = {}
            for grade_id, test in judgement.tests.items():
                tests[grade_id] = {"passed": test.passed, "points": scores[name]["cells"].get(grade_id),
                                   "max_points": test.max_points,
                                   "notebook_said": said.get(grade_id, "not run"), "message": test.message,
                                   "mistakes": test.mistakes, "flags": test.flags}
                if said.get(grade_id) in ("passed", "failed") and (said[grade_id] == "passed") != test.passed:
                    mismatches.append({"notebook": name, "cell": grade_id, "notebook_said": said[grade_id],
                                       "grader": "passed" if test.passed else "failed"})
            notebooks[name] = {"score": scores[name]["score"], "max_score": scores[name]["max_score"],
                               "stopped": judgement.stopped, "notes": pending.rebuilt[name].notes, "tests": tests}
            flags += judgement.flags
        return {"assignment": submission.assignment, "student": submission.student, "status": "graded",
                "fingerprint": submission.fingerprint, "graded_at": _now(), "sandboxed": pending.sandboxed,
                "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
                "score": scores["*"]["score"], "max_score": scores["*"]["max_score"],
                "notebooks": notebooks, "mismatches": mismatches, "flags": flags}


def _grader_error(doing, error):
    """A failure of the grader on one submission, described by where it happened, never by the
    exception's text (which a submission may have chosen)."""
    import traceback
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if "/autograder/" in frame.filename] or frames
    where = f" in {Path(ours[-1].filename).name}, line {ours[-1].lineno}" if ours else ""
    return f"an error of the grader while {doing}: {type(error).__name__}{where}; the other submissions are graded"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def summary_lines(summary):
    """The final summary: counts, failures with their reason, stopped notebooks, flags and mismatches."""
    counts = {status: sum(row.status == status for row in summary.rows) for status in ("graded", "unchanged", "failed")}
    lines = [f"{counts['graded']} graded, {counts['unchanged']} skipped as unchanged, {counts['failed']} failed "
             f"in {summary.seconds:.1f} s"]
    for row in summary.rows:
        where = f"{row.assignment} {row.student}"
        if row.status == "failed":
            lines.append(f"  FAILED   {where}: {row.reason}")
        lines += [f"  STOPPED  {where}: {text}" for text in row.stopped]
        lines += [f"  FLAGGED  {where}: {flag['message']}" for flag in row.flags]
        if row.refused:
            more = f" (and {len(row.refused) - 1} more)" if len(row.refused) > 1 else ""
            lines.append(f"  REFUSED  {where}: {row.refused[0]}{more}")
        lines += [f"  MISMATCH {where}: {m['cell']}: the notebook showed {m['notebook_said']}, the grader says "
                  f"{m['grader']}" for m in row.mismatches]
    lines += [f"  note: {note}" for note in summary.notes]
    return lines
