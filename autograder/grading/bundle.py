"""The student bundle: what a class installs so that its release notebooks run, and nothing that answers them.

``course release`` writes ``student_bundle/attention_course_student-<version>-py3-none-any.whl``.
A student installs it with ``pip install <that file>`` (it needs numpy, nothing else); every
release notebook then runs unchanged: ``from autograder.checking import check, check_answer``
works, visible tests pass for correct work and name the same classic mistakes as in the
repository. The wheel holds the half of the checking layer that has no answer in it
(``calling``, ``inputs``, ``checking``, ``diagnosis``, ``bundled``) and ``visible_cases.json``: the
visible cases of every chapter of the course, each with the reference's output and every classic
mistake's output on it (counterfactuals included: the reference's output on the case with one
argument changed, see ``autograder.diagnosis``), computed here from the reference. It holds no
reference implementation, no hidden case nor the code that draws them, no value of a numeric
question (only its shape, and no recorded output that equals one), no solution.
"""

import dataclasses
import datetime
import inspect
import json
import tempfile
from pathlib import Path

import numpy as np

from autograder import cases as registry
from autograder.calling import Outcome, plain, run_case, to_wire
from autograder.checking import CaseSet, expected_output
from autograder.diagnosis import counterfactual_cases

PACKAGE = Path(__file__).resolve().parents[1]
#: the modules of the package a student installs: none holds a reference, a case or an answer
BUNDLED_MODULES = ("calling.py", "inputs.py", "checking.py", "diagnosis.py", "bundled.py")
FOLDER = "student_bundle"
NAME = "attention_course_student"
#: the fields of a CaseSet that describe how to compare are kept; code and cases are left out, and so is
#: ``counterfactuals``: their outputs travel recorded among the mistakes
_NOT_SHIPPED = {"name", "reference", "visible", "hidden", "mistakes", "counterfactuals"}


def visible_data(chapters):
    """The ``visible_cases.json`` content for ``chapters``: visible cases, expected outputs, mistakes' outputs."""
    functions, answers = {}, {}
    namespace = registry.reference_namespace()
    secret = _answer_values()
    for chapter in chapters:
        module = registry.chapter_module(chapter)
        if module is None:
            continue
        for case_set in module.CASE_SETS:
            functions[case_set.name] = _function_data(case_set, namespace, secret)
        for answer in module.ANSWERS:
            answers[answer.name] = {"shape": list(plain(answer.expected()).shape), "hint": answer.hint}
    return {"format": 1, "functions": functions, "answers": answers}


def _answer_values():
    """The value of every numeric question of the package, flattened: no recorded output may hold one."""
    return [plain(answer.expected()).ravel().astype(np.float64)
            for module in registry.case_modules().values() for answer in getattr(module, "ANSWERS", ())]


def _reveals(value, secret):
    """Whether ``value`` (an output) holds the values of a numeric question's answer, in a row."""
    if isinstance(value, tuple):
        return any(_reveals(item, secret) for item in value)
    flat = value.ravel().astype(np.float64)
    for answer in secret:
        if 0 < answer.size <= flat.size:
            windows = np.lib.stride_tricks.sliding_window_view(flat, answer.size)
            if np.any(np.all(np.isclose(windows, answer, rtol=0, atol=1e-9), axis=1)):
                return True
    return False


def _function_data(case_set, namespace, secret):
    options = {}
    for item in dataclasses.fields(CaseSet):
        value = getattr(case_set, item.name)
        if item.name not in _NOT_SHIPPED:
            options[item.name] = list(value) if isinstance(value, tuple) else value
    json.dumps(options)  # a new CaseSet option that is not plain data must be handled here, not shipped as code
    cases = []
    for case in case_set.visible():
        expected = expected_output(case_set, case)
        mistakes = [[mistake.description, _result(run_case(mistake.function, case, namespace))]
                    for mistake in case_set.mistakes]
        for description, changed in counterfactual_cases(case_set.reference, case):
            outcome = run_case(case_set.reference, changed, namespace)
            # a change the reference cannot run on is not tried on this case; one whose output
            # happens to be the answer of a numeric question is left out of the bundle
            if outcome.error is None and not _reveals(outcome.value, secret):
                mistakes.append([description, _result(outcome)])
        cases.append({"case": to_wire(case), "expected": to_wire(expected), "mistakes": mistakes})
    parameters = list(inspect.signature(case_set.reference).parameters)
    return {"parameters": parameters, "options": options, "cases": cases}


def _result(outcome: Outcome):
    return {"error": outcome.error} if outcome.error is not None else {"value": to_wire(outcome.value)}


def build(root, chapters):
    """Write the student wheel for ``chapters`` into ``<root>/student_bundle/`` (replacing older ones); return its path."""
    from wheel.wheelfile import WheelFile

    version = datetime.datetime.now(datetime.timezone.utc).strftime("1.%Y%m%d.%H%M%S")
    folder = Path(root) / FOLDER
    folder.mkdir(exist_ok=True)
    data = json.dumps(visible_data(chapters), sort_keys=True)
    with tempfile.TemporaryDirectory(dir=folder) as staging:
        path = Path(staging) / f"{NAME}-{version}-py3-none-any.whl"
        dist_info = f"{NAME}-{version}.dist-info"
        with WheelFile(path, "w") as wheel:
            wheel.writestr("autograder/__init__.py", '"""The checking layer of *Attention from first principles*, '
                                                     'as a class installs it (no reference inside)."""\n')
            for name in BUNDLED_MODULES:
                wheel.write(PACKAGE / name, f"autograder/{name}")
            wheel.writestr("autograder/visible_cases.json", data)
            wheel.writestr(f"{dist_info}/METADATA", _metadata(version))
            wheel.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nGenerator: course release\n"
                                                 "Root-Is-Purelib: true\nTag: py3-none-any\n")
        for old in folder.glob(f"{NAME}-*.whl"):
            old.unlink()
        return path.rename(folder / path.name)


def _metadata(version):
    return (f"Metadata-Version: 2.1\nName: {NAME.replace('_', '-')}\nVersion: {version}\n"
            "Summary: The checking layer of Attention from first principles, for students: visible tests only\n"
            "Requires-Python: >=3.10\nRequires-Dist: numpy>=1.26\n")
