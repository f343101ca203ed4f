"""``course similarity``: pairs of submissions whose code is suspiciously alike, side by side.

For each chapter, the code a student wrote (their answers in the solution cells and the code cells
they added, read from ``submitted/``) is fingerprinted with ``copydetect`` (winnowing, as MOSS:
tokens normalised so that names, comments and layout do not count). What every student is given
or expected to write is boilerplate and never counts as shared: the release's stubs and the
instructor's own solution, so two students who both wrote the model answer are not a pair.

Each answer is compared with the same answer of the other student (a solution cell with the same
cell; the added cells together). A pair is listed when both of these hold: at least
``min_tokens`` tokens are shared (one function of this course is about 30 to 140 tokens, and two
students who independently make the same classic mistake in it can write it alike, so one shared
function is not enough), and the shared code is at least ``threshold`` of each student's own
code (what else they wrote is not what makes a copy).
"""

import io
import itertools
from dataclasses import dataclass
from pathlib import Path

import nbformat

#: copydetect's defaults: matches shorter than NOISE tokens are ignored, matches of GUARANTEE are found
NOISE, GUARANTEE = 25, 30
DEFAULT_THRESHOLD = 0.8
DEFAULT_MIN_TOKENS = 150


@dataclass
class Pair:
    chapter: str
    students: tuple
    score: float
    shared_tokens: int
    code: tuple  # each student's code as HTML, shared parts highlighted


def _fingerprint(name, code, boilerplate=(), window=GUARANTEE - NOISE + 1):
    from copydetect import CodeFingerprint
    return CodeFingerprint(f"{name}.py", NOISE, window, boilerplate=list(boilerplate), language="python",
                           fp=io.StringIO(code))


def _cells(notebook):
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}


def _text(source):
    return source if isinstance(source, str) else "".join(source)


def student_code(notebook, release):
    """{solution cell: the student's code in it, ``"added"``: the code cells they added}."""
    released = _cells(release)
    code = {grade_id: "" for grade_id, cell in released.items() if cell.metadata.get("nbgrader", {}).get("solution")}
    added = []
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if isinstance(grade_id, str) and grade_id in code:
            code[grade_id] = _text(cell.source)
        elif not isinstance(grade_id, str) or grade_id not in released:
            added.append(_text(cell.source))
    return dict(code, added="\n\n".join(added))


def _boilerplate(root, chapter, release):
    """{solution cell: fingerprints of its stub and of the model solution; ``"added"``: of all given code}."""
    source = nbformat.read(next((Path(root) / "solutions" / chapter).glob("*.ipynb")), as_version=4)
    given = {}
    for notebook in (release, source):
        for grade_id, cell in _cells(notebook).items():
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                given.setdefault(grade_id, []).append(cell.source)
    everything = "\n\n".join(cell.source for notebook in (release, source) for cell in notebook.cells
                              if cell.cell_type == "code")
    # every k-gram of the given code (a window of 1), as copydetect does for its boilerplate
    prints = {grade_id: set().union(*(_fingerprint("given", text, window=1).hashes for text in texts))
              for grade_id, texts in given.items()}
    return dict(prints, added=_fingerprint("given", everything, window=1).hashes)


def _compare(first, second):
    """(shared tokens, share of each side, each side's code as HTML with the shared parts marked)."""
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap
    from markupsafe import escape

    shared, covered, pages = [0, 0], [0, 0], [[], []]
    for key in first:
        left, right = first[key], second[key]
        overlap, similarities, slices = compare_files(left[1], right[1])
        for side, (code, print_) in enumerate((left, right)):
            covered[side] += print_.token_coverage
            if overlap:
                # copydetect's similarity of each side is its shared tokens over its own coverage
                shared[side] += similarities[side] * print_.token_coverage
                pages[side].append(highlight_overlap(code, slices[side], "<mark>", "</mark>", escape_html=True)[0])
            elif code.strip():
                pages[side].append(str(escape(code)))
    shares = tuple(shared[side] / covered[side] if covered[side] else 0.0 for side in (0, 1))
    return round(min(shared)), shares, tuple("\n\n".join(page) for page in pages)


def similar_pairs(root, chapters, threshold=DEFAULT_THRESHOLD, min_tokens=DEFAULT_MIN_TOKENS):
    """Every pair of ``chapters``' submissions above both thresholds, most alike first, and how many were compared."""
    pairs, compared = [], 0
    for chapter in chapters:
        release_path = next((Path(root) / "notebooks" / chapter).glob("*.ipynb"), None)
        if release_path is None:
            continue
        release = nbformat.read(release_path, as_version=4)
        boilerplate = _boilerplate(root, chapter, release)
        prints = {}
        for path in sorted((Path(root) / "submitted").glob(f"*/{chapter}/{release_path.name}")):
            try:
                code = student_code(nbformat.read(path, as_version=4), release)
            except Exception:  # an unreadable notebook has no code to compare; grading reports it
                continue
            student = path.parts[-3]
            prints[student] = {key: (text, _fingerprint(f"{student}-{key}", text, boilerplate.get(key, ())))
                               for key, text in code.items()}
        for first, second in itertools.combinations(sorted(prints), 2):
            compared += 1
            shared, shares, code = _compare(prints[first], prints[second])
            score = min(shares)
            if shared >= min_tokens and score >= threshold:
                pairs.append(Pair(chapter, (first, second), float(score), shared, code))
    return sorted(pairs, key=lambda pair: (-pair.score, pair.chapter, pair.students)), compared


def write_page(root, pairs, compared, threshold, min_tokens, path):
    """``similarity.html``: the pairs, each with both students' code side by side."""
    from markupsafe import Markup

    from autograder.grading.course import write_atomically
    from autograder.grading.pages import template_environment

    page = template_environment().get_template("similarity.html.j2").render(
        pairs=[dict(vars(pair), code=tuple(Markup(code) for code in pair.code)) for pair in pairs],
        compared=compared, threshold=threshold, min_tokens=min_tokens)
    write_atomically(Path(path), page)
