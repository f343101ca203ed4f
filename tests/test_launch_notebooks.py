"""The notebooks behind the Binder, Colab and download buttons open clean and run.

For every notebook page of the book: its launch notebook (``_launch/<page>.ipynb`` of the built site)
runs from top to bottom in a fresh kernel; its markdown holds no MyST-only syntax (directives, roles,
targets, comments: found by myst-parser's own parser); the numbers the page glues appear as the page
formats them; figures come as outputs; solutions are folded. Binder copies the same notebooks beside
the chapters.
"""

import re
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT

pytestmark = pytest.mark.book

sys.path.insert(0, str(PROJECT / "book" / "_ext"))
from book_frame import LAUNCH_FOLDER, notebooks_for_binder  # noqa: E402
from launch_notebook import unresolved_myst  # noqa: E402

MYST_SIGNS = re.compile(r"\{[a-z:-]+\}`|^:::|^```\{|^\(\S+\)=\s*$", re.MULTILINE)


def myst_pages(built_book):
    return [
        docname
        for docname in built_book.pages
        if (PROJECT / f"{docname}.md").exists()
        and "kernelspec:" in (PROJECT / f"{docname}.md").read_text(encoding="utf-8").split("\n---", 1)[0]
    ]


def launch_notebook(built_book, docname):
    return nbformat.read(built_book.html_dir / LAUNCH_FOLDER / f"{docname}.ipynb", as_version=4)


def markdown_of(notebook):
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.fixture(scope="module")
def pages(built_book):
    found = myst_pages(built_book)
    assert found, "the book has no MyST notebook page"
    return found


def test_launch_notebooks_hold_no_myst_syntax(built_book, pages):
    for docname in pages:
        notebook = launch_notebook(built_book, docname)
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            assert not unresolved_myst(cell.source), f"{docname}: {unresolved_myst(cell.source)} in\n{cell.source[:400]}"
            # A second, independent look: the literal signs of MyST a reader would see as text.
            assert not MYST_SIGNS.search(cell.source), f"{docname}: {MYST_SIGNS.search(cell.source).group()!r}"


def test_the_scanner_finds_myst_syntax():
    """The scan above is no test that cannot fail: it finds each kind of MyST construct."""
    for myst in ("{glue:text}`x:.2f`", "{numref}`fig-a`", "{cite:t}`key`", ":::{exercise}\nbody\n:::",
                 "```{bibliography}\n```", "(label)=\n# Title", "$$\nx\n$$ (eq-a)", "% a comment"):
        assert unresolved_myst(myst), myst
    assert not unresolved_myst("Plain *markdown* with $x^2$, `code` and a [link](https://example.org).")


def test_launch_notebooks_show_what_the_page_shows(built_book, pages):
    for docname in pages:
        notebook = launch_notebook(built_book, docname)
        markdown = markdown_of(notebook)
        page = BeautifulSoup(built_book.page(docname).read_text(encoding="utf-8"), "html.parser")
        article = page.select_one("article")
        # Every number the page pastes ({glue:text}) is in the notebook's text, formatted alike.
        for pasted in article.select(".pasted-text"):
            assert pasted.get_text().strip() in markdown, f"{docname}: {pasted.get_text()!r} is not in the notebook"
        # Figures: as many images in the outputs as the page has figures drawn by its code.
        page_figures = [figure for figure in article.select("figure") if figure.select(".cell_output img, img")]
        images = [
            output
            for cell in notebook.cells
            if cell.cell_type == "code"
            for output in cell.outputs
            if "image/png" in output.get("data", {}) or "image/svg+xml" in output.get("data", {})
        ]
        assert len(images) >= len(page_figures), f"{docname}: {len(images)} images for {len(page_figures)} figures"
        for number in {caption.get_text().strip() for caption in article.select("figure .caption-number")}:
            assert f"**{number}" in markdown, f"{docname}: no caption {number} in the notebook"
        # Equation numbers follow the page's.
        for eqno in article.select("div.math .eqno"):
            number = eqno.contents[0].strip().strip("()")
            assert f"\\tag{{{number}}}" in markdown, f"{docname}: equation ({number}) is not numbered"
        # Solutions folded: as many <details> as the page has solutions, none open.
        solutions = article.select(".solution")
        assert markdown.count("<details>") == len(solutions), docname
        assert "<details open" not in markdown


def test_launch_notebooks_run_in_a_fresh_kernel(built_book, pages):
    from nbclient import NotebookClient

    for docname in pages:
        notebook = launch_notebook(built_book, docname)
        # Run where the build runs the page, so the page's relative paths hold.
        client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str((PROJECT / docname).parent)}})
        client.execute()
        install_outputs = notebook.cells[0].outputs
        assert not install_outputs, f"{docname}: the install cell ran although the course package is installed"


def test_binder_copies_the_launch_notebooks_beside_the_chapters(built_book, pages, tmp_path):
    for docname in pages:
        target = tmp_path / f"{docname}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((PROJECT / f"{docname}.md").read_bytes())
    written = notebooks_for_binder(built_book.html_dir / LAUNCH_FOLDER, tmp_path)
    assert sorted(written) == sorted(tmp_path / f"{docname}.ipynb" for docname in pages)
    for path, docname in zip(sorted(written), sorted(pages)):
        assert path.read_bytes() == (built_book.html_dir / LAUNCH_FOLDER / f"{docname}.ipynb").read_bytes()
