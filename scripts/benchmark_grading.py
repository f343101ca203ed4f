"""Benchmark: `course grade --jobs 2` against plain sequential `nbgrader autograde` on one simulated class.

Builds a temporary course from the project (its sources, releases and nbgrader configuration),
releases every chapter into a fresh gradebook, and hands in a simulated class of at least
``--students`` submissions per chapter (full solutions, blank releases, partial answers and every
classic mistake of ``autograder.cases``: all honest work). Two identical copies of that course are
then graded, one with `nbgrader autograde <chapter>` run chapter after chapter, the other with
one `course grade --jobs N`. It checks that both gradebooks hold the same score for every graded
cell of every submission, and that the scores are the ones the simulated class deserves, then
prints both wall times and their ratio. A benchmark, not a test: `make benchmark` runs it.

    python -m scripts.benchmark_grading                     # every chapter, 40 submissions each
    python -m scripts.benchmark_grading 03_softmax --students 80 --jobs 2
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(command, cwd):
    """Run ``command`` in the course ``cwd``, with the environment's bin/ first on PATH; return its wall time."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.perf_counter()
    process = subprocess.run(command, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{process.stdout[-4000:]}")
    return seconds, process.stdout


def build_course(folder, chapters, students):
    """A released course with a simulated class of at least ``students`` submissions per chapter."""
    from autograder.grading.questions import graded_notebook
    from autograder.grading.simulate import build_class

    for name in ("solutions", "notebooks"):
        shutil.copytree(PROJECT / name, folder / name)
    shutil.copy(PROJECT / "nbgrader_config.py", folder)
    run([BIN / "course", "release", *chapters], folder)
    submissions = []
    for chapter in chapters:
        # students are named after what they hand in, the same names in every chapter
        per_copy = len(build_class(folder, [chapter], copies=1))
        submissions += build_class(folder, [chapter], copies=math.ceil(students / per_copy))
    return submissions, {chapter: graded_notebook(folder, chapter) for chapter in chapters}


def cell_scores(course, submissions):
    """{(student, chapter): {graded cell: auto score}} from the course's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in submissions:
            try:
                record = gradebook.find_submission(submission.chapter, submission.student)
            except MissingEntry:
                continue
            scores[submission.student, submission.chapter] = {
                grade.name: grade.auto_score for notebook in record.notebooks for grade in notebook.grades}
    return scores


def question_scores(cells, notebooks):
    """Cell scores summed per question, as ``simulate.grading_errors`` wants them."""
    from autograder.grading.questions import question_of

    by_question = {}
    for (student, chapter), points in cells.items():
        totals = by_question.setdefault((student, chapter), {})
        for grade_id, score in points.items():
            name = question_of(grade_id)
            totals[name] = totals.get(name, 0) + (score or 0)
    return by_question


def main():
    from autograder.cases import CHAPTERS
    from autograder.grading.simulate import grading_errors

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", default=[c for c in CHAPTERS if (PROJECT / "solutions" / c).is_dir()])
    parser.add_argument("--students", type=int, default=40, help="submissions per chapter, at least (default 40)")
    parser.add_argument("--jobs", type=int, default=2, help="jobs of `course grade` (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses and print where they are")
    options = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="benchmark-grading-"))
    try:
        nbgrader_course, course_course = workspace / "nbgrader", workspace / "course"
        nbgrader_course.mkdir()
        print(f"building a simulated class of {', '.join(options.chapters)} ...", flush=True)
        submissions, notebooks = build_course(nbgrader_course, options.chapters, options.students)
        shutil.copytree(nbgrader_course, course_course)
        for chapter in options.chapters:
            print(f"  {chapter}: {sum(s.chapter == chapter for s in submissions)} submissions")

        print("grading with nbgrader autograde, one chapter after the other ...", flush=True)
        nbgrader_seconds = 0.0
        for chapter in options.chapters:
            seconds, _ = run([BIN / "nbgrader", "autograde", chapter], nbgrader_course)
            print(f"  {chapter}: {seconds:.1f} s", flush=True)
            nbgrader_seconds += seconds
        print(f"grading with course grade --jobs {options.jobs} ...", flush=True)
        course_seconds, output = run([BIN / "course", "grade", *options.chapters, "--jobs", str(options.jobs)],
                                     course_course)
        print("".join(f"  {line}\n" for line in output.splitlines() if " graded, " in line), end="", flush=True)

        expected, got = cell_scores(nbgrader_course, submissions), cell_scores(course_course, submissions)
        differences = [f"{student}/{chapter} {cell}: nbgrader {points}, course grade {got.get((student, chapter), {}).get(cell)}"
                       for (student, chapter), cells in sorted(expected.items()) for cell, points in sorted(cells.items())
                       if got.get((student, chapter), {}).get(cell) != points]
        differences += [f"{student}/{chapter}: graded by course grade only" for student, chapter in got
                        if (student, chapter) not in expected]
        wrong = grading_errors(course_course, submissions, question_scores(got, notebooks))

        print()
        print(f"submissions: {len(submissions)} in {len(options.chapters)} chapters")
        print(f"nbgrader autograde (sequential): {nbgrader_seconds:7.1f} s")
        print(f"course grade --jobs {options.jobs}:          {course_seconds:7.1f} s")
        count = len(submissions)
        print(f"per submission:                  {nbgrader_seconds / count:7.2f} s with nbgrader autograde, "
              f"{course_seconds / count:.3f} s with course grade")
        print(f"ratio course/nbgrader:           {course_seconds / nbgrader_seconds:7.3f}"
              f"   ({nbgrader_seconds / course_seconds:.1f} times faster)")
        print(f"graded cells with different scores: {len(differences)}")
        for line in differences[:20]:
            print(f"  {line}")
        print(f"submissions graded against what they deserve: {len(wrong)} errors")
        for line in wrong[:20]:
            print(f"  {line}")
        if options.keep:
            print(f"courses kept in {workspace}")
        return 1 if differences or wrong else 0
    finally:
        if not options.keep:
            shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
