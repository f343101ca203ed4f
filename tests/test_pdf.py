"""The whole book as one PDF (`make pdf`): it builds, offline, and holds every chapter with its math
and figures.

The PDF is Chromium's print of the book built as one page from the same sources (and the same
execution cache) as the HTML of the session's build.
"""

import re
import shutil
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT

pytestmark = [pytest.mark.pdf, pytest.mark.book]

# TeX that MathJax replaces; any of it in the PDF's text means math was printed untypeset.
RAW_TEX_SIGNS = ("\\frac", "\\begin{", "\\mathbb", "\\top", "\\(", "$$")


def page_title(built_book, docname):
    """A page's title as its HTML shows it, without the section number and the permalink sign."""
    heading = BeautifulSoup(built_book.page(docname).read_text(encoding="utf-8"), "html.parser").select_one("article h1")
    for extra in heading.select(".section-number, .headerlink"):
        extra.decompose()
    return " ".join(heading.get_text(" ").split())


@pytest.fixture(scope="module")
def book_pdf(built_book):
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))
    from scripts.build_book import build_pdf

    built_book.html_dir  # the HTML build ran and passed: its execution cache serves the PDF build
    log_path = built_book.output_dir / "pdf.log"
    target = build_pdf(built_book.output_dir, log_path=log_path)
    assert target is not None and target.exists(), log_path.read_text(encoding="utf-8")[-4000:]
    return target


def poppler(tool, *args):
    assert shutil.which(tool), f"{tool} is missing: apt-get install poppler-utils (make browser does it)"
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True).stdout


def test_pdf_holds_every_chapter_with_its_math_and_figures(built_book, book_pdf):
    text = " ".join(poppler("pdftotext", "-enc", "UTF-8", str(book_pdf), "-").split())
    for docname in built_book.pages:
        if docname.startswith("book/"):
            title = page_title(built_book, docname)
            assert title in text, f"{docname}: {title!r} is not in the PDF"
    raw_tex = [sign for sign in RAW_TEX_SIGNS if sign in text]
    assert not raw_tex, f"math printed as TeX: {raw_tex}"
    figures = sum(
        len(BeautifulSoup(built_book.page(docname).read_text(encoding="utf-8"), "html.parser").select("article figure img"))
        for docname in built_book.pages
    )
    images = [line for line in poppler("pdfimages", "-list", str(book_pdf)).splitlines()[2:] if line.strip()]
    assert len(images) >= figures > 0, f"{len(images)} images in the PDF for {figures} figures in the HTML"
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(book_pdf))).group(1))
    assert pages > len(built_book.pages), pages
