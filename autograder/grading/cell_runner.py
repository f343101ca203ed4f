"""The program that runs one submitted notebook inside the grading sandbox (``autograder.grading.sandbox``).

It is started as ``python -I -S cell_runner.py`` in a fresh bubblewrap sandbox that holds the
standard library, numpy, ``autograder/calling.py`` and ``autograder/inputs.py`` (the half of the
checking layer that holds no reference and no expected value), this file, and an empty scratch
folder, its working directory. It reads one job (JSON) on stdin, writes the submission's files
into the scratch folder, sets its resource limits, and runs the job's steps in order:

- ``code`` steps are notebook cells executed like a kernel would (stdout/stderr become stream
  outputs, the last expression an ``execute_result``, an exception an ``error`` output; the
  notebook goes on). Lines starting with ``%`` or ``!`` are not run: they become a note on stderr.
- ``check`` steps call the student's function on the cases the grader sent
  (``autograder.calling.run_case``) and report what came back, never a verdict.

Each step's record is one JSON line on the record stream (the stdout the runner started with),
written as soon as the step is done, so a notebook that hangs, exits or crashes is graded as far as
it got. ``{"ready": true}`` comes first, before any student code runs; ``{"done": true}`` last.

Nothing here is a security boundary: the sandbox is. The import blocker, the stand-in for
``autograder.checking`` and the audit hook only name what a notebook tried, for the grader's
flags; student code can switch them off and gains nothing by it.
"""

import ast
import base64
import builtins
import io
import json
import linecache
import os
import re
import sys
import traceback
import types
from importlib.abc import MetaPathFinder

#: a cell's captured stdout/stderr is cut beyond this many characters
MAX_STREAM_CHARS = 50_000
#: modules of the package that a notebook may import in the sandbox
ALLOWED_AUTOGRADER_MODULES = {"autograder", "autograder.calling", "autograder.inputs", "autograder.checking"}
#: a line that IPython would run as a magic or a shell command
MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<magic>[%!].*)$")


class _Attempts:
    """What the step in progress tried and was refused: reference imports, operations."""

    imports = []
    denied = []


def main():
    """Start (numpy loaded), wait for the job on stdin, then run it; ``sys.argv[1:]`` are the import roots."""
    records = _RecordStream(os.dup(1))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (1, 2):
        os.dup2(null, fd)
    sys.path[:0] = sys.argv[1:]
    import numpy  # noqa: F401 - loaded before the job arrives, as a kernel has it loaded
    from autograder import calling
    job = json.loads(sys.stdin.buffer.readline())
    os.dup2(null, 0)
    os.close(null)
    _write_files(job["files"])
    _limit(job["limits"])
    _install_observers()
    records.send({"ready": True})
    main_module = sys.modules["__main__"] = types.ModuleType("__main__")
    namespace = main_module.__dict__
    namespace.update(__builtins__=builtins, get_ipython=_NoIPython)
    execution_count = 0
    for step in job["steps"]:
        execution_count += 1
        _Attempts.imports, _Attempts.denied = [], []
        if step["kind"] == "code":
            outputs = run_cell(step["source"], step["cell"], namespace, execution_count)
            records.send({"cell": step["cell"], "outputs": outputs, "execution_count": execution_count,
                          "imports": _Attempts.imports, "denied": _Attempts.denied})
            continue
        run_cell(step.get("imports", ""), step["cell"], namespace, execution_count)
        for number, call in enumerate(step["calls"]):
            _Attempts.imports, _Attempts.denied = [], []
            report = _run_call(call, namespace, calling)
            records.send({"cell": step["cell"], "call": number, "execution_count": execution_count,
                          "imports": _Attempts.imports, "denied": _Attempts.denied, **report})
    records.send({"done": True})


class _RecordStream:
    """One JSON record per line; a record that cannot be encoded says so instead."""

    def __init__(self, fd):
        self.fd = fd
        # bound now: student code may patch the json and os modules later
        self.dumps, self.write, self.exit = json.dumps, os.write, os._exit

    def send(self, record):
        try:
            line = self.dumps(record)
        except Exception:
            line = self.dumps({"cell": record.get("cell"), "call": record.get("call"), "unreadable": True})
        data = line.encode() + b"\n"
        while data:
            try:
                data = data[self.write(self.fd, data):]
            except OSError:
                self.exit(3)  # the stream was closed from inside: nothing more can be reported


def _write_files(files):
    """The submission's files, in the scratch folder (the working directory)."""
    root = os.getcwd()
    for relative, encoded in files.items():
        target = os.path.normpath(os.path.join(root, relative))
        if not target.startswith(root + os.sep):
            continue  # a path that leaves the folder is not a file of the submission
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as file:
            file.write(base64.b64decode(encoded))


def _limit(limits):
    """Hard resource limits: the sandbox has no capability to raise them again."""
    import resource
    memory = int(limits["memory_mb"]) * 2**20
    seconds = int(float(limits["timeout"])) + 1
    file_size = int(limits["file_mb"]) * 2**20
    for kind, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, seconds),
                        (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_NOFILE, 64),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))
    os.umask(0o077)
    tmp = os.getcwd()
    os.environ.update(HOME=tmp, TMPDIR=tmp)


def _install_observers():
    linecache.getlines(__file__)  # tracebacks may quote the runner
    _OWN_PATHS.extend([os.getcwd(), os.path.dirname(os.path.abspath(__file__)), *filter(None, sys.path)])
    sys.meta_path.insert(0, _ImportRecorder())
    sys.modules["autograder.checking"] = _checking_stand_in()
    sys.addaudithook(_audit)


def _run_call(call, namespace, calling):
    """One ``check``/``check_answer`` call of a test cell: report the outcomes, never a verdict."""
    name = call["target"]
    if name not in namespace:
        return {"problem": "NameError", "name": name}
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
    outcomes = []
    for wired in call["cases"]:
        try:
            outcome = calling.run_case(value, calling.from_wire(wired), namespace)
        except BaseException as error:  # SystemExit, KeyboardInterrupt... raised by the student's function
            outcome = calling.Outcome(error=_describe(error))
        try:
            outcomes.append(calling.to_wire(outcome))
        except BaseException as error:
            outcomes.append(calling.to_wire(calling.Outcome(error=f"the output could not be read: {_describe(error)}")))
    return {"outcomes": outcomes}


def runnable_source(source):
    """``source`` with IPython's magics and shell lines replaced by a note on stderr.

    A cell that starts with a cell magic (``%%time``...) is not run at all. The grader runs
    Python, not IPython's extensions, and parses no IPython syntax in its own process.
    """
    if source.lstrip().startswith("%%"):
        first = source.lstrip().splitlines()[0]
        return f"print({_note('IPython cell magics', first)!r}, file=__import__('sys').stderr)\n"
    lines = []
    for line in source.splitlines():
        match = MAGIC_LINE.match(line)
        if match:
            kind = "IPython magics" if match["magic"].startswith("%") else "shell commands"
            line = f"{match['indent']}print({_note(kind, match['magic'].strip())!r}, file=__import__('sys').stderr)"
        lines.append(line)
    return "\n".join(lines)


def _note(kind, line):
    return f"(the grader does not run {kind}: {line[:200]})"


def run_cell(source, cell, namespace, execution_count):
    """Execute ``source`` like a kernel: return the cell's outputs (nbformat dicts)."""
    source = runnable_source(source)
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
        # the frames of this file (exec, eval) are the grader's, not the student's
        text = "".join(line for line in lines if __file__ not in line)
    except BaseException:  # an exception whose __str__ itself raises
        text = _describe(error)
    return {"output_type": "error", "ename": type(error).__name__, "evalue": _short(_describe(error, named=False)),
            "traceback": [_short(text)]}


def _describe(error, named=True):
    """``Type: message`` of an exception, even one whose ``__str__`` raises."""
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
    """``get_ipython()`` for code that asks for it: the grader runs Python, not IPython."""

    def __new__(cls):
        return cls

    @staticmethod
    def _skip(kind, line):
        print(_note(kind, line), file=sys.stderr)

    @classmethod
    def run_line_magic(cls, name, line, *args, **kwargs):
        cls._skip("IPython magics", f"%{name} {line}".strip())

    @classmethod
    def run_cell_magic(cls, name, line, cell, *args, **kwargs):
        cls._skip("IPython cell magics", f"%%{name} {line}".strip())

    @classmethod
    def system(cls, command, *args, **kwargs):
        cls._skip("shell commands", f"!{command}")


def _checking_stand_in():
    """``autograder.checking`` as the sandbox sees it: the grader runs the tests, not the notebook."""
    module = types.ModuleType("autograder.checking", "Stand-in: in the grading sandbox the grader runs the tests.")

    class CheckFailed(AssertionError):
        pass

    def check(function, name, *, hidden=False):
        """Does nothing in the grading sandbox."""

    def check_answer(value, name, *, hidden=False):
        """Does nothing in the grading sandbox."""

    module.check, module.check_answer, module.CheckFailed = check, check_answer, CheckFailed
    return module


class _ImportRecorder(MetaPathFinder):
    """Name imports of the reference package (absent from the sandbox anyway) for the grader's flags."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] == "autograder" and fullname not in ALLOWED_AUTOGRADER_MODULES:
            if len(_Attempts.imports) < 20:
                _Attempts.imports.append(fullname)
            raise ImportError(f"the grader does not let graded code import {fullname}: "
                              "calling the reference implementation earns no points", name=fullname)
        return None


_WATCHED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                   "os.kill", "socket.connect", "ctypes.dlopen", "sqlite3.connect")
#: where a notebook has business opening files: its folder, what it imports from, a few devices
#: (completed by ``_install_observers``, which knows the folder and the import path)
_OWN_PATHS = ["/dev/null", "/dev/urandom", "/proc/self", "/usr/lib", sys.base_prefix]


def _audit(event, args):
    """Name what a notebook tried that grading has no use for (the sandbox refuses it, or it finds
    nothing there): starting processes, signals, sockets, files outside its own folder."""
    if len(_Attempts.denied) >= 20:
        return
    if event.startswith(_WATCHED_EVENTS):
        _Attempts.denied.append(f"{event} was attempted")
    elif event == "open" and args and isinstance(args[0], (str, bytes)):
        try:
            path = os.path.normpath(os.path.join(os.getcwd(), os.fsdecode(args[0])))
        except (OSError, ValueError):
            return
        if not any(path == own or path.startswith(own.rstrip("/") + "/") for own in _OWN_PATHS):
            _Attempts.denied.append(f"opening {path[:200]} was attempted (the sandbox holds only the notebook's folder)")


if __name__ == "__main__":
    main()
