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
import itertools
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from autograder import bundled, diagnosis
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
    ``output_names`` names the members of a tuple output, e.g. ``("loss", "dlogits")``;
    ``members`` names the members of a tuple inside it, e.g. ``{"cache": ("x", "h0", "Wx", "Wh", "h")}``;
    ``steps`` says along which axis an output's first wrong place is reported, and what to call
    one index there, e.g. ``{"h": (1, "time step")}`` (otherwise rows, or entries of a vector).
    ``exp_overflow`` says that a non-finite output where the reference is finite means an
    exponential overflowed (functions built on ``exp``). ``counterfactuals``: whether the
    reference run with one argument changed (``autograder.diagnosis``) also names mistakes; the
    student bundle turns it off, as it carries those outputs recorded at release time.
    """

    name: str
    reference: Callable
    visible: Callable[[], list]
    hidden: Callable[[np.random.Generator], list]
    output_names: tuple = ()
    rtol: float = 1e-6
    atol: float = 1e-9
    mistakes: tuple = ()
    members: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)
    exp_overflow: bool = False
    counterfactuals: bool = True

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
    """The judgement of one case: passed or not, a message a student can act on, a diagnosed mistake.

    ``summary`` is the message's first line, ``explains`` the classic mistakes (and counterfactuals,
    see ``autograder.diagnosis``) whose output is the student's on this case, ``tested`` those that
    were tried on it, ``symptoms`` what a generic look at the wrong outputs recognised,
    ``raised`` whether the student's code raised on it.
    ``diagnose`` keeps, over all the cases of one check, only a mistake that explains the failing
    cases and that no case contradicts. A passing case gathers its evidence only when ``diagnose``
    needs it (``evidence``), so that correct work costs nothing.
    """

    passed: bool
    message: str = ""
    mistake: str | None = None
    summary: str = ""
    explains: tuple = ()
    symptoms: frozenset = frozenset()
    tested: tuple = ()
    raised: bool = False
    evidence: Callable | None = field(default=None, repr=False, compare=False)

    def gather(self):
        """Run the deferred comparison with the classic mistakes, once."""
        if self.evidence is not None:
            self.explains, self.tested = self.evidence()
            self.evidence = None


#: Lines of a failure message at most, whatever the function and however many cases fail.
MAX_MESSAGE_LINES = 25
#: How many failing cases a message describes in full, and how many more in one line each.
DETAILED_CASES, LISTED_CASES = 1, 4


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


def _argument_names(function, count):
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i}" for i in range(count)]


def _format_inputs(case, reference):
    names = _argument_names(reference, len(case.args))
    pairs = [*zip(names, case.args), *case.kwargs.items()]
    return ", ".join(f"{name} {_describe_argument(value)}" for name, value in pairs)


def _describe_argument(value):
    """Numbers, flags and strings are shown as they are; arrays by their shape, functions by name."""
    if isinstance(value, (bool, int, float, str, np.generic)) or value is None:
        return "= " + repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, np.ndarray):
        return "= " + repr(value.item()) if value.shape == () else str(value.shape)
    if isinstance(value, Fn):
        return f"= {value.name}"
    if isinstance(value, (tuple, list)):
        return f"(a {type(value).__name__} of {len(value)} arrays)"
    if isinstance(value, Prior):
        return f"(from your {value.function})"
    return f"({type(value).__name__})"


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


# --- comparing outputs: which output is wrong, and where first ---

@dataclass
class _Wrong:
    """One wrong output: its name, what is wrong in one phrase, and the arrays to excerpt."""

    name: str
    problem: str
    expected: object = None
    got: object = None
    where: str = ""
    gap: str = ""
    kind: str = "values"


def _leaves(expected, got, name, case_set, found, equal_nan=False):
    """Append a ``_Wrong`` to ``found`` for every output of ``got`` that does not match ``expected``."""
    if isinstance(expected, tuple):
        if not isinstance(got, tuple) or len(got) != len(expected):
            found.append(_Wrong(name or "the output", f"expected {_describe(expected)}, got {_describe(got)}",
                                kind="structure"))
            return
        names = case_set.members.get(name, ()) if name else case_set.output_names
        for index, (exp, val) in enumerate(zip(expected, got)):
            member = names[index] if index < len(names) else f"output {index}"
            label = f"{name}[{index}] ({member})" if name else member
            _leaves(exp, val, label if name else member, case_set, found, equal_nan)
        return
    name = name or "the output"
    if isinstance(got, tuple):
        found.append(_Wrong(name, f"expected {_describe(expected)}, got {_describe(got)}", kind="structure"))
    elif got.shape != expected.shape:
        found.append(_Wrong(name, f"has shape {got.shape}, expected {expected.shape}", kind="shape"))
    elif not equal_nan and not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        bad = "nan" if np.any(np.isnan(got)) else "inf"
        wrong = ~np.isfinite(got)
        found.append(_Wrong(name, f"contains {bad}{_place(wrong, name, case_set)} where every value should be "
                                  "finite", expected, got, kind="nonfinite"))
    elif not np.allclose(got, expected, rtol=case_set.rtol, atol=case_set.atol, equal_nan=equal_nan):
        wrong = ~np.isclose(got, expected, rtol=case_set.rtol, atol=case_set.atol)
        gap = np.abs(got - expected.astype(np.float64))
        gap = np.where(np.isnan(gap), np.inf, gap)
        at = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.shape else ()
        index = f" at {_base(name).removeprefix('the ')}[{', '.join(str(int(i)) for i in at)}]" if at else ""
        found.append(_Wrong(name, f"is wrong{_place(wrong, name, case_set)}", expected, got,
                            gap=f"largest difference {float(gap[at]):.3g}{index}"))


def _base(name):
    """``cache[4] (h)`` -> ``cache[4]``: the expression a student can type."""
    return name.split(" (")[0]


def _axis_of(name, ndim, case_set):
    member = name.split(" (")[-1].rstrip(")")
    axis, word = case_set.steps.get(name, case_set.steps.get(member, (0, "row" if ndim >= 2 else "entry")))
    return (axis, word) if axis < ndim else (0, "row" if ndim >= 2 else "entry")


def _place(wrong, name, case_set):
    """`` from time step 1 on``, `` in rows 0, 2``...: where an output first goes wrong."""
    if wrong.ndim == 0:
        return ""
    axis, word = _axis_of(name, wrong.ndim, case_set)
    bad = np.flatnonzero(np.any(wrong, axis=tuple(i for i in range(wrong.ndim) if i != axis)))
    size = wrong.shape[axis]
    if len(bad) == size:
        return f" in every {word}" if size > 1 else ""
    if word == "time step" and list(bad) == list(range(bad[0], size)):
        return f" from {word} {bad[0]} on"
    if word == "time step" and list(bad) == list(range(0, bad[-1] + 1)):
        return f" at {word}s 0 to {bad[-1]} (right after)" if bad[-1] > 0 else f" at {word} 0 only"
    shown = ", ".join(str(int(i)) for i in bad[:6]) + (", ..." if len(bad) > 6 else "")
    plural = ("entries" if word == "entry" else word + "s") if len(bad) > 1 else word
    return f" in {plural} {shown} of 0..{size - 1}"


def _excerpt(wrong, case_set):
    """Expected and got at the first wrong place: a few rows, each with its shape."""
    expected, got = wrong.expected, wrong.got
    if expected.size <= 24 and expected.ndim <= 2:
        label, part_expected, part_got = _base(wrong.name), expected, got
    else:
        mismatch = ~np.isclose(got, expected, rtol=case_set.rtol, atol=case_set.atol)
        axis, _ = _axis_of(wrong.name, expected.ndim, case_set)
        first = int(np.flatnonzero(np.any(mismatch, axis=tuple(i for i in range(mismatch.ndim) if i != axis)))[0])
        index = [slice(None)] * expected.ndim
        index[axis] = first
        label = f"{_base(wrong.name)}[{', '.join(':' if i != axis else str(first) for i in range(expected.ndim))}]"
        part_expected, part_got = expected[tuple(index)], got[tuple(index)]
    with np.printoptions(precision=4, suppress=True, threshold=24, edgeitems=2, linewidth=90):
        lines = [f"  {label}, shape {part_expected.shape}:"]
        for title, value in (("expected", part_expected), ("got     ", part_got)):
            text = repr(value.item()) if value.shape == () else np.array2string(value, separator=", ",
                                                                                 prefix=f"    {title} ")
            lines.append(f"    {title} {text}")
    return lines


#: Separates the output's name from what is wrong with it in a symptom, until ``diagnose`` words it.
_OF = "\x00"

#: Inputs this large make a naive exp overflow (or, very negative, underflow to 0 and then log 0).
LARGE_INPUT = 100.0


def _largest_input(arguments):
    sizes = [0.0]
    for value in arguments:
        if isinstance(value, (tuple, list)):
            sizes.append(_largest_input(value))
        elif isinstance(value, (np.ndarray, float, int)) and not isinstance(value, bool) and np.size(value):
            sizes.append(float(np.max(np.abs(value))))
    return max(sizes)


def _symptoms(wrong, expected, got, case_set, arguments, warned=()):
    """What a generic look recognises in one wrong output (``autograder.diagnosis``): a sign, a factor
    named by an input's size, an input added or missing, a time step late, an overflow... The look
    is advice: whatever values the student returned, it never stops the verdict."""
    try:
        return _recognised(wrong, expected, got, case_set, arguments, warned)
    except (ValueError, TypeError, ArithmeticError, IndexError):
        return set()


def _recognised(wrong, expected, got, case_set, arguments, warned):
    name = wrong.name
    if wrong.kind == "structure":
        return _structure_symptoms(name, expected, got, case_set)
    if wrong.kind == "nonfinite":
        large = _largest_input(list((arguments or {}).values())) >= LARGE_INPUT
        if case_set.exp_overflow and (large or any("overflow encountered in exp" in w for w in warned)):
            return {"exp overflowed (or underflowed to 0 before a log) on large inputs: subtract the maximum before "
                    "exp, and compute a log-softmax as x - logsumexp"}
        masked = diagnosis.mask_problem(got, arguments)
        return {masked} if masked else set()
    if wrong.kind == "shape":
        if got.ndim == 2 and got.shape == expected.T.shape and np.allclose(got, expected.T, rtol=1e-6, atol=1e-9):
            return {f"{name}{_OF}is transposed"}
        return {f"{name}{_OF}{problem}" for problem in diagnosis.shape_problems(expected.shape, got.shape, arguments)}
    if wrong.kind != "values":
        return set()
    problems = diagnosis.value_problems(expected, got, arguments)
    if not problems and expected.ndim:
        axis, word = _axis_of(name, expected.ndim, case_set)
        if word == "time step":
            problems = diagnosis.shifted(expected, got, axis, word)
    return {f"{name}{_OF}{problem}" for problem in problems}


def _structure_symptoms(name, expected, got, case_set):
    """A list of arrays where one array belongs, or a tuple with a member missing or added."""
    if isinstance(expected, np.ndarray) and isinstance(got, tuple):
        try:
            stacked = np.array(got, dtype=np.float64)
        except (ValueError, TypeError):
            return set()
        if stacked.shape == expected.shape and np.allclose(stacked, expected, rtol=1e-6, atol=1e-9):
            return {f"{name}{_OF}is a list or tuple of arrays; return one array (np.array(...) of the list)"}
        return set()
    members = case_set.members.get(name) or (case_set.output_names if name == "the output" else ())
    if isinstance(expected, tuple) and isinstance(got, tuple) and len(got) != len(expected) and members:
        return {f"{name}{_OF}has {len(got)} members; it must be ({', '.join(members)})"}
    return set()


def _swapped(expected, got):
    """Whether the tuple ``got`` holds the right outputs in another order."""
    if not (isinstance(expected, tuple) and isinstance(got, tuple) and len(got) == len(expected) > 1):
        return False
    for permutation in itertools.permutations(range(len(expected))):
        if list(permutation) != sorted(permutation) and all(
                not isinstance(got[j], tuple) and not isinstance(e, tuple) and got[j].shape == e.shape
                and np.allclose(got[j], e, rtol=1e-6, atol=1e-9, equal_nan=True)
                for e, j in zip(expected, permutation)):
            return True
    return False


def _matches(mistake_value, got):
    found = []
    try:
        _leaves(mistake_value, got, "", _EXACT, found, equal_nan=True)
    except Exception:  # values shaped so differently that they cannot be compared do not match
        return False
    return not found


def _explained_by(case_set, case, outcome, namespace=None):
    """``(explains, tested)``: the classic mistakes and counterfactuals whose output (or error) on ``case``
    is the student's, and those tried on it. A counterfactual that cannot run on the case is not tried;
    when the student's code raised, only mistakes that raise exactly that error count as tried."""
    if namespace is None and not bundled.available():  # the bundle's mistakes replay recorded outputs
        from autograder.cases import reference_namespace
        namespace = reference_namespace()
    candidates = [(mistake.description, mistake.function, case, True) for mistake in case_set.mistakes]
    if case_set.counterfactuals:
        candidates += [(description, case_set.reference, changed, False)
                       for description, changed in diagnosis.counterfactual_cases(case_set.reference, case)]
    explained, tested = [], []
    for description, function, run_on, classic in candidates:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                produced = run_case(function, run_on, namespace or {})
        except Exception:  # a mistake that cannot even be set up on this case says nothing about it
            continue
        if produced.error is not None:
            if outcome.error is not None and _first_line(produced.error) == _first_line(outcome.error):
                explained.append(description)
                tested.append(description)
            elif classic and outcome.error is None:
                tested.append(description)
            continue
        if outcome.error is None:
            tested.append(description)
            if _matches(produced.value, outcome.value):
                explained.append(description)
    return tuple(dict.fromkeys(explained)), tuple(dict.fromkeys(tested))


def _first_line(error):
    return error.split("\n")[0]


def judge(case_set, case, outcome, *, number, total, hidden, expected=None):
    """Judge one outcome of the student's function against the reference.

    The message says which output is wrong and where first; visible cases add an excerpt of the
    expected and the actual values, hidden cases never show an expected value. ``expected`` is the
    reference output when the caller has it already (the grader computes each case's once per run).
    ``mistake`` is provisional until ``diagnose`` has seen every case of the check.
    """
    kind = "hidden case" if hidden else "case"
    head = f"{kind} {number} of {total} ({case.label})"
    inputs = f"  inputs: {_format_inputs(case, case_set.reference)}"
    if outcome.error is not None and outcome.error.startswith("NotImplementedError"):
        return Verdict(False, f"{head}: not written yet: replace `raise NotImplementedError()` with your code",
                       summary=f"{head}: not written yet")
    if outcome.error is not None:
        summary = f"{head}: your function raised {_first_line(outcome.error)}"
        problem = diagnosis.error_problem(outcome.error)
        return _verdict(False, summary, [*outcome.error.split("\n")[1:], inputs], _explained_by(case_set, case, outcome),
                        frozenset({problem} if problem else ()), raised=True)
    if outcome.modified:
        names = _argument_names(case_set.reference, max([m for m in outcome.modified if isinstance(m, int)] + [-1]) + 1)
        changed = [names[m] if isinstance(m, int) else m for m in outcome.modified]
        summary = (f"{head}: your function modified its input {', '.join(changed)} in place; work on a copy "
                   "(graded functions must not change their arguments)")
        return Verdict(False, summary, mistake="modifies its input", summary=summary,
                       symptoms=frozenset({"modifies its input"}))
    if expected is None:
        expected = expected_output(case_set, case)
    found = []
    _leaves(expected, outcome.value, "", case_set, found)
    if not found:
        return Verdict(True, evidence=lambda: _explained_by(case_set, case, outcome))
    symptoms = set()
    if _swapped(expected, outcome.value):
        names = " and ".join(case_set.output_names) or "the outputs"
        symptoms.add(f"the outputs are in the wrong order: return ({', '.join(case_set.output_names)})")
        found = [_Wrong(names, "are returned in the wrong order", kind="order")]
    arguments = diagnosis.arguments_of(case_set.reference, case)
    with np.errstate(all="ignore"):
        per_output = [_symptoms(wrong, *_value_at(expected, outcome.value, wrong, case_set), case_set, arguments,
                                outcome.warnings)
                      for wrong in found if wrong.expected is not None or wrong.kind in ("shape", "structure")]
    if len(per_output) == len(found) and all(per_output):  # a symptom is named only when it covers every wrong output
        symptoms |= set().union(*per_output)
    first = found[0]
    right = _right_outputs(case_set, found)
    summary = f"{head}: {first.name} {first.problem}"
    lines = []
    if len(found) > 1:
        lines.append(f"  also wrong: {_listing([w.name for w in found[1:]])}" + (f"; right: {right}" if right else ""))
    elif right:
        lines.append(f"  right: {right}")
    if first.kind == "nonfinite":
        lines.append("  (nan comes from inf - inf or 0 / 0, for example exp overflowing or a softmax row with "
                     "every score -inf; inf from exp or a division overflowing)")
    if first.gap and not hidden:
        lines.append(f"  {first.gap} (tolerance rtol={case_set.rtol:g}, atol={case_set.atol:g})")
    if not hidden and first.expected is not None:
        lines += _excerpt(first, case_set)
    lines.append(inputs)
    if outcome.warnings:
        lines.append(f"  (numpy warned: {'; '.join(outcome.warnings)[:200]})")
    return _verdict(False, summary, lines, _explained_by(case_set, case, outcome), frozenset(symptoms))


def _verdict(passed, summary, lines, evidence, symptoms, raised=False):
    explains, tested = evidence
    provisional = list(explains) or ([_worded(symptoms)] if symptoms else [])
    return Verdict(passed, "\n".join([summary, *lines]), mistake=provisional[0] if provisional else None,
                   summary=summary, explains=explains, symptoms=symptoms, tested=tested, raised=raised)


def _value_at(expected, got, wrong, case_set):
    """The expected and actual arrays of the output ``wrong`` names (members of tuples included)."""
    return wrong.expected if wrong.expected is not None else _find(expected, wrong.name, case_set), \
        wrong.got if wrong.got is not None else _find(got, wrong.name, case_set)


def _find(value, name, case_set):
    if not isinstance(value, tuple) or name == "the output":
        return value
    names = list(case_set.output_names)
    top = name.split("[")[0].split(" (")[0]
    value = value[names.index(top)] if top in names else value[0]
    if "[" in name and isinstance(value, tuple):
        value = value[int(name.split("[")[1].split("]")[0])]
    return value


def _right_outputs(case_set, found):
    wrong = {w.name.split("[")[0].split(" (")[0] for w in found}
    right = [name for name in case_set.output_names if name not in wrong]
    return ", ".join(right) if right and len(wrong) else ""


def _listing(names):
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def diagnose(verdicts):
    """Name the mistake that explains the failing cases of one check; set each verdict's ``mistake``.

    A classic mistake (``CaseSet.mistakes``, or a counterfactual of ``autograder.diagnosis``) is
    kept when its output is the student's on every failing case and on every case it was tried on,
    passing cases included; otherwise a generic symptom (a factor, an input left out, a transpose,
    an overflow...) common to every failing case. When no one mistake explains them all but each
    failing case is explained by one of at most two, both are named (each case's own in its
    ``mistake``). When
    several mistakes remain they cannot be told apart, and the first listed wins. Returns the
    sentence naming the mistake, or None.
    """
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return None
    for verdict in verdicts:
        verdict.gather()
    contradicted = {d for v in verdicts for d in v.tested if d not in v.explains}
    own = [[d for d in v.explains if d not in contradicted] for v in failed]
    # an error that no mistake raises is no evidence for or against any of them
    evidence = [names for v, names in zip(failed, own) if v.explains or not v.raised]
    common = [d for d in evidence[0] if all(d in others for others in evidence[1:])] if evidence else []
    named = common[0] if common else None
    if named is None:
        symptoms = [v.symptoms for v in failed if v.explains or v.symptoms or not v.raised]
        shared = frozenset.intersection(*symptoms) if symptoms else frozenset()
        named = _worded(shared) if shared else None
    if named is not None:
        for verdict in failed:
            verdict.mistake = named
        return named
    apart = _diagnose_apart(failed, [names or ([_worded(v.symptoms)] if v.symptoms else [])
                                     for v, names in zip(failed, own)])
    if apart is None:
        for verdict in failed:
            verdict.mistake = None
    return apart


def _diagnose_apart(failed, candidates):
    """Two mistakes at most, each explaining some of the failing cases, that together explain them all."""
    if not all(candidates):
        return None
    chosen = []
    remaining = list(range(len(failed)))
    while remaining and len(chosen) < 2:
        counts = {}
        for index in remaining:
            for name in candidates[index]:
                counts[name] = counts.get(name, 0) + 1
        best = max(counts, key=counts.get)
        chosen.append((best, [i for i in remaining if best in candidates[i]]))
        remaining = [i for i in remaining if best not in candidates[i]]
    if remaining:
        return None
    for name, indices in chosen:
        for i in indices:
            failed[i].mistake = name
    return "; ".join(name for name, _ in chosen)


def _worded(symptoms):
    """One sentence per kind of symptom, naming together the outputs that share it (``dx and db are ...``)."""
    outputs = {}
    described = set()
    for symptom in sorted(symptoms):
        name, _, problem = symptom.rpartition(_OF)
        if name and name in described:
            continue  # another way of saying the same (two inputs of the same size name one factor)
        described.add(name)
        outputs.setdefault(problem, []).append(name)
    sentences = []
    for problem, names in outputs.items():
        names = [n for n in names if n]
        if len(names) > 1:
            problem = re.sub(r"^is ", "are ", re.sub(r"^has ", "have ", problem))
            sentences.append(f"{', '.join(names[:-1])} and {names[-1]} {problem}")
        else:
            sentences.append(f"{names[0]} {problem}" if names else problem)
    return "; ".join(sentences)


#: Tight tolerances under which a classic mistake's output is "the student's output".
_EXACT = CaseSet("exact", None, list, list, rtol=1e-6, atol=1e-9)


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
    """Raised by a test cell when a check fails; nbgrader then gives that cell no points.

    IPython shows what ``_render_traceback_`` returns instead of a traceback, so a student reads
    the message alone, with no frame of the checking layer.
    """

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


def failure(verdicts, name, hidden):
    """The ``CheckFailed`` that reports the failed verdicts of a check, or None when all passed.

    It leads with what to fix: how many cases fail, the classic mistake when one alone explains
    them all (see ``diagnose``), then the first failing case in full and the others in one line.
    """
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return None
    diagnose(verdicts)
    kind = "hidden" if hidden else "visible"
    lines = [f"{name}: {len(failed)} of {len(verdicts)} {kind} cases fail."]
    for mistake in dict.fromkeys(v.mistake for v in failed if v.mistake):  # two when no one explains all
        lines.append(f"This matches a classic mistake: {mistake}.")
    for verdict in failed[:DETAILED_CASES]:
        lines += (verdict.message or verdict.summary).split("\n")
    listed = failed[DETAILED_CASES:DETAILED_CASES + LISTED_CASES]
    lines += [verdict.summary or verdict.message.split("\n")[0] for verdict in listed]
    if len(failed) > DETAILED_CASES + LISTED_CASES:
        lines.append(f"({len(failed) - DETAILED_CASES - LISTED_CASES} more failing cases not shown)")
    return CheckFailed("\n".join(line if line.startswith("This matches") else _short(line)
                                 for line in lines[:MAX_MESSAGE_LINES]))


def _short(line, width=200):
    return line if len(line) <= width else line[:width - 3] + "..."


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
    if not callable(function):
        raise CheckFailed(f"{name}: expected a function, got {type(function).__name__}")
    namespace = getattr(function, "__globals__", {})
    if bundled.available():  # the student bundle: visible cases as data, hidden ones run when graded
        if hidden:
            print(bundled.HIDDEN_NOTE.format(name=name))
            return
        cases = bundled.visible_cases(name)
    else:
        from autograder.cases import case_set as find_case_set
        case_set = find_case_set(name)
        drawn = case_set.hidden_cases(NOTEBOOK_HIDDEN_SEED) if hidden else case_set.visible()
        cases = [(case_set, case, None) for case in drawn]
    verdicts = [judge(case_set, case, run_case(function, case, namespace), number=i + 1, total=len(cases),
                      hidden=hidden, expected=expected)
                for i, (case_set, case, expected) in enumerate(cases)]
    failed = failure(verdicts, name, hidden)
    if failed:
        raise failed
    print(success_message(name, len(cases), hidden))


def check_answer(value, name, *, hidden=False):
    """Test cell entry point for a numeric answer stored in a variable."""
    __tracebackhide__ = True
    if bundled.available():
        verdict = judge_answer(bundled.answer(name), value, hidden=False)
        if verdict.passed and hidden:
            print(bundled.HIDDEN_NOTE.format(name=name))
            return
    else:
        from autograder.cases import answer as find_answer
        verdict = judge_answer(find_answer(name), value, hidden=hidden)
    if not verdict.passed:
        raise CheckFailed(verdict.message)
    print(answer_success_message(name, hidden))


__all__ = ["Answer", "Case", "CaseSet", "CheckFailed", "Mistake", "Outcome", "Prior", "Verdict",
           "check", "check_answer", "judge", "judge_answer", "Fn"]
