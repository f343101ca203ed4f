"""The instructor's side: the ``course`` command line, built on nbgrader.

nbgrader stays the engine of record: its gradebook holds the grades and its course directory
layout (``solutions/`` as source, ``notebooks/`` as release, ``submitted/``, ``autograded/``,
``feedback/``) is kept, so the formgrader (a Jupyter server extension) and manual grading keep working.
"""
