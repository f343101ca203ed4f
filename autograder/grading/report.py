"""The class report: one self-contained HTML page telling an instructor what to re-teach.

It gathers, over every graded submission of the chosen chapters: the distribution of scores per
chapter, the share of submissions earning all, some or none of each question's points, the
classic mistakes the checking layer diagnosed most often (with the students who made them), and
the submissions whose grading failed or stopped early, and the answers still to grade by hand.
Scores are nbgrader's after its late penalty; a failed submission counts as failed only (its
earlier points, if any, are left out), so that submitted = graded + to grade by hand + failed.
When ``course grade`` left its records,
it also lists the test results a submitted notebook showed that the trusted verdict
contradicts, and the flags the grader raised (reference code imported or copied, refused
operations). Figures are drawn with matplotlib and embedded as PNG (base64), so the page opens
anywhere, offline, as a single file.
"""

import base64
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from matplotlib.figure import Figure

from autograder.grading.course import write_atomically
from autograder.grading.pages import template_environment

#: Colours of "all points", "some points", "no points" (matplotlib's tab10 green, orange, red).
OUTCOME_COLOURS = ("#2ca02c", "#ff7f0e", "#d62728")
#: Vertical offsets of the dots of one chapter, so that equal scores do not hide each other.
DOT_OFFSETS = (-0.18, -0.09, 0.0, 0.09, 0.18)


@dataclass(frozen=True)
class QuestionSummary:
    """How a class did on one question."""

    chapter: str
    question: str
    full: int
    some: int
    none: int

    @property
    def graded(self):
        return self.full + self.some + self.none

    @property
    def pass_rate(self):
        return self.full / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class MistakeSummary:
    """A diagnosed classic mistake and the students whose submission showed it."""

    chapter: str
    question: str
    mistake: str
    students: tuple
    graded: int


def _scored(results, chapter):
    """The submissions of ``chapter`` that have a score: graded, or graded but for answers still to grade by hand."""
    return [s for (_, name), s in sorted(results.submissions.items()) if name == chapter and s.status != "failed"]


def chapter_scores(results):
    """``{chapter: [score after the late penalty as a fraction of the maximum, one per scored submission]}``."""
    return {chapter: [submission.score / notebook.max_points for submission in _scored(results, chapter)]
            for chapter, notebook in results.notebooks.items()}


def question_summaries(results):
    """One ``QuestionSummary`` per question, chapters in course order, questions in notebook order; an
    answer still to grade by hand is left out of its question's counts."""
    summaries = []
    for chapter, notebook in results.notebooks.items():
        scored = _scored(results, chapter)
        earned = [(submission.question_points(notebook), set(submission.pending_questions(notebook)))
                  for submission in scored]
        for question in notebook.questions:
            got = [points_of[question.name] for points_of, pending in earned if question.name not in pending]
            full = sum(value >= question.points for value in got)
            none = sum(value <= 0 for value in got)
            summaries.append(QuestionSummary(chapter, question.name, full, len(got) - full - none, none))
    return summaries


def mistake_summaries(results):
    """Diagnosed mistakes, most frequent first (ties in course order), each with its students."""
    students = defaultdict(list)
    graded = Counter()
    for (student, chapter), submission in sorted(results.submissions.items()):
        if submission.status == "failed":
            continue
        graded[chapter] += 1
        for question, mistakes in submission.question_mistakes(results.notebooks[chapter]).items():
            for mistake in mistakes:
                students[chapter, question, mistake].append(student)
    order = {chapter: index for index, chapter in enumerate(results.notebooks)}
    keys = sorted(students, key=lambda key: (-len(students[key]), order[key[0]], key[1], key[2]))
    return [MistakeSummary(*key, tuple(students[key]), graded[key[0]]) for key in keys]


def _in_course_order(results, items):
    """``items`` (tuples starting with student, chapter) sorted by chapter in course order, then student."""
    order = {chapter: index for index, chapter in enumerate(results.notebooks)}
    return sorted(items, key=lambda item: (order[item[1]], item[0], *map(str, item[2:])))


def failed_submissions(results):
    """``(student, chapter, reason)`` of every submission whose grading failed or stopped before the end."""
    return _in_course_order(results, [
        (student, chapter, submission.failure or submission.stopped)
        for (student, chapter), submission in results.submissions.items() if submission.failure or submission.stopped
    ])


def pending_submissions(results):
    """``(student, chapter, questions still to grade by hand)``, for the formgrader."""
    return _in_course_order(results, [
        (student, chapter, ", ".join(submission.pending_questions(results.notebooks[chapter])))
        for (student, chapter), submission in results.submissions.items() if submission.status == "to grade by hand"
    ])


def late_submissions(results):
    """``(student, chapter, seconds late, penalty)`` of every submission handed in after its due date."""
    return _in_course_order(results, [
        (student, chapter, submission.seconds_late, submission.late_penalty)
        for (student, chapter), submission in results.submissions.items() if submission.late
    ])


def misreported_results(results):
    """``(student, chapter, cell, what the notebook showed, trusted verdict)`` where the two disagree."""
    return _in_course_order(results, [
        (student, chapter, mismatch["cell"], mismatch["notebook_said"], mismatch["grader"])
        for (student, chapter), submission in results.submissions.items() for mismatch in submission.mismatches
    ])


def flagged_submissions(results):
    """``(student, chapter, kind, question, message)`` of every flag the trusted grader raised."""
    return _in_course_order(results, [
        (student, chapter, flag.get("kind", ""), flag.get("question") or "", flag.get("message", ""))
        for (student, chapter), submission in results.submissions.items() for flag in submission.flags
    ])


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_distribution_figure(scores):
    """Box and dots of the scores (percent of the maximum), one row per chapter, first chapter on top."""
    chapters = [chapter for chapter, values in scores.items() if values]
    figure = Figure(figsize=(8, 0.7 + 0.55 * len(chapters)))
    axes = figure.subplots()
    rows = range(len(chapters), 0, -1)
    percents = [[100 * value for value in scores[chapter]] for chapter in chapters]
    axes.boxplot(percents, positions=list(rows), orientation="horizontal", widths=0.5, showfliers=False,
                 medianprops={"color": "black"}, boxprops={"color": "#777777"}, whiskerprops={"color": "#777777"},
                 capprops={"color": "#777777"})
    for row, values in zip(rows, percents):
        heights = [row + DOT_OFFSETS[index % len(DOT_OFFSETS)] for index in range(len(values))]
        axes.scatter(values, heights, s=14, alpha=0.6, color="#1f77b4", zorder=3)
    axes.set_yticks(list(rows), chapters)
    axes.set_xlim(-3, 103)
    axes.set_xlabel("score (% of the chapter's points)")
    axes.grid(axis="x", alpha=0.3)
    return figure


def pass_rate_figure(summaries):
    """Stacked bars per question: share of submissions with all, some and none of its points."""
    shown = [summary for summary in summaries if summary.graded]
    figure = Figure(figsize=(8, 0.9 + 0.28 * len(shown)))
    axes = figure.subplots()
    rows = list(range(len(shown), 0, -1))
    left = [0.0] * len(shown)
    outcomes = zip(("all points", "some points", "no points"), OUTCOME_COLOURS, ("full", "some", "none"))
    for label, colour, attribute in outcomes:
        shares = [100 * getattr(summary, attribute) / summary.graded for summary in shown]
        axes.barh(rows, shares, left=left, color=colour, label=label, height=0.75)
        left = [a + b for a, b in zip(left, shares)]
    axes.set_yticks(rows, [f"{summary.chapter} · {summary.question}" for summary in shown], fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of graded submissions")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return figure


def _overview(results, scores):
    rows = []
    for chapter, notebook in results.notebooks.items():
        submissions = [s for (_, name), s in results.submissions.items() if name == chapter]
        values = scores[chapter]
        rows.append({
            "chapter": chapter, "title": notebook.title, "max_points": notebook.max_points,
            "submitted": len(submissions),
            "graded": sum(s.status == "graded" for s in submissions),
            "to_grade": sum(s.status == "to grade by hand" for s in submissions),
            "failed": sum(s.status == "failed" for s in submissions),
            "late": sum(s.late for s in submissions),
            "mean": f"{100 * statistics.fmean(values):.0f}%" if values else "",
            "median": f"{100 * statistics.median(values):.0f}%" if values else "",
            "full": sum(value >= 1 for value in values), "zero": sum(value <= 0 for value in values),
        })
    return rows


def render(results, weakest_questions=5):
    """The class report as HTML text."""
    scores = chapter_scores(results)
    questions = question_summaries(results)
    mistakes = mistake_summaries(results)
    figures = {}
    if any(scores.values()):
        figures["scores"] = _png(score_distribution_figure(scores))
        figures["questions"] = _png(pass_rate_figure(questions))
    weakest = sorted((q for q in questions if q.graded), key=lambda q: (q.pass_rate, -q.none))[:weakest_questions]
    return template_environment().get_template("report.html.j2").render(
        overview=_overview(results, scores), students=len(results.students), figures=figures,
        weakest=weakest, mistakes=mistakes,
        failed=failed_submissions(results), recorded=results.recorded,
        pending=pending_submissions(results), late=late_submissions(results),
        misreported=misreported_results(results), flagged=flagged_submissions(results),
        percent=lambda share: f"{100 * share:.0f}%",
    )


def write_report(results, path):
    """Write the class report of ``results`` to ``path`` atomically and return the path."""
    write_atomically(path, render(results))
    return path

