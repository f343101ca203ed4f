"""What the grader trusts about an assignment: its cells as released, its tests, its cases.

The cells come from nbgrader's records, never from a submission: the release notebook in
``notebooks/`` gives the order and the metadata, and the gradebook (written by
``generate_assignment``) gives each cell's source, hidden tests included, and the points of each
graded cell. A test cell that calls the checking layer is not run as code: it is parsed, and may
hold only imports, comments and calls ``check(<name>, "<case set>", hidden=...)`` /
``check_answer(<name>, "<answer>", hidden=...)``; anything else beside such calls is an error of the
instructor's, reported before any student is graded. A graded test cell without such calls is an
ordinary nbgrader test (asserts): it runs in the sandbox after the student's cells, in the same
namespace, and scores as nbgrader scores it (an error or a line on stderr gives 0 points), so a
student can defeat it exactly as in plain nbgrader.

The cases of every check are built here, in the grader's process: the visible cases of the case
set, and its hidden cases drawn from the course's secret seed (``.grading_secret`` in the course
root, created on first use and git-ignored), which students never see, unlike the seed that
``autograder.checking`` uses inside notebooks.
"""

import ast
import copy
import hashlib
import inspect
import json
import secrets
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from autograder import cases as registry
from autograder.calling import to_wire
from autograder.checking import expected_output
from autograder.grading.questions import parse_code
from autograder.grading.redraw import redraw_case

SECRET_FILE = ".grading_secret"
CHECK_FUNCTIONS = ("check", "check_answer")
#: a graded function is compared with the reference's code only if the reference has this many
#: statements or more (docstring aside): shorter bodies are written alike by honest students
COPY_CHECK_MIN_STATEMENTS = 4


class InstructorError(ValueError):
    """The assignment itself cannot be graded (not released, a test cell that is not only checks...)."""


@dataclass(frozen=True)
class CheckCall:
    """One ``check``/``check_answer`` line of a test cell."""

    function: str
    target: str
    name: str
    hidden: bool


@dataclass
class TrustedCell:
    """A cell as released; ``checks`` is set for cells that call the checking layer."""

    cell: dict
    grade_id: str | None
    solution: bool
    grade: bool
    points: float | None = None
    imports: str = ""
    checks: tuple = ()
    solution_source: str | None = None
    released_source: str = ""

    @property
    def is_check_cell(self):
        return bool(self.checks)


@dataclass
class TrustedNotebook:
    name: str
    cells: list
    metadata: dict
    nbformat_minor: int

    def cell(self, grade_id):
        return next((cell for cell in self.cells if cell.grade_id == grade_id), None)


@dataclass
class Assignment:
    """Everything needed to grade the submissions of one assignment, built once per run."""

    name: str
    notebooks: list
    source_files: list
    wired_cases: dict = field(default_factory=dict)
    cases: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)
    copy_signatures: dict = field(default_factory=dict)
    copy_check_skipped: list = field(default_factory=list)
    fingerprint: str = ""


def secret_seed(root, assignment):
    """The seed of ``assignment``'s hidden cases, derived from the course secret (made on first use)."""
    path = Path(root) / SECRET_FILE
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32) + "\n")
    secret = path.read_text().strip()
    return int.from_bytes(hashlib.sha256(f"{secret}:{assignment}".encode()).digest()[:8], "big")


def load_assignment(root, coursedir, gradebook, name):
    """Read assignment ``name`` from the gradebook and the release folder, parse its tests, build its cases."""
    from nbgrader.api import MissingEntry
    try:
        record = gradebook.find_assignment(name)
    except MissingEntry:
        raise InstructorError(f"{name} is not in the gradebook: run `course release {name}` first") from None
    release = Path(coursedir.format_path(coursedir.release_directory, ".", name))
    source = Path(coursedir.format_path(coursedir.source_directory, ".", name))
    notebooks = [_trusted_notebook(name, notebook, release / f"{notebook.name}.ipynb", source / f"{notebook.name}.ipynb")
                 for notebook in record.notebooks]
    if not notebooks:
        raise InstructorError(f"{name} has no notebook in the gradebook: run `course release {name}`")
    source_files = sorted(str(path.relative_to(source)) for path in source.rglob("*")
                          if path.is_file() and path.suffix != ".ipynb" and not _ignored(path, coursedir))
    assignment = Assignment(name, notebooks, source_files)
    for notebook in notebooks:
        _check_setup_imports(notebook, assignment)
    _build_cases(assignment, secret_seed(root, name))
    _build_copy_signatures(assignment)
    assignment.fingerprint = _fingerprint(assignment)
    return assignment


def _ignored(path, coursedir):
    import fnmatch
    return any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in coursedir.ignore)


def _trusted_notebook(assignment, record, release_path, source_path):
    if not release_path.is_file():
        raise InstructorError(f"{release_path} is missing: run `course release {assignment}`")
    released = nbformat.read(release_path, as_version=4)
    solutions = {}
    if source_path.is_file():
        solutions = {cell.metadata["nbgrader"]["grade_id"]: cell.source
                     for cell in nbformat.read(source_path, as_version=4).cells
                     if cell.get("metadata", {}).get("nbgrader", {}).get("solution")}
    stored = {cell.name: cell for cell in record.source_cells}
    points = {cell.name: float(cell.max_score) for cell in record.grade_cells}
    seen, cells = set(), []
    for cell in released.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        trusted = copy.deepcopy(dict(cell))
        if grade_id is not None:
            if grade_id not in stored:
                raise InstructorError(f"cell {grade_id} of {release_path} is not in the gradebook: "
                                      f"run `course release {assignment}` again")
            trusted["source"] = stored[grade_id].source
            trusted["metadata"]["nbgrader"]["checksum"] = stored[grade_id].checksum
            trusted["metadata"]["nbgrader"]["locked"] = stored[grade_id].locked
            if grade_id in points:
                trusted["metadata"]["nbgrader"]["points"] = points[grade_id]
            seen.add(grade_id)
        entry = TrustedCell(trusted, grade_id, bool(meta.get("solution")), bool(meta.get("grade")),
                            points.get(grade_id), solution_source=solutions.get(grade_id), released_source=cell.source)
        if cell.cell_type == "code" and not entry.solution:
            _parse_test_cell(entry, assignment, record.name)
        cells.append(entry)
    missing = sorted(set(stored) - seen)
    if missing:
        raise InstructorError(f"cells {', '.join(missing)} of {assignment}/{record.name} are in the gradebook "
                              f"but not in {release_path}: run `course release {assignment}` again")
    return TrustedNotebook(record.name, cells, dict(released.metadata), released.get("nbformat_minor", 5))


def _check_setup_imports(notebook, assignment):
    """Refuse a notebook whose own cells import the reference package: graded code runs in a sandbox
    that does not hold it (and a helper imported from it would hand students an answer)."""
    from autograder.grading.cell_runner import ALLOWED_AUTOGRADER_MODULES
    for cell in notebook.cells:
        if cell.solution or cell.cell["cell_type"] != "code":
            continue
        tree = parse_code(cell.cell["source"])
        for node in ast.walk(tree) if tree is not None else ():
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for module in modules:
                if module.startswith("autograder.") and module not in ALLOWED_AUTOGRADER_MODULES:
                    raise InstructorError(
                        f"{assignment.name}/{notebook.name}.ipynb, cell {cell.grade_id}, imports {module}: graded "
                        "notebooks run in a sandbox without the reference package; define the helper students "
                        "need in a locked cell of the notebook instead")


def _parse_test_cell(entry, assignment, notebook):
    """Fill ``entry.checks``/``entry.imports`` from a trusted code cell that calls the checking layer."""
    where = f"{assignment}/{notebook}.ipynb, cell {entry.grade_id}"
    try:
        tree = ast.parse(entry.cell["source"])
    except SyntaxError as error:
        raise InstructorError(f"{where}: the cell does not parse: {error}") from None
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id in CHECK_FUNCTIONS]
    if not calls:
        return  # a setup cell or an ordinary nbgrader test (asserts): run as it is, it is the instructor's code
    imports, checks = [], []
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(statement))
        elif isinstance(statement, ast.Expr) and statement.value in calls:
            checks.append(_check_call(statement.value, where))
        else:
            raise InstructorError(f"{where}, line {statement.lineno}: a test cell may hold only imports, comments and "
                                  f"check(...)/check_answer(...) calls; found `{ast.unparse(statement)}`")
    entry.imports, entry.checks = "\n".join(imports), tuple(checks)


def _check_call(call, where):
    function = call.func.id
    shape = f'{function}(<name>, "<{"answer" if function == "check_answer" else "case set"}>", hidden=True|False)'
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    if (len(call.args) != 2 or not isinstance(call.args[0], ast.Name)
            or not (isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str))
            or set(keywords) - {"hidden"}
            or not all(isinstance(v, ast.Constant) and isinstance(v.value, bool) for v in keywords.values())):
        raise InstructorError(f"{where}: `{ast.unparse(call)}` is not of the form {shape}")
    name = call.args[1].value
    hidden = keywords["hidden"].value if "hidden" in keywords else False
    try:
        registry.answer(name) if function == "check_answer" else registry.case_set(name)
    except KeyError as error:
        raise InstructorError(f"{where}: {error.args[0]}") from None
    return CheckCall(function, call.args[0].id, name, hidden)


def _build_cases(assignment, seed):
    for notebook in assignment.notebooks:
        for cell in notebook.cells:
            for check in cell.checks:
                key = (check.name, check.hidden)
                if check.function == "check" and key not in assignment.cases:
                    case_set = registry.case_set(check.name)
                    if check.hidden:
                        built = case_set.hidden_cases(seed)
                    else:  # what the notebook showed, with values it did not show (``redraw``)
                        rng = np.random.default_rng([seed, *check.name.encode()])
                        built = [redraw_case(check.name, case, rng) for case in case_set.visible()]
                    assignment.cases[key] = built
                    assignment.wired_cases[key] = [to_wire(case) for case in built]
                    assignment.expected[key] = [expected_output(case_set, case) for case in built]


def _build_copy_signatures(assignment):
    """Normalised code of each reference function that is long enough to be recognised when copied.

    A reference that the instructor's own solution repeats statement for statement cannot be told
    from an honest answer, so it is left out (and named in the summary).
    """
    names = {check.name for notebook in assignment.notebooks for cell in notebook.cells
             for check in cell.checks if check.function == "check"}
    for name in sorted(names):
        reference = registry.case_set(name).reference
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(reference)))
        except (OSError, TypeError, SyntaxError):
            continue
        function = tree.body[0]
        if not isinstance(function, ast.FunctionDef) or _statement_count(function) < COPY_CHECK_MIN_STATEMENTS:
            continue
        signature = function_signature(function)
        if signature in _solution_signatures(assignment, name):
            assignment.copy_check_skipped.append(name)
            continue
        assignment.copy_signatures[name] = signature


def _solution_signatures(assignment, name):
    """Signatures of ``name`` as the source notebook in ``solutions/`` writes it, if it is there."""
    found = set()
    for notebook in assignment.notebooks:
        for cell in notebook.cells:
            if cell.solution and cell.grade_id is not None and cell.solution_source is not None:
                found |= {function_signature(f) for f in functions_defined(cell.solution_source) if f.name == name}
    return found


def functions_defined(source):
    """Top-level function definitions of ``source`` (nothing if it does not parse)."""
    tree = parse_code(source)
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)] if tree is not None else []


def function_signature(function):
    """The code of a function with its docstring removed, as an AST dump (names kept, positions dropped)."""
    function = copy.deepcopy(function)
    function.body = _without_docstring(function.body) or [ast.Pass()]
    return ast.dump(function, annotate_fields=False, include_attributes=False)


def _statement_count(function):
    """Statements of a function's body, nested ones included, its docstring not."""
    body = _without_docstring(function.body)
    return sum(isinstance(node, ast.stmt) for statement in body for node in ast.walk(statement))


def _without_docstring(body):
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _fingerprint(assignment):
    """A hash of everything trusted that grades depend on (tests, points, cases, the reference's
    outputs): any change regrades every submission."""
    expected = {f"{name}:{hidden}": [to_wire(output) for output in outputs]
                for (name, hidden), outputs in sorted(assignment.expected.items())}
    answers = sorted({check.name for notebook in assignment.notebooks for cell in notebook.cells
                      for check in cell.checks if check.function == "check_answer"})
    content = {
        "notebooks": [[cell.cell for cell in notebook.cells] for notebook in assignment.notebooks],
        "cases": {f"{name}:{hidden}": wired for (name, hidden), wired in sorted(assignment.wired_cases.items())},
        "expected": expected,
        "answers": {name: to_wire(registry.answer(name).expected()) for name in answers},
        "copies": sorted(assignment.copy_signatures.items()),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
