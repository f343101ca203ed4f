"""Writing the instructor outputs: the Jinja templates of the HTML pages, points as text."""


import jinja2


def points(value):
    """Points as a reader writes them: ``3``, ``2.5``."""
    return f"{value:g}"


def template_environment():
    """The Jinja environment of ``autograder/grading/templates``, HTML-escaping every value."""
    environment = jinja2.Environment(loader=jinja2.PackageLoader("autograder.grading", "templates"),
                                     autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.globals["points"] = points
    return environment
