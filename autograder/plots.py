"""Figures and displays shared by the book's attention chapters.

``attention_heatmap`` draws one attention-weight matrix with its tokens as tick labels,
``heatmaps_side_by_side`` several of them (the heads of a layer, two conventions) in one figure,
and ``latex_matrix`` writes a small matrix as LaTeX for the step-by-step computations.
"""

from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np


def attention_heatmap(ax, weights, row_labels, column_labels, *, row_title="query", column_title="key",
                      title=None, annotate=True):
    """Draw ``weights`` (rows x columns, values in [0, 1]) on ``ax`` as shades of blue, with the weights written in.

    Row ``i`` is labelled ``row_labels[i]``; with the book's convention a row is a query and a column a key.
    Returns the image, for a colour bar.
    """
    weights = np.asarray(weights, dtype=np.float64)
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(column_labels)), column_labels, rotation=45 if len(column_labels) > 4 else 0,
                  ha="right" if len(column_labels) > 4 else "center")
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel(column_title)
    ax.set_ylabel(row_title)
    ax.tick_params(length=0)
    if title:
        ax.set_title(title)
    if annotate:
        size = 8 if max(weights.shape) > 5 else 9
        for (row, column), weight in np.ndenumerate(weights):
            # Dark cells get white text so every number stays readable.
            ax.text(column, row, f"{weight:.2f}", ha="center", va="center", fontsize=size,
                    color="white" if weight > 0.55 else "black")
    return image


def heatmaps_side_by_side(matrices, row_labels, column_labels, titles, *, row_title="query", column_title="key",
                          width_per_panel=3.6, annotate=True):
    """One ``attention_heatmap`` per matrix in a row of panels sharing the labels; returns the figure."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(width_per_panel * len(matrices), width_per_panel * 0.95),
                             squeeze=False)
    for index, (ax, matrix, title) in enumerate(zip(axes[0], matrices, titles)):
        attention_heatmap(ax, matrix, row_labels, column_labels, row_title=row_title if index == 0 else "",
                          column_title=column_title, title=title, annotate=annotate)
        if index:
            ax.set_yticklabels([])
    fig.tight_layout()
    return fig


def latex_matrix(matrix, exact_fractions=False, decimals=2):
    r"""``matrix`` as a LaTeX ``bmatrix``: integers as integers, other values rounded to ``decimals``.

    With ``exact_fractions`` the values are written as fractions with small denominators
    (``\tfrac{1}{6}``), which is how the by-hand exercise produces them.
    """
    def entry(value):
        if float(value).is_integer():
            return str(int(value))
        if exact_fractions:
            fraction = Fraction(float(value)).limit_denominator(1000)
            sign = "-" if fraction < 0 else ""
            return rf"{sign}\tfrac{{{abs(fraction.numerator)}}}{{{fraction.denominator}}}"
        return f"{value:.{decimals}f}"

    rows = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    body = r" \\ ".join(" & ".join(entry(value) for value in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
