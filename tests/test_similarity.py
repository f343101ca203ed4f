"""``course similarity``: an honest simulated class gives no pair, a renamed copy of a classmate is listed."""

import inspect
import re
import textwrap

import nbformat
import pytest
from click.testing import CliRunner

from autograder import cases as registry
from autograder.grading.cli import main
from autograder.grading.simulate import build_class, solved_notebook
from conftest import copy_course

CHAPTER = "05_backprop_through_time"


def _hand_in(root, student, notebook):
    folder = root / "submitted" / student / CHAPTER
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / next((root / "notebooks" / CHAPTER).glob("*.ipynb")).name)


def _own_work(root):
    """A student who wrote every function their own way (here: as the reference package does, not as the model solution)."""
    notebook = solved_notebook(root, CHAPTER)
    functions = {case_set.name: case_set.reference for case_set in registry.chapter_module(CHAPTER).CASE_SETS}
    for cell in notebook.cells:
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if name in functions:
            cell.source = textwrap.dedent(inspect.getsource(functions[name]))
    return notebook


def _renamed(notebook):
    """The same notebook with other names, other comments, other indentation."""
    copy = nbformat.reads(nbformat.writes(notebook), as_version=4)
    for cell in copy.cells:
        if cell.cell_type == "code":
            source = re.sub(r"\b(x|h|dh|grads|cache|total|scale|norm)\b", lambda m: f"my_{m.group(1)}", cell.source)
            cell.source = re.sub(r"#.*", "# worked this out myself", source).replace("    ", "  ")
    return copy


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("similarity") / "course")
    students = {s.student for s in build_class(root, [CHAPTER], copies=4, seed=3)}
    assert len(students) >= 40
    return root


def _run(root, *arguments):
    result = CliRunner().invoke(main, ["--root", str(root), "similarity", CHAPTER, *arguments])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_honest_simulated_class_gives_no_pair(course):
    output = _run(course)
    assert output.splitlines()[-1].startswith("0 of ") and "pairs listed" in output


def test_a_renamed_copy_of_a_classmate_is_listed_side_by_side(course):
    original = _own_work(course)
    _hand_in(course, "zz-original", original)
    _hand_in(course, "zz-renamed-copy", _renamed(original))
    output = _run(course)
    listed = [line for line in output.splitlines() if "zz-original and zz-renamed-copy" in line]
    assert len(listed) == 1 and int(re.search(r"(\d+)% shared", listed[0])[1]) >= 80
    assert output.splitlines()[-1].startswith("1 of ")
    page = (course / "similarity.html").read_text()
    assert "zz-renamed-copy" in page and "<mark>" in page and "my_h" in page
