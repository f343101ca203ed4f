"""What a reader expects around the chapters: runnable launch notebooks and an offline page.

Launch buttons. sphinx-book-theme points Binder and Colab at the page's source file. For a MyST
markdown page that is a ``.md`` file, which Colab cannot open. This extension gives every
notebook page of the book a real notebook to launch:

- Colab opens notebooks from GitHub only, so each page's notebook is written into the built site
  under ``_launch/<page>.ipynb`` with a first cell that installs the course package when it is
  missing; the Colab button opens that file on the branch the site is published to
  (``launch_notebooks_branch``).
- Binder builds the repository itself (``binder/``), whose ``postBuild`` writes an ``.ipynb``
  beside each chapter's ``.md`` (``notebooks_for_binder`` below); the Binder button opens it.
  Both notebooks are the page as myst-nb reads it to execute it: the reader runs them.
- The download button of a markdown page offers the same runnable notebook as Colab.

Offline pages. myst-nb would load require.js and the widget manager from CDNs on every page with
saved widget state; the book renders the widgets' plain-text note instead (see
``autograder.widgets``), so the saved state is dropped from the page, as is every repeated script.
"""

import copy
import shutil
from pathlib import Path

import nbformat
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

LAUNCH_FOLDER = "_launch"
WIDGET_STATE_MIMETYPE = "application/vnd.jupyter.widget-state+json"
# The notebook interfaces sphinx-book-theme knows, and the URL prefix each opens a file with.
INTERFACE_PREFIXES = {"classic": "tree", "jupyterlab": "lab/tree"}


def setup(app):
    """Register the configuration and the page hook (after sphinx-book-theme's own, at 501)."""
    app.add_config_value("launch_notebooks_branch", "gh-pages", "html", types=[str])
    app.connect("html-page-context", tidy_page_scripts, priority=502)
    app.connect("html-page-context", add_launch_notebook, priority=502)
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


def notebooks_for_binder(book_folder):
    """Write ``<page>.ipynb`` beside each MyST markdown notebook ``<page>.md`` of ``book_folder``.

    Binder runs this in ``postBuild``; the notebooks are not run here, the reader runs them.
    Returns the paths written.
    """
    written = []
    for source in sorted(Path(book_folder).glob("*.md")):
        text = source.read_text(encoding="utf-8")
        if not is_myst_markdown_notebook(text):
            continue
        target = source.with_suffix(".ipynb")
        nbformat.write(read_myst_markdown_notebook(text, path=source), target)
        written.append(target)
    return written


def tidy_page_scripts(app, pagename, templatename, context, doctree):
    """Drop saved widget state and repeated scripts from the page.

    No widget manager runs on the static book, so widget state is dead weight. sphinx-thebe adds
    its inline configuration twice per build, and a second ``const THEBE_JS_URL`` is a script
    error in every page's console.
    """
    kept, seen = [], set()
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        # An inline script is registered with filename None or "" depending on the extension.
        filename = getattr(script, "filename", script) or ""
        identity = (filename, tuple(sorted((key, str(value)) for key, value in attributes.items())))
        if attributes.get("type") == WIDGET_STATE_MIMETYPE or identity in seen:
            continue
        seen.add(identity)
        kept.append(script)
    context["script_files"] = kept


def page_notebook(app, pagename):
    """The notebook behind a page, and the suffix of its source (``.md`` or ``.ipynb``).

    A MyST markdown page is read as myst-nb reads it for execution; its outputs are produced
    by whoever runs it.
    """
    source = Path(app.env.doc2path(pagename))
    if source.suffix == ".ipynb":
        return nbformat.read(source, as_version=4), source.suffix
    text = source.read_text(encoding="utf-8")
    return read_myst_markdown_notebook(text, path=source), source.suffix


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
