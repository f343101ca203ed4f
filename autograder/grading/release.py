"""Release: generate the student notebooks of ``notebooks/`` from the sources in ``solutions/``.

This is ``nbgrader generate_assignment`` run through nbgrader's own API for each chapter, so the
gradebook records every assignment and its cells exactly as nbgrader would.
"""

from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from autograder.grading.course import nbgrader_config, put_nbgrader_on_path


class ReleaseFailed(RuntimeError):
    """nbgrader could not generate a release notebook; the message carries nbgrader's log."""


def release(root, names):
    """Regenerate the release of every assignment in ``names`` (overwriting it) and return their names."""
    put_nbgrader_on_path()
    config = nbgrader_config(root)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for name in names:
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise ReleaseFailed(f"nbgrader generate_assignment {name} failed:\n{result.get('error') or result.get('log')}")
    return list(names)
