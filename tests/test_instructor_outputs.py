"""End to end: a simulated class through `course release`, `grade`, `feedback`, `export` and `report`.

One temporary course for the module: the project's sources, a simulated class of every chapter
(``autograder.grading.simulate``: full solutions, blank releases, partial submissions, each
classic mistake of ``autograder.cases``, a mistake shown with stale passing outputs) and one
unreadable notebook, graded with the trusted grader; then the instructor outputs are checked
against what each submission deserves, computed here from the source notebooks' points.
"""

import base64
import csv
import html
import json
import re

import nbformat
import numpy as np
import pytest
from click.testing import CliRunner
from nbgrader.api import Gradebook

from autograder import cases
from autograder.cases import CHAPTERS
from autograder.checking import NOTEBOOK_HIDDEN_SEED, expected_output
from autograder.grading.assignments import secret_seed
from autograder.grading.cli import main
from autograder.grading.simulate import build_class, grading_errors
from conftest import PROJECT, copy_course

pytestmark = pytest.mark.nbgrader

CHAPTER_NAMES = [name for name in CHAPTERS if any((PROJECT / "solutions" / name).glob("*.ipynb"))]
BROKEN = ("broken-1", CHAPTER_NAMES[0])
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


def course(root, *args, exit_code=0):
    """Run `course --root <root> ARGS...` in-process and return its output; fail the test on another exit code."""
    result = CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)
    assert result.exit_code == exit_code, f"course {' '.join(args)} exited with {result.exit_code}:\n{result.output}"
    return result.output


def source_notebook(chapter):
    (path,) = (PROJECT / "solutions" / chapter).glob("*.ipynb")
    return nbformat.read(path, as_version=4)


def question_points(chapter):
    """question -> its points, read from the graded cells of the source notebook (test_<q>, test_<q>_hidden)."""
    points = {}
    for cell in source_notebook(chapter).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            question = re.sub(r"_hidden$", "", meta["grade_id"].removeprefix("test_"))
            points[question] = points.get(question, 0) + meta["points"]
    return points


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("class"))
    course(root, "release", *CHAPTER_NAMES)
    submissions = build_class(root, CHAPTER_NAMES)
    student, chapter = BROKEN
    (path,) = (PROJECT / "solutions" / chapter).glob("*.ipynb")
    broken = root / "submitted" / student / chapter / path.name
    broken.parent.mkdir(parents=True)
    broken.write_text("{ this is not a notebook")
    # the unreadable notebook makes `course grade` exit with 1 once it has graded everyone else
    assert "1 failed" in course(root, "grade", *CHAPTER_NAMES, exit_code=1)
    course(root, "feedback", *CHAPTER_NAMES)
    course(root, "export", *CHAPTER_NAMES)
    course(root, "report", *CHAPTER_NAMES)
    return root, submissions


@pytest.fixture(scope="module")
def grades_csv(graded_class):
    root, _ = graded_class
    with open(root / "grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}


def test_csv_columns_follow_the_course_and_rows_the_students(graded_class, grades_csv):
    _, submissions = graded_class
    header, by_student = grades_csv
    expected = ["student_id", "last_name", "first_name", "email", "lms_user_id"]
    for chapter in CHAPTER_NAMES:
        expected += [f"{chapter}/{question}" for question in question_points(chapter)]
        expected += [f"{chapter}/late_penalty", f"{chapter}/total", f"{chapter}/status"]
    assert header == expected + ["total"]
    assert list(by_student) == sorted({s.student for s in submissions} | {BROKEN[0]})


def test_csv_points_are_what_each_simulated_submission_deserves(graded_class, grades_csv):
    _, submissions = graded_class
    _, by_student = grades_csv
    wrong = []
    for submission in submissions:
        row = by_student[submission.student]
        points = question_points(submission.chapter)
        where = f"{submission.student} in {submission.chapter} ({submission.kind}: {submission.description})"
        for question, maximum in points.items():
            got = float(row[f"{submission.chapter}/{question}"])
            if question not in submission.lost_questions:
                wanted, right = f"all {maximum}", got == maximum
            elif submission.kind in ("mistake", "stale"):
                wanted, right = f"fewer than {maximum}", 0 <= got < maximum
            else:
                wanted, right = "0", got == 0
            if not right:
                wrong.append(f"{where}: {question} got {got:g} points, expected {wanted}")
        total = float(row[f"{submission.chapter}/total"])
        if total != sum(float(row[f"{submission.chapter}/{q}"]) for q in points):
            wrong.append(f"{where}: the total {total:g} is not the sum of the question points")
    assert not wrong, "\n".join(wrong)


def test_csv_totals_and_missing_chapters(graded_class, grades_csv):
    _, submissions = graded_class
    _, by_student = grades_csv
    handed_in = {(s.student, s.chapter) for s in submissions}
    broken = by_student[BROKEN[0]]
    assert all(broken[f"{BROKEN[1]}/{q}"] == "" for q in question_points(BROKEN[1])) and broken["total"] == "0"
    assert broken[f"{BROKEN[1]}/status"].startswith("failed: ") and "not a readable notebook" in broken[f"{BROKEN[1]}/status"]
    for student, row in by_student.items():
        for chapter in CHAPTER_NAMES:
            if (student, chapter) not in handed_in:
                assert all(row[f"{chapter}/{q}"] == "" for q in question_points(chapter)), (student, chapter)
                assert row[f"{chapter}/total"] == "0"
                assert (student, chapter) == BROKEN or row[f"{chapter}/status"] == "not submitted"
            else:
                assert row[f"{chapter}/status"] == "graded" and row[f"{chapter}/late_penalty"] == "", (student, chapter)
        assert float(row["total"]) == sum(float(row[f"{chapter}/total"]) for chapter in CHAPTER_NAMES)
    assert float(by_student["full-1"]["total"]) == sum(sum(question_points(c).values()) for c in CHAPTER_NAMES)


def test_csv_is_the_gradebook_and_the_gradebook_is_right(graded_class, grades_csv):
    root, submissions = graded_class
    _, by_student = grades_csv
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for submission in submissions:
            (path,) = (root / "solutions" / submission.chapter).glob("*.ipynb")
            stored = gradebook.find_submission_notebook(path.stem, submission.chapter, submission.student)
            points = {}
            for grade in stored.grades:
                question = re.sub(r"_hidden$", "", grade.name.removeprefix("test_"))
                points[question] = points.get(question, 0.0) + grade.score
            scores[submission.student, submission.chapter] = points
    for (student, chapter), points in scores.items():
        assert {q: float(by_student[student][f"{chapter}/{q}"]) for q in points} == points, (student, chapter)
    errors = grading_errors(root, submissions, scores)
    assert not errors, "\n".join(errors)


def _page_text(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _numbers(output):
    if isinstance(output, tuple):
        return [number for item in output for number in _numbers(item)]
    return list(np.ravel(np.asarray(output, dtype=float)))


def _hidden_expected_numbers(root, chapter):
    """Every number a hidden case expects (for the notebook's seed and the grader's), as printed or repr'd."""
    values = []
    for question in question_points(chapter):
        try:
            case_set = cases.case_set(question)
        except KeyError:
            values += _numbers(cases.answer(question).expected())
            continue
        for seed in (NOTEBOOK_HIDDEN_SEED, secret_seed(root, chapter)):
            for case in case_set.hidden_cases(seed):
                values += _numbers(expected_output(case_set, case))
    numbers = set()
    for value in values:
        for text in (f"{value:.6f}".rstrip("0"), repr(float(value))):
            if len(text.lstrip("-0.").replace(".", "")) >= 5:  # 5 significant digits: no coincidence
                numbers.add(text)
    return numbers


def _visible_text(path):
    """The student's code and the outputs of the visible test cells of an autograded notebook."""
    notebook = nbformat.read(path, as_version=4)
    parts = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            parts.append(cell.source)
        elif meta.get("grade") and "BEGIN HIDDEN TESTS" not in cell.source:
            parts += [output.get("evalue", "") + output.get("text", "") for output in cell.get("outputs", [])]
    return "\n".join(parts)


def test_feedback_shows_points_code_and_messages_but_no_hidden_test(graded_class):
    root, submissions = graded_class
    for chapter in CHAPTER_NAMES:
        source = source_notebook(chapter)
        hidden_lines = {line.strip() for cell in source.cells for region in HIDDEN_REGION.findall(cell.source)
                        for line in region.splitlines() if line.strip()}
        secrets = _hidden_expected_numbers(root, chapter)
        assert hidden_lines and secrets
        for submission in (s for s in submissions if s.chapter == chapter):
            (page_path,) = (root / "feedback" / submission.student / chapter).glob("*.html")
            page = page_path.read_text()
            text = _page_text(page)
            assert "HIDDEN TESTS" not in text
            assert not [line for line in hidden_lines if line in text], page_path
            # a number a visible case shows (its expected value, the student's output) may equal a hidden one
            graded = root / "autograded" / submission.student / chapter / page_path.with_suffix(".ipynb").name
            visible = _visible_text(graded)
            leaked = [number for number in secrets if number in text and number not in visible]
            assert not leaked, f"{page_path} shows hidden expected values {leaked[:5]}"
            assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
            assert "Hidden test" in text and "Your answer" in text
            if submission.kind == "mistake":
                mistake = next(m for m in cases.student_mistakes(chapter) if m.description == submission.description)
                assert max(mistake.code.strip().splitlines(), key=len).strip() in text
                assert "failed" in text


def test_feedback_reports_a_failed_grading(graded_class):
    root, _ = graded_class
    student, chapter = BROKEN
    (page,) = (root / "feedback" / student / chapter).glob("*.html")
    text = _page_text(page.read_text())
    assert "could not be graded" in text and "Score:" not in text


def _diagnosed_mistakes(root):
    """Classic mistakes named in the autograded notebooks' test outputs, read without the project's parser."""
    found = set()
    for path in (root / "autograded").glob("*/*/*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                # on disk a stream's text may be a list of lines
                text = output.get("evalue", "") + "".join(output.get("text", ""))
                found |= set(re.findall(r"This matches a classic mistake: (.+)\.$", text, re.MULTILINE))
    # the checking layer cuts a long description short with ".."; the report names it in full
    return {mistake.rstrip(".") for mistake in found}


def test_report_has_its_figures_and_names_the_diagnosed_mistakes(graded_class):
    root, _ = graded_class
    page = (root / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2 and all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
    text = _page_text(page)
    mistakes = _diagnosed_mistakes(root)
    assert mistakes, "the simulated class should show some classic mistakes"
    assert not [mistake for mistake in mistakes if mistake not in text]
    assert all(chapter in text for chapter in CHAPTER_NAMES)
    failed = page[page.index('id="failed"'):page.index('id="to-grade"')]
    assert re.findall(r'<td class="student">([^<]+)</td>', failed) == [BROKEN[0]]
    # the stale notebooks show passing visible tests that their mistake fails: the grader contradicts them
    misreported = page[page.index('id="misreported"'):page.index('id="flags"')]
    students = set(re.findall(r'<td class="student">([^<]+)</td>', misreported))
    assert students and all(student.startswith("stale-") for student in students), students


@pytest.mark.parametrize("command", ["feedback", "export", "report", "simulate-class"])
def test_help_describes_the_command_with_examples(command):
    result = CliRunner().invoke(main, ["--root", str(PROJECT), command, "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and "course " + command in result.output
