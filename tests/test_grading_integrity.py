"""The threats of the grading-integrity issues, each handed in as a real submission and graded end to end.

One course, one class, one `grade` run for the whole module. First the honest students alone are
graded (the baseline); then every attacker below hands in beside them and the whole class is
graded again. Each test reads what the gradebook, the graded notebook and the grading record say:
an attacker gains nothing, reads nothing secret, and every honest student gets exactly the grade
of the baseline. The honest parts of every attacking notebook are the source's solutions, so "no
points gained" means: exactly the points of the honest questions.
"""

import ast
import hashlib
import inspect
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy
import pytest

from grading_support import (CHAPTER, add_cell_after, cell, grade, gradebook_scores, graded_outputs, hand_in,
                             lost_cells, record, released_course, solved_notebook)

pytestmark = pytest.mark.nbgrader

TIMEOUT = 6.0
#: small enough that a memory hog reaches it well within the time limit on a loaded machine
MEMORY_MB = 768
WRONG_SOFTMAX = "def softmax(x, axis=-1):\n    return np.zeros_like(np.asarray(x, dtype=float))\n"
SOFTMAX_TESTS = ["test_softmax", "test_softmax_hidden"]
SITE_PACKAGES = [Path(numpy.__file__).resolve().parents[1],
                 Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"]
LINGER_MARKER = "linger-marker-3f9a"


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

    notebooks["memorises-visible-outputs"] = _edited(root, _set("softmax", _memorised_softmax()))

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


def _memorised_softmax():
    """A softmax that looks the notebook's visible inputs up in a table of their outputs, zeros otherwise."""
    from autograder.cases import case_set
    from autograder.checking import expected_output
    softmax = case_set("softmax")
    table = [(case.args[0].tolist(), case.args[1] if len(case.args) > 1 else case.kwargs.get("axis", -1),
              expected_output(softmax, case).tolist()) for case in softmax.visible()]
    return textwrap.dedent(f"""
        TABLE = {table!r}
        def softmax(x, axis=-1):
            for inputs, axis_seen, output in TABLE:
                if np.shape(x) == np.shape(inputs) and np.array_equal(x, inputs) and axis == axis_seen:
                    return np.array(output)
            return np.zeros_like(np.asarray(x, dtype=float))
        """)


def _honest_class(root):
    """Students who only answer: their grades must not move when attackers hand in beside them."""
    return {"honest": solved_notebook(root),
            "honest-wrong-softmax": _edited(root, _set("softmax", WRONG_SOFTMAX)),
            "honest-stops-early": _edited(root, _set("log_softmax", "raise ValueError('not done yet')"))}


def _operating_system_attacks(root):
    """{student: notebook}: the routes around a Python-level sandbox, each tried from a notebook."""
    course = {"root": str(root), "gradebook": str(root / "gradebook.db"), "secret": str(root / ".grading_secret"),
              "solution": str(root / "solutions" / CHAPTER / "softmax.ipynb"),
              "records": str(root / "reports" / "grading" / CHAPTER)}
    paths = textwrap.dedent(f"""
        import glob, os, sys
        COURSE = {course!r}
        SITES = {[str(p) for p in SITE_PACKAGES]!r}
        """)
    attacks = {}

    # 1. the Python-level observers, switched off three ways, then the reference and the secrets
    attacks["switches-off-observers"] = _edited(root, _set("softmax", paths + textwrap.dedent("""
        import gc
        from importlib.abc import MetaPathFinder
        runner = get_ipython.run_line_magic.__func__.__globals__
        runner["_Attempts"].imports = []
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, MetaPathFinder)]
        for found in gc.get_objects():
            if isinstance(found, MetaPathFinder) and found in sys.meta_path:
                sys.meta_path.remove(found)
        for kind in object.__subclasses__():
            if kind.__name__ == "_ImportRecorder":
                kind.find_spec = lambda *args, **kwargs: None
        sys.modules.pop("autograder.checking", None)
        leaked = []
        for path in [COURSE["secret"], COURSE["gradebook"], COURSE["solution"], "/proc/1/cwd/.grading_secret",
                     "/proc/1/root" + COURSE["secret"], *glob.glob("/proc/*/cwd/gradebook.db")]:
            try:
                leaked.append(open(path, "rb").read(200))
            except OSError:
                pass
        print("LEAKED", leaked)
        try:
            from autograder.softmax import softmax
        except ImportError:
            def softmax(x, axis=-1):
                return np.zeros_like(np.asarray(x, dtype=float))
        """)))

    # 2. C-level routes the audit hook never saw: sqlite3, mkfifo, dir_fd writes, prlimit, pidfd
    attacks["rewrites-the-gradebook"] = add_cell_after(solved_notebook(root), "imports", paths + textwrap.dedent("""
        import sqlite3
        for path in [COURSE["gradebook"], *glob.glob("/proc/*/cwd/gradebook.db")]:
            try:
                db = sqlite3.connect(path)
                db.execute("update grade set manual_score = 0")
                db.execute("update grade_cells set max_score = 50")
                db.commit()
                print("WROTE", path)
            except Exception as error:
                print(type(error).__name__)
        """))
    attacks["plants-pipes-and-pth"] = add_cell_after(solved_notebook(root), "imports", paths + textwrap.dedent("""
        for target in [COURSE["records"] + "/zz-fifo.json", COURSE["root"] + "/zz-fifo"]:
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.mkfifo(target)
            except OSError as error:
                print(type(error).__name__)
        for folder in SITES:
            try:
                handle = os.open(folder, os.O_RDONLY)
                written = os.open("zz_attack.pth", os.O_WRONLY | os.O_CREAT, dir_fd=handle)
                os.write(written, b"import os; os.system('touch /tmp/zz-pwned')\\n")
            except OSError as error:
                print(type(error).__name__)
        """))
    attacks["signals-everyone"] = add_cell_after(solved_notebook(root), "test_cross_entropy_loss_and_grad_hidden",
                                                 paths + textwrap.dedent("""
        import resource, signal
        pids = {os.getppid(), 1} | {int(p) for p in os.listdir("/proc") if p.isdigit()}
        for pid in sorted(pids - {os.getpid()}):
            for attack in (lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, 0)),
                           lambda: signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGKILL),
                           lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    attack()
                except OSError as error:
                    print(type(error).__name__)
        """))
    attacks["leaves-a-process"] = add_cell_after(solved_notebook(root), "imports", paths + textwrap.dedent(f"""
        import subprocess
        command = [sys.executable, "-c", "import time; time.sleep(600)  # {LINGER_MARKER}"]
        for start in (lambda: subprocess.Popen(command), lambda: os.fork(), lambda: os.posix_spawn(command[0], command, {{}})):
            try:
                start()
            except OSError as error:
                print(type(error).__name__)
        try:
            import _posixsubprocess
            _posixsubprocess.fork_exec(command, [sys.executable.encode()], True, (), None, None, -1, -1, -1, -1, -1, -1,
                                       -1, -1, False, False, None, None, None, -1, None, False)
        except (OSError, TypeError, ValueError) as error:
            print(type(error).__name__)
        """))

    # 3. what crosses back: forged, malformed and oversized records on every descriptor it holds
    forged = textwrap.dedent("""
        import json, os
        lines = [{"cell": -100000, "outputs": []}, {"harness_error": "an error of the grader, not of the notebook"},
                 {"cell": 4, "call": 0, "outcomes": "everything passed"}, {"cell": 10**9, "call": 10**9},
                 {"ready": True}, {"done": True}]
        payload = b"".join(json.dumps(line).encode() + b"\\n" for line in lines) + b"[" * 100000 + b"\\n"
        for fd in range(3, 30):
            try:
                os.write(fd, payload)
            except OSError:
                pass
        """)
    attacks["forges-records"] = add_cell_after(_edited(root, _set("softmax", WRONG_SOFTMAX)), "imports", forged)
    attacks["floods-records"] = add_cell_after(_edited(root, _set("softmax", WRONG_SOFTMAX)), "test_softmax_hidden",
                                               "import os\nfor fd in range(3, 30):\n    try:\n        "
                                               "os.write(fd, b'x' * 40 * 2**20)\n    except OSError:\n        pass")

    # 4. hostile metadata, parser bombs and magic floods
    def hostile_metadata(notebook):
        added = nbformat.v4.new_code_cell("x = 1")
        added.metadata["nbgrader"] = {"grade_id": ["test_softmax"], "grade": True, "points": 1e9}
        notebook.cells.insert(3, added)
        other = nbformat.v4.new_code_cell("y = 2")
        other.metadata["nbgrader"] = {"grade_id": {"a": 1}, "solution": True}
        notebook.cells.insert(3, other)
    attacks["hostile-metadata"] = _edited(root, hostile_metadata)
    attacks["parser-bomb"] = add_cell_after(solved_notebook(root), "imports",
                                            "x = " + "1 + " * 100_000 + "1\ny = " + "(" * 150 + "1" + ")" * 150)
    attacks["deep-parser-bomb"] = add_cell_after(solved_notebook(root), "imports", "x = " + "1 + " * 20_000 + "1")
    attacks["magic-flood"] = add_cell_after(solved_notebook(root), "imports", "%time x\n" * 3000 + "x = 1")
    return attacks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The honest class graded alone, then beside every attacker: the course, the summary, the time."""
    root = released_course(tmp_path_factory.mktemp("integrity") / "course")
    honest = _honest_class(root)
    for student, notebook in honest.items():
        hand_in(root, student, notebook)
    working_folder = os.getcwd()
    os.chdir(root)  # as an instructor runs it: from the course root
    try:
        grade(root, timeout=TIMEOUT, memory_mb=MEMORY_MB)
        baseline = {student: gradebook_scores(root, student) for student in honest}
        for student, content in {**_class(root), **_operating_system_attacks(root)}.items():
            if isinstance(content, bytes):
                hand_in(root, student, raw=content)
            else:
                hand_in(root, student, content)
        hand_in(root, "renamed-notebook", solved_notebook(root), name="softmax (1).ipynb")
        hand_in(root, "no-notebook")
        hand_in(root, "bad-timestamp", solved_notebook(root), timestamp="the day after tomorrow")
        odd_files = hand_in(root, "odd-file-names", solved_notebook(root))
        (odd_files / os.fsdecode(b"data-\xff\xfe.bin")).write_bytes(b"not UTF-8")
        os.mkfifo(odd_files / "a-pipe")
        os.symlink(root / "gradebook.db", root / "submitted" / "reads-and-writes-course" / CHAPTER / "link-to-gradebook.db")
        protected = {path: _digest(path) for path in [root / "solutions" / CHAPTER / "softmax.ipynb", root / ".grading_secret"]}
        started = time.monotonic()
        summary = grade(root, timeout=TIMEOUT, memory_mb=MEMORY_MB, force=True)
        seconds = time.monotonic() - started
    finally:
        os.chdir(working_folder)
    return SimpleNamespace(root=root, summary=summary, seconds=seconds, protected=protected, baseline=baseline)


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _full(root):
    return record(root, "honest")["max_score"]


def test_an_honest_submission_gets_full_marks(graded):
    root = graded.root
    assert record(root, "honest")["score"] == _full(root) > 0
    assert lost_cells(root, "honest") == []
    assert record(root, "honest")["flags"] == []


def test_edited_emptied_deleted_tests_and_changed_points_are_graded_as_untouched(graded):
    root = graded.root
    assert lost_cells(root, "edits-tests") == []
    assert record(root, "edits-tests")["max_score"] == _full(root)
    notes = " ".join(record(root, "edits-tests")["notebooks"]["softmax"]["notes"])
    for said in ("test_softmax was edited", "test_softmax_hidden was emptied", "test_log_softmax was deleted",
                 "points of test_softmax_jacobian were changed"):
        assert said in notes
    assert lost_cells(root, "wrong-deletes-tests") == SOFTMAX_TESTS
    assert "CheckFailed" in [o.get("ename") for o in graded_outputs(root, "wrong-deletes-tests", "test_softmax")]


@pytest.mark.parametrize("student", ["patches-everything", "silences-errors", "lies-about-equality",
                                     "memorises-visible-outputs"])
def test_patching_silencing_or_lying_gains_nothing(graded, student):
    root = graded.root
    assert lost_cells(root, student) == SOFTMAX_TESTS
    assert record(root, student)["score"] == _full(root) - 3


def test_importing_the_reference_earns_nothing_and_is_flagged(graded):
    root, summary = graded.root, graded.summary
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

    root = graded.root
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
    grade(root, students=["copies-reference"], timeout=TIMEOUT, memory_mb=MEMORY_MB)
    flags = [f for f in record(root, "copies-reference")["flags"] if f["kind"] == "copied the reference"]
    assert [f["question"] for f in flags] == [name]
    assert "statements or more" in flags[0]["message"]
    assert lost_cells(root, "copies-reference") == [f"test_{name}", f"test_{name}_hidden"]


def test_endless_loops_sleep_and_memory_hogs_are_stopped_and_the_class_is_graded(graded):
    root, summary = graded.root, graded.summary
    # an hour of sleep and endless loops cost the time limit each, not the hour (a loaded CI machine
    # may be slow at everything else, hence the margin)
    assert graded.seconds < 4 * TIMEOUT + 120
    loops = record(root, "loops-forever")["notebooks"]["softmax"]
    assert "time limit" in loops["stopped"]
    assert loops["tests"]["test_softmax"]["passed"] and not loops["tests"]["test_log_softmax"]["passed"]
    sleeps = record(root, "sleeps")
    assert "time limit" in sleeps["notebooks"]["softmax"]["stopped"]
    assert lost_cells(root, "sleeps") and "test_softmax" not in lost_cells(root, "sleeps")
    assert lost_cells(root, "allocates") == []
    assert "MemoryError" in (root / "autograded" / "allocates" / CHAPTER / "softmax.ipynb").read_text()
    assert all(row.status != "failed" for row in summary.rows if row.student not in
               ("malformed-json", "empty-file", "renamed-notebook", "no-notebook", "bad-timestamp"))


def test_exit_and_crashes_are_graded_as_far_as_they_got(graded):
    root = graded.root
    assert lost_cells(root, "calls-sys-exit") == []
    for student in ("calls-os-exit", "crashes"):
        lost = lost_cells(root, student)
        assert "test_softmax" not in lost and "test_log_softmax_hidden" not in lost
        assert "test_softmax_jacobian" in lost and "test_p_first_class_hidden" in lost
        stopped = record(root, student)["notebooks"]["softmax"]["stopped"]
        assert ("SIGSEGV" in stopped) if student == "crashes" else ("exited" in stopped)
        assert graded_outputs(root, student, "test_softmax_jacobian")[-1]["ename"] == "NotRun"


def test_reading_or_writing_the_course_finds_nothing_and_nothing_is_corrupted(graded):
    root = graded.root
    assert lost_cells(root, "reads-and-writes-course") == []
    outputs = _output_text(root, "reads-and-writes-course")
    assert outputs.count("FileNotFoundError") >= 6  # the course's files do not exist in the sandbox
    tried = [f["message"] for f in record(root, "reads-and-writes-course")["flags"] if f["kind"] == "refused"]
    assert any("gradebook.db was attempted" in message for message in tried)
    assert not Path("/escaped.txt").exists() and not (root / "escaped.txt").exists()
    assert {path: _digest(path) for path in graded.protected} == graded.protected
    assert gradebook_scores(root, "honest") is not None  # the gradebook still reads


@pytest.mark.parametrize("student, reason", [
    ("malformed-json", "not a readable notebook"), ("empty-file", "is empty"),
    ("renamed-notebook", "found softmax (1).ipynb (renamed?)"), ("no-notebook", "softmax.ipynb is missing"),
    ("bad-timestamp", "timestamp.txt is not a date"),
])
def test_unreadable_submissions_get_a_clear_error_row_and_nothing_else(graded, student, reason):
    root, summary = graded.root, graded.summary
    row = next(row for row in summary.rows if row.student == student)
    assert row.status == "failed" and reason in row.reason
    assert record(root, student)["status"] == "failed"
    assert gradebook_scores(root, student) is None
    assert not (root / "autograded" / student).exists()


def test_a_correct_solution_that_writes_to_stderr_and_warns_gets_full_marks(graded):
    root = graded.root
    assert lost_cells(root, "correct-but-noisy") == []
    outputs = graded_outputs(root, "correct-but-noisy", "softmax")
    assert [o["name"] for o in outputs if o["output_type"] == "stream"] == ["stderr"]


def test_a_notebook_whose_outputs_disagree_with_the_grader_is_reported(graded):
    from autograder.grading.engine import summary_lines

    root, summary = graded.root, graded.summary
    mismatches = record(root, "claims-pass")["mismatches"]
    assert {"notebook": "softmax", "cell": "test_softmax", "notebook_said": "passed", "grader": "failed"} in mismatches
    assert lost_cells(root, "claims-pass") == SOFTMAX_TESTS
    assert any("MISMATCH" in line and "claims-pass" in line for line in summary_lines(summary))
    assert record(root, "honest")["mismatches"] == []


def test_ipython_magics_are_skipped_with_a_note_and_the_code_around_them_runs(graded):
    root = graded.root
    assert lost_cells(root, "uses-magics") == []
    notes = "".join(o["text"] for o in graded_outputs(root, "uses-magics", "softmax") if o["output_type"] == "stream")
    assert "does not run IPython magics: %matplotlib inline" in notes and "shell commands: !pip install numpy" in notes


def _output_text(root, student):
    """Everything the graded notebook's cells printed, for ``student``."""
    notebook = nbformat.read(root / "autograded" / student / CHAPTER / "softmax.ipynb", as_version=4)
    return json.dumps([c.get("outputs", []) for c in notebook.cells])


def test_every_honest_student_gets_exactly_the_grade_they_get_without_the_attackers(graded):
    assert graded.baseline["honest"] and all(graded.baseline.values())
    for student, scores in graded.baseline.items():
        assert gradebook_scores(graded.root, student) == scores, student
    assert lost_cells(graded.root, "honest-wrong-softmax") == SOFTMAX_TESTS


def test_switching_off_the_python_observers_reads_nothing_and_gains_nothing(graded):
    root = graded.root
    assert lost_cells(root, "switches-off-observers") == SOFTMAX_TESTS
    outputs = _output_text(root, "switches-off-observers")
    assert "LEAKED []" in outputs
    secret = (root / ".grading_secret").read_text().strip()
    for student in os.listdir(root / "autograded"):
        text = _output_text(root, student)
        assert secret not in text and "SQLite format 3" not in text and "BEGIN SOLUTION" not in text, student


def test_c_level_routes_do_not_reach_the_gradebook_the_records_or_site_packages(graded):
    root = graded.root
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(CHAPTER)
        assert 50 not in {cell.max_score for notebook in assignment.notebooks for cell in notebook.grade_cells}
        submissions = assignment.submissions
        assert all(grade.manual_score is None for s in submissions for nb in s.notebooks for grade in nb.grades)
    assert "WROTE" not in _output_text(root, "rewrites-the-gradebook")
    assert lost_cells(root, "rewrites-the-gradebook") == []
    for folder in [root / "reports", root]:
        assert all(path.is_file() or path.is_dir() for path in folder.rglob("*") if "submitted" not in path.parts), folder
    assert not any((site / "zz_attack.pth").exists() for site in SITE_PACKAGES)
    assert not Path("/tmp/zz-pwned").exists()
    assert lost_cells(root, "plants-pipes-and-pth") == []


def test_signals_and_limits_reach_no_other_process_and_no_process_lingers(graded):
    root = graded.root
    assert lost_cells(root, "signals-everyone") == []
    # the grader survived and graded everyone after the attacker
    assert all(row.status in ("graded", "failed") for row in graded.summary.rows)
    lingering = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if LINGER_MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                lingering.append(pid)
        except OSError:
            pass
    assert lingering == []
    assert lost_cells(root, "leaves-a-process") == []
    assert "PermissionError" in _output_text(root, "leaves-a-process")


def test_forged_and_oversized_records_gain_nothing_and_stop_nothing(graded):
    from autograder.grading.engine import summary_lines

    root = graded.root
    for student in ("forges-records", "floods-records"):
        assert record(root, student)["status"] == "graded"
        assert set(SOFTMAX_TESTS) <= set(lost_cells(root, student))
    assert lost_cells(root, "forges-records") == SOFTMAX_TESTS
    lines = "\n".join(summary_lines(graded.summary))
    assert "an error of the grader, not of the notebook" not in lines
    assert "an error of the grader" not in json.dumps(record(root, "forges-records"))
    assert "reported more than" in record(root, "floods-records")["notebooks"]["softmax"]["stopped"]


@pytest.mark.parametrize("student", ["hostile-metadata", "parser-bomb", "deep-parser-bomb", "magic-flood", "odd-file-names"])
def test_hostile_metadata_file_names_parser_bombs_and_magic_floods_are_graded(graded, student):
    root = graded.root
    row = next(row for row in graded.summary.rows if row.student == student)
    assert row.status == "graded"
    assert record(root, student)["max_score"] == _full(root)
    assert lost_cells(root, student) == []
