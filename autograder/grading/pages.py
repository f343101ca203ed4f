"""Writing the instructor outputs: the Jinja templates of the HTML pages, points as text."""


import jinja2


def points(value):
    """Points as a reader writes them: ``3``, ``2.5``."""
    return f"{value:g}"


def duration(seconds):
    """A lateness as a reader says it: ``40 s``, ``12 min``, ``5.5 h``, ``3.2 days``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def template_environment():
    """The Jinja environment of ``autograder/grading/templates``, HTML-escaping every value."""
    environment = jinja2.Environment(loader=jinja2.PackageLoader("autograder.grading", "templates"),
                                     autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.globals["points"] = points
    environment.globals["duration"] = duration
    return environment
