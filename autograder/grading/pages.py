"""Writing the instructor outputs: the Jinja templates of the HTML pages, points as text, atomic files."""

import os
from pathlib import Path

import jinja2


def points(value):
    """Points as a reader writes them: ``3``, ``2.5``."""
    return f"{value:g}"


def template_environment():
    """The Jinja environment of ``autograder/grading/templates``, HTML-escaping every value."""
    environment = jinja2.Environment(loader=jinja2.PackageLoader("autograder.grading", "templates"),
                                     autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.globals["points"] = points
    return environment


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
