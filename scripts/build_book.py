"""Build the book: `make book`, or `python -m scripts.build_book [--output DIR] [--all]`.

1. Fetch what the offline book serves itself and git does not keep: MathJax, from the npm
   registry (`npm pack`), unpacked into `_vendor/mathjax/` (served as `_static/mathjax/`).
   (`--axe-core` fetches the browser tests' axe-core the same way, into `_build/.vendor/`.)
2. Build the matplotlib font cache, which a fresh machine otherwise builds inside the first
   executed chapter while printing to stderr, which the strict build treats as an error.
3. Point the build's kernels to an IPython profile of the build's own (`_build/.ipython`) whose
   inline backend draws figures at twice their size in pixels ("retina": sharp on high-density
   screens and when zoomed; the page still shows them at their size in inches).
4. `jupyter-book build` with warnings as errors and nitpicky references (`-W -n --keep-going`).
   Chapters are executed through the execution cache (`_build/.jupyter_cache` in the output).
   After a change of `_toc.yml` every page is re-read (`--all`), so every page's navigation
   follows the new table of contents; the execution cache keeps that fast.

`--pdf` (`make pdf`) builds the whole book as one page (Sphinx's `singlehtml` builder, same sources,
same execution cache) and prints it with Debian's Chromium (headless, through Playwright, offline,
after MathJax has typeset every formula) to `_build/pdf/book.pdf`, with a bookmark per heading.

`--binder-notebooks` (Binder's postBuild) builds the book without MathJax and not strictly, into a
temporary folder, and copies each chapter's launch notebook to `book/<chapter>.ipynb`, where the
Binder button opens it.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = PROJECT_ROOT / "_vendor"
MATHJAX_PACKAGE = "mathjax"
MATHJAX_VERSION = "3.2.2"
# The package's browser components; its README and node entry points are not served.
MATHJAX_KEPT = ("package/es5/", "package/LICENSE", "package/package.json")
STRICT_FLAGS = ("-W", "-n", "--keep-going")
# axe-core for the browser tests (tests/test_browser.py), kept out of the served book.
AXE_VERSION = "4.10.3"
AXE_DIR = PROJECT_ROOT / "_build" / ".vendor" / "axe-core"
AXE_KEPT = ("package/axe.min.js", "package/LICENSE", "package/package.json")


def mathjax_dir(vendor_dir=VENDOR_DIR):
    return Path(vendor_dir) / "mathjax"


def vendored_version(target, entry_point):
    """The version of the npm package unpacked in ``target``, or None when absent or incomplete."""
    package_json = Path(target) / "package.json"
    if not (package_json.exists() and (Path(target) / entry_point).exists()):
        return None
    return json.loads(package_json.read_text(encoding="utf-8"))["version"]


def vendored_mathjax_version(vendor_dir=VENDOR_DIR):
    """The version of the unpacked MathJax, or None when it is absent or incomplete."""
    return vendored_version(mathjax_dir(vendor_dir), "es5/tex-mml-chtml.js")


def unpack_npm_package(package, version, kept, target):
    """Unpack the files of ``package@version`` (npm registry) that start with ``kept`` into ``target``."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(f"npm is needed once to fetch {package} (Debian: apt-get install npm).")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work_dir:
        packed = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--pack-destination", work_dir],
            capture_output=True,
            text=True,
        )
        if packed.returncode != 0:
            raise SystemExit(f"npm could not fetch {package}@{version}:\n{packed.stderr}")
        (tarball,) = Path(work_dir).glob("*.tgz")
        unpacked = Path(work_dir) / "unpacked"
        with tarfile.open(tarball) as archive:
            members = [member for member in archive.getmembers() if member.name.startswith(kept)]
            for member in members:
                member.name = member.name.removeprefix("package/")
            archive.extractall(unpacked, members=members, filter="data")
        # Unpacked aside and moved in whole, so a build never sees half a package.
        shutil.rmtree(target, ignore_errors=True)
        unpacked.rename(target)
    return target


def ensure_mathjax(vendor_dir=VENDOR_DIR):
    """Unpack `mathjax@MATHJAX_VERSION` from the npm registry into `vendor_dir/mathjax`."""
    if vendored_mathjax_version(vendor_dir) != MATHJAX_VERSION:
        unpack_npm_package(MATHJAX_PACKAGE, MATHJAX_VERSION, MATHJAX_KEPT, mathjax_dir(vendor_dir))
    return mathjax_dir(vendor_dir)


def ensure_axe_core(target=AXE_DIR):
    """axe-core, the accessibility checker the browser tests run in each page, from npm; its script."""
    if vendored_version(target, "axe.min.js") != AXE_VERSION:
        unpack_npm_package("axe-core", AXE_VERSION, AXE_KEPT, target)
    return Path(target) / "axe.min.js"


def warm_matplotlib_font_cache():
    # Importing the font manager builds the cache in this (the build's) environment.
    import matplotlib.font_manager  # noqa: F401


# The kernels' profile: matplotlib figures as PNG at twice the pixels, shown at their 1x size.
KERNEL_CONFIG = 'c.InlineBackend.figure_formats = {"retina"}\n'


def kernel_ipython_dir(output_dir=None):
    """An IPython directory whose default profile configures the build's kernels (KERNEL_CONFIG)."""
    ipython_dir = Path(output_dir or PROJECT_ROOT) / "_build" / ".ipython"
    config = ipython_dir / "profile_default" / "ipython_kernel_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    if not config.exists() or config.read_text(encoding="utf-8") != KERNEL_CONFIG:
        config.write_text(KERNEL_CONFIG, encoding="utf-8")
    return ipython_dir


def jupyter_book_command(output_dir=None, rebuild_all=False, strict=True, builder="html"):
    """The `jupyter-book build` command line for the project."""
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(PROJECT_ROOT), "--builder", builder]
    if output_dir is not None:
        command += ["--path-output", str(output_dir)]
    if strict:
        command += list(STRICT_FLAGS)
    if rebuild_all:
        command.append("--all")
    return command


def html_dir(output_dir=None):
    """Where the built HTML lands for a given `--output`."""
    return Path(output_dir or PROJECT_ROOT) / "_build" / "html"


def toc_stamp_path(output_dir=None):
    return Path(output_dir or PROJECT_ROOT) / "_build" / ".toc.sha256"


def toc_fingerprint():
    return hashlib.sha256((PROJECT_ROOT / "_toc.yml").read_bytes()).hexdigest()


def toc_changed_since_last_build(output_dir=None):
    """Whether `_toc.yml` changed since the last successful build into `output_dir`.

    Sphinx rewrites only the pages whose source changed; after a change of the table of contents
    the other pages would keep their old navigation (a new chapter missing from "next").
    """
    stamp = toc_stamp_path(output_dir)
    return stamp.exists() and stamp.read_text(encoding="utf-8") != toc_fingerprint()


def build(output_dir=None, rebuild_all=False, log_path=None, strict=True, builder="html"):
    """Fetch what is missing, then build the book strictly; returns the completed process.

    With `log_path`, the build's output goes there instead of the terminal. Not `strict`, the
    build needs no MathJax (Binder: only the launch notebooks are kept).
    """
    if strict:
        ensure_mathjax()
    warm_matplotlib_font_cache()
    rebuild_all = rebuild_all or toc_changed_since_last_build(output_dir)
    command = jupyter_book_command(output_dir, rebuild_all, strict=strict, builder=builder)
    environment = dict(os.environ, IPYTHONDIR=str(kernel_ipython_dir(output_dir)))
    if log_path is None:
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=environment)
    else:
        with open(log_path, "w", encoding="utf-8") as log:
            result = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode == 0 and builder == "html":
        toc_stamp_path(output_dir).write_text(toc_fingerprint(), encoding="utf-8")
    return result


CHROMIUM = "/usr/bin/chromium"
# Measured on these machines (PITFALLS.md): no sandbox as root, nothing phoning home.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
PDF_MARGIN = {"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}
TYPESET_AND_LOAD = """async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const images = Array.from(document.images);
  images.forEach(image => { image.loading = "eager"; });
  await Promise.all(images.map(image => image.complete ? null
    : new Promise(done => { image.addEventListener("load", done); image.addEventListener("error", done); })));
  return document.querySelectorAll("mjx-container").length;
}"""


def pdf_path(output_dir=None):
    return Path(output_dir or PROJECT_ROOT) / "_build" / "pdf" / "book.pdf"


def print_to_pdf(html_root, page, target):
    """Print ``html_root/page`` to ``target`` with Chromium, served from the loopback interface only."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(html_root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
            context = browser.new_context(color_scheme="light")
            # Offline: anything but the served book is refused.
            context.route("**/*", lambda route: route.continue_() if "://127.0.0.1:" in route.request.url else route.abort())
            tab = context.new_page()
            tab.goto(f"http://127.0.0.1:{server.server_address[1]}/{page}", wait_until="load", timeout=120_000)
            tab.emulate_media(media="print")
            tab.evaluate(TYPESET_AND_LOAD)
            target.parent.mkdir(parents=True, exist_ok=True)
            tab.pdf(path=str(target), format="A4", margin=PDF_MARGIN, print_background=True, outline=True, tagged=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return target


def build_pdf(output_dir=None, log_path=None):
    """The whole book as one PDF (see the module's docstring); returns its path, or None on failure."""
    ensure_mathjax()
    result = build(output_dir, log_path=log_path, strict=False, builder="singlehtml")
    if result.returncode != 0:
        return None
    single_dir = Path(output_dir or PROJECT_ROOT) / "_build" / "singlehtml"
    # The single page is written as the root document (book/intro.html) with links relative to
    # the output folder itself: printed from there, it finds its styles, MathJax and images.
    root_doc = re.search(r"^root:\s*(\S+)", (PROJECT_ROOT / "_toc.yml").read_text(encoding="utf-8"), re.M).group(1)
    shutil.copyfile(single_dir / f"{root_doc}.html", single_dir / "book.html")
    return print_to_pdf(single_dir, "book.html", pdf_path(output_dir))


def write_binder_notebooks():
    sys.path.insert(0, str(PROJECT_ROOT / "book" / "_ext"))
    from book_frame import LAUNCH_FOLDER, notebooks_for_binder

    with tempfile.TemporaryDirectory() as output_dir:
        result = build(output_dir, strict=False)
        if result.returncode != 0:
            return result.returncode
        for path in notebooks_for_binder(html_dir(output_dir) / LAUNCH_FOLDER, PROJECT_ROOT):
            print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="build into OUTPUT/_build/html (default: the project)")
    parser.add_argument("--all", action="store_true", help="re-read every page (the execution cache still applies)")
    parser.add_argument("--pdf", action="store_true", help="build the whole book as one PDF, _build/pdf/book.pdf")
    parser.add_argument("--axe-core", action="store_true", help="only fetch axe-core for the browser tests")
    parser.add_argument("--binder-notebooks", action="store_true", help="only write book/*.ipynb for Binder")
    args = parser.parse_args(argv)
    if args.binder_notebooks:
        return write_binder_notebooks()
    if args.pdf:
        target = build_pdf(args.output)
        if target is None:
            return 1
        print(f"The book is in {target}.")
        return 0
    if args.axe_core:
        print(f"axe-core is in {ensure_axe_core().parent}")
        return 0
    result = build(args.output, rebuild_all=args.all)
    if result.returncode == 0:
        print(f"The book is in {html_dir(args.output)}; open index.html, or `make serve`.")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
