"""Release: generate the student notebooks of ``notebooks/`` from the sources in ``solutions/``.

This is ``nbgrader generate_assignment`` run through nbgrader's own API for each chapter, so the
gradebook records every assignment and its cells exactly as nbgrader would. Each chapter is
generated into a staging folder of the course root and swapped into place only when nbgrader
succeeds: a refused release (a source that changed cells after students submitted, a mark scheme
in the wrong cell...) leaves the previous release untouched and reports nbgrader's own message.
"""

import copy
import re
import shutil
from pathlib import Path

from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from autograder.grading.course import nbgrader_config, put_nbgrader_on_path, replace_folder

#: where a chapter is generated before it replaces its release (in the course root, same file system)
STAGING = ".release-staging"
_ERROR_LINE = re.compile(r"^\[(?:[^\]|]*\|\s*)?(?:ERROR|CRITICAL)\]\s*(?P<message>.*)")
_EXCEPTION_LINE = re.compile(r"^\s*(?:[\w.]+\.)?(?P<name>\w*(?:Error|Exception)): (?P<message>.+)$")
_USELESS = ("Please see the", "There was an error processing", "Traceback (most recent call last)")


class ReleaseFailed(RuntimeError):
    """nbgrader could not generate a release notebook; the message carries nbgrader's own error."""


def nbgrader_message(result):
    """What nbgrader said went wrong, from the log of a failed run: the exceptions its tracebacks end
    with and its ERROR lines, without the generic "Please see the above traceback"."""
    found = []
    for line in (result.get("log") or "").splitlines():
        exception, error = _EXCEPTION_LINE.match(line), _ERROR_LINE.match(line)
        text = f"{exception['name']}: {exception['message'].strip()}" if exception else \
            error["message"].strip() if error else ""
        if text and not any(phrase in text for phrase in _USELESS):
            found.append(text)
    if found:
        return "\n".join(dict.fromkeys(found))
    error = (result.get("error") or "").strip().splitlines()
    return error[-1] if error else "nbgrader gave no message"


def release(root, names):
    """Regenerate the release of every assignment in ``names`` (replacing it only on success) and return their names."""
    put_nbgrader_on_path()
    root = Path(root)
    config = nbgrader_config(root)
    final = CourseDirectory(config=config)
    staged_config = copy.deepcopy(config)
    staged_config.CourseDirectory.release_directory = STAGING
    api = NbGraderAPI(coursedir=CourseDirectory(config=staged_config), config=staged_config)
    try:
        for name in names:
            staged = root / STAGING / name
            shutil.rmtree(staged, ignore_errors=True)
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"] or not staged.is_dir():
                raise ReleaseFailed(f"nbgrader generate_assignment {name} failed; notebooks/{name}/ is unchanged:\n"
                                    f"{nbgrader_message(result)}")
            replace_folder(staged, Path(final.format_path(final.release_directory, ".", name)))
    finally:
        shutil.rmtree(root / STAGING, ignore_errors=True)
    return list(names)
