"""Per-student feedback pages: ``feedback/<student>/<chapter>/<notebook>.html``, nbgrader's layout.

nbgrader's own ``generate_feedback`` renders the whole autograded notebook, hidden test code
included (jupyter/nbgrader#1363). This page shows instead, for each question: the points from the
gradebook, the student's own code, and for each test cell the part students received (the hidden
region removed) with what the checking layer said: a success line or a failure message, never a
traceback. Hidden cases' messages carry shapes and diagnosed mistakes only, so no expected value
of a hidden case reaches the page. The HTML is self-contained: inline CSS, no script, no CDN.
"""

import datetime
import secrets
import shutil
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from markupsafe import Markup

from autograder.grading.course import write_atomically
from autograder.grading.pages import template_environment

_CODE_FORMATTER = HtmlFormatter(cssclass="code")
#: files of a graded submission that ``nbgrader release_feedback`` expects beside the feedback page
RELEASE_FEEDBACK_FILES = ("timestamp.txt", "submission_secret.txt")


def _sections(notebook, submission):
    """One section per solution cell: its heading, the student's code and the tests of its questions."""
    question_points = submission.question_points(notebook)
    sections = []
    for cell in notebook.solution_cells:
        questions = [
            {"name": question.name, "points": question_points[question.name], "max_points": question.points,
             "tests": [submission.cells[grade_id] for grade_id in question.test_cells]}
            for question in notebook.questions if question.solution_cell == cell
        ]
        code = submission.code.get(cell, "")
        if not code.strip():
            shown = "<p class='muted'>(no answer)</p>"
        elif cell in submission.text_answers:
            shown = Markup("<pre class='answer'>{}</pre>").format(code)
        else:
            shown = highlight(code, PythonLexer(), _CODE_FORMATTER)
        sections.append({"heading": notebook.heading(cell), "questions": questions, "code": shown})
    return sections


def render(student, notebook, submission):
    """The feedback page of one submission, as HTML text."""
    # a failed grading shows no score at all: the points in the gradebook, if any, are an earlier grading's
    graded = submission.status != "failed"
    notes = ([submission.stopped] if submission.stopped else []) + submission.notes + \
        [flag["message"] for flag in submission.flags if not flag.get("question")]
    return template_environment().get_template("feedback.html.j2").render(
        student=student, notebook=notebook, submission=submission, notes=notes, graded=graded,
        pending=submission.pending_questions(notebook) if graded else [],
        question_points=submission.question_points(notebook) if graded else {},
        sections=_sections(notebook, submission) if graded else [],
        code_style=_CODE_FORMATTER.get_style_defs(".code"),
    )


def _release_feedback_files(root, student, chapter, folder):
    """Put beside a page the ``timestamp.txt`` and ``submission_secret.txt`` that ``nbgrader release_feedback``
    reads: the graded submission's own (from ``nbgrader collect``: the student's ``fetch_feedback`` then
    finds the page), else made here, once, for a submission that did not come through the exchange
    (``zip_collect``, an LMS download): release_feedback then works, and such students read the page
    wherever the instructor puts it."""
    for name in RELEASE_FEEDBACK_FILES:
        graded = Path(root) / "autograded" / student / chapter / name
        if graded.is_file():
            shutil.copyfile(graded, folder / name)
        elif not (folder / name).is_file():
            made = secrets.token_hex(32) if name == "submission_secret.txt" else \
                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
            write_atomically(folder / name, made)


def write_feedback(root, results, students=()):
    """Write the feedback page of every submission in ``results`` (or of ``students`` only); return the paths.

    Beside each page go the ``timestamp.txt`` and ``submission_secret.txt`` that ``nbgrader
    release_feedback`` needs (``_release_feedback_files``).
    """
    wanted = set(students)
    by_id = {student.id: student for student in results.students}
    written = []
    for (student, chapter), submission in sorted(results.submissions.items()):
        if wanted and student not in wanted:
            continue
        notebook = results.notebooks[chapter]
        folder = Path(root) / "feedback" / student / chapter
        write_atomically(folder / f"{notebook.name}.html", render(by_id[student], notebook, submission))
        _release_feedback_files(root, student, chapter, folder)
        written.append(folder / f"{notebook.name}.html")
    return written
