"""The grading sandbox on its own: what a notebook running in it can see and do, and what the grader
accepts back from it. Jobs are sent straight to ``autograder.grading.sandbox`` (no course, no
nbgrader); ``test_grading_integrity.py`` hands the same attacks in as submissions."""

import base64
import io
import json
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.grading import sandbox
from autograder.grading.executors import LocalPool

LIMITS = {"timeout": 10.0, "memory_mb": 1024, "file_mb": 8}


def run(*sources, files=None, limits=LIMITS, sandboxed=True):
    """The outputs of each code cell of ``sources`` run in one sandbox, and the job's ending."""
    job = {"files": {name: base64.b64encode(data).decode() for name, data in (files or {}).items()},
           "limits": limits, "steps": [{"cell": i, "kind": "code", "source": s} for i, s in enumerate(sources)]}
    box = sandbox.Sandbox(sandboxed)
    try:
        result = box.run(job)
    finally:
        box.close()
    printed = ["".join(o.get("text", "") or o.get("evalue", "") or o.get("data", {}).get("text/plain", "")
                       for o in record["outputs"]) for record in result["records"]]
    return printed, result


def test_the_notebook_runs_as_an_unprivileged_user_alone_with_its_folder():
    printed, result = run(
        "import os\nprint(os.getuid(), os.getgid(), os.getcwd(), sorted(os.listdir('.')))",
        "status = open('/proc/self/status').read()\n"
        "print([line.split()[1] for line in status.splitlines() if line.startswith(('CapEff', 'NoNewPrivs'))])",
        "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))",
        "print(sorted(os.listdir('/')), os.path.exists('/tmp'), os.path.exists(os.path.expanduser('~root/.ssh')))",
        files={"data.csv": b"1,2\n"})
    assert result["ending"]["kind"] == "finished" and result["sandboxed"]
    assert printed[0] == "65534 65534 /work ['data.csv']\n"
    assert printed[1] == "['0000000000000000', '1']\n"  # no capability, no new privileges
    assert printed[2] == "['1', '2']\n"  # bwrap's init and the notebook: no other process is visible
    listing = printed[3]
    assert "'work'" in listing and "'home'" not in listing and "'etc'" not in listing and "False False" in listing


def test_no_course_file_no_installed_package_and_no_reference_is_reachable():
    project = Path(__file__).resolve().parents[1]
    printed, _ = run(
        f"import os\nprint([os.path.exists(p) for p in [{str(project)!r}, {str(project / 'autograder' / 'softmax.py')!r}, "
        f"{str(Path(np.__file__).parents[1])!r}]])",
        "import sys\nfound = []\nfor name in ('nbgrader', 'pytest', 'IPython', 'autograder.softmax', 'autograder.cases'):\n"
        "    try:\n        __import__(name)\n        found.append(name)\n    except ImportError:\n        pass\nprint(found)",
        "import autograder, os\nprint(sorted(os.listdir(os.path.dirname(autograder.__file__))))",
        "import site, os, sys\nprint([os.listdir(p) for p in sys.path if p.endswith('site-packages') and os.path.isdir(p)])")
    assert printed[0] == "[False, False, False]\n"
    assert printed[1] == "[]\n"
    assert printed[2] == "['__init__.py', 'calling.py', 'inputs.py']\n"
    assert printed[3] in ("[]\n", "[[]]\n")


def test_no_network_no_process_no_thread():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        printed, result = run(
            f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('connected')\n"
            "except OSError as error:\n    print(type(error).__name__)",
            "import os, subprocess, threading\nfor start in (os.fork, lambda: subprocess.run(['true']),\n"
            "              lambda: threading.Thread(target=print).start()):\n    try:\n        start()\n"
            "        print('started')\n    except (OSError, RuntimeError) as error:\n        print(type(error).__name__)")
    finally:
        server.close()
    assert printed[0] in ("ConnectionRefusedError\n", "OSError\n")
    assert printed[1] == "PermissionError\nPermissionError\nRuntimeError\n"
    assert any("os.fork was attempted" in m for m in result["records"][1]["denied"])


def test_scratch_space_and_files_are_capped_and_the_limits_cannot_be_raised():
    printed, _ = run(
        "import resource\nprint(resource.getrlimit(resource.RLIMIT_FSIZE))\n"
        "try:\n    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "    print('raised')\nexcept (ValueError, OSError) as error:\n    print(type(error).__name__)",
        "try:\n    open('big', 'wb').write(b'x' * 9 * 2**20)\n    print('written')\nexcept OSError as error:\n"
        "    print(type(error).__name__)")
    assert printed[0] == f"({8 * 2**20}, {8 * 2**20})\nValueError\n"
    assert printed[1] in ("OSError\n", "")  # the file-size limit (SIGXFSZ is ignored by Python: EFBIG)


def test_a_notebook_stopped_at_the_time_limit_leaves_no_process_behind():
    # a PID namespace is named the same inside and outside: no process may remain in the notebook's
    started = time.monotonic()
    printed, result = run("import os, time\nprint(os.readlink('/proc/self/ns/pid'), flush=True)",
                          "while True:\n    time.sleep(0.1)", limits=dict(LIMITS, timeout=5.0))
    assert result["ending"]["kind"] == "timeout" and time.monotonic() - started < 30
    namespace = printed[0].strip()
    assert namespace.startswith("pid:[") and namespace != os.readlink("/proc/self/ns/pid")
    time.sleep(0.5)
    assert [pid for pid in filter(str.isdigit, os.listdir("/proc")) if _pid_namespace(pid) == namespace] == []


def _pid_namespace(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def test_exits_and_crashes_are_told_apart_by_the_grader_not_by_the_notebook():
    _, exited = run("import os\nos._exit(7)")
    assert exited["ending"] == {"kind": "exited", "detail": "the notebook's process exited with code 7 "
                                                            "(sys.exit, os._exit or a crash)"}
    _, crashed = run("import faulthandler\nfaulthandler._sigsegv()")
    assert "SIGSEGV" in crashed["ending"]["detail"]


def _array(values, header_shape=None):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(values, dtype=float), allow_pickle=False)
    raw = buffer.getvalue()
    if header_shape is not None:
        raw = raw.replace(repr(np.shape(values)).encode(), repr(header_shape).encode().ljust(len(repr(np.shape(values)))))
    return {"ndarray": base64.b64encode(raw).decode()}


STEPS = [{"cell": 0, "kind": "code", "source": ""},
         {"cell": 1, "kind": "check", "calls": [{"function": "check", "target": "f", "cases": [{}, {}]}]}]


def _records(*records):
    return [json.dumps(r).encode() for r in ({"ready": True}, *records)]


def test_records_that_do_not_fit_the_job_are_dropped():
    outcome = {"outcome": [_array([1.0, 2.0]), None, {"tuple": []}, [], ""]}
    lines = _records({"cell": -100000, "outputs": []}, {"cell": 7, "outputs": []}, {"cell": 1, "call": 5},
                     {"harness_error": "an error of the grader"}, {"cell": 0, "outputs": [{"output_type": "display_data"}]},
                     {"cell": 0, "outputs": "again"}, {"cell": 1, "call": 0, "outcomes": [outcome, outcome]}) \
        + [b"[" * 100_000, b"{" * 50 + b"}" * 50, b"not json"]
    records, ready = sandbox.clean_records(lines, STEPS)
    assert ready
    assert [(r["cell"], r.get("call")) for r in records] == [(0, None), (1, 0)]
    assert records[0]["outputs"] == []  # an unknown output type is not kept
    assert records[1]["outcomes"][0]["outcome"][1] is None


def test_lying_arrays_and_attacker_chosen_messages_are_not_accepted():
    forged = {"cell": 1, "call": 0, "outcomes": [
        {"outcome": [_array([1.0, 2.0], header_shape=(10**6,)), None, {"tuple": []}, [], ""]},
        {"outcome": [{"ndarray": base64.b64encode(b"\x93NUMPY garbage").decode()}, None, {"tuple": []}, [], ""]}]}
    records, _ = sandbox.clean_records(_records(forged), STEPS)
    errors = [o["outcome"][1] for o in records[0]["outcomes"]]
    assert errors == ["your function returned something that is not numbers"] * 2
    problem, _ = sandbox.clean_records(_records({"cell": 1, "call": 0, "problem": "NameError", "name": "grader broke"}), STEPS)
    assert problem[0]["problem"] == "NameError: name 'f' is not defined"  # the grader's words, the job's name
    not_ready, ready = sandbox.clean_records([json.dumps({"cell": 0, "outputs": []}).encode()], STEPS)
    assert not ready and not_ready == []


def test_without_bubblewrap_grading_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None if name == "bwrap" else "/usr/bin/" + name)
    works, why = sandbox.sandbox_works()
    assert not works and "apt-get install bubblewrap" in why and "--unsandboxed" in why
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap"):
        LocalPool(1)


def test_unsandboxed_grading_runs_the_same_notebook_and_says_so():
    printed, result = run("import numpy\nprint(numpy.ones(3).sum())", sandboxed=False)
    assert printed == ["3.0\n"] and result["ending"]["kind"] == "finished" and result["sandboxed"] is False


def test_a_sandbox_starts_fast_enough_to_grade_a_class():
    box = sandbox.Sandbox()
    job = {"files": {}, "limits": LIMITS, "steps": [{"cell": 0, "kind": "code", "source": "x = 1"}]}
    try:
        box.run(job)  # the next process starts while this one's result is read
        started = time.monotonic()
        for _ in range(5):
            assert box.run(job)["ending"]["kind"] == "finished"
        per_job = (time.monotonic() - started) / 5
    finally:
        box.close()
    print(f"one sandboxed job: {per_job * 1000:.0f} ms")
    assert per_job < 2.0  # nbgrader autograde: about 2.5 s per notebook here; this is the generous bound


def test_an_unreachable_scheduler_is_a_one_line_error_within_seconds():
    from autograder.grading.executors import open_executor
    started = time.monotonic()
    with pytest.raises(sandbox.SandboxFailed) as raised:
        open_executor(1, "tcp://127.0.0.1:9")
    assert time.monotonic() - started < 20
    assert "\n" not in str(raised.value) and "no Dask scheduler answered at tcp://127.0.0.1:9" in str(raised.value)
