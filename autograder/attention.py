r"""Attention as a soft lookup: scaled dot-product, additive, multiplicative and hard attention (chapter 4).

A query :math:`q` is compared with every key :math:`k_i`; the scores become weights
:math:`\alpha_i` (a softmax over the keys) and the output is the weighted sum of the values,
:math:`\sum_i \alpha_i v_i`. The members of the family differ only in the score:

==========================  ===================================================
scaled dot product          :math:`q^\top k_i / \sqrt{d_k}`
Luong "dot"                 :math:`q^\top k_i`
Luong "general"             :math:`q^\top W k_i`
Bahdanau (additive)         :math:`\tanh(q W_a + k_i U_a)\, v_a`
hard                        one-hot weight at :math:`\arg\max_i` of any score
==========================  ===================================================

Tokens are rows: ``K`` has one key per row. A mask is boolean and ``True`` means "this query may
attend to this key". Every function works on float64 copies and never modifies its inputs.
"""

import numpy as np

from autograder.shapes import checked_arrays
from autograder.softmax import softmax


def scaled_dot_product_attention(Q, K, V, mask=None):
    r"""Scaled dot-product attention of every query over every key.

    .. math:: \alpha = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right),\qquad
              \text{output} = \alpha V

    The softmax runs over the keys (the last axis), so each query's weights sum to 1. Where
    ``mask`` is ``False`` the score is set to :math:`-\infty` before the softmax, so that key gets
    weight exactly 0 and the other weights still sum to 1.

    Q: ``(..., n_q, d_k)``; K: ``(..., n_k, d_k)``; V: ``(..., n_k, d_v)``; the batch axes ``...``
    broadcast. mask: boolean, broadcastable to ``(..., n_q, n_k)``, leaving every query at least
    one key. Returns ``(output, weights)`` of shapes ``(..., n_q, d_v)`` and ``(..., n_q, n_k)``.
    """
    Q, K, V = checked_arrays("scaled_dot_product_attention",
                             Q=(Q, "... n_q d_k"), K=(K, "... n_k d_k"), V=(V, "... n_k d_v"))
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(_checked_mask(mask, scores.shape), scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights


def _checked_mask(mask, scores_shape):
    mask = np.asarray(mask, dtype=bool)
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"mask must be broadcastable to the scores' shape (..., n_q, n_k) = {scores_shape}, "
                         f"got shape {mask.shape}")
    if not np.all(np.any(np.broadcast_to(mask, scores_shape), axis=-1)):
        raise ValueError("mask leaves a query with no key to attend to (a row of the mask is all False)")
    return mask


def additive_attention(q, K, V, W_q, W_k, w_v):
    r"""Additive (Bahdanau) attention of one query over ``n`` keys.

    .. math:: u_i = \tanh\!\left(q W_a + k_i U_a\right) v_a,\qquad
              \alpha = \operatorname{softmax}(u),\qquad c = \sum_i \alpha_i v_i

    In code: ``scores = tanh(q @ W_q + K @ W_k) @ w_v``; the arguments ``W_q``, ``W_k``, ``w_v``
    are the book's :math:`W_a`, :math:`U_a`, :math:`v_a` (its :math:`W_q`, :math:`W_k` are the
    projections of self-attention). The query and the keys are projected into a shared space of
    size :math:`d_a` (``h`` in the shape checks) by a one-hidden-layer network, so they may have
    different sizes ``d_q`` and ``d_k``.

    q: ``(d_q,)``; K: ``(n, d_k)``; V: ``(n, d_v)``; W_q: ``(d_q, d_a)``; W_k: ``(d_k, d_a)``; w_v: ``(d_a,)``.
    Returns ``(context, weights)`` of shapes ``(d_v,)`` and ``(n,)``.
    """
    q, K, V, W_q, W_k, w_v = checked_arrays("additive_attention", q=(q, "d_q"), K=(K, "n d_k"), V=(V, "n d_v"),
                                            W_q=(W_q, "d_q h"), W_k=(W_k, "d_k h"), w_v=(w_v, "h"))
    scores = np.tanh(q @ W_q + K @ W_k) @ w_v
    weights = softmax(scores)
    return weights @ V, weights


def luong_general_scores(q, K, W):
    r"""Multiplicative ("general") scores of Luong et al. of one query against ``n`` keys.

    .. math:: u_i = q W k_i^\top

    With ``W`` the identity (and ``d_q = d_k``) this is Luong's "dot" score, the unscaled dot product.

    q: ``(d_q,)``; K: ``(n, d_k)``; W: ``(d_q, d_k)``. Returns the scores, shape ``(n,)``.
    """
    q, K, W = checked_arrays("luong_general_scores", q=(q, "d_q"), K=(K, "n d_k"), W=(W, "d_q d_k"))
    return K @ (q @ W)


def hard_attention(scores, V):
    r"""Hard attention: all the weight on the best-scoring key.

    .. math:: j = \arg\max_i u_i,\qquad \alpha = \operatorname{onehot}(j),\qquad \text{output} = v_j

    On ties the first maximum wins (as ``np.argmax``). The choice of ``j`` has no gradient, which is
    why hard attention is trained by sampling (reinforcement learning) rather than by backpropagation.

    scores: ``(n,)``; V: ``(n, d_v)``. Returns ``(output, weights)`` of shapes ``(d_v,)`` and ``(n,)``.
    """
    scores, V = checked_arrays("hard_attention", scores=(scores, "n"), V=(V, "n d_v"))
    best = int(np.argmax(scores))
    weights = np.zeros_like(scores)
    weights[best] = 1.0
    return V[best].copy(), weights


def cosine_similarity(q, K):
    r"""Cosine of the angle between ``q`` and each key: the dot product with the lengths divided out.

    .. math:: \cos\theta_i = \frac{q^\top k_i}{\lVert q\rVert\,\lVert k_i\rVert}

    q: ``(d,)``, nonzero; K: ``(n, d)`` with nonzero rows. Returns shape ``(n,)``, values in ``[-1, 1]``.
    """
    q, K = checked_arrays("cosine_similarity", q=(q, "d"), K=(K, "n d"))
    return (K @ q) / (np.linalg.norm(K, axis=1) * np.linalg.norm(q))


def random_query_key_scores(d_k, n_keys, n_trials, seed=0):
    r"""Unscaled scores :math:`q^\top k_i` of random queries against random keys.

    Every entry of every query and key is drawn independently from :math:`\mathcal N(0, 1)`, so each
    score is a sum of ``d_k`` products of mean 0 and variance 1: its mean is 0 and its variance
    :math:`d_k`. Dividing by :math:`\sqrt{d_k}` brings the variance back to 1.

    Returns shape ``(n_trials, n_keys)``: row ``t`` holds the scores of query ``t`` against its own
    ``n_keys`` keys.
    """
    rng = np.random.default_rng(seed)
    queries = rng.standard_normal((n_trials, 1, d_k))
    keys = rng.standard_normal((n_trials, n_keys, d_k))
    return np.sum(queries * keys, axis=-1)
