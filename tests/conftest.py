"""Fixtures shared by the project's tests."""

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_nbgrader(args, cwd, check=True):
    """Run one of nbgrader's own commands in the course at ``cwd``; its log and output, in order, are in ``stdout``."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    process = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and process.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{process.stdout}")
    return process


def copy_course(destination):
    """A temporary course: the project's sources, releases and nbgrader configuration, nothing graded yet."""
    destination = Path(destination)
    for folder in ("solutions", "notebooks"):
        shutil.copytree(PROJECT / folder, destination / folder)
    shutil.copy(PROJECT / "nbgrader_config.py", destination)
    return destination


@dataclass(frozen=True)
class BuiltBook:
    """The book built once for the test session (see the ``built_book`` fixture)."""

    output_dir: Path
    returncode: int
    log: str
    pages: tuple  # docnames of the table of contents, in reading order

    @property
    def html_dir(self):
        """The built HTML; fails the asking test, with the build's log, when the build failed."""
        if self.returncode != 0:
            pytest.fail(f"the book build failed (exit {self.returncode}):\n{self.log[-6000:]}")
        return self.output_dir / "_build" / "html"

    def page(self, docname):
        return self.html_dir / f"{docname}.html"


def toc_pages(toc_path=PROJECT / "_toc.yml"):
    """Docnames of ``_toc.yml`` in reading order: the root, then every entry depth first."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site_map = parse_toc_yaml(toc_path)
    ordered = []

    def visit(docname):
        ordered.append(docname)
        for subtree in site_map[docname].subtrees:
            for child in subtree.items:
                if isinstance(child, str):
                    visit(child)

    visit(site_map.root.docname)
    return tuple(ordered)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, worker_id):
    """The book, built once per test run with warnings as errors by ``scripts/build_book.py``.

    The two pytest-xdist workers share one build: the first to ask builds it under a lock, the
    other waits and reads it. Set BOOK_BUILD_DIR to build into that folder instead of a fresh
    temporary one: the execution cache and Sphinx's environment there make a repeated run a
    no-change rebuild.
    """
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))
    from scripts.build_book import build

    if os.environ.get("BOOK_BUILD_DIR"):
        output_dir = Path(os.environ["BOOK_BUILD_DIR"])
    elif worker_id == "master":  # no xdist: this run's own folder
        output_dir = tmp_path_factory.mktemp("book")
    else:  # the folder of this run that every worker sees (each worker's base is inside it)
        output_dir = tmp_path_factory.getbasetemp().parent / "book"
    output_dir.mkdir(parents=True, exist_ok=True)
    log_path, done = output_dir / "build.log", output_dir / "build.returncode"
    with open(output_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists() or os.environ.get("BOOK_BUILD_DIR"):
            done.write_text(str(build(output_dir, log_path=log_path).returncode))
    return BuiltBook(output_dir, int(done.read_text()), log_path.read_text(encoding="utf-8"), toc_pages())
