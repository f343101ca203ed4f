"""Time the strict book build: `make benchmark`, or `python -m scripts.benchmark_build`.

Three builds into one fresh output folder, in order:

- clean: nothing built, empty execution cache (every chapter is executed);
- no-change rebuild: the same command again (Sphinx finds nothing to do);
- re-read with warm cache (`--all`): every page parsed and written again, its notebook outputs
  taken from the execution cache instead of a kernel.

The execution cache must make the no-change rebuild at least MIN_SPEEDUP times faster than the
clean build; the script exits with status 1 when it does not.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scripts.build_book import build, ensure_mathjax, warm_matplotlib_font_cache

MIN_SPEEDUP = 5.0


def timed_build(output_dir, label, rebuild_all=False):
    """Seconds one strict build takes; stops the benchmark if the build fails."""
    log_path = Path(output_dir) / f"{label}.log"
    start = time.perf_counter()
    result = build(output_dir, rebuild_all=rebuild_all, log_path=log_path)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the {label} build failed; see {log_path}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="build here (emptied first) instead of a temporary folder")
    args = parser.parse_args(argv)
    # Fetching MathJax and building the font cache happen once per machine, not per build.
    ensure_mathjax()
    warm_matplotlib_font_cache()
    output_dir = args.output or Path(tempfile.mkdtemp(prefix="book-benchmark-"))
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    try:
        clean = timed_build(output_dir, "clean")
        rebuild = timed_build(output_dir, "rebuild")
        reread = timed_build(output_dir, "reread", rebuild_all=True)
    finally:
        if args.output is None:
            shutil.rmtree(output_dir, ignore_errors=True)
    speedup = clean / rebuild
    print(f"clean build:                 {clean:6.1f} s")
    print(f"no-change rebuild:           {rebuild:6.1f} s  ({speedup:.1f} times faster)")
    print(f"re-read with a warm cache:   {reread:6.1f} s  ({clean / reread:.1f} times faster)")
    if speedup < MIN_SPEEDUP:
        print(f"the no-change rebuild must be at least {MIN_SPEEDUP:g} times faster than the clean build")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
