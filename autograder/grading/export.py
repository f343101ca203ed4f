"""The grades as CSV files for a learning management system: the course's own layout, Canvas's, Moodle's.

Points are read from nbgrader's gradebook; a chapter's total is its score after nbgrader's late
penalty (``SubmissionResult.score``), as ``nbgrader export`` computes it. A submission still to
grade by hand, or whose grading failed, never reads as a grade: the course layout says so in its
status column, and the LMS layouts leave its cell empty (both LMS keep the grade they have for an
empty cell).

**course** (``--format csv``, the default). Columns, in this order:

- ``student_id``, ``last_name``, ``first_name``, ``email``, ``lms_user_id`` (as the gradebook has them);
- for each chapter, in course order: ``<chapter>/<question>`` for each question in notebook order
  (its points: visible and hidden tests together, or the hand-given score; empty while a question
  is still to grade by hand), ``<chapter>/late_penalty`` (points nbgrader took off; empty when on
  time), ``<chapter>/total`` (the question points minus the penalty, never below 0),
  ``<chapter>/status``: ``graded``, ``graded, late by 26.5 h`` (or ``40 s``, ``12 min``, ``3.2 days``), ``to grade by hand: <questions>``,
  ``failed: <reason>`` or ``not submitted``;
- ``total``: the sum of the chapter totals.

One row per student of the gradebook, sorted by ``student_id``. A chapter not submitted, or whose
grading failed with no earlier grade, has empty question cells and a total of 0; a failed
resubmission keeps the points of its earlier grading, and its status says so. Points are plain
decimals (``3``, ``2.5``).

**canvas** (``--format canvas``): Canvas's gradebook import layout (Grades -> Import), as Canvas's own
gradebook export writes it: ``Student`` ("Last, First"), ``ID`` (Canvas's user id: the gradebook's
``lms_user_id``), ``SIS User ID``, ``SIS Login ID`` (the nbgrader student id), ``Section``, then one
column per chapter named after it, and a second row ``Points Possible`` with each chapter's maximum.
Canvas matches students by ``ID``, ``SIS User ID`` or ``SIS Login ID``, and creates an assignment for a
column whose name matches none.

**moodle** (``--format moodle``): Moodle's CSV grade import (Grades -> Import -> CSV file): ``First
name``, ``Last name``, ``ID number`` (the nbgrader student id), ``Email address``, then one column per
chapter. In Moodle's preview, map from ``Email address`` to ``useremail`` (or ``ID number`` to
``useridnumber``) and each chapter column to its grade item (or a new one).
"""

import csv
import io

from autograder.grading.pages import duration, points

IDENTITY_COLUMNS = ("student_id", "last_name", "first_name", "email", "lms_user_id")
FORMATS = ("csv", "canvas", "moodle")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Email address")


def header(results):
    """The column names of the course CSV of ``results``."""
    columns = list(IDENTITY_COLUMNS)
    for chapter, notebook in results.notebooks.items():
        columns += [f"{chapter}/{question.name}" for question in notebook.questions]
        columns += [f"{chapter}/late_penalty", f"{chapter}/total", f"{chapter}/status"]
    return columns + ["total"]


def status(submission, notebook):
    """The status cell of one chapter: never empty, so that a failure or a pending question is seen."""
    if submission is None:
        return "not submitted"
    if submission.status == "failed":
        earlier = "; the points shown are from an earlier grading" if submission.graded else ""
        return f"failed: {submission.failure or 'grading failed'}{earlier}"
    text = "graded" if submission.status == "graded" else \
        f"to grade by hand: {', '.join(submission.pending_questions(notebook))}"
    if submission.late:
        text += f", late by {duration(submission.seconds_late)}"
    return text


def rows(results):
    """One list of cells per student, in the order of ``header``."""
    table = []
    for student in results.students:
        row = [student.id, student.last_name, student.first_name, student.email, student.lms_user_id]
        total = 0.0
        for chapter, notebook in results.notebooks.items():
            submission = results.get(student.id, chapter)
            if submission is None or not submission.graded:
                row += [""] * len(notebook.questions) + ["", points(0.0), status(submission, notebook)]
                continue
            pending = set(submission.pending_questions(notebook))
            earned = submission.question_points(notebook)
            row += ["" if question in pending else points(value) for question, value in earned.items()]
            row += [points(submission.late_penalty) if submission.late_penalty else "", points(submission.score),
                    status(submission, notebook)]
            total += submission.score
        table.append(row + [points(total)])
    return table


def _write(header_rows, body):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(header_rows)
    writer.writerows(body)
    return buffer.getvalue()


def to_csv(results):
    """The course CSV of ``results``: the header line, then one line per student."""
    return _write([header(results)], rows(results))


def final_score(submission):
    """The chapter's grade for an LMS: the score after the penalty, or "" when there is no final grade yet."""
    return points(submission.score) if submission is not None and submission.status == "graded" else ""


def to_canvas(results):
    """The grades in Canvas's gradebook import layout (see the module's docstring)."""
    chapters = list(results.notebooks)
    possible = ["Points Possible", "", "", "", ""] + [points(results.notebooks[c].max_points) for c in chapters]
    body = [[f"{s.last_name}, {s.first_name}" if s.last_name or s.first_name else s.id, s.lms_user_id, "", s.id, ""]
            + [final_score(results.get(s.id, chapter)) for chapter in chapters] for s in results.students]
    return _write([list(CANVAS_IDENTITY) + chapters, possible], body)


def to_moodle(results):
    """The grades in Moodle's CSV grade import layout (see the module's docstring)."""
    chapters = list(results.notebooks)
    body = [[s.first_name, s.last_name, s.id, s.email] + [final_score(results.get(s.id, chapter)) for chapter in chapters]
            for s in results.students]
    return _write([list(MOODLE_IDENTITY) + chapters], body)


WRITERS = {"csv": to_csv, "canvas": to_canvas, "moodle": to_moodle}
