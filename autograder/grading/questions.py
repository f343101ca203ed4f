"""The questions of a graded notebook and their points, read from its source notebook.

A question groups graded cells (nbgrader's ``grade`` cells, and ``task`` cells):

- an **autograded** question is a graded function or numeric answer (``softmax``,
  ``p_first_class``): its test cells are ``test_<name>`` (visible) and ``test_<name>_hidden``,
  whether they call ``check(...)`` or hold ordinary asserts; the solution cell answering it is the
  one defining ``<name>`` (a ``def`` or an assignment, so a cell such as ``by_hand`` may answer
  several questions), else the last solution cell above its first test. A test cell with any
  other grade id (``mean_is_right``) is a question of its own, under that name;
- a **manually graded** question is a cell graded by hand in the formgrader: a solution cell that
  is also graded (a "manually graded answer", markdown or code) or a task cell; its name is its
  grade id (``explain_max``) and it answers itself.

A question's points are the sum of its cells'. The CSV export, the feedback, the class report and
the simulated class all read questions from here, in notebook order.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

_TEST_CELL = re.compile(r"^test_(?P<question>.+?)(?:_hidden)?$")
_SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Question:
    """One question: its name, the grade ids of its test cells, its points, the solution cell answering it."""

    name: str
    test_cells: tuple
    points: float
    solution_cell: str
    manual: bool = False


@dataclass(frozen=True)
class GradedNotebook:
    """The graded notebook of a chapter (``solutions/<chapter>/<name>.ipynb``) and its questions in order."""

    chapter: str
    name: str
    title: str
    questions: tuple
    solution_cells: tuple
    headings: tuple

    def heading(self, solution_cell):
        """The title of the section holding ``solution_cell``: the last markdown heading above it."""
        return dict(self.headings).get(solution_cell, solution_cell)

    @property
    def max_points(self):
        return sum(question.points for question in self.questions)

    def question(self, name):
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(f"{self.chapter}/{self.name} has no question {name!r}; it has "
                       f"{', '.join(q.name for q in self.questions)}")


def question_of(grade_id):
    """The question an autograded test cell belongs to: ``test_softmax_hidden`` -> ``softmax``; a cell
    named otherwise is a question of its own (``mean_is_right`` -> ``mean_is_right``)."""
    match = _TEST_CELL.match(grade_id)
    return match["question"] if match is not None else grade_id


def strip_solution_markers(source):
    """A source solution cell as a student would write it: without nbgrader's solution markers."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in _SOLUTION_MARKERS)


#: student code longer than this is not parsed in the grader's process (the sandbox still runs it)
MAX_PARSED_CHARS = 100_000


def parse_code(source):
    """The module AST of a cell's ``source``, or None when it does not parse. Student code is parsed
    here under limits: a cell too long, too deeply nested or not Python gives None, never an error."""
    if not isinstance(source, str) or len(source) > MAX_PARSED_CHARS:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def names_defined(source):
    """Names bound at the top level of ``source``: functions, classes, assigned variables, imports."""
    tree = parse_code(source)
    if tree is None:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def read_graded_notebook(path, chapter):
    """Questions, points and solution cells of the source notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    solution_cells, defined_by, headings = [], {}, []
    points, test_cells, manual, answered_below = {}, {}, set(), {}
    titles = [title for cell in notebook.cells if cell.cell_type == "markdown"
              for title in _HEADING.findall(cell.source)]
    heading = Path(path).stem
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.cell_type == "markdown":
            heading = ([heading] + _HEADING.findall(cell.source))[-1]
        by_hand = bool(meta.get("task") or (meta.get("solution") and meta.get("grade")))
        if meta.get("solution") or meta.get("task"):
            solution_cells.append(grade_id)
            headings.append((grade_id, heading))
        if meta.get("solution") and cell.cell_type == "code":
            for name in names_defined(strip_solution_markers(cell.source)):
                defined_by.setdefault(name, grade_id)
        if meta.get("grade") or meta.get("task"):
            question = grade_id if by_hand else question_of(grade_id)
            points[question] = points.get(question, 0.0) + float(meta.get("points", 0))
            test_cells.setdefault(question, []).append(grade_id)
            answered_below.setdefault(question, solution_cells[-1] if solution_cells else None)
            if by_hand:
                manual.add(question)
    questions = []
    for name in points:
        solution = name if name in manual else defined_by.get(name, answered_below[name])
        if solution is None:
            raise ValueError(f"{path}: no solution cell defines {name!r} or comes before "
                             f"{', '.join(test_cells[name])}, the test of that question")
        questions.append(Question(name, tuple(test_cells[name]), points[name], solution, name in manual))
    title = titles[0] if titles else Path(path).stem
    return GradedNotebook(chapter, Path(path).stem, title, tuple(questions), tuple(solution_cells), tuple(headings))


def graded_notebook(root, chapter):
    """The graded notebook of ``chapter``: the one notebook in ``<root>/solutions/<chapter>/``."""
    folder = Path(root) / "solutions" / chapter
    paths = sorted(folder.glob("*.ipynb"))
    if len(paths) != 1:
        found = ", ".join(path.name for path in paths) or "none"
        raise FileNotFoundError(f"{folder} must hold exactly one source notebook (the chapter's graded notebook); "
                                f"found {found}")
    return read_graded_notebook(paths[0], chapter)
