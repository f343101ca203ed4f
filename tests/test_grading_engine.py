"""`course grade` as the instructor's engine: nbgrader's scores, interrupt-safe, resubmissions, Dask.

One course of chapter 3 is released once for the module; each test grades its own copy of it.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_nbgrader
from grading_support import (CHAPTER, add_cell_after, cell, grade, gradebook_scores, hand_in, record,
                             release_notebook, released_course, solved_notebook)

pytestmark = pytest.mark.nbgrader
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A released course, nothing handed in yet."""
    return released_course(tmp_path_factory.mktemp("engine") / "course")


def _mistake_notebook(root):
    from autograder.cases import student_mistakes

    mistake = student_mistakes(CHAPTER)[0]
    notebook = solved_notebook(root)
    cell(notebook, mistake.cell).source = mistake.code.strip("\n")
    return notebook, mistake


def _honest_class(root):
    """full, blank and one classic mistake: the students of the equality tests."""
    hand_in(root, "full", solved_notebook(root))
    hand_in(root, "blank", release_notebook(root))
    hand_in(root, "mistake", _mistake_notebook(root)[0])
    return ["full", "blank", "mistake"]


def _copy(course, folder):
    shutil.copytree(course, folder)
    return folder


@pytest.fixture(scope="module")
def graded_locally(course, tmp_path_factory):
    """The honest class graded by `course grade` with the local pool: {student: cell scores}."""
    root = _copy(course, tmp_path_factory.mktemp("local") / "course")
    students = _honest_class(root)
    summary = grade(root)
    assert [row.status for row in summary.rows] == ["graded"] * 3
    return {student: gradebook_scores(root, student) for student in students}


def test_scores_equal_nbgrader_autograde_on_honest_submissions(course, graded_locally, tmp_path):
    root = _copy(course, tmp_path / "course")
    students = _honest_class(root)
    run_nbgrader(["autograde", CHAPTER], cwd=root)
    by_nbgrader = {student: gradebook_scores(root, student) for student in students}
    assert graded_locally == by_nbgrader
    full = graded_locally["full"]
    assert all(points > 0 for points in full.values())
    assert set(graded_locally["blank"].values()) == {0.0}
    _, mistake = _mistake_notebook(root)
    lost = {grade_id for grade_id, points in graded_locally["mistake"].items() if points < full[grade_id]}
    assert lost and {grade_id.removeprefix("test_").removesuffix("_hidden") for grade_id in lost} <= set(mistake.questions)


def test_the_graded_notebook_and_record_follow_nbgrader_layout(course, graded_locally, tmp_path):
    root = _copy(course, tmp_path / "course")
    _honest_class(root)
    grade(root, students=["mistake"])
    graded = root / "autograded" / "mistake" / CHAPTER
    assert sorted(p.name for p in graded.iterdir()) == ["softmax.ipynb", "timestamp.txt"]
    import nbformat
    notebook = nbformat.read(graded / "softmax.ipynb", as_version=4)
    nbformat.validate(notebook)
    failing = [c for c in notebook.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert failing and all(c.metadata["nbgrader"]["grade"] for c in failing)
    kept = record(root, "mistake")
    assert kept["status"] == "graded" and kept["score"] == sum(gradebook_scores(root, "mistake").values())
    assert any(test["mistakes"] for test in kept["notebooks"]["softmax"]["tests"].values())


def test_a_killed_run_restarted_grades_everything_once(course, tmp_path):
    root = _copy(course, tmp_path / "course")
    students = [f"student{number:02d}" for number in range(8)]
    for student in students:
        # a second of student code each: the run is still going when it is killed
        hand_in(root, student, add_cell_after(solved_notebook(root), "imports", "import time\ntime.sleep(1)"))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    log = tmp_path / "grade.log"
    with log.open("w") as output:
        process = subprocess.Popen([str(BIN / "course"), "grade", CHAPTER, "--jobs", "1"], cwd=root, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    records = root / "reports" / "grading" / CHAPTER
    deadline = time.monotonic() + 120
    while len(list(records.glob("*.json")) if records.is_dir() else []) < 2 and time.monotonic() < deadline \
            and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = {path.stem for path in records.glob("*.json")}
    assert 2 <= len(first) < len(students), f"the run was not killed half-way:\n{log.read_text()[-3000:]}"

    summary = grade(root, jobs=2)
    statuses = {row.student: row.status for row in summary.rows}
    assert statuses == {student: "unchanged" if student in first else "graded" for student in students}
    full = record(root, students[0])["max_score"]
    assert {student: record(root, student)["score"] for student in students} == dict.fromkeys(students, full)
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        assert sorted(s.student.id for s in gradebook.assignment_submissions(CHAPTER)) == students
        assert all(s.score == full for s in gradebook.assignment_submissions(CHAPTER))
    assert list((root / "autograded").glob("*/.*")) == []  # no staging folder left behind
    assert {row.status for row in grade(root).rows} == {"unchanged"}


def test_ctrl_c_stops_at_once_and_the_next_run_finishes(course, tmp_path):
    root = _copy(course, tmp_path / "course")
    hand_in(root, "quick", solved_notebook(root))
    hand_in(root, "slow", add_cell_after(solved_notebook(root), "imports", "import time\ntime.sleep(600)"))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    process = subprocess.Popen([str(BIN / "course"), "grade", CHAPTER, "--timeout", "900"], cwd=root, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while record(root, "quick") is None and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 130 and time.monotonic() - started < 10
    assert "run the same command again" in errors
    assert record(root, "slow") is None and gradebook_scores(root, "slow") is None
    hand_in(root, "slow", solved_notebook(root))
    assert {row.student: row.status for row in grade(root).rows} == {"quick": "unchanged", "slow": "graded"}


def test_a_resubmission_replaces_the_old_grade(course, tmp_path):
    from nbgrader.api import Gradebook

    root = _copy(course, tmp_path / "course")
    hand_in(root, "resubmits", solved_notebook(root), timestamp="2026-11-20 10:00:00 UTC")
    hand_in(root, "stays", solved_notebook(root))
    grade(root)
    full = record(root, "resubmits")["score"]
    hand_in(root, "resubmits", _mistake_notebook(root)[0], timestamp="2026-11-21 09:30:00 UTC")
    summary = grade(root)
    assert {row.student: row.status for row in summary.rows} == {"resubmits": "graded", "stays": "unchanged"}
    assert record(root, "resubmits")["score"] < full == record(root, "stays")["score"]
    assert record(root, "resubmits")["timestamp"].startswith("2026-11-21T09:30")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submissions = [s for s in gradebook.assignment_submissions(CHAPTER) if s.student.id == "resubmits"]
        assert len(submissions) == 1 and submissions[0].score == record(root, "resubmits")["score"]
        assert submissions[0].timestamp.day == 21


def test_a_dask_cluster_gives_the_same_scores(course, graded_locally, tmp_path):
    # The worker runs in this process (processes=False): earlier tests that start an IPython shell
    # replace __main__, which multiprocessing's spawn cannot then re-import. Jobs still travel
    # client -> scheduler -> worker over TCP, and the student code still runs in sandbox hosts.
    import dask
    from distributed import LocalCluster

    root = _copy(course, tmp_path / "course")
    students = _honest_class(root)
    with dask.config.set({"temporary-directory": str(tmp_path / "dask")}), \
            LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                         dashboard_address=None) as cluster:
        summary = grade(root, scheduler=cluster.scheduler_address)
    assert [row.status for row in summary.rows] == ["graded"] * 3
    assert {student: gradebook_scores(root, student) for student in students} == graded_locally


def test_unsandboxed_grading_gives_the_same_scores_and_says_so_everywhere(course, graded_locally, tmp_path):
    from autograder.grading.engine import summary_lines
    from autograder.grading.report import flagged_submissions
    from autograder.grading.results import read_class

    root = _copy(course, tmp_path / "course")
    students = _honest_class(root)
    summary = grade(root, sandboxed=False)
    assert {student: gradebook_scores(root, student) for student in students} == graded_locally
    assert any("UNSANDBOXED" in line for line in summary_lines(summary))
    assert all(record(root, student)["sandboxed"] is False for student in students)
    flags = flagged_submissions(read_class(root, [CHAPTER]))
    assert {(student, kind) for student, _, kind, _, _ in flags} == {(student, "unsandboxed") for student in students}
