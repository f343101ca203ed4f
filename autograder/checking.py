"""The checking layer: compare a student's function with the reference, and explain failures.

A notebook's test cell calls ``check(softmax, "softmax")``: every visible case of the case set
named ``softmax`` is run on a fresh copy of its inputs (``autograder.calling.run_case``), and
each outcome is judged against the reference (``judge``). On failure the student reads which
case failed, the shapes involved, how far off the output is and, where the output matches a
classic mistake, which one. Hidden cases (``hidden=True``) say the same things without ever
showing an expected value.

The trusted grader (``autograder.grading``) runs ``run_case`` in a sandbox and ``judge`` in its
own process: one verdict, two places to run the student's code.
"""

import inspect
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autograder.calling import Case, Outcome, Prior, UnsupportedValue, plain, run_case
from autograder.inputs import Fn

#: Seed of the hidden cases when they run inside a notebook (the trusted grader draws its own).
NOTEBOOK_HIDDEN_SEED = 20261122


@dataclass(frozen=True)
class Mistake:
    """A classic wrong implementation, with the sentence a student should read when theirs matches it."""

    description: str
    function: Callable


@dataclass(frozen=True)
class CaseSet:
    """Everything needed to check one graded function.

    ``visible()`` returns the cases a student sees; ``hidden(rng)`` the edge cases of the hidden
    test, with random values drawn from ``rng`` (the grader's seed, unknown to students).
    ``output_names`` names the members of a tuple output, e.g. ``("loss", "dlogits")``.
    """

    name: str
    reference: Callable
    visible: Callable[[], list]
    hidden: Callable[[np.random.Generator], list]
    output_names: tuple = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    mistakes: tuple = ()

    def hidden_cases(self, seed):
        return self.hidden(np.random.default_rng(seed))


@dataclass(frozen=True)
class Answer:
    """A number (or small array) the student computes and stores in a variable.

    ``expected()`` computes it with the reference package; ``shape`` is what the visible test checks.
    """

    name: str
    expected: Callable[[], object]
    rtol: float = 0.0
    atol: float = 5e-4
    shape: tuple = ()
    hint: str = ""


@dataclass
class Verdict:
    """The judgement of one case: passed or not, a message a student can act on, a diagnosed mistake."""

    passed: bool
    message: str = ""
    mistake: str | None = None


def _describe(value):
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(_describe(v) for v in value)})"
    if isinstance(value, np.ndarray):
        return "a scalar" if value.shape == () else f"an array of shape {value.shape}"
    if isinstance(value, Fn):
        return f"the function {value.name}"
    if isinstance(value, Prior):
        return f"the output of your {value.function}"
    return type(value).__name__


def _difference(expected, got, rtol, atol, names=(), equal_nan=False):
    """Return None when ``got`` matches ``expected``, else ``(problem, largest_difference, where)``."""
    if isinstance(expected, tuple):
        if not isinstance(got, tuple) or len(got) != len(expected):
            return f"expected {_describe(expected)}, got {_describe(got)}", None, None
        for index, (exp, val) in enumerate(zip(expected, got)):
            found = _difference(exp, val, rtol, atol, equal_nan=equal_nan)
            if found is not None:
                name = names[index] if index < len(names) else f"output {index}"
                return (f"{name}: {found[0]}", found[1], found[2])
        return None
    if isinstance(got, tuple):
        return f"expected {_describe(expected)}, got {_describe(got)}", None, None
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got shape {got.shape}", None, None
    if not equal_nan and not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        bad = "nan" if np.any(np.isnan(got)) else "inf"
        return f"the output contains {bad} (did something overflow?)", None, None
    if np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=equal_nan):
        return None
    gap = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    gap = np.where(np.isnan(gap), np.inf, gap)
    where = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.shape else ()
    return "the values differ", float(gap[where]), where


def _argument_names(function, count):
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i}" for i in range(count)]


def _format_inputs(case, reference):
    names = _argument_names(reference, len(case.args))
    pairs = [*zip(names, case.args), *case.kwargs.items()]
    return ", ".join(f"{name} = {_describe_argument(value)}" for name, value in pairs)


def _describe_argument(value):
    """Numbers, flags and strings are shown as they are; arrays and functions by what they are."""
    if isinstance(value, (bool, int, float, str, np.generic)) or value is None:
        return repr(value.item() if isinstance(value, np.generic) else value)
    return _describe(value)


def expected_output(case_set, case):
    """The reference output for ``case``: ``Prior`` arguments use the reference function of that name."""
    from autograder.cases import reference_namespace
    return plain(run_reference(case_set.reference, case, reference_namespace()))


def run_reference(function, case, namespace):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        outcome = run_case(function, case, namespace)
    if outcome.error:
        raise RuntimeError(f"the reference failed on case {case.label!r}: {outcome.error}")
    return outcome.value


def _diagnose(case_set, case, got):
    from autograder.cases import reference_namespace
    for mistake in case_set.mistakes:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                outcome = run_case(mistake.function, case, reference_namespace())
        except Exception:  # a mistake that cannot even run on this case is not the student's mistake
            continue
        if outcome.error is None and _difference(outcome.value, got, 1e-6, 1e-9, equal_nan=True) is None:
            return mistake.description
    return None


def judge(case_set, case, outcome, *, number, total, hidden, expected=None):
    """Judge one outcome of the student's function against the reference.

    Visible cases show the inputs, the expected and the actual output; hidden cases show the
    shapes and the diagnosis only, never an expected value. ``expected`` is the reference output
    when the caller has it already (the grader computes each case's once per run).
    """
    kind = "hidden case" if hidden else "case"
    head = f"{case_set.name}, {kind} {number} of {total} ({case.label}); inputs: {_format_inputs(case, case_set.reference)}"
    if outcome.error is not None and outcome.error.startswith("NotImplementedError"):
        return Verdict(False, f"{head}\n  not written yet: replace `raise NotImplementedError()` with your code")
    if outcome.error is not None:
        return Verdict(False, f"{head}\n  your function raised {outcome.error}")
    if outcome.modified:
        names = _argument_names(case_set.reference, max([m for m in outcome.modified if isinstance(m, int)] + [-1]) + 1)
        changed = [names[m] if isinstance(m, int) else m for m in outcome.modified]
        return Verdict(False, f"{head}\n  your function modified its input {', '.join(changed)} in place; "
                              "work on a copy (graded functions must not change their arguments)",
                       mistake="modifies its input")
    if expected is None:
        expected = expected_output(case_set, case)
    found = _difference(expected, outcome.value, case_set.rtol, case_set.atol, case_set.output_names)
    if found is None:
        return Verdict(True)
    problem, gap, where = found
    lines = [head, f"  {problem}"]
    tolerance = f"(tolerance rtol={case_set.rtol:g}, atol={case_set.atol:g})"
    if gap is not None and hidden:
        lines.append(f"  not within the tolerance {tolerance}")
    elif gap is not None:
        at = f" at index {tuple(int(i) for i in where)}" if where else ""
        lines.append(f"  largest difference {gap:.3g}{at} {tolerance}")
    if not hidden:
        with np.printoptions(precision=6, suppress=True, threshold=60):
            lines.append(_show(expected, "  expected: "))
            lines.append(_show(outcome.value, "  got:      "))
    mistake = _diagnose(case_set, case, outcome.value)
    if mistake:
        lines.append(f"  This matches a classic mistake: {mistake}.")
    if outcome.warnings:
        lines.append(f"  (while running, numpy warned: {'; '.join(outcome.warnings)})")
    return Verdict(False, "\n".join(lines), mistake=mistake)


def _show(value, prefix):
    if isinstance(value, tuple):
        return prefix + "(" + ", ".join(_show(v, "") for v in value) + ")"
    if not value.shape:
        return prefix + repr(value.item())
    return prefix + np.array2string(value, separator=", ", prefix=prefix)


def judge_answer(answer, value, *, hidden):
    """Judge a numeric answer: the visible test checks its type and shape, the hidden test its value."""
    head = f"answer `{answer.name}`"
    try:
        got = plain(np.asarray(value) if isinstance(value, (list, tuple)) else value)
    except (UnsupportedValue, ValueError) as error:
        return Verdict(False, f"{head}: {error}")
    expected = plain(answer.expected())
    if got.shape != expected.shape:
        return Verdict(False, f"{head}: expected {_describe(expected)}, got {_describe(got)}")
    if not np.all(np.isfinite(got)):
        return Verdict(False, f"{head}: the value is not finite")
    if hidden and not np.allclose(got, expected, rtol=answer.rtol, atol=answer.atol):
        return Verdict(False, f"{head}: not the expected value (tolerance {answer.atol:g}). {answer.hint}".strip())
    return Verdict(True)


class CheckFailed(AssertionError):
    """Raised by a test cell when a check fails; nbgrader then gives that cell no points."""


def failure(verdicts, name, hidden):
    """The ``CheckFailed`` that reports every failed verdict of a check, or None when all passed."""
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return None
    kind = "hidden" if hidden else "visible"
    details = "\n\n".join(v.message for v in failed[:3])
    more = f"\n\n({len(failed) - 3} more failing cases not shown)" if len(failed) > 3 else ""
    return CheckFailed(f"{name}: {len(failed)} of {len(verdicts)} {kind} cases failed.\n\n{details}{more}")


def success_message(name, total, hidden):
    """The line a passing ``check`` prints (in the notebook and in the graded notebook alike)."""
    return f"{name}: all {total} {'hidden' if hidden else 'visible'} cases pass."


def answer_success_message(name, hidden):
    """The line a passing ``check_answer`` prints."""
    if hidden:
        return f"{name} is correct."
    return f"{name} has the right type and shape; its value is checked by a hidden test."


def check(function, name, *, hidden=False):
    """Test cell entry point: run every case of the case set ``name`` on ``function``.

    Prints a one-line success message, or raises ``CheckFailed`` that says what is wrong.
    """
    __tracebackhide__ = True
    from autograder.cases import case_set as find_case_set
    if not callable(function):
        raise CheckFailed(f"{name}: expected a function, got {type(function).__name__}")
    case_set = find_case_set(name)
    cases = case_set.hidden_cases(NOTEBOOK_HIDDEN_SEED) if hidden else case_set.visible()
    namespace = getattr(function, "__globals__", {})
    verdicts = [judge(case_set, case, run_case(function, case, namespace), number=i + 1, total=len(cases), hidden=hidden)
                for i, case in enumerate(cases)]
    failed = failure(verdicts, name, hidden)
    if failed:
        raise failed
    print(success_message(name, len(cases), hidden))


def check_answer(value, name, *, hidden=False):
    """Test cell entry point for a numeric answer stored in a variable."""
    __tracebackhide__ = True
    from autograder.cases import answer as find_answer
    verdict = judge_answer(find_answer(name), value, hidden=hidden)
    if not verdict.passed:
        raise CheckFailed(verdict.message)
    print(answer_success_message(name, hidden))


__all__ = ["Answer", "Case", "CaseSet", "CheckFailed", "Mistake", "Outcome", "Prior", "Verdict",
           "check", "check_answer", "judge", "judge_answer", "Fn"]
