"""The trusted half of grading: what the sandbox is asked to run, and the verdict on what it reports.

``build_steps`` turns the rebuilt notebook into the sandbox's steps: code cells to execute and,
for each test cell that calls the checking layer, the calls it makes with the cases built by the
grader. An ordinary nbgrader test cell (asserts, no ``check``) is a ``code`` step like any other,
run in the same namespace after the student's cells: its outputs are kept as the sandbox reports
them, and nbgrader's ``SaveAutoGrades`` scores it as ``nbgrader autograde`` would (an error or a
line on stderr: no points), so it is exactly as trustworthy as in plain nbgrader. ``judge_notebook``
reads the sandbox's records back and writes every code cell's outputs as a kernel would have:
a test cell gets a stream output with the success line when every check passes, and an
``error`` output with the checking layer's own message when one fails (so nbgrader's
``SaveAutoGrades`` scores it exactly as it scores a kernel's output). The verdicts are given here,
by ``autograder.checking.judge``/``judge_answer``, in the grader's process.

A question also earns nothing when its answer comes from the reference package: an attempt to
import it (recorded by the sandbox), a graded function whose code lives in the package, or a
function that is the reference's code statement for statement (``assignments.function_signature``).
"""

from dataclasses import dataclass, field

import numpy as np

from autograder import cases as registry
from autograder.calling import Outcome, from_wire
# One wording for kernel and grader: the messages of the notebook's ``check`` are reused here.
from autograder.checking import (Verdict, answer_success_message, failure, judge, judge_answer,
                                 success_message)
from autograder.grading.assignments import COPY_CHECK_MIN_STATEMENTS, function_signature, functions_defined
from autograder.grading.cell_runner import runnable_source
from autograder.grading.questions import names_defined



@dataclass
class TestResult:
    """The verdict on one test cell, for the grading record (see ``autograder.grading.records``)."""

    grade_id: str
    passed: bool
    message: str = ""
    mistakes: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    max_points: float | None = None


@dataclass
class Judgement:
    tests: dict
    flags: list
    stopped: str


def build_steps(cells, assignment):
    """The sandbox's steps for the rebuilt ``cells`` (``submissions.GradedCell``)."""
    steps = []
    for index, graded in enumerate(cells):
        if graded.cell["cell_type"] != "code":
            continue
        trusted = graded.trusted
        if trusted is not None and trusted.is_check_cell:
            calls = [{"function": check.function, "target": check.target,
                      "cases": assignment.wired_cases.get((check.name, check.hidden), [])}
                     for check in trusted.checks]
            steps.append({"cell": index, "kind": "check", "imports": trusted.imports, "calls": calls})
        else:
            # sent as written: the sandbox's runner sets magics aside, so no student text is parsed here
            steps.append({"cell": index, "kind": "code", "source": graded.cell["source"]})
    return steps


def judge_notebook(cells, result, assignment):
    """Write the outputs of every code cell of ``cells`` from the sandbox ``result``; return the verdicts."""
    records = [r for r in result.get("records", []) if isinstance(r, dict)]
    code = {r["cell"]: r for r in records if isinstance(r.get("cell"), int) and "call" not in r}
    calls = {(r["cell"], r["call"]): r for r in records if isinstance(r.get("cell"), int) and isinstance(r.get("call"), int)}
    stopped = _stopping_point(cells, code, calls, result.get("ending", {}))
    flags = _flags(cells, code, calls, assignment)
    flagged = {flag["question"]: flag for flag in flags if flag.get("question")}
    tests = {}
    for index, graded in enumerate(cells):
        cell = graded.cell
        if cell["cell_type"] != "code":
            continue
        trusted = graded.trusted
        if trusted is not None and trusted.is_check_cell:
            outputs, test = _judge_test_cell(index, trusted, calls, assignment, stopped, flagged)
            cell["outputs"] = outputs
            cell["execution_count"] = _count(calls.get((index, 0)))
            if trusted.grade:
                tests[trusted.grade_id] = test
        elif index in code:
            cell["outputs"] = _clean_outputs(code[index].get("outputs"))
            cell["execution_count"] = _count(code[index])
        else:
            cell["outputs"] = [_error("NotRun", f"not run: {stopped}")]
        if trusted is not None and trusted.grade and not trusted.solution and not trusted.is_check_cell:
            tests[trusted.grade_id] = _plain_test(trusted, cell["outputs"])
    return Judgement(tests, flags, stopped)


def _plain_test(trusted, outputs):
    """The verdict on an ordinary nbgrader test cell, read from its outputs as nbgrader reads them."""
    for output in outputs:
        if output["output_type"] == "error":
            message = f"{output['ename']}: {output['evalue']}".rstrip(": ")
            return TestResult(trusted.grade_id, False, message, max_points=trusted.points)
        if output["output_type"] == "stream" and output["name"] == "stderr":
            return TestResult(trusted.grade_id, False, "wrote to stderr: " + output["text"][:500],
                              max_points=trusted.points)
    return TestResult(trusted.grade_id, True, max_points=trusted.points)


def _count(record):
    count = record.get("execution_count") if record else None
    return count if isinstance(count, int) and count > 0 else None


def _stopping_point(cells, code, calls, ending):
    """Why and where the notebook stopped before its end ("" when every cell ran)."""
    if ending.get("kind") == "sandbox_error":
        return ending.get("detail", "the grading sandbox failed")
    if ending.get("kind") == "finished":
        return ""
    reached = [index for index in code] + [index for index, _ in calls]
    last = max(reached, default=-1)
    following = [i for i, c in enumerate(cells) if c.cell["cell_type"] == "code" and i > last]
    where = f"cell {following[0] + 1}" if following else "its last cell"
    return f"the notebook was stopped in {where}: {ending.get('detail') or 'the sandbox ended early'}"


def _judge_test_cell(index, trusted, calls, assignment, stopped, flagged):
    passed_lines, failure, verdicts = [], None, []
    for number, check in enumerate(trusted.checks):
        record = calls.get((index, number))
        if record is None:
            failure = ("NotRun", f"not run: {stopped or 'the sandbox did not report this check'}")
            break
        ename, message, found = _evaluate(check, record, assignment)
        verdicts += found
        if ename:
            failure = (ename, message)
            break
        passed_lines.append(message)
    questions = sorted({check.target for check in trusted.checks})
    flags = [flagged[q]["message"] for q in questions if q in flagged]
    outputs = []
    if passed_lines:
        outputs.append({"output_type": "stream", "name": "stdout", "text": "".join(line + "\n" for line in passed_lines)})
    if flags:
        failure = ("GradingFlag", "no points for this test:\n" + "\n".join(flags))
    if failure:
        outputs.append(_error(*failure))
    mistakes = sorted({v.mistake for v in verdicts if not v.passed and v.mistake})
    return outputs, TestResult(trusted.grade_id, failure is None, failure[1] if failure else "",
                               mistakes, flags, trusted.points)


def _evaluate(check, record, assignment):
    """(error name or None, message, verdicts) for one check call, from what the sandbox reported."""
    if "problem" in record:
        problem = str(record["problem"])
        name, _, message = problem.partition(": ")
        return (name if name.isidentifier() else "Error"), message or problem, []
    if check.function == "check_answer":
        return _evaluate_answer(check, record)
    if "not_callable" in record:
        return "CheckFailed", f"{check.name}: expected a function, got {record['not_callable']}", []
    built = assignment.cases[(check.name, check.hidden)]
    expected = assignment.expected[(check.name, check.hidden)]
    reported = record.get("outcomes")
    if not isinstance(reported, list) or len(reported) != len(built):
        return "NotRun", "not run: the sandbox reported an incomplete set of cases", []
    case_set = registry.case_set(check.name)
    verdicts = []
    for number, (case, wired) in enumerate(zip(built, reported)):
        outcome = _outcome(wired)
        try:
            verdicts.append(judge(case_set, case, outcome, number=number + 1, total=len(built), hidden=check.hidden,
                                  expected=expected[number]))
        except Exception as error:  # a value shaped so oddly that comparing it fails is a wrong value
            verdicts.append(Verdict(False, f"{check.name}, case {number + 1}: the output could not be compared: {error}"))
    failed = failure(verdicts, check.name, check.hidden)
    if failed is not None:
        return type(failed).__name__, str(failed), verdicts
    return None, success_message(check.name, len(built), check.hidden), verdicts


def _evaluate_answer(check, record):
    answer = registry.answer(check.name)
    if "value" in record:
        value = _numbers(from_wire_safely(record["value"]))
        verdict = judge_answer(answer, value, hidden=check.hidden) if value is not None else \
            Verdict(False, f"answer `{check.name}`: the value could not be read")
    else:
        verdict = Verdict(False, f"answer `{check.name}`: {record.get('unsupported', 'the value could not be read')}")
    if not verdict.passed:
        return "CheckFailed", verdict.message, [verdict]
    return None, answer_success_message(check.name, check.hidden), [verdict]


def from_wire_safely(data):
    try:
        return from_wire(data)
    except Exception:
        return None


def _numbers(value):
    """``value`` if it is what ``plain`` produces (real arrays, tuples of them), else None."""
    if isinstance(value, tuple):
        items = [_numbers(item) for item in value]
        return None if any(item is None for item in items) else tuple(items)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    return None


def _outcome(wired):
    outcome = from_wire_safely(wired)
    if not isinstance(outcome, Outcome):
        return Outcome(error="the grader could not read what your function returned")
    if outcome.error is not None:
        return Outcome(error=str(outcome.error)[:2000])
    value = _numbers(outcome.value)
    if value is None:
        return Outcome(error="your function returned something that is not numbers")
    modified = [m for m in outcome.modified if isinstance(m, (int, str))] if isinstance(outcome.modified, list) else []
    warnings = [str(w) for w in outcome.warnings] if isinstance(outcome.warnings, list) else []
    return Outcome(value=value, modified=modified, warnings=warnings)


def _flags(cells, code, calls, assignment):
    """Why a question earns nothing (the reference package), and what else the sandbox refused."""
    targets = {check.target for c in cells if c.trusted is not None for check in c.trusted.checks}
    flags = []
    for index, record in sorted(code.items()):
        graded = cells[index] if index < len(cells) else None
        for module in _strings(record.get("imports")):
            defined = names_defined(runnable_source(graded.cell["source"])) & targets if graded and graded.student_wrote else set()
            if defined:
                flags += [_flag("imported the reference", q, f"cell {index + 1} tried to import {module}: "
                                f"the reference implementation earns no points") for q in sorted(defined)]
            else:
                flags.append(_flag("imported the reference", None, f"cell {index + 1} tried to import {module} (refused)"))
        flags += [_flag("refused", None, f"cell {index + 1}: {m}") for m in _strings(record.get("denied"))]
    for (index, number), record in sorted(calls.items()):
        trusted = cells[index].trusted if index < len(cells) else None
        if trusted is None or number >= len(trusted.checks):
            continue
        target = trusted.checks[number].target
        for module in _strings(record.get("imports")):
            flags.append(_flag("imported the reference", target, f"{target} tried to import {module} while tested: "
                               "the reference implementation earns no points"))
        if record.get("reference_code"):
            flags.append(_flag("reference code", target, f"{target} is the reference implementation itself "
                               f"({record['reference_code']}): it earns no points"))
        flags += [_flag("refused", None, f"while testing {target}: {m}") for m in _strings(record.get("denied"))]
    for index, graded in enumerate(cells):
        if not graded.student_wrote or graded.cell["cell_type"] != "code":
            continue
        for function in functions_defined(graded.cell["source"]):
            signature = assignment.copy_signatures.get(function.name)
            if signature is not None and function_signature(function) == signature and function.name in targets:
                flags.append(_flag("copied the reference", function.name,
                                   f"{function.name} (cell {index + 1}) is the reference implementation copied statement "
                                   f"for statement (compared without docstrings, for reference functions of "
                                   f"{COPY_CHECK_MIN_STATEMENTS} statements or more): it earns no points"))
    unique = {(f["kind"], f["question"], f["message"]): f for f in flags}
    return list(unique.values())


def _flag(kind, question, message):
    return {"kind": kind, "question": question, "message": message}


def _strings(values):
    return [str(v)[:500] for v in values][:20] if isinstance(values, list) else []


def _clean_outputs(outputs):
    """The outputs the sandbox reported for a code cell, rebuilt field by field as valid nbformat."""
    clean = []
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") in ("stdout", "stderr"):
            clean.append({"output_type": "stream", "name": output["name"], "text": str(output.get("text", ""))})
        elif kind == "execute_result":
            data = output.get("data") if isinstance(output.get("data"), dict) else {}
            count = output.get("execution_count")
            clean.append({"output_type": "execute_result", "execution_count": count if isinstance(count, int) else None,
                          "data": {"text/plain": str(data.get("text/plain", ""))}, "metadata": {}})
        elif kind == "error":
            traceback = output.get("traceback")
            clean.append({"output_type": "error", "ename": str(output.get("ename", "Error")),
                          "evalue": str(output.get("evalue", "")),
                          "traceback": [str(t) for t in traceback] if isinstance(traceback, list) else []})
    return clean


def _error(ename, message):
    return {"output_type": "error", "ename": ename, "evalue": message, "traceback": [f"{ename}: {message}"]}
