"""Benchmark: `course grade --jobs 2` against plain sequential `nbgrader autograde` on one simulated class.

Builds a temporary course from the project (its sources, releases and nbgrader configuration),
releases every chapter into a fresh gradebook, and hands in a simulated class of at least
``--students`` submissions per chapter (full solutions, blank releases, partial answers and every
classic mistake of ``autograder.cases``: all honest work). Two identical copies of that course are
then graded, one with `nbgrader autograde <chapter>` run chapter after chapter, the other with
one `course grade --jobs N`. It checks that both gradebooks hold the same score for every graded
cell of every submission, and that the scores are the ones the simulated class deserves, then
prints both wall times and their ratio.

Then the scale measurement: one chapter (``--scale-chapter``, chapter 3 by default) handed in by
``--scale-base`` submissions (100) and by ``--scale`` submissions (2,000), each graded by one
`course grade --jobs N` in a fresh course. It prints the cost per submission of each (the grading
time the command reports, divided by the submissions), their ratio (the larger class must stay
within ``SCALE_LIMIT`` = 1.3 times the smaller one's cost), and the peak resident memory of the
grading process (the sandbox hosts are a fixed number of processes whatever the class size).
A benchmark, not a test: `make benchmark` runs it.

    python -m scripts.benchmark_grading                     # every chapter, 40 submissions each, then the scale
    python -m scripts.benchmark_grading 03_softmax --students 80 --jobs 2 --scale 0
    python -m scripts.benchmark_grading --only-scale --scale 2000
"""

import argparse
import math
import os
import re
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


#: the cost per submission of the large class may be at most this many times the small one's
SCALE_LIMIT = 1.3


def grade_measured(course, chapter, jobs):
    """Run `course grade CHAPTER` in ``course``: (grading seconds it reports, wall seconds, peak RSS of the grader in MB)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.perf_counter()
    with open(course / "grade.log", "w") as log:
        process = subprocess.Popen([BIN / "course", "grade", chapter, "--jobs", str(jobs)], cwd=course, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = (course / "grade.log").read_text()
    summary = re.search(r"(\d+) graded, \d+ skipped as unchanged, (\d+) failed in ([0-9.]+) s", output)
    if os.waitstatus_to_exitcode(status) != 0 or summary is None or summary[2] != "0":
        raise SystemExit(f"course grade failed:\n{output[-4000:]}")
    return float(summary[3]), wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def scale(workspace, chapter, sizes, jobs):
    """Grade ``chapter`` handed in by each class size of ``sizes``; print and return whether the cost stayed flat."""
    from autograder.grading.simulate import build_class

    measured = {}
    for size in sizes:
        course = workspace / f"scale-{size}"
        course.mkdir()
        for name in ("solutions", "notebooks"):
            shutil.copytree(PROJECT / name, course / name)
        shutil.copy(PROJECT / "nbgrader_config.py", course)
        run([BIN / "course", "release", chapter], course)
        per_copy = len(build_class(course, [chapter], copies=1))
        handed_in = len(build_class(course, [chapter], copies=math.ceil(size / per_copy)))
        print(f"grading {handed_in} submissions of {chapter} with course grade --jobs {jobs} ...", flush=True)
        seconds, wall, peak_mb = grade_measured(course, chapter, jobs)
        measured[size] = (handed_in, seconds, wall, peak_mb)
        print(f"  {seconds:.1f} s grading ({wall:.1f} s wall), {1000 * seconds / handed_in:.1f} ms per submission, "
              f"peak RSS of the grader {peak_mb:.0f} MB", flush=True)
        shutil.rmtree(course, ignore_errors=True)
    (small_n, small_s, _, small_mb), (large_n, large_s, _, large_mb) = measured[sizes[0]], measured[sizes[-1]]
    ratio = (large_s / large_n) / (small_s / small_n)
    print()
    print(f"scale: {large_n} submissions cost {1000 * large_s / large_n:.1f} ms each, {small_n} cost "
          f"{1000 * small_s / small_n:.1f} ms each: ratio {ratio:.2f} (limit {SCALE_LIMIT})")
    print(f"scale: peak RSS of the grading process {small_mb:.0f} MB at {small_n}, {large_mb:.0f} MB at {large_n}")
    return ratio <= SCALE_LIMIT


def main():
    from autograder.cases import CHAPTERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", default=[c for c in CHAPTERS if (PROJECT / "solutions" / c).is_dir()])
    parser.add_argument("--students", type=int, default=40, help="submissions per chapter, at least (default 40)")
    parser.add_argument("--jobs", type=int, default=2, help="jobs of `course grade` (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses and print where they are")
    parser.add_argument("--scale", type=int, default=2000,
                        help="submissions of the large class of the scale measurement (default 2000; 0: skip it)")
    parser.add_argument("--scale-base", type=int, default=100, help="submissions of its small class (default 100)")
    parser.add_argument("--scale-chapter", default="03_softmax", help="chapter of the scale measurement")
    parser.add_argument("--only-scale", action="store_true", help="skip the comparison with nbgrader autograde")
    options = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="benchmark-grading-"))
    try:
        compared = 0 if options.only_scale else compare(workspace, options)
        flat = scale(workspace, options.scale_chapter, (options.scale_base, options.scale), options.jobs) \
            if options.scale else True
        if options.keep:
            print(f"courses kept in {workspace}")
        return 1 if compared or not flat else 0
    finally:
        if not options.keep:
            shutil.rmtree(workspace, ignore_errors=True)


def compare(workspace, options):
    """`nbgrader autograde` against `course grade` on one simulated class; 1 if they disagree."""
    from autograder.grading.simulate import grading_errors

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
    print()
    return 1 if differences or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
