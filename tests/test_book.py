"""The built book: strict build, figures, numbers from the reference package, links, offline assets,
landing page, launch and download notebooks, numbering, bibliography.

Every test reads the one build of the session (the ``built_book`` fixture of conftest.py), whatever
chapters ``_toc.yml`` lists at the time.
"""

import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import matplotlib
import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT

pytestmark = pytest.mark.book

CHAPTER_DOCNAME = re.compile(r"^book/\d\d_")
# {glue}`key`, {glue:text}`key:.3f`, {glue:}`page::key`; figures and markdown glue are not numbers.
GLUE_ROLE = re.compile(r"\{glue(?::(text|any)?)?\}`([^`]+)`")
# A glued wall-clock time (e.g. `train_seconds`) measures the build machine: no second run repeats it.
MEASURED_SUFFIX = "_seconds"
LINK_ATTRIBUTES = (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"))


@lru_cache(maxsize=None)
def soup(path):
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def source_of(docname):
    """The source file of a page of the book."""
    for suffix in (".md", ".ipynb"):
        path = PROJECT / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(docname)


def is_myst_notebook(docname):
    path = source_of(docname)
    return path.suffix == ".md" and "kernelspec:" in path.read_text(encoding="utf-8").split("\n---", 1)[0]


def chapter_pages(built_book):
    return [docname for docname in built_book.pages if CHAPTER_DOCNAME.match(docname)]


def notebook_pages(built_book):
    return [
        docname
        for docname in built_book.pages
        if source_of(docname).suffix == ".ipynb" or is_myst_notebook(docname)
    ]


def text_of(node):
    return " ".join(node.get_text(" ").split())


def test_build_passes_with_warnings_as_errors(built_book):
    assert built_book.returncode == 0, built_book.log[-6000:]
    assert "WARNING:" not in built_book.log, "the strict build logged warnings"
    for docname in built_book.pages:
        assert built_book.page(docname).exists(), f"{docname} is in _toc.yml but was not built"


def test_chapter_pages_show_their_numbered_figures(built_book):
    chapters = chapter_pages(built_book)
    assert chapters, "_toc.yml lists no chapter (book/NN_name)"
    for docname in chapters:
        page = built_book.page(docname)
        figures = soup(page).select("figure")
        assert figures, f"{docname} has no figure"
        for figure in figures:
            caption = figure.select_one(".caption-number")
            assert caption is not None and re.fullmatch(r"Fig\. \d+(\.\d+)*", caption.get_text().strip()), (
                f"{docname}: a figure without a numbered caption"
            )
            for image in figure.select("img"):
                image_file = (page.parent / image["src"]).resolve()
                assert image_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{docname}: {image['src']} is no PNG"


def glued_values(docnames):
    """Execute the pages' code afresh, in this process, and collect what they glue.

    The values come from the reference package now, not from the build, so finding them in the
    HTML shows that the page shows what the package computes. Returns {(docname, key): text/plain}.
    """
    import myst_nb
    from IPython.core.interactiveshell import InteractiveShell
    from myst_nb.core.read import read_myst_markdown_notebook

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shell = InteractiveShell.instance()
    values = {}
    real_glue = myst_nb.glue
    try:
        for docname in docnames:
            path = source_of(docname)
            notebook = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), path=path)
            shell.reset(new_session=False)

            def record(name, variable, display=True, docname=docname):
                values[docname, name] = shell.display_formatter.format(variable)[0]

            myst_nb.glue = record
            working_dir = os.getcwd()
            os.chdir(path.parent)
            try:
                for cell in notebook.cells:
                    if cell.cell_type == "code":
                        result = shell.run_cell(cell.source, silent=True)
                        assert result.success, f"{docname}: a code cell failed: {result.error_in_exec!r}"
            finally:
                os.chdir(working_dir)
                plt.close("all")
    finally:
        myst_nb.glue = real_glue
    return values


def test_chapter_pages_show_the_numbers_the_reference_package_computes(built_book):
    from myst_nb.core.variables import format_plain_text

    chapters = [docname for docname in chapter_pages(built_book) if is_myst_notebook(docname)]
    values = glued_values(chapters)
    for docname in chapters:
        roles = GLUE_ROLE.findall(source_of(docname).read_text(encoding="utf-8"))
        assert roles, f"{docname} glues no number computed at build time"
        article = soup(built_book.page(docname)).select_one("article")
        # {glue:text} renders as a span of its own; {glue} as the value's output, inline.
        pasted = {text_of(span) for span in article.select(".pasted-text")}
        page_text = text_of(article)
        for kind, role in roles:
            # `key:format`, or `page::key:format` for a value glued by another page.
            source_page, _, key_and_format = role.rpartition("::")
            key, _, fmt_spec = key_and_format.partition(":")
            source_doc = next(
                (page for page in chapters if Path(page).stem == Path(source_page).stem), docname
            )
            bundle = values[source_doc, key]
            if key.endswith(MEASURED_SUFFIX) or set(bundle) != {"text/plain"}:
                continue  # a measured time, or a glued figure or table (the figure test checks those)
            shown = " ".join(format_plain_text(bundle["text/plain"], fmt_spec).split())
            if kind == "text":
                assert shown in pasted, f"{docname}: {{glue:text}}`{role}` should show {shown!r}"
            else:
                assert shown in page_text, f"{docname}: {{glue}}`{role}` should show {shown!r}"


def is_local(url):
    """Whether ``url`` stays inside the built book (no scheme, no host)."""
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc)


def local_target(page, url):
    """The file and fragment a URL of ``page`` points to, or None when it leaves the book."""
    if not is_local(url):
        return None
    parts = urlsplit(url)
    path = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
    if path.is_dir():
        path = path / "index.html"
    return path, parts.fragment


@lru_cache(maxsize=None)
def ids_in(path):
    return {element["id"] for element in soup(path).select("[id]")}


def test_internal_links_resolve(built_book):
    html_dir = built_book.html_dir
    broken = []
    # _static/ holds the themes' Jinja macro files, which are no pages.
    pages = [page for page in sorted(html_dir.rglob("*.html")) if "_static" not in page.relative_to(html_dir).parts]
    assert len(pages) >= len(built_book.pages)
    for page in pages:
        for tag, attribute in LINK_ATTRIBUTES:
            for element in soup(page).find_all(tag):
                url = element.get(attribute)
                if not url or url == "#":
                    continue
                target = local_target(page, url)
                if target is None:
                    continue
                path, fragment = target
                if not path.exists():
                    broken.append(f"{page.relative_to(html_dir)}: {url} (missing file)")
                elif fragment and path.suffix == ".html" and fragment not in ids_in(path):
                    broken.append(f"{page.relative_to(html_dir)}: {url} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_chapters_cross_reference_each_other_and_every_reference_lands(built_book):
    chapter_files = {built_book.page(docname).resolve() for docname in chapter_pages(built_book)}
    between_chapters = 0
    for docname in built_book.pages:
        page = built_book.page(docname)
        for link in soup(page).select("article a.reference.internal"):
            path, fragment = local_target(page, link["href"])
            assert path.exists(), f"{docname}: {link['href']}"
            if fragment:
                assert fragment in ids_in(path), f"{docname}: {link['href']} names no anchor there"
            if page.resolve() in chapter_files and path in chapter_files and path != page.resolve():
                between_chapters += 1
    if len(chapter_files) > 1:
        assert between_chapters, "no chapter refers to another one"


def test_pages_load_nothing_from_the_network(built_book):
    for docname in ("index", "search", *built_book.pages):
        page = soup(built_book.html_dir / f"{docname}.html")
        for script in page.select("script[src]"):
            assert is_local(script["src"]), f"{docname}: {script['src']}"
        for stylesheet in page.select("link[rel~=stylesheet]"):
            assert is_local(stylesheet["href"]), f"{docname}: {stylesheet['href']}"
        for image in page.select("img"):
            assert is_local(image["src"]), f"{docname}: {image['src']}"
        assert not page.select('script[type="application/vnd.jupyter.widget-state+json"]'), docname


def test_math_is_typeset_by_the_mathjax_served_with_the_book(built_book):
    pages_with_math = 0
    for docname in built_book.pages:
        page = built_book.page(docname)
        scripts = [script["src"] for script in soup(page).select("script[src]") if "mathjax" in script["src"].lower()]
        if soup(page).select(".math"):
            pages_with_math += 1
            # One entry point, no component scripts injected one by one (see PITFALLS.md).
            assert len(scripts) == 1, f"{docname}: {scripts}"
            path, _ = local_target(page, scripts[0].split("?")[0])
            assert path.exists() and path.name == "tex-mml-chtml.js", scripts[0]
            fonts = path.parent / "output" / "chtml" / "fonts" / "woff-v2"
            assert any(fonts.glob("*.woff")), "MathJax's fonts are not served with the book"
    assert pages_with_math, "no page of the book has math"


def test_widget_pages_show_a_figure_and_a_note_instead_of_an_empty_widget(built_book):
    widget_pages = [
        docname
        for docname in built_book.pages
        if source_of(docname).suffix == ".md" and "explore(" in source_of(docname).read_text(encoding="utf-8")
    ]
    for docname in widget_pages:
        page = soup(built_book.page(docname))
        assert not page.select('script[type="application/vnd.jupyter.widget-view+json"]'), docname
        notes = [output for output in page.select(".cell_output") if "Interactive controls:" in output.get_text()]
        assert notes, f"{docname}: the widget has no static note"
        for output in notes:
            assert output.select("img"), f"{docname}: the widget's note comes without its figure"


def test_landing_page_is_a_real_page_with_the_contents(built_book):
    landing = built_book.html_dir / "index.html"
    page = soup(landing)
    assert not page.select('meta[http-equiv="Refresh"], meta[http-equiv="refresh"]')
    title = re.search(r'title:\s*"([^"]+)"', (PROJECT / "_config.yml").read_text(encoding="utf-8")).group(1)
    assert page.select_one("article h1").get_text().strip() == title
    linked = {
        str(local_target(landing, link["href"])[0].relative_to(built_book.html_dir))
        for link in page.select("article a[href]")
        if local_target(landing, link["href"])
    }
    assert {f"{docname}.html" for docname in built_book.pages} <= linked


def test_launch_buttons_open_notebooks_and_download_buttons_offer_them(built_book):
    html_dir = built_book.html_dir
    pages = notebook_pages(built_book)
    assert pages, "no page of the book is a notebook"
    for docname in pages:
        page = soup(built_book.page(docname))
        launch_urls = {link.get_text().strip(): link["href"] for link in page.select(".dropdown-launch-buttons a")}
        assert set(launch_urls) == {"Binder", "Colab"}, f"{docname}: {launch_urls}"
        assert launch_urls["Binder"].endswith(f"urlpath=lab/tree/{docname}.ipynb"), launch_urls["Binder"]
        colab_path = re.search(r"/blob/[^/]+/(.+)$", launch_urls["Colab"]).group(1)
        assert colab_path == f"_launch/{docname}.ipynb"
        launched = nbformat.read(html_dir / colab_path, as_version=4)
        nbformat.validate(launched)
        assert 'find_spec("autograder")' in launched.cells[0].source
        original = nbformat.read(source_of(docname), as_version=4) if source_of(docname).suffix == ".ipynb" else None
        if original is not None:
            assert [cell.source for cell in launched.cells[1:]] == [cell.source for cell in original.cells]
        downloads = [link["href"] for link in page.select(".dropdown-download-buttons a[href$='.ipynb']")]
        assert downloads, f"{docname} offers no notebook to download"
        downloaded = nbformat.read(built_book.page(docname).parent / downloads[0], as_version=4)
        nbformat.validate(downloaded)


# The launch notebooks' content, their run in a fresh kernel and Binder's copies: test_launch_notebooks.py.


def test_chapters_and_equations_are_numbered(built_book):
    numbers = []
    for docname in chapter_pages(built_book):
        page = soup(built_book.page(docname))
        heading_number = page.select_one("article h1 .section-number")
        assert heading_number is not None, f"{docname} has no chapter number"
        numbers.append(int(heading_number.get_text().strip().rstrip(".")))
        for equation in page.select("div.math[id^=equation-]"):
            number = equation.select_one(".eqno").contents[0]  # the rest is the headerlink "#"
            assert re.fullmatch(r"\(\d+(\.\d+)*\)", number.strip()), (
                f"{docname}: labelled equation {equation['id']} has no number"
            )
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers


def test_citations_lead_to_the_bibliography_of_their_own_chapter(built_book):
    for docname in built_book.pages:
        if "{cite" not in source_of(docname).read_text(encoding="utf-8"):
            continue
        page = built_book.page(docname)
        assert soup(page).select("div.citation[id]"), f"{docname} cites but shows no bibliography"
        for link in soup(page).select("article a.reference.internal"):
            path, fragment = local_target(page, link["href"])
            target = soup(path).find(id=fragment) if fragment else None
            if target is not None and "citation" in target.get("class", []):
                assert path == page.resolve(), f"{docname}: {link.get_text()} leads to {path.name}"


def test_search_index_and_notation_page_cover_the_book(built_book):
    index = (built_book.html_dir / "searchindex.js").read_text(encoding="utf-8")
    for docname in built_book.pages:
        assert f'"{docname}"' in index, f"{docname} is not in the search index"
    assert "book/notation" in built_book.pages, "the notation page is not in _toc.yml"
    notation = text_of(soup(built_book.page("book/notation")).select_one("article"))
    assert "rows" in notation and "transpose" in notation


def test_pages_carry_the_copyright_line(built_book):
    copyright_holder = re.search(r'copyright:\s*"([^"]+)"', (PROJECT / "_config.yml").read_text(encoding="utf-8")).group(1)
    for docname in ("index", *built_book.pages):
        footer = text_of(soup(built_book.html_dir / f"{docname}.html").select_one("footer.bd-footer-content"))
        assert f"© Copyright {copyright_holder}" in footer, docname


@lru_cache(maxsize=None)
def chapter_glue(docname):
    """What one chapter glues, recomputed by executing its code afresh (see ``glued_values``)."""
    values = glued_values([docname])
    return {key: bundle["text/plain"] for (_, key), bundle in values.items() if set(bundle) == {"text/plain"}}


def glued_number(docname, key):
    return float(chapter_glue(docname)[key])


def test_the_scaling_section_measures_the_gradient_that_reaches_the_query():
    """Chapter 4's claim about sqrt(d_k), recomputed: the typical query, not the mean, loses its gradient."""
    page = "book/04_dot_product_attention"
    number = lambda key: glued_number(page, key)  # noqa: E731
    # The variance of the raw scores is d_k; scaled, it is 1.
    assert number("scale_var_unscaled_64") == pytest.approx(64, rel=0.1)
    assert number("scale_var_scaled_256") == pytest.approx(1, rel=0.1)
    # The mean hides the distribution: unscaled it is larger at d_k = 64 and still at 256...
    assert number("scale_mean_unscaled_64") > 2 * number("scale_mean_scaled_64")
    assert number("scale_mean_unscaled_256") > 2 * number("scale_mean_scaled_256")
    # ...while the median query of the unscaled version gets a fifth of the scaled one's at d_k = 256,
    assert number("scale_median_unscaled_256") < 0.3 * number("scale_median_scaled_256")
    # the scaled distribution does not move with d_k,
    for level in ("q10", "median", "q90"):
        assert number(f"scale_{level}_scaled_256") == pytest.approx(number(f"scale_{level}_scaled_64"), rel=0.1)
    # and the unscaled one is spread over orders of magnitude, a tenth of the queries taking most of the total.
    assert number("scale_q90_unscaled_256") / number("scale_q10_unscaled_256") > 1e4
    assert number("scale_top_share_unscaled_256") > 50 > 2 * number("scale_top_share_scaled_256")
    assert 30 < number("scale_starved_256") < 70


def test_every_figure_has_alt_text_that_describes_it(built_book):
    for docname in chapter_pages(built_book):
        if not CHAPTER_DOCNAME.match(docname):
            continue
        for image in soup(built_book.page(docname)).select("article img"):
            alt = image.get("alt", "")
            assert len(alt) >= 60 and not alt.endswith((".png", ".svg")) and "_images" not in alt, (
                f"{docname}: an image without a description: {alt!r}"
            )


# A numpy array printed into the prose: "[0.09   0.2447 0.6652]", "[nan nan nan]", "[[ 0.1 -0.2]".
RAW_ARRAY = re.compile(r"\[\[?\s*(nan|-?inf|-?\d+\.\d*(e[-+]\d+)?)(\s+(nan|-?inf|-?\d+\.\d*(e[-+]\d+)?))+\s*\]")


def test_chapters_show_numbers_formatted_and_end_with_titled_exercises_a_starred_one_and_a_summary(built_book):
    for docname in chapter_pages(built_book):
        article = soup(built_book.page(docname)).select_one("article")
        prose = " ".join(text_of(node) for node in article.select("p, li, td"))
        assert not RAW_ARRAY.search(prose), f"{docname}: raw numpy output {RAW_ARRAY.search(prose).group()!r}"
        titles = [text_of(title) for title in article.select("div.exercise > p.admonition-title")]
        assert titles and all(re.fullmatch(r"Exercise \d+\.\d+ \(.+\)", title) for title in titles), (docname, titles)
        assert any("star" in str(title) or "⋆" in str(title)
                   for title in article.select("div.exercise > p.admonition-title")), f"{docname}: no starred exercise"
        headings = [text_of(heading) for heading in article.select("h2")]
        assert any("Summary" in heading for heading in headings), f"{docname} has no summary"
        source = source_of(docname).read_text(encoding="utf-8")
        assert "perf_counter" not in source, f"{docname} reports how long the build machine took"


def test_bibliography_entries_carry_a_doi_or_a_link():
    entries = re.split(r"\n(?=@)", (PROJECT / "book" / "references.bib").read_text(encoding="utf-8"))
    for entry in entries:
        if entry.strip().startswith("@"):
            key = entry.split("{", 1)[1].split(",", 1)[0]
            assert re.search(r"^\s*(doi|url)\s*=", entry, re.M), f"{key} has neither a DOI nor a link"
