"""Where student code runs when the instructor grades: a warm host that forks one jailed child per submission.

``python -m autograder.grading.sandbox`` starts a *host*: a clean interpreter that loads numpy,
``autograder.calling`` and ``autograder.inputs`` (never a reference implementation, a case module
or the grader) and then serves jobs, one JSON line in and one JSON line out on its stdin/stdout.
For each job it writes the submission's files to a private temporary folder and forks a child,
which is the only process that ever runs student code. The child:

- chdirs to that folder, drops to user ``nobody`` when the host runs as root, and sets resource
  limits (address space, CPU time, file size, open files, no new processes);
- installs an audit hook (``sys.addaudithook``, which cannot be removed) that denies opening files
  outside the Python installation and its folder (the ``autograder`` package's own folder is
  denied), writing anywhere but its folder, processes, signals, sockets and ctypes;
- blocks imports of ``autograder`` modules other than ``calling`` and ``inputs`` and records the
  attempt (``autograder.checking`` is replaced by a stand-in whose ``check`` does nothing: the
  grader runs the tests itself);
- runs the job's steps in order: ``code`` steps are notebook cells executed like a kernel would
  (stdout/stderr become stream outputs, the last expression an ``execute_result``, an exception
  an ``error`` output, and the notebook goes on); ``check`` steps call the student's function on
  the cases the grader sent (``autograder.calling.run_case``) and report what came back.

Each step's record is written to a pipe as soon as it is done, so a child that hangs, exits or
crashes is graded as far as it got. The host enforces the wall-clock limit with SIGKILL. Nothing
the child says is trusted: records are plain JSON (arrays as ``np.save`` bytes read with
``allow_pickle=False``), and the verdict is given by the grader's process.

Job (host input), one JSON object: ``files`` {relative path: base64}, ``steps`` (see
``autograder.grading.judging.build_steps``), ``limits`` {``timeout``, ``memory_mb``, ``file_mb``},
``provide`` [reference modules the instructor's setup cells import for students, e.g.
``autograder.softmax`` in a later chapter; loaded before the jail closes, never one that holds the
reference of a question being graded (``assignments._provided_modules``)].
Result (host output): ``records`` (what the child reported, in order) and ``ending``
{``kind``: finished | timeout | exited | signal | output_limit | host_error, ``detail``: text}.
"""

import ast
import base64
import builtins
import importlib
import io
import json
import linecache
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
from importlib.abc import MetaPathFinder
from pathlib import Path

#: the child may report at most this much; more is an attack on the grader's memory
MAX_RESULT_BYTES = 32 * 2**20
#: a cell's captured stdout/stderr is cut beyond this many characters
MAX_STREAM_CHARS = 50_000
#: modules of the package that student code may import in the sandbox
ALLOWED_AUTOGRADER_MODULES = {"autograder", "autograder.calling", "autograder.inputs", "autograder.checking"}
#: environment of a host: BLAS single-threaded (forks stay cheap and a child cannot spawn threads'
#: worth of CPU), nothing of the instructor's environment (tokens, paths) passed on
HOST_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


class HostFailed(RuntimeError):
    """The host process died or answered nonsense; the job was not run to the end."""


# --------------------------------------------------------------------------------------------
# The grader's side: a client that starts a host and sends it jobs.
# --------------------------------------------------------------------------------------------

class SandboxHost:
    """A warm host process and its pipes. Not thread-safe: one job at a time."""

    def __init__(self):
        self._process = None

    def start(self):
        import subprocess
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.sandbox"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=dict(HOST_ENVIRONMENT, PYTHONPATH=_package_parent()),
            # Ctrl-C in the instructor's terminal reaches the grader only; it then closes the hosts
            start_new_session=True,
        )
        return self

    def run(self, job):
        """Send ``job`` (its JSON text) and return the host's result dict."""
        if self._process is None or self._process.poll() is not None:
            self.start()
        process = self._process
        # the host enforces the job's time limit; this guard only catches a host that hangs itself
        guard = float(json.loads(job)["limits"]["timeout"]) + 60.0
        try:
            process.stdin.write(job.encode() + b"\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], guard)
            answer = process.stdout.readline() if ready else b""
        except (OSError, ValueError) as error:  # ValueError: closed by ``close`` from another thread
            self.close()
            raise HostFailed(f"the grading sandbox process failed: {error}") from None
        if not answer:
            self.close()
            raise HostFailed("the grading sandbox process stopped answering")
        return json.loads(answer)

    def close(self):
        """Stop the host and the child it may be running (they share a process group of their own)."""
        process, self._process = self._process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            for stream in (process.stdin, process.stdout):
                stream.close()


def _package_parent():
    """The folder that holds the ``autograder`` package, for the host's import path."""
    return str(Path(__file__).resolve().parents[2])


_thread_hosts = threading.local()


def run_job_here(job):
    """Run ``job`` (JSON text) in a host owned by this thread: what a Dask worker calls."""
    host = getattr(_thread_hosts, "host", None)
    if host is None:
        host = _thread_hosts.host = SandboxHost().start()
    return host.run(job)


# --------------------------------------------------------------------------------------------
# The host: serves jobs, forks a child for each.
# --------------------------------------------------------------------------------------------

def serve():
    """Host main loop: one job per line on stdin, one result per line on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loaded = sorted(name for name in sys.modules
                    if name.startswith("autograder.") and name not in ALLOWED_AUTOGRADER_MODULES
                    and name not in ("autograder.grading", __name__, "autograder.grading.sandbox"))
    if loaded:
        raise SystemExit(f"refusing to host student code: {', '.join(loaded)} is loaded")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = stdin.readline()
        if not line:
            return
        try:
            result = run_job(json.loads(line), stdin)
        except Exception as error:  # a bug of ours must cost one submission, not the host
            result = {"records": [], "ending": {"kind": "host_error", "detail": f"{type(error).__name__}: {error}"}}
        stdout.write(json.dumps(result).encode() + b"\n")
        stdout.flush()


def run_job(job, stdin):
    """Write the job's files to a fresh folder, fork the child, collect its records until it ends."""
    limits = job["limits"]
    folder = tempfile.mkdtemp(prefix="grading-")
    try:
        _write_files(folder, job["files"])
        identity = _unprivileged_identity()
        if identity:
            for path in [folder, *(str(p) for p in Path(folder).rglob("*"))]:
                os.chown(path, *identity, follow_symlinks=False)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                _child(job["steps"], limits, folder, write_end, identity, job.get("provide", []))
            finally:
                os._exit(0)
        os.close(write_end)
        return _collect(pid, read_end, limits, stdin)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_files(folder, files):
    root = Path(folder).resolve()
    for relative, encoded in files.items():
        target = (root / relative).resolve()
        if root not in target.parents:
            continue  # a path that leaves the folder is not a file of the submission
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(encoded))


def _unprivileged_identity():
    """(uid, gid) of ``nobody`` when we run as root, so that file permissions protect the course too.

    Only when ``nobody`` can read the Python installation (a Python under ``/root`` cannot be read
    by anyone else, and student code must be able to import the standard library); otherwise the
    audit hook alone keeps the child inside its folder.
    """
    if os.geteuid() != 0:
        return None
    import pwd
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    if not all(_world_readable(root) for root in _python_roots()):
        return None
    return entry.pw_uid, entry.pw_gid


def _python_roots():
    """Folders of the Python installation that graded code may read: the standard library, site-packages."""
    import sysconfig
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.add(os.path.dirname(os.path.dirname(sys.modules["numpy"].__file__)))
    return sorted(os.path.realpath(root) for root in roots)


def _world_readable(folder):
    import stat
    path = Path(folder)
    for part in [*reversed(path.parents), path]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH or (part == path and not mode & stat.S_IROTH):
            return False
    return True


def _collect(pid, read_end, limits, stdin):
    deadline = time.monotonic() + float(limits["timeout"])
    buffer, records, size = b"", [], 0
    ending = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            ending = {"kind": "timeout", "detail": f"stopped after {limits['timeout']:g} s (the time limit)"}
            break
        ready, _, _ = select.select([read_end, stdin], [], [], remaining)
        if stdin in ready:  # the grader went away: stop everything
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise SystemExit(0)
        if read_end not in ready:
            continue
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_RESULT_BYTES:
            ending = {"kind": "output_limit", "detail": f"stopped: it produced more than {MAX_RESULT_BYTES >> 20} MB of results"}
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                pass  # garbage on the pipe is the student's problem: those records are lost
    os.close(read_end)
    if ending is not None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if ending is None:
        ending = _describe_exit(status, records)
    return {"records": records, "ending": ending}


def _describe_exit(status, records):
    if records and records[-1].get("done"):
        return {"kind": "finished", "detail": ""}
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name
        reason = {"SIGXCPU": " (the CPU time limit)", "SIGKILL": " (killed, e.g. out of memory)",
                  "SIGSEGV": " (a crash)"}.get(name, "")
        return {"kind": "signal", "detail": f"the process died on {name}{reason}"}
    code = os.waitstatus_to_exitcode(status)
    return {"kind": "exited", "detail": f"the process exited with code {code} (os._exit or a crash)"}


# --------------------------------------------------------------------------------------------
# The child: runs student code, reports outcomes.
# --------------------------------------------------------------------------------------------

class _Location:
    """What the step in progress tried and was refused (imports, operations), and the package's folder."""

    imports = []
    denied = []
    package = ""


def _child(steps, limits, folder, write_end, identity, provided):
    from autograder import calling
    writer = _Writer(write_end)
    try:
        for name in provided:
            if not re.fullmatch(r"autograder(\.[a-z_]+)+", name):
                raise ValueError(f"not a module of the reference package: {name!r}")
            importlib.import_module(name)
        _isolate(folder, write_end, identity, limits)
    except BaseException:
        writer.send({"harness_error": traceback.format_exc()})
        return
    # the notebook's globals are a fresh __main__, as in a kernel (pickle and doctest look there)
    main = sys.modules["__main__"] = types.ModuleType("__main__")
    namespace = main.__dict__
    namespace.update(__builtins__=builtins, get_ipython=_NoIPython)
    execution_count = 0
    for step in steps:
        _Location.imports, _Location.denied = [], []
        if step["kind"] == "code":
            execution_count += 1
            outputs = _run_cell(step["source"], step["cell"], namespace, execution_count)
            writer.send({"cell": step["cell"], "outputs": outputs, "execution_count": execution_count,
                         "imports": _Location.imports, "denied": _Location.denied})
        else:
            execution_count += 1
            _run_cell(step.get("imports", ""), step["cell"], namespace, execution_count)
            for number, call in enumerate(step["calls"]):
                _Location.imports, _Location.denied = [], []
                report = _run_call(call, namespace, calling)
                writer.send({"cell": step["cell"], "call": number, "execution_count": execution_count,
                             "imports": _Location.imports, "denied": _Location.denied, **report})
    writer.send({"done": True})


def _isolate(folder, write_end, identity, limits):
    import resource
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    keep = sorted({0, 1, 2, write_end})
    for low, high in zip(keep, keep[1:] + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]):
        os.closerange(low + 1, high)
    os.chdir(folder)
    # Imports search the Python installation only: not the folder the grader was started in (the
    # course), nor the package's parent (the project, for an editable install).
    installed = {os.path.realpath(prefix) for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    sys.path[:] = [entry for entry in sys.path if entry and any(
        os.path.realpath(entry) == prefix or os.path.realpath(entry).startswith(prefix + os.sep) for prefix in installed)]
    os.environ.clear()
    os.environ.update(HOST_ENVIRONMENT, HOME=folder, TMPDIR=folder, TMP=folder, TEMP=folder)
    tempfile.tempdir = folder
    memory = int(limits["memory_mb"]) * 2**20
    seconds = int(float(limits["timeout"])) + 1
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    file_size = int(limits["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    if identity:
        os.setgroups([])
        os.setgid(identity[1])
        os.setuid(identity[0])
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os.umask(0o077)
    for module in (sys.modules[__name__], sys.modules["autograder.calling"]):
        linecache.getlines(module.__file__)  # tracebacks may quote the harness, which is then unreadable
    _Location.package = os.path.realpath(os.path.join(_package_parent(), "autograder"))
    sys.meta_path.insert(0, _ImportBlocker())
    sys.modules["autograder.checking"] = _checking_stand_in()
    sys.addaudithook(_AuditHook(folder))


class _Writer:
    """Send one JSON record per line on the pipe; a record that cannot be encoded says so instead."""

    def __init__(self, fd):
        self.fd = fd
        # bound now: student code may patch the json and os modules later
        self.dumps, self.write, self.exit = json.dumps, os.write, os._exit

    def send(self, record):
        try:
            line = self.dumps(record)
        except Exception as error:
            line = self.dumps({"cell": record.get("cell"), "call": record.get("call"),
                               "problem": f"the grader could not encode what came back: {error}"})
        data = line.encode() + b"\n"
        while data:
            try:
                data = data[self.write(self.fd, data):]
            except OSError:
                self.exit(3)  # the pipe was closed from inside: nothing more can be reported


def _run_call(call, namespace, calling):
    """One ``check``/``check_answer`` call of a test cell: report the outcomes, never a verdict."""
    name = call["target"]
    if name not in namespace:
        return {"problem": f"NameError: name '{name}' is not defined"}
    value = namespace[name]
    if call["function"] == "check_answer":
        try:
            return {"value": calling.to_wire(calling.plain(value))}
        except calling.UnsupportedValue as error:
            return {"unsupported": str(error)}
        except BaseException as error:
            return {"unsupported": _describe(error)}
    if not callable(value):
        return {"not_callable": type(value).__name__}
    report = {"outcomes": []}
    origin = _reference_origin(value)
    if origin:
        report["reference_code"] = origin
    for wired in call["cases"]:
        try:
            outcome = calling.run_case(value, calling.from_wire(wired), namespace)
        except BaseException as error:  # SystemExit, KeyboardInterrupt... raised by the student's function
            outcome = calling.Outcome(error=_describe(error))
        try:
            report["outcomes"].append(calling.to_wire(outcome))
        except BaseException as error:
            report["outcomes"].append(calling.to_wire(calling.Outcome(error=f"the output could not be read: {_describe(error)}")))
    return report


def _reference_origin(function):
    """The file of the ``autograder`` package that ``function``'s code comes from, if it does."""
    code = getattr(function, "__code__", None) or getattr(getattr(function, "__call__", None), "__code__", None)
    module = getattr(function, "__module__", "") or ""
    filename = getattr(code, "co_filename", "") or ""
    if filename.startswith(_Location.package + os.sep) or module.startswith("autograder."):
        return filename or module
    return None


def _run_cell(source, cell, namespace, execution_count):
    """Execute ``source`` like a kernel: return the cell's outputs (nbformat dicts)."""
    outputs = []
    stdout, stderr = _Stream("stdout", outputs), _Stream("stderr", outputs)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    filename = f"<cell {cell}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        tree = ast.parse(source, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
            if value is not None:
                outputs.append({"output_type": "execute_result", "execution_count": execution_count,
                                "data": {"text/plain": _short(repr(value))}, "metadata": {}})
    except BaseException as error:
        outputs.append(_error_output(error))
    finally:
        sys.stdout, sys.stderr = saved
    return outputs


def _error_output(error):
    try:
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        # the frames of this module (exec, eval) are the grader's, not the student's
        text = "".join(line for line in lines if __file__ not in line)
    except BaseException:  # an exception whose __str__ itself raises
        text = _describe(error)
    return {"output_type": "error", "ename": type(error).__name__, "evalue": _short(_describe(error, named=False)),
            "traceback": [_short(text)]}


def _describe(error, named=True):
    """``Type: message`` of an exception, even one whose ``__str__`` raises or never returns text."""
    try:
        message = str(error)
    except BaseException:
        message = "(the exception's message could not be read)"
    return f"{type(error).__name__}: {message}" if named else message


def _short(text):
    return text if len(text) <= MAX_STREAM_CHARS else text[:MAX_STREAM_CHARS] + "\n... (output cut by the grader)"


class _Stream(io.TextIOBase):
    """A cell's stdout or stderr: consecutive writes make one stream output, like a kernel's."""

    def __init__(self, name, outputs):
        self.name, self.outputs, self.size = name, outputs, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        if self.size >= MAX_STREAM_CHARS:
            return len(text)
        text = text[:MAX_STREAM_CHARS - self.size]
        self.size += len(text)
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == self.name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": self.name, "text": text})
        return len(text)


class _NoIPython:
    """``get_ipython()`` for cells with magics: the grader runs Python, not IPython's extensions."""

    def __new__(cls):
        return cls

    @staticmethod
    def _skip(kind, line):
        print(f"(the grader does not run {kind}: {line})", file=sys.stderr)

    @classmethod
    def run_line_magic(cls, name, line, *args, **kwargs):
        cls._skip("IPython magics", f"%{name} {line}".strip())

    @classmethod
    def run_cell_magic(cls, name, line, cell, *args, **kwargs):
        cls._skip("IPython cell magics", f"%%{name} {line}".strip())

    @classmethod
    def system(cls, command, *args, **kwargs):
        cls._skip("shell commands", f"!{command}")

    @classmethod
    def getoutput(cls, command, *args, **kwargs):
        cls._skip("shell commands", f"!{command}")
        return []


def _checking_stand_in():
    """``autograder.checking`` as the sandbox sees it: the tests are run by the grader, not here."""
    module = types.ModuleType("autograder.checking", "Stand-in: in the grading sandbox the grader runs the tests.")

    class CheckFailed(AssertionError):
        pass

    def check(function, name, *, hidden=False):
        """Does nothing in the grading sandbox."""

    def check_answer(value, name, *, hidden=False):
        """Does nothing in the grading sandbox."""

    module.check, module.check_answer, module.CheckFailed = check, check_answer, CheckFailed
    return module


class _ImportBlocker(MetaPathFinder):
    """Refuse ``autograder`` modules that hold references, cases or the grader; remember who asked."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in ("autograder", "ctypes", "_ctypes", "cffi", "_posixsubprocess") \
                and fullname not in ALLOWED_AUTOGRADER_MODULES:
            _Location.imports.append(fullname)
            raise ImportError(f"the grader does not let graded code import {fullname}"
                              + (": calling the reference implementation earns no points"
                                 if fullname.startswith("autograder") else ""), name=fullname)
        return None


class _AuditHook:
    """Deny, in the child, what graded code has no business doing; remember what was tried."""

    PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                      "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "pty.spawn", "os.startfile",
                      "sys.addaudithook", "resource.setrlimit", "os.symlink", "os.link", "sys.remote_exec")
    # (shutil's copies and moves open, rename and remove files: those events are checked one by one)
    PATH_WRITE_EVENTS = {"os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime",
                         "os.truncate", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr"}

    def __init__(self, folder):
        self.folder = os.path.realpath(folder)
        self.package = _Location.package
        self.readable = tuple(_python_roots())
        self.devices = ("/dev/null", "/dev/urandom", "/dev/random", "/dev/zero")

    def __call__(self, event, args):
        if event == "open":
            self._open(args)
        elif event in ("os.listdir", "os.scandir"):
            self._read(args[0] if args and args[0] is not None else ".", event)
        elif event == "os.rename" or event == "os.replace":
            self._write(args[0], event)
            self._write(args[1], event)
        elif event in self.PATH_WRITE_EVENTS:
            if args and isinstance(args[0], (str, bytes, os.PathLike)):
                self._write(args[0], event)
        elif event == "os.chdir":
            self._write(args[0], event)
        elif event.startswith(("socket.", "ctypes.", "_ctypes.")) or event.startswith(self.PROCESS_EVENTS):
            self._deny(f"{event} is not allowed while grading")

    def _open(self, args):
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        if isinstance(path, int) or path is None:
            return
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        if writing:
            self._write(path, "open")
        else:
            self._read(path, "open")

    def _real(self, path):
        try:
            return os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return ""

    def _inside(self, path, root):
        return path == root or path.startswith(root + os.sep)

    def _read(self, path, event):
        real = self._real(path)
        if self._inside(real, self.package):
            self._deny(f"reading {real} is not allowed while grading (the reference package)")
        if self._inside(real, self.folder) or real in self.devices or any(self._inside(real, r) for r in self.readable):
            return
        self._deny(f"reading {real} is not allowed while grading (only the submission's own folder)")

    def _write(self, path, event):
        real = self._real(path)
        if not self._inside(real, self.folder):
            self._deny(f"{event} on {real} is not allowed while grading (only the submission's own folder)")

    @staticmethod
    def _deny(message):
        if len(_Location.denied) < 20:
            _Location.denied.append(message)
        raise PermissionError(message)


if __name__ == "__main__":
    import numpy  # noqa: F401 - warm: every child starts with numpy loaded
    from autograder import calling, inputs  # noqa: F401
    serve()
