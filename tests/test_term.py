"""A real term on nbgrader's own commands, in temporary courses with their exchange in a temporary folder.

- the exchange path: ``nbgrader release_assignment``, two students ``fetch_assignment`` and ``submit``,
  ``nbgrader collect``, a due date with a "zero" late penalty, ``course grade``, ``course export``,
  ``course feedback``, ``nbgrader release_feedback``, the students ``fetch_feedback``;
- the LMS path: ``nbgrader zip_collect`` of a downloaded zip, ``course grade``, a failed resubmission,
  ``course feedback`` then ``nbgrader release_feedback`` on submissions that never saw the exchange,
  the Canvas and Moodle layouts, an unknown ``--student``;
- a new chapter added without touching the grader: its case module, a ``check`` question, an
  ordinary assert test, a markdown answer graded by hand in the gradebook as the formgrader does;
- a release that nbgrader refuses leaves the previous release in place and shows nbgrader's message.

Each asserts the grades, the CSV cells, and that no handed-in file is lost on the way.
"""

import csv
import datetime
import io
import re
import shutil
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbgrader.api import Gradebook

from autograder import cases
from autograder.grading.cli import main
from conftest import copy_course, run_nbgrader

pytestmark = pytest.mark.nbgrader
CHAPTER = "03_softmax"
COURSE_ID = "attention-from-first-principles"
FULL_MARKS = 14.0


def course(root, *args, exit_code=0):
    """Run `course --root <root> ARGS...` in-process and return its output; fail on another exit code."""
    result = CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)
    assert result.exit_code == exit_code, f"course {' '.join(args)} exited with {result.exit_code}:\n{result.output}"
    return result.output


def configure(root, *lines):
    with open(Path(root) / "nbgrader_config.py", "a") as handle:
        handle.write("\n" + "\n".join(lines) + "\n")


def read_csv(path):
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    return {row["student_id"]: row for row in rows}


def files_under(folder):
    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file()}


def solved(root, chapter=CHAPTER):
    from autograder.grading.simulate import solved_notebook
    return solved_notebook(root, chapter)


def page_text(path):
    import html
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", Path(path).read_text())).split())


@pytest.fixture
def exchange_course(tmp_path):
    root = copy_course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    configure(root, f"c.Exchange.root = {str(exchange)!r}", 'c.LateSubmissionPlugin.penalty_method = "zero"')
    course(root, "release", CHAPTER)
    return root, exchange


def student_command(tmp_path, exchange, student, *args):
    """An nbgrader student command run from the student's home folder, as that student."""
    home = tmp_path / "home" / student
    home.mkdir(parents=True, exist_ok=True)
    return run_nbgrader([*args, CHAPTER, f"--course={COURSE_ID}", f"--student={student}",
                         f"--Exchange.root={exchange}", f"--Exchange.cache={tmp_path / 'cache' / student}"], cwd=home)


def test_a_term_through_the_exchange_with_a_due_date(exchange_course, tmp_path):
    root, exchange = exchange_course
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nalice,Alice,Liddell,alice@example.org\n"
                      "bob,Bob,Builder,bob@example.org\n")
    run_nbgrader(["db", "student", "import", str(roster)], cwd=root)
    run_nbgrader(["release_assignment", CHAPTER], cwd=root)
    for student in ("alice", "bob"):
        student_command(tmp_path, exchange, student, "fetch_assignment")
        work = tmp_path / "home" / student / CHAPTER
        nbformat.write(solved(root), work / "softmax.ipynb")
        (work / "notes.txt").write_text(f"{student}'s own notes\n")
        student_command(tmp_path, exchange, student, "submit")
        time.sleep(1.5)  # bob submits strictly later than alice
    inbound = {path.name.split("+")[0]: path for path in (exchange / COURSE_ID / "inbound").iterdir()}
    assert sorted(inbound) == ["alice", "bob"]
    run_nbgrader(["collect", CHAPTER], cwd=root)
    # the due date falls between the two submissions: bob is late, and the "zero" penalty takes everything
    stamps = {s: datetime.datetime.fromisoformat((root / "submitted" / s / CHAPTER / "timestamp.txt").read_text()
                                                 .strip().removesuffix(" UTC")) for s in ("alice", "bob")}
    due = stamps["alice"] + (stamps["bob"] - stamps["alice"]) / 2
    run_nbgrader(["db", "assignment", "add", CHAPTER, f"--duedate={due.isoformat(sep=' ')} UTC"], cwd=root)

    assert "2 graded" in course(root, "grade", CHAPTER)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        alice, bob = (gradebook.find_submission(CHAPTER, s) for s in ("alice", "bob"))
        assert (alice.score, alice.late_submission_penalty) == (FULL_MARKS, 0.0)
        assert (bob.score, bob.late_submission_penalty) == (FULL_MARKS, FULL_MARKS)

    course(root, "export", CHAPTER)
    rows = read_csv(root / "grades.csv")
    assert rows["alice"]["last_name"] == "Liddell" and rows["alice"]["email"] == "alice@example.org"
    assert (rows["alice"][f"{CHAPTER}/total"], rows["alice"][f"{CHAPTER}/late_penalty"]) == ("14", "")
    assert rows["alice"][f"{CHAPTER}/status"] == "graded" and rows["alice"]["total"] == "14"
    assert rows["bob"][f"{CHAPTER}/softmax"] == "3"  # the questions keep their points...
    assert (rows["bob"][f"{CHAPTER}/late_penalty"], rows["bob"][f"{CHAPTER}/total"], rows["bob"]["total"]) == \
        ("14", "0", "0")  # ...and the total is nbgrader's score after the penalty
    assert re.fullmatch(r"graded, late by \d+ s", rows["bob"][f"{CHAPTER}/status"])

    course(root, "feedback", CHAPTER)
    bob_page = page_text(root / "feedback" / "bob" / CHAPTER / "softmax.html")
    assert "Score: 0 / 14" in bob_page and "late penalty of 14 points" in bob_page and "14 before" in bob_page
    assert "Score: 14 / 14" in page_text(root / "feedback" / "alice" / CHAPTER / "softmax.html")
    course(root, "report", CHAPTER)
    report = page_text(root / "report.html")
    assert "Late submissions" in report and "bob" in report.split("Late submissions", 1)[1]

    run_nbgrader(["release_feedback", CHAPTER], cwd=root)
    assert len(list((exchange / COURSE_ID / "feedback").glob("*.html"))) == 2
    for student in ("alice", "bob"):
        student_command(tmp_path, exchange, student, "fetch_feedback")
        (fetched,) = (tmp_path / "home" / student / CHAPTER / "feedback").glob("*/softmax.html")
        assert fetched.read_bytes() == (root / "feedback" / student / CHAPTER / "softmax.html").read_bytes()
        # no file lost: what the student submitted is collected, graded and kept
        submitted = files_under(inbound[student])
        assert {"softmax.ipynb", "notes.txt", "timestamp.txt"} <= submitted
        assert files_under(root / "submitted" / student / CHAPTER) == submitted
        assert submitted <= files_under(root / "autograded" / student / CHAPTER)
        assert (root / "autograded" / student / CHAPTER / "notes.txt").read_text() == f"{student}'s own notes\n"


def _zip_of(root, tmp_path, notebooks):
    """An LMS download: one zip of files named <student>_attempt_<time>_<file>, in downloaded/<chapter>/archive/."""
    archive = root / "downloaded" / CHAPTER / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as bundle:
        for student, (stamp, content) in notebooks.items():
            data = nbformat.writes(content) if not isinstance(content, str) else content
            bundle.writestr(f"{student}_attempt_{stamp}_softmax.ipynb", data)
            bundle.writestr(f"{student}_attempt_{stamp}_notes.txt", f"{student}\n")


def test_the_lms_path_zip_collect_failures_and_release_feedback_without_the_exchange(tmp_path):
    root = copy_course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    configure(root, f"c.Exchange.root = {str(exchange)!r}",
              r'c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[a-z]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)"',
              'c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".txt"]')
    course(root, "release", CHAPTER)
    blank = nbformat.read(root / "notebooks" / CHAPTER / "softmax.ipynb", as_version=4)
    _zip_of(root, tmp_path, {"carol": ("2026-11-20-10-00-00", solved(root)),
                             "dave": ("2026-11-20-11-00-00", blank),
                             "erin": ("2026-11-20-12-00-00", "{ not a notebook")})
    run_nbgrader(["zip_collect", CHAPTER, "--force"], cwd=root)
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["carol", "dave", "erin"]
    assert files_under(root / "submitted" / "carol" / CHAPTER) >= {"softmax.ipynb", "notes.txt", "timestamp.txt"}

    # a typo in --student is an error naming the students, not a run that grades nobody
    output = course(root, "grade", CHAPTER, "--student", "Carol", exit_code=1)
    assert "no student Carol" in output and "carol, dave, erin" in output

    assert "2 graded, 0 skipped as unchanged, 1 failed" in course(root, "grade", CHAPTER, exit_code=1)
    # carol resubmits a broken notebook: her earlier grade stays in the gradebook, and every output says it failed
    course(root, "export", CHAPTER, "-o", "before.csv")
    (root / "submitted" / "carol" / CHAPTER / "softmax.ipynb").write_text("{ broken")
    assert "1 failed" in course(root, "grade", CHAPTER, "--student", "carol", exit_code=1)
    course(root, "export", CHAPTER)
    course(root, "export", CHAPTER, "--format", "canvas")
    course(root, "export", CHAPTER, "--format", "moodle")
    course(root, "feedback", CHAPTER)
    course(root, "report", CHAPTER)

    assert read_csv(root / "before.csv")["carol"][f"{CHAPTER}/status"] == "graded"
    rows = read_csv(root / "grades.csv")
    assert rows["carol"][f"{CHAPTER}/status"].startswith("failed: softmax.ipynb is not a readable notebook")
    assert "earlier grading" in rows["carol"][f"{CHAPTER}/status"] and rows["carol"][f"{CHAPTER}/total"] == "14"
    assert rows["dave"][f"{CHAPTER}/total"] == "0" and rows["dave"][f"{CHAPTER}/status"] == "graded"
    assert rows["erin"][f"{CHAPTER}/total"] == "0" and rows["erin"][f"{CHAPTER}/status"].startswith("failed: ")
    assert all(rows["erin"][f"{CHAPTER}/{q}"] == "" for q in ("softmax", "log_softmax"))

    canvas = list(csv.reader(io.StringIO((root / "grades-canvas.csv").read_text())))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CHAPTER]
    assert canvas[1] == ["Points Possible", "", "", "", "", "14"]
    assert {row[3]: row[5] for row in canvas[2:]} == {"carol": "", "dave": "0", "erin": ""}
    moodle = list(csv.reader(io.StringIO((root / "grades-moodle.csv").read_text())))
    assert moodle[0] == ["First name", "Last name", "ID number", "Email address", CHAPTER]
    assert {row[2]: row[4] for row in moodle[1:]} == {"carol": "", "dave": "0", "erin": ""}

    for student in ("carol", "erin"):
        text = page_text(root / "feedback" / student / CHAPTER / "softmax.html")
        assert "could not be graded" in text and "Score:" not in text
    assert "Score: 0 / 14" in page_text(root / "feedback" / "dave" / CHAPTER / "softmax.html")
    report = (root / "report.html").read_text()
    row = re.search(r'id="overview".*?<code>03_softmax</code>.*?</tr>', report, re.DOTALL).group(0)
    numbers = [int(n) for n in re.findall(r'<td class="number">(\d+)</td>', row)]
    points, submitted, graded, to_grade, failed, late = numbers[:6]
    assert (submitted, graded, to_grade, failed, late) == (3, 1, 0, 2, 0) and submitted == graded + to_grade + failed

    # these submissions never saw the exchange: course feedback wrote what release_feedback needs
    run_nbgrader(["release_feedback", CHAPTER], cwd=root)
    assert len(list((exchange / COURSE_ID / "feedback").glob("*.html"))) == 3
    assert files_under(root / "submitted" / "dave" / CHAPTER) <= files_under(root / "autograded" / "dave" / CHAPTER)


MEAN_CASES = '''"""Cases of the chapter added by the test: the mean of a vector."""

import numpy as np

from autograder.calling import Case
from autograder.checking import CaseSet


def _reference_mean(x):
    """mean(x) = sum(x) / n, for a 1-D array x of n numbers."""
    return np.asarray(np.sum(x) / len(x), dtype=np.float64)


CASE_SETS = [CaseSet("vector_mean", _reference_mean,
                     visible=lambda: [Case("three numbers", (np.array([1.0, 2.0, 6.0]),))],
                     hidden=lambda rng: [Case("a long vector", (rng.normal(size=50),))])]
ANSWERS = []
STUDENT_MISTAKES = []
'''


def _mean_chapter_notebook():
    """The source notebook of a tiny chapter: a check() question, an assert test, a markdown answer graded by hand."""
    def graded(cell, grade_id, *, solution=False, grade=False, points=0, locked=False):
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked,
                                     "schema_version": 3, **({"points": points} if grade else {})}
        return cell

    new = nbformat.v4
    cells = [
        graded(new.new_markdown_cell("# The mean\n\nWrite two functions."), "intro", locked=True),
        graded(new.new_code_cell("import numpy as np\nfrom autograder.checking import check"), "setup", locked=True),
        graded(new.new_code_cell("def vector_mean(x):\n    ### BEGIN SOLUTION\n    return np.sum(x) / len(x)\n"
                                 "    ### END SOLUTION"), "vector_mean", solution=True),
        graded(new.new_code_cell("check(vector_mean, \"vector_mean\")"), "test_vector_mean", grade=True, points=2,
               locked=True),
        graded(new.new_code_cell("def middle(values):\n    ### BEGIN SOLUTION\n    return sorted(values)[len(values) // 2]\n"
                                 "    ### END SOLUTION"), "middle", solution=True),
        graded(new.new_code_cell("assert middle([3, 1, 2]) == 2\n### BEGIN HIDDEN TESTS\nassert middle([5, 9, 7, 1, 3]) == 5\n"
                                 "### END HIDDEN TESTS"), "test_middle", grade=True, points=2, locked=True),
        graded(new.new_markdown_cell("Why is the median robust to an outlier, and the mean not?"), "ask", locked=True),
        graded(new.new_markdown_cell("YOUR ANSWER HERE"), "explain_median", solution=True, grade=True, points=2),
    ]
    return new.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})


@pytest.fixture
def mean_chapter(tmp_path, monkeypatch):
    """A temporary course with a new chapter 09_mean, and its case module autograder.cases.mean (in a temporary folder)."""
    extra = tmp_path / "extra_cases"
    extra.mkdir()
    (extra / "mean.py").write_text(MEAN_CASES)
    monkeypatch.setattr(cases, "__path__", [*cases.__path__, str(extra)])
    for cached in (cases.case_modules, cases._index):
        cached.cache_clear()
    root = copy_course(tmp_path / "course")
    (root / "solutions" / "09_mean").mkdir()
    nbformat.write(_mean_chapter_notebook(), root / "solutions" / "09_mean" / "mean.ipynb")
    yield root
    sys.modules.pop("autograder.cases.mean", None)
    for cached in (cases.case_modules, cases._index):
        cached.cache_clear()


def _hand_in(root, student, answers):
    notebook = nbformat.read(root / "notebooks" / "09_mean" / "mean.ipynb", as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    folder = root / "submitted" / student / "09_mean"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "mean.ipynb")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC")


def test_a_new_chapter_with_check_assert_and_hand_graded_questions(mean_chapter):
    root = mean_chapter
    assert cases.chapter_module("09_mean").__name__ == "autograder.cases.mean"
    assert "09_mean" in course(root, "release")  # discovered: no list of chapters to edit
    _hand_in(root, "full", {"vector_mean": "def vector_mean(x):\n    return sum(x) / len(x)",
                            "middle": "def middle(values):\n    return sorted(values)[len(values) // 2]",
                            "explain_median": "One outlier moves the mean, not the median."})
    _hand_in(root, "blank", {})
    # an assert can be fooled exactly as in plain nbgrader; a check cannot
    _hand_in(root, "cheat", {"vector_mean": "class Anything:\n    def __eq__(self, other):\n        return True\n"
                                            "def vector_mean(x):\n    return Anything()",
                             "middle": "class Anything:\n    def __eq__(self, other):\n        return True\n"
                                       "def middle(values):\n    return Anything()"})
    assert "3 graded" in course(root, "grade", "09_mean")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        scores = {s: {g.name: (g.auto_score, g.needs_manual_grade) for g in
                      gradebook.find_submission_notebook("mean", "09_mean", s).grades} for s in ("full", "blank", "cheat")}
    assert scores["full"] == {"test_vector_mean": (2, False), "test_middle": (2, False), "explain_median": (None, True)}
    assert scores["blank"] == {"test_vector_mean": (0, False), "test_middle": (0, False), "explain_median": (0, False)}
    assert scores["cheat"]["test_vector_mean"] == (0, False) and scores["cheat"]["test_middle"] == (2, False)

    course(root, "export", "09_mean")
    rows = read_csv(root / "grades.csv")
    assert [rows["full"][f"09_mean/{q}"] for q in ("vector_mean", "middle", "explain_median", "total")] == \
        ["2", "2", "", "4"]
    assert rows["full"]["09_mean/status"] == "to grade by hand: explain_median"
    assert rows["blank"]["09_mean/status"] == "graded" and rows["blank"]["09_mean/total"] == "0"
    course(root, "report", "09_mean")
    pending = (root / "report.html").read_text().split('id="to-grade"')[1].split('id="late"')[0]
    assert re.findall(r'<td class="student">([^<]+)</td>', pending) == ["full"]
    course(root, "feedback", "09_mean", "--student", "full")
    assert "still to be graded by hand" in page_text(root / "feedback" / "full" / "09_mean" / "mean.html")

    # the instructor grades the answer in the formgrader, which writes the gradebook like this
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("explain_median", "mean", "09_mean", "full")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        comment = gradebook.find_comment("explain_median", "mean", "09_mean", "full")
        comment.manual_comment = "Right idea; say why an outlier moves the mean."
        gradebook.db.commit()
    course(root, "export", "09_mean")
    rows = read_csv(root / "grades.csv")
    assert [rows["full"][f"09_mean/{q}"] for q in ("explain_median", "total", "status")] == ["1.5", "5.5", "graded"]
    course(root, "feedback", "09_mean", "--student", "full")
    page = page_text(root / "feedback" / "full" / "09_mean" / "mean.html")
    assert "Graded by hand: 1.5 / 2" in page and "say why an outlier" in page and "Score: 5.5 / 6" in page
    assert "One outlier moves the mean" in page and "middle([5, 9, 7, 1, 3])" not in page
    assert files_under(root / "submitted" / "full" / "09_mean") <= files_under(root / "autograded" / "full" / "09_mean")


def test_a_refused_release_keeps_the_previous_one_and_says_why(tmp_path):
    root = copy_course(tmp_path / "course")
    course(root, "release", CHAPTER)
    before = {p: p.read_bytes() for p in (root / "notebooks" / CHAPTER).rglob("*") if p.is_file()}
    source = root / "solutions" / CHAPTER / "softmax.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells[0].source += "\n\n=== BEGIN MARK SCHEME ===\nnot here\n=== END MARK SCHEME ===\n"
    nbformat.write(notebook, source)
    output = course(root, "release", CHAPTER, exit_code=1)
    assert "Mark scheme region detected in a non-grade cell" in output and "is unchanged" in output
    assert "Please see the" not in output
    assert {p: p.read_bytes() for p in (root / "notebooks" / CHAPTER).rglob("*") if p.is_file()} == before
    assert not (root / ".release-staging").exists()
    shutil.rmtree(root / "solutions" / CHAPTER)
    assert "unknown chapter 03_softmax" in course(root, "release", CHAPTER, exit_code=1)
