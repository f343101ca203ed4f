"""Where submitted code runs when the instructor grades: one bubblewrap sandbox per notebook.

Each job (one submitted notebook: its files, the steps to run, the limits) runs in a process of its
own, started by `bubblewrap <https://github.com/containers/bubblewrap>`_ (Debian's ``bubblewrap``)
with new mount, PID, network, IPC, UTS, cgroup and user namespaces, as uid 65534 with no
capability and no new privileges. What it sees:

- read-only: the system's shared libraries (``/usr/lib``), the standard library of this Python,
  numpy, and a copy of ``autograder/calling.py``, ``autograder/inputs.py`` and
  ``autograder/grading/cell_runner.py`` (the program that runs the notebook): no reference
  implementation, case, expected value, course folder, gradebook, secret or other submission;
  every ``site-packages`` folder is covered by an empty one;
- read-write: an empty scratch folder ``/work`` of ``SCRATCH_MB`` (a tmpfs, its working
  directory) where the submission's files are written;
- ``/proc`` of its own PID namespace (it is PID 2 there, alone), a minimal ``/dev``, no network.

A seccomp filter (``pyseccomp`` over Debian's ``libseccomp``) refuses new processes and threads,
``ptrace``, namespaces, mounts and a few kernel interfaces; the runner sets hard limits on memory,
CPU time, file size and open files before any student code runs. The sandbox dies with the
grader (``--die-with-parent``), and the grader kills it at the wall-clock limit: with its PID
namespace goes every process it could have left behind.

Nothing that comes back is trusted: the record stream is read up to ``MAX_RESULT_BYTES``, each line
parsed with a depth limit and checked against the job (``clean_records``): cell and call numbers
the grader sent, known fields of known types and sizes, arrays whose header matches their bytes.
What the notebook's end was (finished, time limit, exit, crash) is decided here, from the process
status and the clock, never from what the notebook says.

Job (JSON): ``files`` {relative path: base64}, ``steps`` (``autograder.grading.judging.build_steps``),
``limits`` {``timeout``, ``memory_mb``, ``file_mb``}. Result: ``records`` (clean, in order),
``ending`` {``kind``: finished | timeout | exited | output_limit | sandbox_error, ``detail``:
text written here}, ``sandboxed`` (False for ``--unsandboxed`` runs).
"""

import base64
import errno
import functools
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

#: the runner may report at most this much; more is an attack on the grader's memory
MAX_RESULT_BYTES = 32 * 2**20
#: the size of the sandbox's writable scratch folder, which holds the submission's files
SCRATCH_MB = 128
#: deepest JSON nesting a record may have (an output tuple inside an outcome inside a record)
MAX_DEPTH = 16
#: environment inside the sandbox: BLAS single-threaded, nothing of the instructor's environment
SANDBOX_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                       "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin",
                       "HOME": "/work", "TMPDIR": "/work"}
#: system calls the sandboxed process never needs; refused with EPERM
REFUSED_SYSCALLS = ("fork", "vfork", "clone", "clone3", "ptrace", "process_vm_readv", "process_vm_writev",
                    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "keyctl", "add_key",
                    "request_key", "bpf", "userfaultfd", "perf_event_open", "personality", "kexec_load",
                    "init_module", "finit_module", "delete_module", "io_uring_setup", "mknod", "mknodat")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; `make setup` does it) and allow "
                "user namespaces (`sysctl -w kernel.unprivileged_userns_clone=1` where that setting exists), "
                "or grade in a container that allows them; `course check-sandbox` tells whether it works. "
                "`course grade --unsandboxed` grades without isolation: only for notebooks you trust")


class SandboxFailed(RuntimeError):
    """The sandbox could not run a job (it could not start, or the grader is closing)."""


class SandboxUnavailable(SandboxFailed):
    """No sandbox can be made on this machine; the message names the fix."""


# --------------------------------------------------------------------------------------------
# What the sandbox holds
# --------------------------------------------------------------------------------------------

@functools.cache
def _staging():
    """A folder with what the sandbox imports: ``lib/autograder/{__init__,calling,inputs}.py``,
    ``cell_runner.py`` and ``site/`` (numpy). Made once per grading process, removed at exit."""
    import atexit
    import numpy
    package = Path(__file__).resolve().parents[1]
    folder = Path(tempfile.mkdtemp(prefix="course-sandbox-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / "lib" / "autograder").mkdir(parents=True)
    (folder / "lib" / "autograder" / "__init__.py").write_text('"""What graded code may import of the course package."""\n')
    for name in ("calling.py", "inputs.py"):
        shutil.copyfile(package / name, folder / "lib" / "autograder" / name)
    shutil.copyfile(package / "grading" / "cell_runner.py", folder / "cell_runner.py")
    numpy_folder = Path(numpy.__file__).resolve().parent
    site = folder / "site"
    site.mkdir()
    for source in (numpy_folder, numpy_folder.with_name("numpy.libs")):
        if source.is_dir():
            (site / source.name).symlink_to(source)
    folder.chmod(0o755)
    return folder


def _python():
    """The interpreter the sandbox runs: the real binary behind this (virtual) environment's."""
    return os.path.realpath(sys.executable)


def _site_folders():
    """Every folder of installed packages this Python knows: covered by an empty one in the sandbox."""
    import site
    found = set(site.getsitepackages()) | {site.getusersitepackages()}
    for scheme_path in ("purelib", "platlib"):
        found.add(sysconfig.get_paths()[scheme_path])
        found.add(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})[scheme_path])
    return sorted(path for path in map(os.path.realpath, found) if os.path.isdir(path))


def _system_binds():
    """bwrap arguments for the system's libraries, merged-/usr or not."""
    arguments = []
    for path in ("/usr/lib", "/usr/lib64", "/usr/lib32"):
        if os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    for path in ("/lib", "/lib64", "/lib32"):
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    return arguments


@functools.cache
def _bwrap_arguments():
    staging = _staging()
    python = _python()
    prefix = os.path.realpath(sys.base_prefix)
    arguments = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                 "--uid", "65534", "--gid", "65534", "--hostname", "grading", *_system_binds()]
    if not prefix.startswith("/usr/"):
        arguments += ["--ro-bind", prefix, prefix]
    arguments += ["--ro-bind", python, python]  # a system Python's binary lives in /usr/bin, not bound otherwise
    for folder in _site_folders():
        if folder.startswith(("/usr/", prefix + os.sep)):
            arguments += ["--tmpfs", folder, "--remount-ro", folder]
    arguments += ["--ro-bind", str(staging / "lib"), "/sandbox/lib",
                  "--ro-bind", str(staging / "cell_runner.py"), "/sandbox/cell_runner.py"]
    for entry in sorted((staging / "site").iterdir()):
        arguments += ["--ro-bind", os.path.realpath(entry), f"/sandbox/site/{entry.name}"]
    arguments += ["--proc", "/proc", "--dev", "/dev", "--size", str(SCRATCH_MB * 2**20), "--tmpfs", "/work",
                  "--chdir", "/work", "--clearenv"]
    for name, value in SANDBOX_ENVIRONMENT.items():
        arguments += ["--setenv", name, value]
    return arguments + ["--seccomp", "{seccomp}", python, "-I", "-S", "-B", "/sandbox/cell_runner.py",
                        "/sandbox/site", "/sandbox/lib"]


@functools.cache
def _seccomp_program():
    """The compiled seccomp filter (BPF bytes) that bwrap installs before starting Python."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # OSError: libseccomp itself is missing
        raise SandboxUnavailable(f"the seccomp library cannot be loaded ({error}): {INSTALL_HINT}") from None
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in REFUSED_SYSCALLS:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            pass  # a call this kernel's architecture does not have
    with tempfile.TemporaryFile() as file:
        rules.export_bpf(file)
        file.seek(0)
        return file.read()


def _command(sandboxed):
    """(argv, seccomp read end or None) for one sandbox process."""
    if not sandboxed:
        staging = _staging()
        return [_python(), "-I", "-B", "-S", str(staging / "cell_runner.py"), str(staging / "site"), str(staging / "lib")], None
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}")
    program = _seccomp_program()
    read_end, write_end = os.pipe()
    os.write(write_end, program)  # a few hundred bytes: the pipe holds them
    os.close(write_end)
    return [str(read_end) if part == "{seccomp}" else part for part in _bwrap_arguments()], read_end


def _start(sandboxed):
    argv, seccomp = _command(sandboxed)
    # unsandboxed, the runner's working directory is a private folder of its own, removed with it
    folder = tempfile.mkdtemp(prefix="grading-") if not sandboxed else None
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   pass_fds=(seccomp,) if seccomp is not None else (),
                                   env=dict(SANDBOX_ENVIRONMENT, HOME=folder or "/", TMPDIR=folder or "/tmp"),
                                   cwd=folder or "/",
                                   # Ctrl-C in the instructor's terminal reaches the grader only
                                   start_new_session=True)
    finally:
        if seccomp is not None:
            os.close(seccomp)
    process.scratch = folder
    return process


# --------------------------------------------------------------------------------------------
# Running jobs
# --------------------------------------------------------------------------------------------

class Sandbox:
    """Runs jobs, each in a new sandbox process; the next process starts while a job is judged.

    Not thread-safe: one job at a time per ``Sandbox``.
    """

    def __init__(self, sandboxed=True):
        self.sandboxed = sandboxed
        self._next = None
        self._running = None
        self._closed = False

    def run(self, job):
        """Run ``job`` (a dict) in a fresh sandbox; return the result dict described in the module."""
        if self._closed:
            raise SandboxFailed("the grader is closing")
        process, self._next = self._next or _start(self.sandboxed), None
        self._running = process
        try:
            raw, ending, errors, code = _exchange(process, job)
        finally:
            _kill(process)
            self._running = None
        if not self._closed:
            self._next = _start(self.sandboxed)
        records, ready = clean_records(raw, job["steps"])
        if not ready and ending["kind"] != "timeout":
            ending = {"kind": "sandbox_error", "detail": "the grading sandbox did not start (an error of the grader's "
                      f"set-up, not of the notebook){': ' + errors if errors else ''}"}
        elif records and records[-1] == {"done": True} and code == 0:
            ending = {"kind": "finished", "detail": ""}
        return {"records": [r for r in records if r != {"done": True}], "ending": ending, "sandboxed": self.sandboxed}

    def close(self):
        """Stop the sandbox processes, a running one included (its job then fails at once)."""
        self._closed = True
        for process in (self._next, self._running):
            if process is not None:
                _kill(process)
        self._next = None


def _kill(process):
    """Stop a sandbox and everything in it before returning.

    The PID namespace's first process is bubblewrap's child; killing it makes the kernel kill every
    other process of the namespace, and bubblewrap (ours) then reaps it and exits. Killing our
    bubblewrap first would leave that to the system's init, a moment later.
    """
    for child in _children(process.pid):
        try:
            os.kill(child, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        stream.close()
    if process.scratch:
        shutil.rmtree(process.scratch, ignore_errors=True)


def _children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _exchange(process, job):
    """Send the job, read the record stream until it ends, the clock runs out or it says too much.

    Returns (record lines, ending, the first lines the process wrote on stderr: bwrap's own errors
    when it cannot start, as the runner sends its stderr to /dev/null before it reads the job; and
    the exit code, None when the process was stopped here).
    """
    limit = float(job["limits"]["timeout"])
    deadline = time.monotonic() + limit
    try:
        process.stdin.write(json.dumps(job).encode() + b"\n")
        process.stdin.close()
    except (BrokenPipeError, ValueError):
        pass  # the process is already gone: the status below says how
    out, err = process.stdout.fileno(), process.stderr.fileno()
    streams, data, errors, ending = {out, err}, bytearray(), bytearray(), None
    while streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            ending = {"kind": "timeout", "detail": f"stopped after {limit:g} s (the time limit)"}
            break
        ready, _, _ = select.select(list(streams), [], [], remaining)
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                streams.discard(fd)
            elif fd == err:
                errors += chunk[:max(0, 2000 - len(errors))]
            else:
                data += chunk
        if len(data) > MAX_RESULT_BYTES:
            ending = {"kind": "output_limit", "detail": f"stopped: it reported more than {MAX_RESULT_BYTES >> 20} MB"}
            break
    code = None
    if ending is None:
        code = process.wait()
        ending = _describe_exit(code)
    text = errors.decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.strip()][:3]
    return bytes(data).split(b"\n"), ending, _printable(" / ".join(lines)), code


def _describe_exit(code):
    if code > 128 and code - 128 in signal.Signals._value2member_map_:
        name = signal.Signals(code - 128).name
        reason = {"SIGXCPU": " (the CPU time limit)", "SIGKILL": " (the memory limit, or a crash)",
                  "SIGSEGV": " (a crash)", "SIGXFSZ": " (the file size limit)"}.get(name, "")
        return {"kind": "exited", "detail": f"the notebook's process died on {name}{reason}"}
    return {"kind": "exited", "detail": f"the notebook's process exited with code {code} (sys.exit, os._exit or a crash)"}


def _printable(text, limit=500):
    return "".join(c if c.isprintable() else "?" for c in text)[:limit]


# --------------------------------------------------------------------------------------------
# Checking what came back
# --------------------------------------------------------------------------------------------

def clean_records(lines, steps):
    """The records of ``lines`` that fit the job's ``steps``, rebuilt field by field; and whether
    the runner said it was ready (before any student code ran). Anything else is dropped."""
    code_cells = {step["cell"] for step in steps if step["kind"] == "code"}
    calls = {(step["cell"], number): call for step in steps if step["kind"] == "check"
             for number, call in enumerate(step["calls"])}
    records, seen, ready = [], set(), False
    for line in lines:
        record = _parse(line)
        if record is None:
            continue
        if not ready:
            ready = record == {"ready": True}
            continue
        if record == {"done": True}:
            records.append(record)  # it counts only as the last record (see ``Sandbox.run``)
            continue
        cell, call = record.get("cell"), record.get("call")
        key = (cell, call)
        if type(cell) is not int or key in seen:
            continue
        if call is None and cell in code_cells:
            clean = _code_record(record)
        elif type(call) is int and (cell, call) in calls:
            clean = _call_record(record, calls[(cell, call)])
        else:
            continue
        seen.add(key)
        records.append(dict(clean, cell=cell, **({} if call is None else {"call": call}),
                            execution_count=_count(record.get("execution_count")),
                            imports=_strings(record.get("imports")), denied=_strings(record.get("denied"))))
    return records, ready


def _parse(line):
    if not line.strip() or len(line) > MAX_RESULT_BYTES:
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError, MemoryError):
        return None
    return record if isinstance(record, dict) and _depth_within(record, MAX_DEPTH) else None


def _depth_within(value, limit):
    if limit < 0:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _depth_within(v, limit - 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_depth_within(v, limit - 1) for v in value)
    return True


def _count(value):
    return value if type(value) is int and 0 < value < 10**6 else None


def _text(value, limit=50_000):
    return _printable_block(value, limit) if isinstance(value, str) else ""


def _printable_block(text, limit):
    """Text as a notebook output may hold it: no control characters but newlines and tabs."""
    text = text[:limit]
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


def _strings(values, count=20, limit=300):
    return [_printable(v, limit) for v in values[:count] if isinstance(v, str)] if isinstance(values, list) else []


def _code_record(record):
    outputs = []
    for output in record.get("outputs") if isinstance(record.get("outputs"), list) else []:
        if not isinstance(output, dict) or len(outputs) >= 100:
            continue
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") in ("stdout", "stderr"):
            outputs.append({"output_type": "stream", "name": output["name"], "text": _text(output.get("text"))})
        elif kind == "execute_result":
            data = output.get("data") if isinstance(output.get("data"), dict) else {}
            outputs.append({"output_type": "execute_result", "execution_count": _count(output.get("execution_count")),
                            "data": {"text/plain": _text(data.get("text/plain"))}, "metadata": {}})
        elif kind == "error":
            ename = output.get("ename")
            traceback = output.get("traceback") if isinstance(output.get("traceback"), list) else []
            outputs.append({"output_type": "error",
                            "ename": ename if isinstance(ename, str) and ename.isidentifier() and len(ename) < 100 else "Error",
                            "evalue": _text(output.get("evalue"), 5000),
                            "traceback": [_text(line) for line in traceback[:10] if isinstance(line, str)]})
    return {"outputs": outputs}


def _call_record(record, call):
    """The report of one ``check``/``check_answer`` call, as the grader's judging reads it."""
    target = call["target"]
    if record.get("problem") == "NameError":
        return {"problem": f"NameError: name '{target}' is not defined"}
    if "not_callable" in record:
        return {"not_callable": _printable(str(record["not_callable"]), 80)}
    if call["function"] == "check_answer":
        if "value" in record and _plain_wire(record["value"], MAX_DEPTH):
            return {"value": record["value"]}
        return {"unsupported": "the value is not made of real numbers"}
    outcomes = record.get("outcomes")
    if not isinstance(outcomes, list) or len(outcomes) != len(call["cases"]):
        return {"problem": "NotRun: the sandbox reported an incomplete set of cases"}
    return {"outcomes": [_outcome(wired) for wired in outcomes]}


def _outcome(wired):
    """One wired ``calling.Outcome``, rebuilt; an unreadable one becomes an error outcome."""
    unreadable = {"outcome": [None, "the grader could not read what your function returned", {"list": []}, [], ""]}
    if not isinstance(wired, dict) or list(wired) != ["outcome"]:
        return unreadable
    payload = wired["outcome"]
    if not isinstance(payload, list) or len(payload) != 5:
        return unreadable
    value, error, modified, caught, output = payload
    if error is not None:
        return {"outcome": [None, _text(error, 2000) if isinstance(error, str) else "your function raised an error",
                            {"list": []}, [], ""]}
    if not _plain_wire(value, MAX_DEPTH):
        return {"outcome": [None, "your function returned something that is not numbers", {"list": []}, [], ""]}
    changed = next(iter(modified.values())) if isinstance(modified, dict) and list(modified) in (["list"], ["tuple"]) else []
    changed = [m for m in changed if type(m) is int or (isinstance(m, str) and m.isidentifier())][:20] \
        if isinstance(changed, list) else []
    return {"outcome": [value, None, {"list": changed}, _strings(caught), _text(output, 2000)]}


def _plain_wire(value, depth):
    """Whether ``value`` is a wired plain value: an array of real numbers, or a tuple of them."""
    if depth < 0 or not isinstance(value, dict) or len(value) != 1:
        return False
    ((kind, payload),) = value.items()
    if kind == "tuple":
        return isinstance(payload, list) and len(payload) <= 64 and all(_plain_wire(v, depth - 1) for v in payload)
    return kind == "ndarray" and isinstance(payload, str) and _valid_array(payload)


def _valid_array(payload):
    """An ``np.save`` buffer of real numbers whose header matches its size (read without allocating)."""
    from numpy.lib import format as npy
    try:
        raw = base64.b64decode(payload, validate=True)
        buffer = io.BytesIO(raw)
        version = npy.read_magic(buffer)
        header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = header(buffer, max_header_size=1000)
    except Exception:  # any malformed header
        return False
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None:
        return False
    if not all(type(n) is int and n >= 0 for n in shape):
        return False
    return int(np.prod(shape, dtype=object)) * dtype.itemsize == len(raw) - buffer.tell()


def sandbox_works(sandboxed=True):
    """(True, "") if a sandbox runs a one-line notebook here, else (False, why and how to fix it)."""
    job = {"files": {}, "limits": {"timeout": 30.0, "memory_mb": 1024, "file_mb": 8},
           "steps": [{"cell": 0, "kind": "code", "source": "import numpy\nprint(numpy.ones(2).sum())"}]}
    sandbox = Sandbox(sandboxed)
    try:
        result = sandbox.run(job)
    except SandboxUnavailable as error:
        return False, str(error)
    finally:
        sandbox.close()
    outputs = result["records"][0]["outputs"] if result["records"] else []
    if result["ending"]["kind"] == "finished" and outputs and outputs[0].get("text") == "2.0\n":
        return True, ""
    return False, f"a sandbox could not run a one-line notebook: {result['ending']['detail']}; {INSTALL_HINT}"


_thread_sandboxes = threading.local()


def run_job_here(job, sandboxed=True):
    """Run ``job`` in a sandbox owned by this thread: what a Dask worker calls."""
    sandbox = getattr(_thread_sandboxes, "sandbox", None)
    if sandbox is None or sandbox.sandboxed != sandboxed:
        sandbox = _thread_sandboxes.sandbox = Sandbox(sandboxed)
    return sandbox.run(job)
