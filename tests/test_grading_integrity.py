"""The threats of the grading-integrity issue, each handed in as a real submission and graded end to end.

One course, one class, one `grade` run for the whole module: every student below attacks the
grader in one way, and each test reads what the gradebook, the graded notebook and the grading
record say about that student. The honest parts of every attacking notebook are the source's
solutions, so "no points gained" means: exactly the points of the honest questions.
"""

import ast
import hashlib
import inspect
import os
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from grading_support import (CHAPTER, add_cell_after, cell, grade, gradebook_scores, graded_outputs, hand_in,
                             lost_cells, record, released_course, solved_notebook)

pytestmark = pytest.mark.nbgrader

TIMEOUT = 6.0
WRONG_SOFTMAX = "def softmax(x, axis=-1):\n    return np.zeros_like(np.asarray(x, dtype=float))\n"
SOFTMAX_TESTS = ["test_softmax", "test_softmax_hidden"]


def _edited(root, edit):
    notebook = solved_notebook(root)
    edit(notebook)
    return notebook


def _set(grade_id, source):
    def edit(notebook):
        cell(notebook, grade_id).source = source
    return edit


def _class(root):
    """{student: notebook or raw bytes} of the attacking class."""
    notebooks = {}

    def edit_tests(notebook):
        cell(notebook, "test_softmax").source = "print('softmax: all 5 visible cases pass.')"
        cell(notebook, "test_softmax_hidden").source = ""
        notebook.cells.remove(cell(notebook, "test_log_softmax"))
        notebook.cells.remove(cell(notebook, "test_log_softmax_hidden"))
        cell(notebook, "test_softmax_jacobian").metadata["nbgrader"]["points"] = 100
        cell(notebook, "test_cross_entropy_loss_and_grad").metadata["nbgrader"]["solution"] = True
    notebooks["edits-tests"] = _edited(root, edit_tests)

    def wrong_without_tests(notebook):
        cell(notebook, "softmax").source = WRONG_SOFTMAX
        for grade_id in SOFTMAX_TESTS:
            notebook.cells.remove(cell(notebook, grade_id))
    notebooks["wrong-deletes-tests"] = _edited(root, wrong_without_tests)

    notebooks["patches-everything"] = add_cell_after(_edited(root, _set("softmax", WRONG_SOFTMAX)), "imports", textwrap.dedent("""
        import builtins, numpy.testing
        import autograder.checking as checking
        np.allclose = lambda *args, **kwargs: True
        np.array_equal = lambda *args, **kwargs: True
        np.isfinite = lambda x: np.ones(np.shape(x), dtype=bool)
        numpy.testing.assert_allclose = lambda *args, **kwargs: None
        checking.check = lambda *args, **kwargs: print("all cases pass")
        checking.judge = lambda *args, **kwargs: None
        builtins.AssertionError = Warning
        """))

    notebooks["silences-errors"] = add_cell_after(_edited(root, _set("softmax", WRONG_SOFTMAX)), "imports", textwrap.dedent("""
        import sys
        sys.excepthook = lambda *args: None
        ip = get_ipython()
        ip.showtraceback = lambda *args, **kwargs: None
        ip.set_custom_exc((Exception,), lambda *args, **kwargs: None)
        """))

    notebooks["imports-reference"] = _edited(root, _set("softmax", "from autograder.softmax import softmax\n"))
    notebooks["calls-reference"] = _edited(root, _set("log_softmax", textwrap.dedent('''
        def log_softmax(x, axis=-1):
            from autograder import softmax as reference
            return reference.log_softmax(x, axis)
        ''')))

    class_of_liars = textwrap.dedent('''
        class Liar(np.ndarray):
            def __eq__(self, other):
                return np.ones(np.shape(other), dtype=bool)
            def __array_ufunc__(self, *args, **kwargs):
                return np.zeros(3).view(Liar)
        def softmax(x, axis=-1):
            return np.zeros_like(np.asarray(x, dtype=float)).view(Liar)
        ''')
    notebooks["lies-about-equality"] = _edited(root, _set("softmax", class_of_liars))

    notebooks["loops-forever"] = _edited(root, _set("log_softmax", "def log_softmax(x, axis=-1):\n    while True:\n        pass\n"))
    notebooks["sleeps"] = add_cell_after(solved_notebook(root), "test_softmax_hidden", "import time\ntime.sleep(3600)")
    notebooks["allocates"] = add_cell_after(solved_notebook(root), "imports",
                                            "hoard = []\nwhile True:\n    hoard.append(np.ones(2**20))")
    notebooks["calls-sys-exit"] = add_cell_after(solved_notebook(root), "imports", "import sys\nsys.exit('bye')")
    notebooks["calls-os-exit"] = add_cell_after(solved_notebook(root), "test_log_softmax_hidden", "import os\nos._exit(0)")
    notebooks["crashes"] = add_cell_after(solved_notebook(root), "test_log_softmax_hidden",
                                          "import faulthandler\nfaulthandler._sigsegv()")

    spy = textwrap.dedent(f"""
        import os
        found = []
        for path in [{str(root / "solutions" / CHAPTER / "softmax.ipynb")!r}, {str(root / "gradebook.db")!r},
                     {str(root / ".grading_secret")!r}, "link-to-gradebook.db"]:
            try:
                found.append(open(path, "rb").read(10))
            except OSError as error:
                print(type(error).__name__, path)
        for attack in [lambda: open({str(root / "gradebook.db")!r}, "ab").write(b"x"),
                       lambda: os.remove({str(root / "gradebook.db")!r}),
                       lambda: os.listdir({str(root)!r}),
                       lambda: open("../../escaped.txt", "w").write("x")]:
            try:
                attack()
            except OSError as error:
                print(type(error).__name__)
        """)
    notebooks["reads-and-writes-course"] = add_cell_after(solved_notebook(root), "imports", spy)

    noisy = textwrap.dedent('''
        import sys, warnings
        def softmax(x, axis=-1):
            print("computing softmax", file=sys.stderr)
            warnings.warn("a harmless warning", RuntimeWarning)
            np.log(np.zeros(1))
            x = np.asarray(x, dtype=np.float64)
            exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
            return exps / np.sum(exps, axis=axis, keepdims=True)
        print("defined", file=sys.stderr)
        ''')
    notebooks["correct-but-noisy"] = _edited(root, _set("softmax", noisy))

    def claims_pass(notebook):
        cell(notebook, "softmax").source = WRONG_SOFTMAX
        claimed = cell(notebook, "test_softmax")
        claimed.execution_count = 4
        claimed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="softmax: all 5 visible cases pass.\n")]
    notebooks["claims-pass"] = _edited(root, claims_pass)
    # honest code may import a module nobody imported yet: the search must stay inside Python's own folders
    notebooks["honest"] = _edited(root, lambda notebook: setattr(
        cell(notebook, "softmax"), "source", "import colorsys\n" + cell(notebook, "softmax").source))
    notebooks["uses-magics"] = _edited(root, lambda notebook: setattr(
        cell(notebook, "softmax"), "source", "%matplotlib inline\n!pip install numpy\n" + cell(notebook, "softmax").source))

    notebooks["malformed-json"] = b'{"cells": [{"cell_type": "code", "source": '
    notebooks["empty-file"] = b""
    return notebooks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class handed in and graded once; the course root, the summary and the grading time."""
    root = released_course(tmp_path_factory.mktemp("integrity") / "course")
    for student, content in _class(root).items():
        if isinstance(content, bytes):
            hand_in(root, student, raw=content)
        else:
            hand_in(root, student, content)
    hand_in(root, "renamed-notebook", solved_notebook(root), name="softmax (1).ipynb")
    hand_in(root, "no-notebook")
    os.symlink(root / "gradebook.db", root / "submitted" / "reads-and-writes-course" / CHAPTER / "link-to-gradebook.db")
    protected = {path: _digest(path) for path in [root / "solutions" / CHAPTER / "softmax.ipynb"]}
    started = time.monotonic()
    working_folder = os.getcwd()
    os.chdir(root)  # as an instructor runs it: from the course root
    try:
        summary = grade(root, timeout=TIMEOUT)
    finally:
        os.chdir(working_folder)
    return root, summary, time.monotonic() - started, protected


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _full(root):
    return record(root, "honest")["max_score"]


def test_an_honest_submission_gets_full_marks(graded):
    root, *_ = graded
    assert record(root, "honest")["score"] == _full(root) > 0
    assert lost_cells(root, "honest") == []
    assert record(root, "honest")["flags"] == []


def test_edited_emptied_deleted_tests_and_changed_points_are_graded_as_untouched(graded):
    root, *_ = graded
    assert lost_cells(root, "edits-tests") == []
    assert record(root, "edits-tests")["max_score"] == _full(root)
    notes = " ".join(record(root, "edits-tests")["notebooks"]["softmax"]["notes"])
    for said in ("test_softmax was edited", "test_softmax_hidden was emptied", "test_log_softmax was deleted",
                 "points of test_softmax_jacobian were changed"):
        assert said in notes
    assert lost_cells(root, "wrong-deletes-tests") == SOFTMAX_TESTS
    assert "CheckFailed" in [o.get("ename") for o in graded_outputs(root, "wrong-deletes-tests", "test_softmax")]


@pytest.mark.parametrize("student", ["patches-everything", "silences-errors", "lies-about-equality"])
def test_patching_silencing_or_lying_gains_nothing(graded, student):
    root, *_ = graded
    assert lost_cells(root, student) == SOFTMAX_TESTS
    assert record(root, student)["score"] == _full(root) - 3


def test_importing_the_reference_earns_nothing_and_is_flagged(graded):
    root, summary, *_ = graded
    assert lost_cells(root, "imports-reference") == SOFTMAX_TESTS
    assert lost_cells(root, "calls-reference") == ["test_log_softmax", "test_log_softmax_hidden"]
    for student, question in [("imports-reference", "softmax"), ("calls-reference", "log_softmax")]:
        flags = [f for f in record(root, student)["flags"] if f["kind"] == "imported the reference"]
        assert [f["question"] for f in flags] == [question]
        assert any(row.student == student and row.flags for row in summary.rows)


def test_a_copy_of_the_reference_earns_nothing_and_is_flagged(graded, tmp_path_factory):
    """A reference function pasted into the notebook (its docstring replaced) loses its question."""
    from autograder.cases import case_set
    from autograder.grading.assignments import COPY_CHECK_MIN_STATEMENTS, function_signature, functions_defined

    root, *_ = graded
    candidates = []
    for name in ("softmax", "log_softmax", "softmax_jacobian", "cross_entropy_loss_and_grad"):
        reference = functions_defined(textwrap.dedent(inspect.getsource(case_set(name).reference)))[0]
        own = {function_signature(f) for f in functions_defined(cell(solved_notebook(root), name).source)}
        # body[0] is the docstring; statements nested in loops would only add to the count
        if function_signature(reference) not in own and len(reference.body) - 1 >= COPY_CHECK_MIN_STATEMENTS:
            candidates.append((name, reference))
    assert candidates, "every reference of chapter 3 equals its solution: copies cannot be told from answers"
    name, reference = candidates[0]
    reference.body[0] = ast.Expr(ast.Constant("My own work, honestly."))
    notebook = solved_notebook(root)
    cell(notebook, name).source = ast.unparse(reference)
    hand_in(root, "copies-reference", notebook)
    grade(root, students=["copies-reference"], timeout=TIMEOUT)
    flags = [f for f in record(root, "copies-reference")["flags"] if f["kind"] == "copied the reference"]
    assert [f["question"] for f in flags] == [name]
    assert "statements or more" in flags[0]["message"]
    assert lost_cells(root, "copies-reference") == [f"test_{name}", f"test_{name}_hidden"]


def test_endless_loops_sleep_and_memory_hogs_are_stopped_and_the_class_is_graded(graded):
    root, summary, seconds, _ = graded
    # an hour of sleep and an endless loop cost the time limit each, not the hour (a loaded CI machine
    # may be slow at everything else, hence the margin)
    assert seconds < 2 * TIMEOUT + 90
    loops = record(root, "loops-forever")["notebooks"]["softmax"]
    assert "time limit" in loops["stopped"]
    assert loops["tests"]["test_softmax"]["passed"] and not loops["tests"]["test_log_softmax"]["passed"]
    sleeps = record(root, "sleeps")
    assert "time limit" in sleeps["notebooks"]["softmax"]["stopped"]
    assert lost_cells(root, "sleeps") and "test_softmax" not in lost_cells(root, "sleeps")
    assert lost_cells(root, "allocates") == []
    assert "MemoryError" in (root / "autograded" / "allocates" / CHAPTER / "softmax.ipynb").read_text()
    assert all(row.status != "failed" for row in summary.rows if row.student not in
               ("malformed-json", "empty-file", "renamed-notebook", "no-notebook"))


def test_exit_and_crashes_are_graded_as_far_as_they_got(graded):
    root, *_ = graded
    assert lost_cells(root, "calls-sys-exit") == []
    for student in ("calls-os-exit", "crashes"):
        lost = lost_cells(root, student)
        assert "test_softmax" not in lost and "test_log_softmax_hidden" not in lost
        assert "test_softmax_jacobian" in lost and "test_p_first_class_hidden" in lost
        stopped = record(root, student)["notebooks"]["softmax"]["stopped"]
        assert ("SIGSEGV" in stopped) if student == "crashes" else ("exited" in stopped)
        assert graded_outputs(root, student, "test_softmax_jacobian")[-1]["ename"] == "NotRun"


def test_reading_or_writing_the_course_is_refused_and_nothing_is_corrupted(graded):
    root, summary, _, protected = graded
    assert lost_cells(root, "reads-and-writes-course") == []
    notebook = (root / "autograded" / "reads-and-writes-course" / CHAPTER / "softmax.ipynb").read_text()
    assert notebook.count("PermissionError") >= 6 and "FileNotFoundError" in notebook
    refused = [f["message"] for f in record(root, "reads-and-writes-course")["flags"] if f["kind"] == "refused"]
    assert any("gradebook.db" in message for message in refused)
    assert not Path("/escaped.txt").exists() and not (root / "escaped.txt").exists()
    assert {path: _digest(path) for path in protected} == protected
    assert gradebook_scores(root, "honest") is not None  # the gradebook still reads


@pytest.mark.parametrize("student, reason", [
    ("malformed-json", "not a readable notebook"), ("empty-file", "is empty"),
    ("renamed-notebook", "found softmax (1).ipynb (renamed?)"), ("no-notebook", "softmax.ipynb is missing"),
])
def test_unreadable_submissions_get_a_clear_error_row_and_nothing_else(graded, student, reason):
    root, summary, *_ = graded
    row = next(row for row in summary.rows if row.student == student)
    assert row.status == "failed" and reason in row.reason
    assert record(root, student)["status"] == "failed"
    assert gradebook_scores(root, student) is None
    assert not (root / "autograded" / student).exists()


def test_a_correct_solution_that_writes_to_stderr_and_warns_gets_full_marks(graded):
    root, *_ = graded
    assert lost_cells(root, "correct-but-noisy") == []
    outputs = graded_outputs(root, "correct-but-noisy", "softmax")
    assert [o["name"] for o in outputs if o["output_type"] == "stream"] == ["stderr"]


def test_a_notebook_whose_outputs_disagree_with_the_grader_is_reported(graded):
    from autograder.grading.engine import summary_lines

    root, summary, *_ = graded
    mismatches = record(root, "claims-pass")["mismatches"]
    assert {"notebook": "softmax", "cell": "test_softmax", "notebook_said": "passed", "grader": "failed"} in mismatches
    assert lost_cells(root, "claims-pass") == SOFTMAX_TESTS
    assert any("MISMATCH" in line and "claims-pass" in line for line in summary_lines(summary))
    assert record(root, "honest")["mismatches"] == []


def test_ipython_magics_are_skipped_with_a_note_and_the_code_around_them_runs(graded):
    root, *_ = graded
    assert lost_cells(root, "uses-magics") == []
    notes = "".join(o["text"] for o in graded_outputs(root, "uses-magics", "softmax") if o["output_type"] == "stream")
    assert "does not run IPython magics: %matplotlib inline" in notes and "shell commands: !pip install numpy" in notes
