"""The grading record of each submission: ``reports/grading/<assignment>/<student>.json``.

``course grade`` writes one record per submission it looks at, last of all (after the gradebook
commit and the replacement of ``autograded/<student>/<assignment>/``), with an atomic rename: a
record whose fingerprint matches the submission means that submission is fully graded, and a
later run skips it. Reports and feedback read these files; the grades themselves live in
nbgrader's gradebook.

Format (``"format": 1``), one JSON object:

- ``assignment``, ``student``: ids as in nbgrader; ``status``: ``"graded"`` or ``"failed"``;
  ``reason``: why a failed submission could not be graded (its grades were left as they were);
- ``fingerprint``: hash of the submitted files and of the assignment as graded;
  ``graded_at``: ISO time of grading; ``timestamp``: the submission's ``timestamp.txt``, if any;
  ``sandboxed``: false when the notebook ran without the operating-system sandbox (``--unsandboxed``);
- ``score``, ``max_score``: the submission's total in the gradebook after grading;
- ``notebooks``: {notebook name: {``score``, ``max_score``, ``stopped`` ("" or why and where the
  notebook stopped: time limit, crash, exit), ``notes`` [cells the student changed and that were
  restored...], ``tests``: {grade_id of a graded test cell: {``passed`` (trusted verdict),
  ``points``, ``max_points``, ``notebook_said`` ("passed", "failed", "not run", "deleted" or
  "hidden": what the submitted notebook's own outputs showed), ``message`` (the failure a
  student reads), ``mistakes`` [classic mistakes the checking layer diagnosed], ``flags``
  [why the test earned nothing although it may have passed]}}}};
- ``mismatches``: [{``notebook``, ``cell``, ``notebook_said``, ``grader``}] where the submitted
  notebook showed a result ("passed"/"failed") that the trusted verdict contradicts;
- ``flags``: [{``kind`` ("imported the reference", "reference code", "copied the reference",
  "refused"), ``question`` (graded name that earned nothing, or null), ``message``}].
"""

import json
import os
import stat
from pathlib import Path

from autograder.grading.course import write_atomically

FORMAT = 1


def record_path(root, assignment, student):
    return Path(root) / "reports" / "grading" / assignment / f"{student}.json"


def load(root, assignment, student):
    """The record of one submission, or None if there is none (or it cannot be read)."""
    try:
        return json.loads(_read_regular(record_path(root, assignment, student)))
    except (OSError, ValueError, RecursionError):
        return None


def load_all(root, assignment):
    """Every record of ``assignment``, by student id."""
    folder = Path(root) / "reports" / "grading" / assignment
    records = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            records[path.stem] = json.loads(_read_regular(path))
        except (OSError, ValueError, RecursionError):
            continue
    return records


def _read_regular(path):
    """The text of ``path`` if it is a regular file: a pipe or a device put there would block a
    reader forever, and a link may point anywhere."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read().decode("utf-8")
    finally:
        os.close(descriptor)


def save(root, record):
    """Write ``record`` atomically: a reader sees the old record or the new one, never half of one."""
    path = record_path(root, record["assignment"], record["student"])
    write_atomically(path, json.dumps(dict(record, format=FORMAT), indent=1, sort_keys=True))
