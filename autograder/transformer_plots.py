"""Figures of chapter 8: the block and the encoder-decoder architecture drawn as boxes and arrows,
the position encodings as a heat map, and one head's learned attention over a piece of text.

The diagrams are drawn in data coordinates on an axis without ticks, one unit per box height, bottom to
top as the data flows.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

#: Box colours by kind of layer, shared by both diagrams.
COLOURS = {"norm": "#fde9b8", "attention": "#f9c6c0", "cross": "#e6c8f0", "ffn": "#c6e2f7", "embed": "#d9ead3",
           "add": "white", "out": "#e8e8e8"}


def _box(ax, x, y, text, kind, width=2.4, height=0.6):
    """A rounded box centred at ``(x, y)``."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=COLOURS[kind], edgecolor="black", linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _add(ax, x, y):
    """The circled plus of a residual sum."""
    ax.add_patch(plt.Circle((x, y), 0.17, facecolor="white", edgecolor="black", linewidth=1.0))
    ax.text(x, y, "+", ha="center", va="center", fontsize=11)


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "linewidth": 1.0, "color": "black"})


def _bypass(ax, x, y_from, y_to, offset=1.6):
    """A residual connection: out to the side at ``y_from``, up, and into the sum at ``y_to``."""
    ax.plot([x, x + offset, x + offset], [y_from, y_from, y_to], color="black", linewidth=1.0)
    _arrow(ax, (x + offset, y_to), (x + 0.17, y_to))


def _setup(ax, width, height, title):
    ax.set_xlim(-width / 2, width / 2)
    ax.set_ylim(-0.6, height)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11)


def draw_block(ax, pre_norm=True):
    """A Transformer block from input (bottom) to output (top); pre-norm or post-norm (the original)."""
    _setup(ax, 6.0, 8.6, "pre-norm block (this chapter)" if pre_norm else "post-norm block (original)")
    ax.text(0, -0.45, "X", ha="center", fontsize=11)
    if pre_norm:
        layers = [(1.2, "LayerNorm 1", "norm"), (2.3, "multi-head\nself-attention", "attention"), (3.4, None, "add"),
                  (4.5, "LayerNorm 2", "norm"), (5.6, "feed-forward", "ffn"), (6.7, None, "add")]
        sums = {3.4: 0.45, 6.7: 3.8}
    else:
        layers = [(1.2, "multi-head\nself-attention", "attention"), (2.3, None, "add"), (3.3, "LayerNorm 1", "norm"),
                  (4.5, "feed-forward", "ffn"), (5.6, None, "add"), (6.6, "LayerNorm 2", "norm")]
        sums = {2.3: 0.45, 5.6: 3.85}
    previous = -0.2
    for y, text, kind in layers:
        top_of_previous = previous + (0.17 if previous in sums else 0.3 if previous > 0 else 0.0)
        bottom = y - (0.17 if kind == "add" else 0.3)
        _arrow(ax, (0, top_of_previous), (0, bottom))
        if kind == "add":
            _add(ax, 0, y)
            _bypass(ax, 0, sums[y], y)
        else:
            _box(ax, 0, y, text, kind)
        previous = y
    _arrow(ax, (0, previous + (0.17 if previous in sums else 0.3)), (0, 7.9))
    ax.text(0, 8.05, "Y", ha="center", fontsize=11)
    ax.text(1.75, (sums[min(sums)] + min(sums)) / 2, "residual", fontsize=8, rotation=90, va="center")


def draw_encoder_decoder(ax):
    """The Transformer of the sources: an encoder stack beside a decoder stack joined by cross-attention."""
    _setup(ax, 9.2, 8.0, "")
    stacks = {
        -2.2: [(0.4, "embedding + positions", "embed"), (1.7, "self-attention\n(all tokens, no mask)", "attention"),
               (3.0, "feed-forward", "ffn")],
        2.2: [(0.4, "embedding + positions", "embed"), (1.7, "causal self-attention\n(earlier tokens only)",
                                                        "attention"),
              (3.0, "cross-attention\n(queries here, keys and\nvalues from the encoder)", "cross"),
              (4.6, "feed-forward", "ffn"), (6.9, "linear + softmax", "out")],
    }
    for x, boxes in stacks.items():
        for y, text, kind in boxes:
            _box(ax, x, y, text, kind, width=3.4, height=0.9 if "\n" in text else 0.6)
        for (y0, t0, _), (y1, t1, _) in zip(boxes, boxes[1:]):
            half0, half1 = (0.45 if "\n" in t0 else 0.3), (0.45 if "\n" in t1 else 0.3)
            _arrow(ax, (x, y0 + half0), (x, y1 - half1))
    ax.add_patch(FancyBboxPatch((-4.05, 1.05), 3.7, 2.4, boxstyle="round,pad=0.05", fill=False, linestyle="--"))
    ax.add_patch(FancyBboxPatch((0.35, 1.05), 3.7, 4.0, boxstyle="round,pad=0.05", fill=False, linestyle="--"))
    ax.text(-4.35, 2.25, "encoder block, × N", ha="center", va="center", rotation=90, fontsize=8)
    ax.text(4.35, 3.05, "decoder block, × N", ha="center", va="center", rotation=90, fontsize=8)
    ax.plot([-2.2, -2.2, 0.0, 0.0], [3.3, 4.3, 4.3, 3.0], color="black", linewidth=1.0)
    ax.text(-1.1, 4.4, "encoder output", ha="center", va="bottom", fontsize=8)
    _arrow(ax, (0.0, 3.0), (0.5, 3.0))
    ax.text(-2.2, -0.55, "source tokens", ha="center", fontsize=9)
    ax.text(2.2, -0.55, "target tokens so far", ha="center", fontsize=9)
    _arrow(ax, (2.2, 5.1), (2.2, 6.6))
    ax.text(2.2, 7.55, "next-token probabilities", ha="center", fontsize=9)
    ax.text(-2.2, 6.3, "every sub-layer: layer norm\nand a residual connection\n\nBERT: the encoder alone\nGPT: the decoder alone,\nwithout cross-attention\ntranslation: both",
            ha="center", fontsize=8, bbox={"facecolor": "white", "edgecolor": "grey"})


def plot_positions(ax, P):
    """The position encodings ``P (n, d_model)`` as a heat map: positions down, features across."""
    image = ax.imshow(P, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xlabel("feature (columns 2i: sine, 2i+1: cosine)")
    ax.set_ylabel("position p")
    plt.colorbar(image, ax=ax, fraction=0.046)


def plot_text_attention(ax, weights, characters, title):
    """One head's attention over a piece of text: row i is the query at character i, columns the keys."""
    labels = ["␣" if c == " " else "⏎" if c == "\n" else c for c in characters]
    ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("key (earlier character)")
    ax.set_ylabel("query (character)")
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=10)
