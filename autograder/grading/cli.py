"""``course``: the instructor's command line, run from the course root (the folder of nbgrader_config.py)."""

import functools
import sys
from pathlib import Path

import click

from autograder.grading import course


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Course root (the folder of nbgrader_config.py). Default: the current folder or the nearest above it.")
@click.pass_context
def main(context, root):
    """Release, grade and report on the graded notebooks of *Attention from first principles*.

    A layer over nbgrader: the gradebook and the course directory layout are nbgrader's, so
    the formgrader (a Jupyter server extension: open it from `jupyter lab`) and manual
    grading keep working. Run it from the course root.

    \b
    A term, from the course root:
        course release                      # notebooks/ from solutions/, for every chapter
        nbgrader release_assignment CH      # into the exchange; students fetch and submit
        nbgrader collect CH                 # or nbgrader zip_collect CH: fills submitted/<student>/CH/
        course grade --jobs 2               # grade every submission, in a sandbox
        course feedback                     # feedback/<student>/<chapter>/*.html
        nbgrader release_feedback CH        # into the exchange; students fetch_feedback
        course export                       # grades.csv (--format canvas|moodle for their imports)
        course report                       # report.html: what to re-teach
    """
    course.put_nbgrader_on_path()
    context.obj = root


def pass_root(command):
    """Call ``command`` with the course root first; found only when it runs, so ``--help`` works anywhere."""

    @click.pass_context
    @functools.wraps(command)
    def with_root(context, *args, **kwargs):
        try:
            root = course.find_root(context.obj)
        except FileNotFoundError as error:
            raise click.ClickException(str(error)) from None
        return command(root, *args, **kwargs)

    return with_root


@main.command()
@click.argument("chapters", nargs=-1)
@pass_root
def release(root, chapters):
    """Generate the student version of CHAPTERS (default: all) from solutions/ into notebooks/.

    Runs `nbgrader generate_assignment --force` for each chapter: solutions are replaced by
    stubs, hidden tests removed, and the gradebook records the assignment. Then writes the
    student bundle, student_bundle/attention_course_student-<version>-py3-none-any.whl: what a
    class installs (`pip install <that file>`) to run the notebooks' visible tests, with no
    reference implementation, hidden case or answer inside.

    \b
    Examples:
        course release
        course release 01_chain_rule 02_gradient_descent
    """
    from autograder.grading import bundle
    from autograder.grading.release import ReleaseFailed, release as generate

    try:
        names = course.chapters(root, chapters)
        for name in generate(root, names):
            click.echo(f"released {name} -> notebooks/{name}/")
    except (ValueError, ReleaseFailed) as error:
        raise click.ClickException(str(error)) from None
    wheel = bundle.build(root, course.chapters(root))
    click.echo(f"student bundle -> {wheel.relative_to(root)} (students: pip install {wheel.name})")


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Number of submissions graded at the same time on this machine.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run the student code on the Dask distributed cluster at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                   "instead of this machine. The grades are the same.")
@click.option("--timeout", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Wall-clock limit for one notebook, in seconds. A notebook still running then is stopped "
                   "and graded as far as it got.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=256), default=2048, show_default=True,
              help="Memory (address space) limit of the process that runs one notebook, in MB.")
@click.option("--student", "students", multiple=True, metavar="ID",
              help="Grade this student only (repeat for several). Default: every student.")
@click.option("--force", is_flag=True,
              help="Grade again the submissions that have not changed since they were last graded.")
@click.option("--unsandboxed", is_flag=True,
              help="Run submitted code WITHOUT the operating-system sandbox, where bubblewrap cannot make one. "
                   "Only for notebooks you trust: a submission can then read the course and change grades. "
                   "The summary, the records and the report say so.")
@pass_root
def grade(root, chapters, jobs, scheduler, timeout, memory_mb, students, force, unsandboxed):
    """Autograde the submissions of CHAPTERS (default: all) into the gradebook.

    Grades every submission under submitted/<student>/<chapter>/ (nbgrader's layout), several at
    a time, like `nbgrader autograde`: the graded notebooks go to autograded/, the scores to
    gradebook.db, so the formgrader and manual grading work as usual. Unlike nbgrader, the
    tests are not run in the student's kernel: the student's code runs in a separate,
    resource-limited process, and the grader compares its outputs with the reference itself, so
    edited tests, patched checkers or calls to the reference package earn nothing. The test
    cells of the graded notebooks still show each check's message.

    A submission graded before and unchanged since is skipped, so an interrupted run can simply
    be started again; a resubmission replaces the old grades. A per-submission record, with the
    diagnosed mistakes and any disagreement between the notebook's own test outputs and the
    grader, is written to reports/grading/<chapter>/<student>.json. Exits with status 1 if a
    submission could not be graded.

    \b
    Examples:
        course grade                              # every chapter, 2 at a time
        course grade 03_softmax --jobs 4
        course grade 03_softmax --student alice --force
        course grade --scheduler tcp://10.0.0.5:8786
    """
    # jsonschema, loaded by nbformat, builds an IRI grammar on import (2 s here) for a format
    # check that notebooks never use: refusing the optional module skips it
    sys.modules.setdefault("rfc3987_syntax", None)
    from autograder.grading.engine import grade as grade_submissions, summary_lines

    try:
        names = course.chapters(root, chapters)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    _check_students(students, course.known_students(root))
    from autograder.grading.sandbox import SandboxFailed

    try:
        summary = grade_submissions(root, names, students=students, jobs=jobs, scheduler=scheduler,
                                    timeout=timeout, memory_mb=memory_mb, force=force, sandboxed=not unsandboxed)
    except SandboxFailed as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted: every submission is graded entirely or not at all; "
                   "run the same command again to grade the rest", err=True)
        sys.exit(130)
    for line in summary_lines(summary):
        click.echo(line)
    if any(row.status == "failed" for row in summary.rows):
        sys.exit(1)


@main.command("check-sandbox")
def check_sandbox():
    """Check that this machine can make the sandbox `course grade` runs submitted code in.

    Runs a one-line notebook in a bubblewrap sandbox and says whether it worked and, if not, what
    to install or allow. Exits with status 1 when no sandbox can be made.
    """
    from autograder.grading.sandbox import sandbox_works

    works, why = sandbox_works()
    if not works:
        raise click.ClickException(why)
    click.echo("the grading sandbox works here: submitted code runs in bubblewrap as uid 65534, "
               "with no network and no view of the course")


def _check_students(asked, known):
    """Stop when a ``--student`` is not a student of the course, naming those it has (a typo grades nobody)."""
    unknown = sorted(set(asked) - set(known))
    if unknown:
        known = sorted(known)
        listed = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        raise click.ClickException(f"no student {', '.join(unknown)} in this course; "
                                   f"known students: {listed or 'none yet'}")


# --- instructor outputs: feedback, export, report, and a simulated class to try them on ---

def _class_results(root, chapters):
    """Read the grading of CHAPTERS (default: all) or stop with a message an instructor can act on."""
    from autograder.grading.results import read_class

    try:
        return read_class(root, course.chapters(root, chapters))
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("--student", "students", multiple=True, metavar="ID",
              help="Write the pages of this student only (repeat for several). Default: every student.")
@pass_root
def feedback(root, chapters, students):
    """Write each student's feedback page for CHAPTERS (default: all) into feedback/.

    One self-contained HTML page per graded submission, at
    feedback/<student>/<chapter>/<notebook>.html (nbgrader's layout, so `nbgrader
    release_feedback` can hand it out). For each question it shows the points from the gradebook,
    the student's own code, and what each test said: the success line, or the checking layer's
    failure message with the classic mistake it recognised. Hidden tests appear as students
    received them (their one-line description): unlike `nbgrader generate_feedback`, the page
    never shows hidden test code nor an expected value of a hidden case. Run it after `course grade`.

    \b
    Examples:
        course feedback
        course feedback 03_softmax
        course feedback 03_softmax --student alice --student bob
    """
    from autograder.grading.feedback import write_feedback

    results = _class_results(root, chapters)
    _check_students(students, {student.id for student in results.students})
    written = write_feedback(root, results, students)
    click.echo(f"wrote {len(written)} feedback pages into {root / 'feedback'}/")


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="CSV file to write, relative to the course root; - writes to stdout. "
                   "Default: grades.csv, grades-canvas.csv or grades-moodle.csv.")
@click.option("--format", "layout", type=click.Choice(["csv", "canvas", "moodle"]), default="csv", show_default=True,
              help="csv: the course's layout, per question with status; canvas / moodle: their gradebook import layouts.")
@pass_root
def export(root, chapters, output, layout):
    """Export the grades of CHAPTERS (default: all) as a CSV file for an LMS.

    Points are read from nbgrader's gradebook; a chapter's total is its score after nbgrader's
    late penalty. One row per student of the gradebook, sorted by student_id.

    \b
    --format csv (default): student_id, last_name, first_name, email, lms_user_id; then for
    each chapter, in course order, <chapter>/<question> per question in notebook order (empty
    while it is still to grade by hand), <chapter>/late_penalty, <chapter>/total and
    <chapter>/status (graded, late by N h, to grade by hand: ..., failed: ..., not submitted);
    last, total. A chapter not submitted, or failed with no earlier grade, has empty question
    cells and a total of 0.
    --format canvas: Canvas's gradebook import (Student, ID, SIS User ID, SIS Login ID,
    Section, one column per chapter, a Points Possible row).
    --format moodle: Moodle's CSV grade import (First name, Last name, ID number, Email
    address, one column per chapter).
    In the LMS layouts a chapter without a final grade (failed, or to grade by hand) is empty.

    \b
    Examples:
        course export                       # every chapter, into grades.csv
        course export 03_softmax -o softmax.csv
        course export --format canvas       # grades-canvas.csv, for Canvas's Grades > Import
        course export -o - | column -s, -t  # read it in the terminal
    """
    from autograder.grading.export import WRITERS
    from autograder.grading.course import write_atomically

    output = output or ("grades.csv" if layout == "csv" else f"grades-{layout}.csv")
    text = WRITERS[layout](_class_results(root, chapters))
    if output == "-":
        click.echo(text, nl=False)
        return
    path = root / output
    write_atomically(path, text)
    click.echo(f"wrote {path}")


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="report.html", show_default=True,
              help="HTML file to write, relative to the course root.")
@pass_root
def report(root, chapters, output):
    """Write the class report of CHAPTERS (default: all): what to re-teach, on one HTML page.

    A single self-contained page (figures embedded as PNG, no script, no CDN), written
    atomically: a summary of what to re-teach; per chapter, the number of submissions, mean and
    median scores; the distribution of scores per chapter; for each question the share of
    submissions earning all, some or none of its points; the classic mistakes the checking layer
    diagnosed, most frequent first, with the students who made them; the submissions whose
    grading failed or stopped early; the answers still to grade by hand; the late submissions
    and their penalty (scores are after it); and, from the records of `course grade`, the test results
    a submitted notebook showed that the trusted verdict contradicts, and the grader's flags
    (reference imported or copied, refused operations). Run it after `course grade`.

    \b
    Examples:
        course report
        course report 06_rnn 07_self_attention -o rnn_report.html
    """
    from autograder.grading.report import write_report

    path = write_report(_class_results(root, chapters), root / output)
    click.echo(f"wrote {path}")


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Share of each student's own code that must be shared to list a pair.")
@click.option("--min-tokens", type=click.IntRange(min=1), default=150, show_default=True,
              help="Shared code, in tokens, below which a pair is not listed (one short function is alike by necessity).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="similarity.html", show_default=True,
              help="HTML file to write, relative to the course root.")
@pass_root
def similarity(root, chapters, threshold, min_tokens, output):
    """List pairs of submissions of CHAPTERS (default: all) whose code is suspiciously alike.

    Compares, for every pair of students, the code they wrote in each answer (names, comments and
    layout normalised; the release's stubs and the model solution set aside), with copydetect's
    winnowing fingerprints. Writes a page with each listed pair side by side, shared code marked,
    and prints the pairs. Alike is not proof: read both submissions before you act.

    \b
    Examples:
        course similarity
        course similarity 07_self_attention --threshold 0.6
    """
    import warnings

    from autograder.grading.similarity import similar_pairs, write_page

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # copydetect warns about every pair that shares nothing
        pairs, compared = similar_pairs(root, course.chapters(root, chapters), threshold, min_tokens)
    path = root / output
    write_page(root, pairs, compared, threshold, min_tokens, path)
    for pair in pairs:
        click.echo(f"{pair.chapter}: {pair.students[0]} and {pair.students[1]}: {pair.score:.0%} shared "
                   f"({pair.shared_tokens} tokens)")
    click.echo(f"{len(pairs)} of {compared} pairs listed; wrote {path}")


@main.command("simulate-class")
@click.argument("chapters", nargs=-1)
@click.option("--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many students hand in each kind of submission.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random choices (where the partial submissions stop).")
@click.option("--force", is_flag=True, help="Write even if submitted/ already holds other students' work.")
@pass_root
def simulate_class(root, chapters, copies, seed, force):
    """Hand in a simulated class for CHAPTERS (default: all), to try the grader and its outputs.

    Writes submitted/<student>/<chapter>/<notebook>.ipynb from the release notebooks, for
    students named after what they hand in: full-1 (the solutions: full marks), blank-1 (the
    release untouched: zero), partial-1 (the first solution cells only), mistake<k>-1 (the
    solutions with the k-th classic mistake of the chapter: it loses points in the questions of
    that mistake only) and stale-1 (a classic mistake handed in with the passing test outputs of
    an earlier run: the grader must report the disagreement). Needs the release (`course
    release`). Do this in a copy of the course: the simulated students enter the gradebook when
    graded.

    \b
    Examples:
        mkdir /tmp/trial && cp -r solutions notebooks nbgrader_config.py /tmp/trial/ && cd /tmp/trial
        course release && course simulate-class && course grade
        course feedback && course export && course report
        course simulate-class 03_softmax --copies 20    # a bigger class
    """
    from autograder.grading.simulate import SIMULATED_STUDENT, build_class

    submitted = root / "submitted"
    others = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not SIMULATED_STUDENT.match(p.name)) \
        if submitted.is_dir() else []
    if others and not force:
        named = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise click.ClickException(f"submitted/ already holds the work of {named}: "
                                   "simulate in a copy of the course, or pass --force")
    try:
        submissions = build_class(root, course.chapters(root, chapters), copies=copies, seed=seed)
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    for submission in submissions:
        lost = ", ".join(submission.lost_questions) or "nothing"
        click.echo(f"{submission.student:>14}  {submission.chapter:<26} {submission.description} (loses: {lost})")
    click.echo(f"wrote {len(submissions)} submissions into {submitted}/")
