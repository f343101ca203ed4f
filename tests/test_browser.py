"""The built book in a real browser, offline: Debian's Chromium driven by Playwright.

For the landing page and every page of the table of contents: the page loads with no console
error and no request leaving the machine, its math is typeset, its images load (with alt text, at
twice their shown size in pixels), its "next" link reaches the next page, it has no serious or
critical accessibility violation (axe-core, from npm, injected from a local file) in light and dark
mode, and every display equation and table fits its column at desktop width (1280 px) and, at phone
width (390 px), fits or scrolls inside its column with a visible cue. Screenshots of both modes are
saved for a person to look at, in BOOK_SCREENSHOTS (default: _build/screenshots/).
"""

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import PROJECT, toc_pages

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# Flags measured on these machines (PITFALLS.md): no sandbox as root, nothing phoning home.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = "127.0.0.1"
VIEWPORT = {"width": 1280, "height": 900}
PHONE_VIEWPORT = {"width": 390, "height": 844}
# axe-core impacts a page may not have.
BLOCKING_IMPACTS = ("serious", "critical")
PAGES = ("index", *toc_pages())
# TeX that MathJax replaces; any of it left in the text means math was not typeset.
RAW_TEX_SIGNS = ("\\(", "\\)", "\\[", "\\]", "$$", "\\frac", "\\begin{", "\\mathbb")

FIND_RAW_TEX = """signs => {
  const article = document.querySelector("article") || document.body;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode: node => node.parentElement.closest("pre, code, script, style, mjx-container, mjx-assistive-mml")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (signs.some(sign => node.textContent.includes(sign))) found.push(node.textContent.trim().slice(0, 80));
  }
  return found;
}"""

WAIT_FOR_MATHJAX = """() => (window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise.then(() => document.querySelectorAll("mjx-container").length)
  : 0"""

BROKEN_IMAGES = """async () => {
  const images = Array.from(document.images);
  images.forEach(image => { image.loading = "eager"; });
  await Promise.all(images.map(image => image.complete ? null
    : new Promise(done => { image.addEventListener("load", done); image.addEventListener("error", done); })));
  return images.filter(image => !(image.complete && image.naturalWidth > 0)).map(image => image.src);
}"""


RUN_AXE = """async () => {
  // No preload: axe would fetch the theme's @import-ed stylesheet again, resolved against the site's
  // root (a 404), only for its rule on orientation locks, which a book has none of.
  const results = await axe.run(document, {resultTypes: ["violations"], preload: false});
  return results.violations.map(violation => ({
    id: violation.id, impact: violation.impact, help: violation.help,
    nodes: violation.nodes.slice(0, 3).map(node => node.target.join(" ")),
  }));
}"""

# Every image of the article: its alt text, and its pixels per shown pixel.
IMAGES = """() => Array.from(document.querySelectorAll("article img")).map(image => ({
  src: image.getAttribute("src"), alt: image.getAttribute("alt"),
  natural: image.naturalWidth, shown: image.getBoundingClientRect().width,
}))"""

# Each display equation and table: how wide its content is, how wide its scroller and the column
# are, and what a reader sees of the overflow (the scroller's overflow style, scrollbar, shadows).
WIDE_CONTENT = """() => {
  const column = document.querySelector("article.bd-article") || document.querySelector("article");
  const columnBox = column.getBoundingClientRect();
  const blocks = [
    ...Array.from(column.querySelectorAll("div.math")).map(block => [block, block.querySelector("mjx-container")]),
    ...Array.from(column.querySelectorAll("table")).map(table => [table, table.closest(".pst-scrollable-table-container") || table.parentElement]),
  ];
  return blocks.filter(([block, scroller]) => scroller && block.offsetParent !== null).map(([block, scroller]) => {
    const style = getComputedStyle(scroller);
    const box = scroller.getBoundingClientRect();
    return {
      what: (block.id || block.className || block.tagName) + ": " + block.textContent.trim().slice(0, 40),
      content: scroller.scrollWidth, visible: scroller.clientWidth,
      right: box.right, left: box.left, columnLeft: columnBox.left, columnRight: columnBox.right,
      overflow: style.overflowX, scrollbar: scroller.offsetHeight - scroller.clientHeight,
      cue: style.backgroundImage.includes("gradient"),
    };
  });
}"""


def ensure_chromium():
    """Debian's Chromium, installed with apt-get when missing (the tests run as root in CI)."""
    if not Path(CHROMIUM).exists():
        environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
            process = subprocess.run(command, env=environment, capture_output=True, text=True)
            assert process.returncode == 0, f"{' '.join(command)} failed:\n{process.stdout[-2000:]}{process.stderr[-2000:]}"
    return CHROMIUM


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def book_url(built_book):
    """The built book served on the loopback interface for the duration of the module."""
    handler = functools.partial(QuietHandler, directory=str(built_book.html_dir))
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        # Playwright hides scrollbars in headless mode; a reader sees them, and the overflow test measures them.
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, ignore_default_args=["--hide-scrollbars"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshot_dir():
    folder = Path(os.environ.get("BOOK_SCREENSHOTS") or PROJECT / "_build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def axe_script():
    """axe-core's script, fetched from npm once (`make browser`), then read from disk."""
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))
    from scripts.build_book import ensure_axe_core

    return ensure_axe_core()


class Visit:
    """A browser tab that records everything that goes wrong while it shows pages."""

    def __init__(self, browser, color_scheme, viewport=VIEWPORT):
        self.context = browser.new_context(color_scheme=color_scheme, viewport=viewport)
        self.problems = []
        # Offline: a request for anything but the served book is refused, and reported.
        self.context.route("**/*", self.only_loopback)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.problems.append(f"console: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"failed request: {request.url}"))
        self.page.on("response", lambda response: response.status >= 400 and self.problems.append(f"HTTP {response.status}: {response.url}"))

    def only_loopback(self, route):
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            self.problems.append(f"request to the network: {route.request.url}")
            route.abort()

    def open(self, url):
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.ok, f"{url} did not load"
        self.page.evaluate(WAIT_FOR_MATHJAX)

    def close(self):
        self.context.close()


def page_url(book_url, docname):
    return f"{book_url}{docname}.html"


def next_link_and_page(page, docname):
    """The link a reader follows from ``docname`` and the page it should open (None at the end)."""
    if docname == "index":
        return page.locator("a.landing-start"), PAGES[1]
    position = PAGES.index(docname)
    following = PAGES[position + 1] if position + 1 < len(PAGES) else None
    return page.locator("a.right-next"), following


def accessibility_violations(page, axe_script):
    page.add_script_tag(path=str(axe_script))
    return [violation for violation in page.evaluate(RUN_AXE) if violation["impact"] in BLOCKING_IMPACTS]


@pytest.mark.parametrize("docname", PAGES)
def test_page_reads_well_offline_in_light_and_dark_mode(browser, book_url, screenshot_dir, axe_script, docname):
    """Loads, math typeset, images load, no console error, next page reached, accessible; both color modes."""
    for color_scheme in ("light", "dark"):
        visit = Visit(browser, color_scheme)
        try:
            visit.open(page_url(book_url, docname))
            page = visit.page
            where = f"{docname} ({color_scheme})"
            assert page.evaluate("() => document.documentElement.dataset.theme") == color_scheme, where
            raw_tex = page.evaluate(FIND_RAW_TEX, list(RAW_TEX_SIGNS))
            assert not raw_tex, f"{where}: math left as TeX: {raw_tex}"
            untypeset = page.evaluate(
                "() => Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container')).length"
            )
            assert untypeset == 0, f"{where}: {untypeset} formulas were not typeset"
            broken = page.evaluate(BROKEN_IMAGES)
            assert not broken, f"{where}: images that do not load: {broken}"
            for image in page.evaluate(IMAGES):
                alt = (image["alt"] or "").strip()
                # Docutils falls back to the file's path: a text alternative says what the image shows.
                assert alt and alt != image["src"] and not re.fullmatch(r"\S+\.(png|svg|jpe?g|gif)", alt), f"{where}: {image['src']} has alt {alt!r}"
                if image["shown"] > 64:  # figures, not the theme's logos and icons
                    assert image["natural"] >= 1.9 * image["shown"], f"{where}: {image['src']} is {image['natural']} px shown at {image['shown']:.0f}"
            violations = accessibility_violations(page, axe_script)
            assert not violations, f"{where}: axe-core: {violations}"
            page.screenshot(path=screenshot_dir / f"{docname.replace('/', '__')}-{color_scheme}.png", full_page=True)
            if color_scheme == "light":
                link, following = next_link_and_page(page, docname)
                if following is None:
                    assert link.count() == 0, f"{where}: the last page links onwards"
                else:
                    with page.expect_navigation():
                        link.click()
                    assert page.url.split("#")[0] == page_url(book_url, following), f"{where}: next led to {page.url}"
            assert not visit.problems, f"{where}:\n" + "\n".join(visit.problems)
        finally:
            visit.close()


def test_search_finds_the_notation_page(browser, book_url):
    visit = Visit(browser, "light")
    try:
        visit.open(f"{book_url}search.html?q=transpose")
        results = visit.page.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=15_000)
        targets = [href.split("?")[0].split("#")[0] for href in results.evaluate_all("links => links.map(a => a.href)")]
        assert page_url(book_url, "book/notation") in targets
        # Snippets read like the page: no TeX, no header buttons (".ipynb .md .pdf") in front.
        snippets = visit.page.locator("#search-results p.context")
        snippets.first.wait_for(timeout=15_000)
        for snippet in snippets.all_inner_texts():
            assert not re.search(r"\\[a-zA-Z(\[]|\.pdf|\.ipynb", snippet), f"search snippet: {snippet!r}"
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()


@pytest.mark.parametrize("docname", PAGES)
def test_equations_and_tables_fit_the_column_on_desktop_and_phone(browser, book_url, docname):
    """At 1280 px every display equation and table fits its column; at 390 px one that does not
    scrolls inside the column, with a scrollbar and a shadow on the hidden side."""
    for viewport in (VIEWPORT, PHONE_VIEWPORT):
        visit = Visit(browser, "light", viewport)
        try:
            visit.open(page_url(book_url, docname))
            where = f"{docname} at {viewport['width']} px"
            for block in visit.page.evaluate(WIDE_CONTENT):
                inside = block["left"] >= block["columnLeft"] - 1 and block["right"] <= block["columnRight"] + 1
                assert inside, f"{where}: {block['what']!r} sticks out of its column: {block}"
                if block["content"] <= block["visible"] + 1:
                    continue
                assert viewport is not VIEWPORT, f"{where}: {block['what']!r} is {block['content']} px wide in {block['visible']} px"
                assert block["overflow"] in ("auto", "scroll"), f"{where}: {block['what']!r} is cut: {block}"
                assert block["scrollbar"] > 0 and block["cue"], f"{where}: {block['what']!r} scrolls without a visible cue: {block}"
            page_width = visit.page.evaluate("() => document.documentElement.scrollWidth")
            assert page_width <= viewport["width"], f"{where}: the page is {page_width} px wide"
        finally:
            visit.close()
