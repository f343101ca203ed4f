"""nbgrader configuration: run nbgrader's commands from the project root.

`solutions/` holds the source notebooks (with solutions and hidden tests) and
`notebooks/` the release notebooks that students get.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - injected by nbgrader

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.course_id = "attention-from-first-principles"
# Students must never receive hidden tests; the release keeps only what a student may read.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 120
