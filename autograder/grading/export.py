"""The grades as a CSV file for a learning management system: one row per student, one column per question.

Points are read from nbgrader's gradebook. Columns, in this order:

- ``student_id``, ``last_name``, ``first_name``, ``email``, ``lms_user_id`` (as the gradebook has them);
- for each chapter, in course order: ``<chapter>/<question>`` for each question in notebook order
  (its points: visible and hidden tests together), then ``<chapter>/total``;
- ``total``: the sum of the chapter totals.

One row per student of the gradebook, sorted by ``student_id``. A chapter a student did not submit,
or whose submission has no grade in the gradebook (its grading failed), has empty question cells
and a total of 0. Points are written as
plain decimals (``3``, ``2.5``).
"""

import csv
import io

from autograder.grading.pages import points

IDENTITY_COLUMNS = ("student_id", "last_name", "first_name", "email", "lms_user_id")


def header(results):
    """The column names of the CSV of ``results``."""
    columns = list(IDENTITY_COLUMNS)
    for chapter, notebook in results.notebooks.items():
        columns += [f"{chapter}/{question.name}" for question in notebook.questions] + [f"{chapter}/total"]
    return columns + ["total"]


def rows(results):
    """One list of cells per student, in the order of ``header``."""
    table = []
    for student in results.students:
        row = [student.id, student.last_name, student.first_name, student.email, student.lms_user_id]
        total = 0.0
        for chapter, notebook in results.notebooks.items():
            submission = results.get(student.id, chapter)
            if submission is None or not submission.graded:
                row += [""] * len(notebook.questions) + [points(0.0)]
                continue
            earned = submission.question_points(notebook)
            row += [points(value) for value in earned.values()] + [points(sum(earned.values()))]
            total += sum(earned.values())
        table.append(row + [points(total)])
    return table


def to_csv(results):
    """The CSV text of ``results``: the header line, then one line per student."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header(results))
    writer.writerows(rows(results))
    return buffer.getvalue()
