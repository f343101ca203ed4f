"""The student bundle: built by ``course release``, installed where this repository is not, and answer-free.

A fresh virtual environment gets the bundle (``pip install --no-deps <wheel>``, with no index) and
sees numpy, nbgrader and Jupyter's kernel machinery through a path file pointing at this project's
environment, whose ``autograder`` (an editable install) it cannot import: installing numpy and
nbgrader for real would cost CI minutes of downloads for the same packages. Every release notebook
runs there in a real kernel: with the solutions, every visible test passes; with each chapter's
classic mistakes, each visible test says exactly what it says in the repository.
"""

import io
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import copy_course

pytestmark = pytest.mark.nbgrader

RUN_NOTEBOOKS = r"""
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
results = {}
for path in sys.argv[1:]:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="student", timeout=120, allow_errors=True)
    client.execute()
    results[path] = {cell.metadata["nbgrader"]["grade_id"]: [
        output.get("text", "") if output["output_type"] == "stream" else f"{output['ename']}: {output['evalue']}"
        for output in cell.outputs if output["output_type"] in ("stream", "error")]
        for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")}
print(json.dumps(results))
"""

PROBE = r"""
import importlib, json, pkgutil, sys
import autograder
found = {}
for module in pkgutil.iter_modules(autograder.__path__, "autograder."):
    loaded = importlib.import_module(module.name)
    found[module.name] = sorted(name for name, value in vars(loaded).items() if callable(value))
blocked = []
for name in ("autograder.softmax", "autograder.cases", "autograder.grading", "autograder.self_attention"):
    try:
        importlib.import_module(name)
    except ImportError:
        blocked.append(name)
print(json.dumps({"file": autograder.__file__, "modules": found, "blocked": blocked}))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The course's wheel, and a fresh environment that has it installed (with a Jupyter kernel)."""
    from autograder.grading import bundle as bundling
    from autograder.grading.course import chapters

    folder = tmp_path_factory.mktemp("bundle")
    root = copy_course(folder / "course")
    wheel = bundling.build(root, chapters(root))
    env = folder / "student-env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "course-jupyter.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(env), "--name", "student"],
                   check=True, capture_output=True)
    return {"root": root, "wheel": wheel, "python": python, "env": env}


def _in_student_env(bundle, code, *args):
    environment = dict(os.environ, JUPYTER_PATH=str(bundle["env"] / "share" / "jupyter"), PYTHONNOUSERSITE="1")
    environment.pop("PYTHONPATH", None)
    done = subprocess.run([str(bundle["python"]), "-c", code, *args], capture_output=True, text=True,
                          env=environment, cwd=bundle["env"], timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_in_repository(notebook):
    """Test cell outputs of ``notebook`` run in this process, with the repository's checking layer
    (the kernel's job, cell by cell, as far as test cells need: their printed line or their error)."""
    import contextlib
    namespace, results = {"__name__": "__main__"}, {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        printed = io.StringIO()
        outputs = []
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception as error:
                outputs.append(f"{type(error).__name__}: {error}")
        if printed.getvalue():
            outputs.insert(0, printed.getvalue())
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("grade"):
            results[grade_id] = outputs
    return results


def _mistake_notebooks(root, chapter):
    """The release notebook solved, then with the chapter's classic student mistakes, at most one per cell."""
    from autograder.cases import student_mistakes
    from autograder.grading.simulate import solved_notebook

    solved = solved_notebook(root, chapter)
    notebooks = [("solved", solved)]
    wrong = nbformat.reads(nbformat.writes(solved), as_version=4)
    used = set()
    for mistake in student_mistakes(chapter):
        if mistake.cell in used:
            continue
        used.add(mistake.cell)
        for cell in wrong.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == mistake.cell:
                cell.source = mistake.code.strip("\n")
    if used:
        notebooks.append(("mistakes", wrong))
    return notebooks


def test_every_release_notebook_runs_unchanged_and_says_what_the_repository_says(bundle):
    from autograder.grading.course import chapters

    root = bundle["root"]
    expected, paths = {}, []
    for chapter in chapters(root):
        for kind, notebook in _mistake_notebooks(root, chapter):
            path = bundle["env"] / f"{chapter}-{kind}.ipynb"
            nbformat.write(notebook, path)
            paths.append(str(path))
            expected[str(path)] = _run_in_repository(notebook)
    got = _in_student_env(bundle, RUN_NOTEBOOKS, *paths)
    for path in paths:
        for grade_id, outputs in expected[path].items():
            # a kernel may send one printed line as several stream messages: compare the text
            said, outputs = "".join(got[path][grade_id]), "".join(outputs)
            if grade_id.endswith("_hidden") or not outputs:
                continue  # the release has no hidden test; the bundle's hidden=True only says when they run
            if "-solved" in path:
                assert said == outputs and "Error" not in said, (path, grade_id, said)
            else:
                assert said == outputs, (path, grade_id, said, outputs)
    mistakes_named = sum("classic mistake" in " ".join(o) for p in paths if "-mistakes" in p for o in got[p].values())
    assert mistakes_named >= 5


def test_hidden_checks_in_the_bundle_are_no_oracle(bundle):
    code = ("import json, numpy as np\nfrom autograder.checking import check, check_answer\n"
            "import io, contextlib\nout = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    check(lambda x, axis=-1: np.zeros_like(x), 'softmax', hidden=True)\n"
            "    check_answer(0.123, 'p_first_class', hidden=True)\n"
            "    check_answer(0.8360188027814407, 'p_first_class', hidden=True)\n"
            "print(json.dumps(out.getvalue().splitlines()))")
    lines = _in_student_env(bundle, code)
    assert lines == ["softmax: the hidden tests run when your instructor grades the notebook.",
                     "p_first_class: the hidden tests run when your instructor grades the notebook.",
                     "p_first_class: the hidden tests run when your instructor grades the notebook."]


def test_the_bundle_holds_no_reference_no_hidden_case_and_no_answer(bundle):
    from autograder import cases as registry
    from autograder.calling import plain
    from autograder.checking import NOTEBOOK_HIDDEN_SEED
    from autograder.grading.course import chapters

    probe = _in_student_env(bundle, PROBE)
    assert str(bundle["env"]) in probe["file"]
    assert set(probe["blocked"]) == {"autograder.softmax", "autograder.cases", "autograder.grading",
                                     "autograder.self_attention"}
    graded = {case_set.name for chapter in chapters(bundle["root"]) if registry.chapter_module(chapter)
              for case_set in registry.chapter_module(chapter).CASE_SETS}
    defined = {name for names in probe["modules"].values() for name in names}
    assert not graded & defined, "a graded function's name resolves to a function in the bundle"

    with zipfile.ZipFile(bundle["wheel"]) as wheel:
        names = wheel.namelist()
        files = {name: wheel.read(name) for name in names}
    assert sorted(n for n in names if n.startswith("autograder/")) == [
        "autograder/__init__.py", "autograder/bundled.py", "autograder/calling.py", "autograder/checking.py",
        "autograder/diagnosis.py", "autograder/inputs.py", "autograder/visible_cases.json"]
    haystack = _haystack(json.loads(files["autograder/visible_cases.json"]))
    for chapter in chapters(bundle["root"]):
        module = registry.chapter_module(chapter)
        for answer in module.ANSWERS if module else ():
            value = plain(answer.expected()).ravel()
            assert not _contains(haystack, value), f"the answer {answer.name} is in the bundle"
        for case_set in module.CASE_SETS if module else ():
            for seed in (NOTEBOOK_HIDDEN_SEED, 0, 1):
                for case in case_set.hidden_cases(seed):
                    for argument in case.args:
                        if isinstance(argument, np.ndarray) and argument.size >= 4 and argument.dtype.kind == "f":
                            assert not _contains(haystack, argument.ravel()), case.label
    text = "\n".join(data.decode("utf-8", "replace") for data in files.values())
    assert "### BEGIN SOLUTION" not in text
    assert not re.search(r"def _?\w*_hidden\(", text), "a hidden-case generator is in the bundle"


def _haystack(data):
    """Every array in the wire data (visible inputs, expected outputs, mistakes' outputs), flattened one after
    the other with a nan between two, so that no run of values spans two arrays."""
    from autograder.calling import from_wire
    found = []

    def walk(value):
        if isinstance(value, dict):
            if set(value) == {"ndarray"}:
                found.extend([np.asarray(from_wire(value), dtype=float).ravel(), np.full(1, np.nan)])
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(data)
    return np.concatenate(found)


def _contains(haystack, value):
    """Whether ``value`` appears in ``haystack`` as a run of consecutive elements. Numbers of three decimals
    or fewer (0.25, -0.6, 2480, an identity matrix) appear in many honest cases and say nothing."""
    if np.all(np.abs(value - np.round(value, 3)) < 1e-12) or value.size > haystack.size:
        return False
    starts = np.flatnonzero(np.isclose(haystack[:haystack.size - value.size + 1], value[0], rtol=0, atol=1e-9))
    return any(np.allclose(haystack[start:start + value.size], value, rtol=0, atol=1e-9) for start in starts)
