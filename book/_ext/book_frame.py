"""What a reader expects around the chapters: runnable launch notebooks and an offline page.

Launch buttons. sphinx-book-theme points Binder and Colab at the page's source file. For a MyST
markdown page that is a ``.md`` file, which Colab cannot open. This extension gives every
notebook page of the book a real notebook to launch:

- Colab opens notebooks from GitHub only, so each page's notebook is written into the built site
  under ``_launch/<page>.ipynb`` with a first cell that installs the course package when it is
  missing; the Colab button opens that file on the branch the site is published to
  (``launch_notebooks_branch``).
- Binder builds the repository itself (``binder/``), whose ``postBuild`` builds the book and copies
  each chapter's launch notebook beside its ``.md`` (``notebooks_for_binder`` below); the Binder
  button opens it. Binder and Colab open the same notebook.
- The download button of a markdown page offers the same runnable notebook as Colab.

For a MyST markdown page the notebook is the page as executed by the build, its MyST turned into
plain Jupyter markdown (``launch_notebook``): numbers, figures, equation numbers and solutions
(folded) as the page shows them.

Valid, accessible pages. sphinx-exercise gives every exercise and solution body the same id
(``exercise-content``, ``solution-content``); each gets its own id here, from its label. Images take
no fixed height, so a figure scaled down to a narrow column keeps its proportions. The navigation's
expand buttons (a ``<summary>`` holding only an icon) get a name; bibliography entries are list
items of their list (docutils marks them ``doc-biblioentry``, a role deprecated in favour of
``listitem``, inside a ``role="list"`` that may hold list items only).

Thebe is switched off: the book runs code on Binder and Colab, and sphinx-thebe, which Jupyter Book
always loads, would otherwise put the configuration of a template repository on every page.

Offline pages. myst-nb would load require.js and the widget manager from CDNs on every page with
saved widget state; the book renders the widgets' plain-text note instead (see
``autograder.widgets``), so the saved state is dropped from the page, as is every repeated script.
"""

import copy
import json
import shutil
from contextlib import suppress
from pathlib import Path

import nbformat
from docutils import nodes
from jupyter_cache import get_cache
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook
from myst_nb.sphinx_ext import OUTPUT_FOLDER

from launch_notebook import clean_notebook

LAUNCH_FOLDER = "_launch"
WIDGET_STATE_MIMETYPE = "application/vnd.jupyter.widget-state+json"
# sphinx-exercise's fixed ids, and the parts of sphinx-thebe that remain when thebe is off.
REPEATED_IDS = ("exercise-content", "solution-content")
THEBE_SIGNS = ("x-thebe-config", "kernelName =", "THEBE_JS_URL", "sphinx-thebe")
# pydata-sphinx-theme's expand button of a navigation entry, which has no text of its own.
UNNAMED_TOGGLE = '<summary><span class="toctree-toggle" role="presentation">'
NAMED_TOGGLE = '<summary aria-label="Show or hide the sections of this entry"><span class="toctree-toggle" role="presentation">'
# The notebook interfaces sphinx-book-theme knows, and the URL prefix each opens a file with.
INTERFACE_PREFIXES = {"classic": "tree", "jupyterlab": "lab/tree"}


def setup(app):
    """Register the configuration and the page hook (after sphinx-book-theme's own, at 501)."""
    app.add_config_value("launch_notebooks_branch", "gh-pages", "html", types=[str])
    app.connect("html-page-context", tidy_page_scripts, priority=502)
    app.connect("html-page-context", add_launch_notebook, priority=502)
    app.connect("html-page-context", name_page_controls, priority=502)
    app.connect("build-finished", name_navigation_toggles)
    # After sphinx-thebe's own handler (500), which adds its configuration to every page.
    app.connect("doctree-resolved", tidy_doctree, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def setup_cell_source(repository_url, branch, needs_myst_nb):
    """The code of the cell that makes a fresh kernel (Colab) able to run a page."""
    install_lines = []
    if needs_myst_nb:
        install_lines.append("    %pip install --quiet myst-nb")
    install_lines.append(
        f'    %pip install --quiet --no-deps "attention-course @ git+{repository_url}@{branch}"'
    )
    return "\n".join(
        [
            "# Run first. Jupyter and Binder already have the course's reference package;",
            "# Colab does not, so this installs it (Colab has numpy, matplotlib and ipywidgets).",
            "import importlib.util",
            "",
            'if importlib.util.find_spec("autograder") is None:',
            *install_lines,
        ]
    )


def runnable_notebook(notebook, repository_url, branch):
    """A copy of ``notebook`` whose first cell installs what it needs where that is missing."""
    runnable = copy.deepcopy(notebook)
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    needs_myst_nb = any("myst_nb" in source for source in sources)
    cell = nbformat.v4.new_code_cell(setup_cell_source(repository_url, branch, needs_myst_nb))
    # nbformat 5 requires cell ids; a fixed one keeps rebuilt notebooks identical.
    cell.id = "install-course-package"
    runnable.cells.insert(0, cell)
    return runnable


def notebooks_for_binder(launch_dir, project_root):
    """Copy the launch notebook of each MyST markdown page beside its ``<page>.md``.

    ``launch_dir`` is the ``_launch`` folder of a built book. Binder runs this in ``postBuild``.
    Returns the paths written.
    """
    written = []
    for launched in sorted(Path(launch_dir).rglob("*.ipynb")):
        page = launched.relative_to(launch_dir).with_suffix("")
        source = Path(project_root, page).with_suffix(".md")
        if source.exists() and is_myst_markdown_notebook(source.read_text(encoding="utf-8")):
            target = source.with_suffix(".ipynb")
            shutil.copyfile(launched, target)
            written.append(target)
    return written


def is_thebe(text):
    return any(sign in text for sign in THEBE_SIGNS)


def tidy_doctree(app, doctree, docname):
    """Unique ids for exercise and solution bodies, no fixed image heights, no thebe configuration."""
    for section in doctree.findall(nodes.section):
        if section["ids"] and section["ids"][0] in REPEATED_IDS:
            owner = section.parent
            label = next((name for name in owner.get("names", []) if name), None) if owner else None
            kind = section["ids"][0]
            section["ids"] = [f"{label}-content" if label else doctree.set_id(section, suggested_prefix=kind)]
            section["classes"].append(kind)
    for image in doctree.findall(nodes.image):
        if "width" in image and "height" in image and "scale" not in image:
            del image["height"]
    for raw in list(doctree.findall(nodes.raw)):
        if is_thebe(raw.astext()):
            raw.parent.remove(raw)


def name_page_controls(app, pagename, templatename, context, doctree):
    """Bibliography entries become list items of their list."""
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def name_navigation_toggles(app, exception):
    """Give the navigation's expand buttons a name, in every page written.

    The theme renders the navigation inside its templates, after every page hook has run, so the
    written pages are edited; the edit is idempotent, so pages an incremental build kept are fine.
    """
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if UNNAMED_TOGGLE in html:
            page.write_text(html.replace(UNNAMED_TOGGLE, NAMED_TOGGLE), encoding="utf-8")


def tidy_page_scripts(app, pagename, templatename, context, doctree):
    """Drop saved widget state, repeated scripts and thebe from the page.

    No widget manager runs on the static book, so widget state is dead weight. sphinx-thebe adds
    its inline configuration twice per build, and a second ``const THEBE_JS_URL`` is a script
    error in every page's console; thebe is off (see the module's docstring).
    """
    kept, seen = [], set()
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        # An inline script is registered with filename None or "" depending on the extension.
        filename = getattr(script, "filename", script) or ""
        identity = (filename, tuple(sorted((key, str(value)) for key, value in attributes.items())))
        if attributes.get("type") == WIDGET_STATE_MIMETYPE or identity in seen:
            continue
        if is_thebe(filename) or is_thebe(str(attributes.get("body", ""))):
            continue
        seen.add(identity)
        kept.append(script)
    context["script_files"] = kept
    context["css_files"] = [
        css for css in context.get("css_files", []) if not is_thebe(getattr(css, "filename", css) or "")
    ]


def page_notebook(app, pagename):
    """The notebook behind a page, and the suffix of its source (``.md`` or ``.ipynb``).

    A MyST markdown page gives the notebook myst-nb executed for the page, with the outputs of
    the execution cache and its MyST resolved into plain Jupyter markdown (with the values the
    page glued, which myst-nb writes to ``jupyter_execute/<page>.glue.json``).
    """
    source = Path(app.env.doc2path(pagename))
    if source.suffix == ".ipynb":
        return nbformat.read(source, as_version=4), source.suffix
    # The notebook as myst-nb read it for this page (written to jupyter_execute/, with or without
    # outputs), so the launch notebook matches the page even if the source changes during the build.
    executed_dir = Path(app.outdir).parent / OUTPUT_FOLDER
    read_path = executed_dir / f"{pagename}.ipynb"
    if read_path.exists():
        executed = nbformat.read(read_path, as_version=4)
    else:
        executed = read_myst_markdown_notebook(source.read_text(encoding="utf-8"), path=source)
    cache_path = app.env.mystnb_config.execution_cache_path
    if cache_path and Path(cache_path).exists():
        # A page with no code cell is not executed, hence not in the cache.
        with suppress(KeyError):
            _, executed = get_cache(cache_path).merge_match_into_notebook(executed)
    glue_path = executed_dir / f"{pagename}.glue.json"
    glue_values = json.loads(glue_path.read_text(encoding="utf-8")) if glue_path.exists() else {}
    return clean_notebook(app, pagename, executed, glue_values), source.suffix


def add_launch_notebook(app, pagename, templatename, context, doctree):
    """Write the page's runnable notebook and point the Binder and Colab buttons to notebooks."""
    launch_group = next(
        (
            button
            for button in context.get("header_buttons", [])
            if button.get("label") == "launch-buttons"
        ),
        None,
    )
    if launch_group is None:
        return
    theme = app.config.html_theme_options
    repository_url = theme["repository_url"].rstrip("/")
    source_branch = theme.get("repository_branch", "main")
    owner, repo = repository_url.split("github.com/")[-1].split("/")[:2]
    docs_prefix = theme.get("path_to_docs", "").strip("/")
    docs_prefix = f"{docs_prefix}/" if docs_prefix else ""
    launch = theme["launch_buttons"]

    notebook, suffix = page_notebook(app, pagename)
    runnable = runnable_notebook(notebook, repository_url, source_branch)
    launch_path = Path(app.outdir, LAUNCH_FOLDER, f"{pagename}.ipynb")
    launch_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(runnable, launch_path)
    if suffix != ".ipynb":
        # sphinx-book-theme offers `_sources/<page>.ipynb` for download: make it the runnable one.
        shutil.copyfile(launch_path, Path(app.outdir, "_sources", f"{pagename}.ipynb"))

    interface = INTERFACE_PREFIXES[launch.get("notebook_interface", "classic")]
    binder_url = launch.get("binderhub_url", "").rstrip("/")
    colab_url = launch.get("colab_url", "").rstrip("/")
    for button in launch_group["buttons"]:
        if button.get("text") == "Binder":
            button["url"] = (
                f"{binder_url}/v2/gh/{owner}/{repo}/{source_branch}"
                f"?urlpath={interface}/{docs_prefix}{pagename}.ipynb"
            )
        elif button.get("text") == "Colab":
            button["url"] = (
                f"{colab_url}/github/{owner}/{repo}/blob/{app.config.launch_notebooks_branch}"
                f"/{LAUNCH_FOLDER}/{pagename}.ipynb"
            )
