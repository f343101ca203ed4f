"""The course directory: where its files are, which chapters it has, nbgrader's configuration."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.cases import course_chapters


def find_root(start=None):
    """The course root: the nearest folder at or above ``start`` holding ``nbgrader_config.py``."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise FileNotFoundError(
        f"no nbgrader_config.py in {start} or any folder above it; run this command from the course root"
    )


def put_nbgrader_on_path():
    """nbgrader shells out to ``alembic``: this environment's ``bin/`` must be on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_config(root):
    """nbgrader's configuration for the course at ``root`` (its ``nbgrader_config.py``, root made absolute)."""
    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    return config


def chapters(root, names=()):
    """The assignments to work on: ``names`` checked against the course, or every chapter of the course.

    A chapter is a folder ``solutions/<chapter>/`` holding a notebook (``autograder.cases.course_chapters``):
    a new folder is a new chapter, nothing to register.
    """
    available = course_chapters(root)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"unknown chapter {', '.join(unknown)}; this course has: {', '.join(available)}")
    return list(names) or available


def known_students(root):
    """Every student with a folder in ``submitted/`` or a row in the gradebook."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    submitted = Path(root) / "submitted"
    known = {p.name for p in submitted.iterdir() if p.is_dir()} if submitted.is_dir() else set()
    db_url = CourseDirectory(config=nbgrader_config(root)).db_url
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        return known  # opening it would create an empty gradebook
    with Gradebook(db_url) as gradebook:
        return known | {student.id for student in gradebook.students}


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder: a reader (or a run killed
    half-way) sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the result is an ordinary course file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def replace_folder(staged, target):
    """Put the folder ``staged`` where ``target`` is (same file system): the old folder moves aside
    first and is removed last, so a run stopped at any point leaves the old folder or the new one."""
    staged, target = Path(staged), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.parent / f".{target.name}.previous"
    shutil.rmtree(aside, ignore_errors=True)
    if target.exists():
        target.rename(aside)
    staged.rename(target)
    shutil.rmtree(aside, ignore_errors=True)
