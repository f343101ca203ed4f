r"""Self-attention, causal masking, multi-head attention and the by-hand exercise (chapter 7).

In self-attention the queries, keys and values all come from the same tokens ``X`` (one token
per row):

.. math:: Q = X W_q,\quad K = X W_k,\quad V = X W_v,\qquad
          Z = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V

which is chapter 4's scaled dot-product attention applied to three projections of one sequence.

The by-hand exercise (Tom Yeh's "AI by Hand") keeps the column convention of its drawings:
tokens are the columns of ``X``, ``Q = W_Q X``, and each column of the attention matrix is one
query's distribution over the keys.
"""

import numpy as np

from autograder.attention import scaled_dot_product_attention
from autograder.shapes import checked_arrays
from autograder.softmax import softmax


#: The example worked through step by step in chapter 7, with the exercise's sizes: 4 tokens of
#: 6 features (the columns of ``X``), ``d_k = 3`` (the exercise's shortcut replaces sqrt(3) by 2), ``d_v = 3``.
BY_HAND_EXAMPLE = {
    "X": np.array([[0.0, 0.0, 0.0, 2.0],
                   [0.0, 1.0, 0.0, 1.0],
                   [1.0, 0.0, 2.0, 1.0],
                   [2.0, 0.0, 1.0, 1.0],
                   [0.0, 1.0, 1.0, 1.0],
                   [0.0, 0.0, 0.0, 2.0]]),
    "W_Q": np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                     [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]]),
    "W_K": np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                     [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                     [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]]),
    "W_V": np.array([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                     [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                     [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]]),
}


def causal_mask(n):
    r"""Boolean ``(n, n)`` mask that lets token ``i`` attend to tokens ``j <= i`` only.

    .. math:: M_{ij} = [\, j \le i \,]

    The lower triangle with the diagonal: row ``i`` (a query) sees the keys up to its own position.
    """
    return np.tril(np.ones((n, n), dtype=bool))


def self_attention(X, W_q, W_k, W_v, causal=False):
    r"""Single-head scaled dot-product self-attention of the tokens ``X``.

    .. math:: A = \operatorname{softmax}\!\left(\frac{(X W_q)(X W_k)^\top}{\sqrt{d_k}}\right),\qquad
              Z = A\,(X W_v)

    Row ``i`` of ``A`` is token ``i``'s distribution over all tokens; row ``i`` of ``Z`` the
    weighted sum of the values. With ``causal=True`` token ``i`` attends to tokens ``j <= i`` only.

    X: ``(n, d_model)``; W_q, W_k: ``(d_model, d_k)``; W_v: ``(d_model, d_v)``.
    Returns ``(Z, A)`` of shapes ``(n, d_v)`` and ``(n, n)``.
    """
    X, W_q, W_k, W_v = checked_arrays("self_attention", X=(X, "n d_model"), W_q=(W_q, "d_model d_k"),
                                      W_k=(W_k, "d_model d_k"), W_v=(W_v, "d_model d_v"))
    mask = causal_mask(len(X)) if causal else None
    return scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask=mask)


def split_heads(M, n_heads):
    r"""Cut the columns of ``M`` into ``n_heads`` consecutive blocks, one per head.

    .. math:: \text{heads}[m] = M_{:,\ m d_{\text{head}} : (m+1) d_{\text{head}}},\qquad
              d_{\text{head}} = d_{\text{model}} / n_h

    M: ``(n, d_model)``. Returns ``(n_heads, n, d_head)``.
    """
    n, d_model = M.shape
    return M.reshape(n, n_heads, d_model // n_heads).transpose(1, 0, 2)


def merge_heads(heads):
    r"""Concatenate the heads side by side, head 0 first: the inverse of ``split_heads``.

    heads: ``(n_heads, n, d_head)``. Returns ``(n, n_heads * d_head)``.
    """
    n_heads, n, d_head = heads.shape
    return heads.transpose(1, 0, 2).reshape(n, n_heads * d_head)


def attention_heads(X, W_q, W_k, W_v, n_heads, causal=False):
    r"""Every head's output and attention weights, before concatenation and the output projection.

    Head :math:`m` uses columns ``m*d_head:(m+1)*d_head`` of each projection and divides its
    scores by :math:`\sqrt{d_{\text{head}}}`, its own key size:

    .. math:: A_m = \operatorname{softmax}\!\left(\frac{Q_m K_m^\top}{\sqrt{d_{\text{head}}}}\right),\qquad
              \text{head}_m = A_m V_m

    X: ``(n, d_model)``; W_q, W_k, W_v: ``(d_model, d_model)``; ``n_heads`` divides ``d_model``.
    Returns ``(heads, weights)`` of shapes ``(n_heads, n, d_head)`` and ``(n_heads, n, n)``.
    """
    X, W_q, W_k, W_v = checked_arrays("attention_heads", X=(X, "n d_model"), W_q=(W_q, "d_model d_model"),
                                      W_k=(W_k, "d_model d_model"), W_v=(W_v, "d_model d_model"))
    d_model = X.shape[1]
    if not (isinstance(n_heads, (int, np.integer)) and n_heads >= 1 and d_model % n_heads == 0):
        raise ValueError(f"n_heads must be a positive integer that divides d_model = {d_model}, got {n_heads!r}")
    Q, K, V = (split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    mask = causal_mask(len(X)) if causal else None
    return scaled_dot_product_attention(Q, K, V, mask=mask)


def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    r"""Multi-head self-attention: split, attend, concatenate, project.

    .. math:: Z = \operatorname{concat}(\text{head}_0, \dots, \text{head}_{n_h - 1})\, W_o

    where each head is computed by ``attention_heads``. With one head, ``d_head = d_model`` and
    this is ``self_attention(X, W_q, W_k, W_v)[0] @ W_o``.

    X: ``(n, d_model)``; W_q, W_k, W_v, W_o: ``(d_model, d_model)``. Returns ``(n, d_model)``.
    """
    # Checked here, not only inside attention_heads, so that a wrong shape names the function the caller called.
    X, W_q, W_k, W_v, W_o = checked_arrays("multi_head_self_attention", X=(X, "n d_model"),
                                           W_q=(W_q, "d_model d_model"), W_k=(W_k, "d_model d_model"),
                                           W_v=(W_v, "d_model d_model"), W_o=(W_o, "d_model d_model"))
    heads, _ = attention_heads(X, W_q, W_k, W_v, n_heads, causal=causal)
    return merge_heads(heads) @ W_o


def _checked_columns(function, X, W_Q, W_K, W_V):
    """The by-hand exercise's matrices as float64 arrays, once their shapes fit tokens as the columns of ``X``."""
    return checked_arrays(function, X=(X, "d_in n"), W_Q=(W_Q, "d_k d_in"), W_K=(W_K, "d_k d_in"),
                          W_V=(W_V, "d_v d_in"))


def by_hand_steps(X, W_Q, W_K, W_V):
    r"""Every intermediate matrix of the by-hand exercise, in its column convention.

    Tokens are the columns of ``X``. The exercise replaces the two operations that need a calculator
    by ones that can be done in the head: :math:`\lfloor u/2 \rfloor` instead of
    :math:`u/\sqrt{3}`, and powers of 3 instead of powers of :math:`e`. Each **column** is one
    query's distribution over the keys:

    .. math:: U = K^\top Q,\qquad P_{ji} = 3^{\lfloor U_{ji}/2 \rfloor},\qquad
              A_{ji} = \frac{P_{ji}}{\sum_{j'} P_{j'i}},\qquad Z = V A

    X: ``(d_in, n)``; W_Q, W_K: ``(d_k, d_in)``; W_V: ``(d_v, d_in)``. Returns a dict with
    ``Q``, ``K``, ``V``, ``scores``, ``scaled``, ``powers``, ``column_sums``, ``A`` and ``Z``.
    """
    X, W_Q, W_K, W_V = _checked_columns("by_hand_steps", X, W_Q, W_K, W_V)
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    scores = K.T @ Q
    scaled = np.floor(scores / 2)
    powers = 3.0 ** scaled
    column_sums = powers.sum(axis=0)
    A = powers / column_sums
    return {"Q": Q, "K": K, "V": V, "scores": scores, "scaled": scaled, "powers": powers,
            "column_sums": column_sums, "A": A, "Z": V @ A}


def attention_by_hand(X, W_Q, W_K, W_V):
    r"""The by-hand exercise's attention matrix and output, with its shortcuts (see ``by_hand_steps``).

    .. math:: A = \operatorname{normalise\ columns}\!\left(3^{\lfloor K^\top Q / 2 \rfloor}\right),\qquad Z = V A

    X: ``(d_in, n)``; W_Q, W_K: ``(d_k, d_in)``; W_V: ``(d_v, d_in)``.
    Returns ``(A, Z)`` of shapes ``(n, n)`` and ``(d_v, n)``.
    """
    steps = by_hand_steps(*_checked_columns("attention_by_hand", X, W_Q, W_K, W_V))
    return steps["A"], steps["Z"]


def attention_by_formula(X, W_Q, W_K, W_V):
    r"""The by-hand example with the exact formulas: :math:`\sqrt{d_k}` and :math:`e`, columns still tokens.

    .. math:: A = \operatorname{softmax}_{\text{columns}}\!\left(\frac{K^\top Q}{\sqrt{d_k}}\right),\qquad Z = V A

    This is the transpose of the row convention: ``A`` equals
    ``self_attention(X.T, W_Q.T, W_K.T, W_V.T)[1].T`` and ``Z`` the transpose of its first output.

    Shapes as ``attention_by_hand``; returns ``(A, Z)``.
    """
    X, W_Q, W_K, W_V = _checked_columns("attention_by_formula", X, W_Q, W_K, W_V)
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    A = softmax(K.T @ Q / np.sqrt(K.shape[0]), axis=0)
    return A, V @ A
