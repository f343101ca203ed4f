"""``course``: the instructor's command line, run from the course root (the folder of nbgrader_config.py)."""

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
    `nbgrader formgrader` and manual grading keep working. Run it from the course root.

    \b
    Examples:
        course release                      # regenerate every release notebook
        course release 03_softmax           # one chapter
    """
    course.put_nbgrader_on_path()
    try:
        context.obj = course.find_root(root)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.argument("chapters", nargs=-1)
@click.pass_obj
def release(root, chapters):
    """Generate the student version of CHAPTERS (default: all) from solutions/ into notebooks/.

    Runs `nbgrader generate_assignment --force` for each chapter: solutions are replaced by
    stubs, hidden tests removed, and the gradebook records the assignment.

    \b
    Examples:
        course release
        course release 01_chain_rule 02_gradient_descent
    """
    from autograder.grading.release import ReleaseFailed, release as generate

    try:
        names = course.chapters(root, chapters)
        for name in generate(root, names):
            click.echo(f"released {name} -> notebooks/{name}/")
    except (ValueError, ReleaseFailed) as error:
        raise click.ClickException(str(error)) from None
