"""Build the book: `make book`, or `python -m scripts.build_book [--output DIR] [--all]`.

1. Fetch what the offline book serves itself and git does not keep: MathJax, from the npm
   registry (`npm pack`), unpacked into `_vendor/mathjax/` (served as `_static/mathjax/`).
2. Build the matplotlib font cache, which a fresh machine otherwise builds inside the first
   executed chapter while printing to stderr, which the strict build treats as an error.
3. `jupyter-book build` with warnings as errors and nitpicky references (`-W -n --keep-going`).
   Chapters are executed through the execution cache (`_build/.jupyter_cache` in the output).
   After a change of `_toc.yml` every page is re-read (`--all`), so every page's navigation
   follows the new table of contents; the execution cache keeps that fast.

`--binder-notebooks` instead writes `book/<chapter>.ipynb` beside each chapter (Binder's postBuild).
"""

import argparse
import hashlib
import json
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


def mathjax_dir(vendor_dir=VENDOR_DIR):
    return Path(vendor_dir) / "mathjax"


def vendored_mathjax_version(vendor_dir=VENDOR_DIR):
    """The version of the unpacked MathJax, or None when it is absent or incomplete."""
    package_json = mathjax_dir(vendor_dir) / "package.json"
    entry_point = mathjax_dir(vendor_dir) / "es5" / "tex-mml-chtml.js"
    if not (package_json.exists() and entry_point.exists()):
        return None
    return json.loads(package_json.read_text(encoding="utf-8"))["version"]


def ensure_mathjax(vendor_dir=VENDOR_DIR):
    """Unpack `mathjax@MATHJAX_VERSION` from the npm registry into `vendor_dir/mathjax`."""
    if vendored_mathjax_version(vendor_dir) == MATHJAX_VERSION:
        return mathjax_dir(vendor_dir)
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "npm is needed once to fetch MathJax for the offline book "
            "(Debian: apt-get install npm)."
        )
    target = mathjax_dir(vendor_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work_dir:
        packed = subprocess.run(
            [npm, "pack", f"{MATHJAX_PACKAGE}@{MATHJAX_VERSION}", "--pack-destination", work_dir],
            capture_output=True,
            text=True,
        )
        if packed.returncode != 0:
            raise SystemExit(f"npm could not fetch {MATHJAX_PACKAGE}@{MATHJAX_VERSION}:\n{packed.stderr}")
        (tarball,) = Path(work_dir).glob("*.tgz")
        unpacked = Path(work_dir) / "mathjax"
        with tarfile.open(tarball) as archive:
            members = [member for member in archive.getmembers() if member.name.startswith(MATHJAX_KEPT)]
            for member in members:
                member.name = member.name.removeprefix("package/")
            archive.extractall(unpacked, members=members, filter="data")
        # Unpacked aside and moved in whole, so a build never sees half a MathJax.
        shutil.rmtree(target, ignore_errors=True)
        unpacked.rename(target)
    return target


def warm_matplotlib_font_cache():
    # Importing the font manager builds the cache in this (the build's) environment.
    import matplotlib.font_manager  # noqa: F401


def jupyter_book_command(output_dir=None, rebuild_all=False, strict=True):
    """The `jupyter-book build` command line for the project."""
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(PROJECT_ROOT)]
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


def build(output_dir=None, rebuild_all=False, log_path=None):
    """Fetch what is missing, then build the book strictly; returns the completed process.

    With `log_path`, the build's output goes there instead of the terminal.
    """
    ensure_mathjax()
    warm_matplotlib_font_cache()
    rebuild_all = rebuild_all or toc_changed_since_last_build(output_dir)
    command = jupyter_book_command(output_dir, rebuild_all)
    if log_path is None:
        result = subprocess.run(command, cwd=PROJECT_ROOT)
    else:
        with open(log_path, "w", encoding="utf-8") as log:
            result = subprocess.run(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode == 0:
        toc_stamp_path(output_dir).write_text(toc_fingerprint(), encoding="utf-8")
    return result


def write_binder_notebooks():
    sys.path.insert(0, str(PROJECT_ROOT / "book" / "_ext"))
    from book_frame import notebooks_for_binder

    for path in notebooks_for_binder(PROJECT_ROOT / "book"):
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="build into OUTPUT/_build/html (default: the project)")
    parser.add_argument("--all", action="store_true", help="re-read every page (the execution cache still applies)")
    parser.add_argument("--binder-notebooks", action="store_true", help="only write book/*.ipynb for Binder")
    args = parser.parse_args(argv)
    if args.binder_notebooks:
        write_binder_notebooks()
        return 0
    result = build(args.output, rebuild_all=args.all)
    if result.returncode == 0:
        print(f"The book is in {html_dir(args.output)}; open index.html, or `make serve`.")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
