r"""The Transformer block and its pieces (chapter 8): positions, layer normalisation, the feed-forward
layer, attention's backward pass, and the pre-norm block that puts them together.

Tokens are rows: ``X`` has shape ``(n, d_model)``. A block mixes the positions with multi-head
self-attention (chapter 7) and then the features of each position with a small two-layer network,
each step wrapped in a layer normalisation and a residual connection:

.. math:: X_{mid} = X + \operatorname{MHA}(\operatorname{LN}_1(X)),\qquad
          Y = X_{mid} + \operatorname{FFN}(\operatorname{LN}_2(X_{mid}))

All functions work on float64 copies and never modify their inputs.
"""

import numpy as np

from autograder.attention import scaled_dot_product_attention
from autograder.self_attention import multi_head_self_attention
from autograder.shapes import checked_arrays

#: The parameters of one block, in the order of the formulas: two layer norms, four projections, two layers.
BLOCK_PARAMETERS = ("ln1_gamma", "ln1_beta", "W_q", "W_k", "W_v", "W_o",
                    "ln2_gamma", "ln2_beta", "W1", "b1", "W2", "b2")

#: The base of the wavelengths of the sinusoidal positions, as in the original Transformer.
POSITION_BASE = 10000.0


def position_frequencies(d_model):
    r"""The angular frequency of each sine/cosine pair of ``sinusoidal_positions``.

    .. math:: \omega_i = 10000^{-2i / d_{model}},\qquad i = 0, \dots, d_{model}/2 - 1

    from one turn per :math:`2\pi` positions (:math:`i = 0`) down to one per almost
    :math:`2\pi \cdot 10000` positions. Returns ``(d_model // 2,)``.
    """
    _check_even("position_frequencies", d_model)
    return POSITION_BASE ** (-np.arange(0, d_model, 2) / d_model)


def sinusoidal_positions(n, d_model):
    r"""The sinusoidal position encodings of positions ``0 .. n-1``, one row per position.

    .. math:: P_{p,\,2i} = \sin(\omega_i\, p),\qquad P_{p,\,2i+1} = \cos(\omega_i\, p),\qquad
              \omega_i = 10000^{-2i/d_{model}}

    Columns ``2i`` and ``2i+1`` are one sine/cosine pair turning at frequency :math:`\omega_i`, so
    moving :math:`\Delta` positions rotates each pair by the angle :math:`\omega_i \Delta`, whatever ``p`` is.
    n: number of positions; d_model: even. Returns ``(n, d_model)``.
    """
    if not (isinstance(n, (int, np.integer)) and n >= 0):
        raise ValueError(f"sinusoidal_positions: `n` must be a non-negative integer, got {n!r}")
    angles = np.outer(np.arange(n), position_frequencies(d_model))
    P = np.empty((n, d_model))
    P[:, 0::2] = np.sin(angles)
    P[:, 1::2] = np.cos(angles)
    return P


def _check_even(function, d_model):
    if not (isinstance(d_model, (int, np.integer)) and d_model > 0 and d_model % 2 == 0):
        raise ValueError(f"{function}: `d_model` must be a positive even integer (sines and cosines come in pairs), "
                         f"got {d_model!r}")


def position_rotation(k, d_model):
    r"""The matrix that moves every position encoding ``k`` positions on: :math:`P_{p+\Delta} = P_p\, R_\Delta`.

    ``k`` is the offset :math:`\Delta` of the book. Block ``i`` of the block-diagonal :math:`R_\Delta`
    rotates the pair :math:`(\sin, \cos)` by :math:`\omega_i \Delta`:

    .. math:: R_\Delta^{(i)} = \begin{bmatrix} \cos \omega_i \Delta & -\sin \omega_i \Delta \\
                                               \sin \omega_i \Delta & \cos \omega_i \Delta \end{bmatrix}

    It depends on the offset only, not on ``p``: a fixed linear map (a query or key projection
    can learn it) relates a position to the one ``k`` steps away. Returns ``(d_model, d_model)``.
    """
    R = np.zeros((d_model, d_model))
    for i, angle in enumerate(k * position_frequencies(d_model)):
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    return R


def _normalised(x, eps):
    """``(x - mean) / sqrt(var + eps)`` over the last axis, and ``1 / sqrt(var + eps)`` (kept for the backward pass)."""
    centred = x - x.mean(axis=-1, keepdims=True)
    inverse_std = 1.0 / np.sqrt(np.mean(centred ** 2, axis=-1, keepdims=True) + eps)
    return centred * inverse_std, inverse_std


def layer_norm(x, gamma, beta, eps=1e-5):
    r"""Layer normalisation: each row rescaled to mean 0 and variance 1, then scaled and shifted.

    .. math:: \mu = \frac{1}{d}\sum_j x_j,\qquad \sigma^2 = \frac{1}{d}\sum_j (x_j - \mu)^2,\qquad
              \tilde x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon_{LN}}} \odot \gamma_{LN} + \beta_{LN}

    over the last axis of :math:`d` features (:math:`d_{model}` in a block), with the population variance
    (numpy ``ddof=0``). :math:`\epsilon_{LN}` (``eps``) keeps a constant row finite; :math:`\gamma_{LN}`,
    :math:`\beta_{LN}` are ``gamma``, ``beta``. x: ``(..., d)``; gamma, beta: ``(d,)``.
    Returns :math:`\tilde x` with the shape of ``x``.
    """
    x, gamma, beta = checked_arrays("layer_norm", x=(x, "... d"), gamma=(gamma, "d"), beta=(beta, "d"))
    return _normalised(x, eps)[0] * gamma + beta


def layer_norm_backward(dy, x, gamma, eps=1e-5):
    r"""The gradients of ``layer_norm`` from the gradient ``dy`` of its output (:math:`d\tilde x` in the book).

    With :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon_{LN}}` and :math:`d\hat x = d\tilde x \odot \gamma_{LN}`
    (the gradient reaching :math:`\hat x`), per row of :math:`d` features:

    .. math:: \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon_{LN}}}
              \left(d\hat x - \overline{d\hat x} - \hat x\, \overline{d\hat x \odot \hat x}\right),\qquad
              \frac{\partial L}{\partial \gamma_{LN}} = \sum_{\text{rows}} d\tilde x \odot \hat x,\qquad
              \frac{\partial L}{\partial \beta_{LN}} = \sum_{\text{rows}} d\tilde x

    where a bar is the mean over the row's features: the mean and the variance both depend on every
    :math:`x_j`, which removes from :math:`d\hat x` its mean and its component along :math:`\hat x`.
    dy, x: ``(..., d)``; gamma: ``(d,)``. Returns ``(dx, dgamma, dbeta)``: ``dx`` like ``x``, the others
    ``(d,)``, summed over every leading axis.
    """
    dy, x, gamma = checked_arrays("layer_norm_backward", dy=(dy, "... d"), x=(x, "... d"), gamma=(gamma, "d"))
    if dy.shape != x.shape:
        raise ValueError(f"layer_norm_backward: `dy` must have the shape of `x`, {x.shape}; got shape {dy.shape}")
    x_hat, inverse_std = _normalised(x, eps)
    g = dy * gamma
    dx = inverse_std * (g - g.mean(axis=-1, keepdims=True) - x_hat * np.mean(g * x_hat, axis=-1, keepdims=True))
    leading = tuple(range(x.ndim - 1))
    return dx, np.sum(dy * x_hat, axis=leading), np.sum(dy, axis=leading)


def relu(z):
    r"""The rectified linear unit, :math:`\max(z, 0)` elementwise."""
    return np.maximum(z, 0.0)


def feed_forward(X, W1, b1, W2, b2):
    r"""The position-wise feed-forward layer: the same two-layer network applied to every row.

    .. math:: \operatorname{FFN}(X) = \operatorname{relu}(X W_1 + b_1)\, W_2 + b_2

    Rows never mix: the layer transforms each token's features on its own, widening them to
    :math:`d_{ff}` (usually :math:`4 d_{model}`) and back.
    X: ``(..., n, d_model)``; W1: ``(d_model, d_ff)``; b1: ``(d_ff,)``; W2: ``(d_ff, d_model)``;
    b2: ``(d_model,)``. Returns the shape of ``X``.
    """
    X, W1, b1, W2, b2 = checked_arrays("feed_forward", X=(X, "... n d_model"), W1=(W1, "d_model d_ff"),
                                       b1=(b1, "d_ff"), W2=(W2, "d_ff d_model"), b2=(b2, "d_model"))
    return relu(X @ W1 + b1) @ W2 + b2


def softmax_backward(A, dA):
    r"""Gradient with respect to the scores :math:`U` of ``A = softmax(U)`` over the last axis, from ``dA``.

    Each row :math:`\alpha` of ``A`` goes through chapter 3's Jacobian
    :math:`J = \operatorname{diag}(\alpha) - \alpha \alpha^\top`, which is symmetric, so the row of
    :math:`dU` is :math:`J\, d\alpha`; written without forming :math:`J`:

    .. math:: dU = A \odot \bigl(dA - \operatorname{rowsum}(dA \odot A)\bigr)

    A score that was masked to :math:`-\infty` has weight 0, so its gradient is exactly 0.
    A, dA: ``(..., n_q, n_k)``. Returns :math:`dU` of the same shape.
    """
    return A * (dA - np.sum(dA * A, axis=-1, keepdims=True))


def attention_backward(dZ, Q, K, V, mask=None):
    r"""The gradients of scaled dot-product attention with respect to its queries, keys and values.

    Forward: :math:`U = Q K^\top / \sqrt{d_k}` (masked scores :math:`-\infty`),
    :math:`A = \operatorname{softmax}(U)` over the keys, :math:`Z = A V`. Backward, by the chain rule:

    .. math:: dV = A^\top dZ,\qquad dA = dZ\, V^\top,\qquad
              dU = A \odot \bigl(dA - \operatorname{rowsum}(dA \odot A)\bigr),

    .. math:: dQ = \frac{dU\, K}{\sqrt{d_k}},\qquad dK = \frac{dU^\top Q}{\sqrt{d_k}}

    Masked entries have :math:`A_{ij} = 0`, hence :math:`dU_{ij} = 0`: no gradient flows through a
    pair that may not attend. dZ: ``(..., n_q, d_v)``; Q: ``(..., n_q, d_k)``; K: ``(..., n_k, d_k)``;
    V: ``(..., n_k, d_v)``; mask: boolean ``(n_q, n_k)`` (or broadcastable), ``True`` = may attend,
    every query keeping at least one key. Returns ``(dQ, dK, dV)`` shaped like ``Q``, ``K``, ``V``.
    """
    dZ, Q, K, V = checked_arrays("attention_backward", dZ=(dZ, "... n_q d_v"), Q=(Q, "... n_q d_k"),
                                 K=(K, "... n_k d_k"), V=(V, "... n_k d_v"))
    _, A = scaled_dot_product_attention(Q, K, V, mask=mask)
    dS = softmax_backward(A, dZ @ np.swapaxes(V, -1, -2)) / np.sqrt(Q.shape[-1])
    return dS @ K, np.swapaxes(dS, -1, -2) @ Q, np.swapaxes(A, -1, -2) @ dZ


def _checked_block(function, X, params):
    """``X`` and the twelve parameters as float64 copies, once their names and shapes fit one block."""
    if not isinstance(params, dict) or set(params) != set(BLOCK_PARAMETERS):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{function}: `params` must be a dict with exactly the keys {', '.join(BLOCK_PARAMETERS)}; "
                         f"got {got}")
    patterns = {"X": "n d_model", "ln1_gamma": "d_model", "ln1_beta": "d_model", "W_q": "d_model d_model",
                "W_k": "d_model d_model", "W_v": "d_model d_model", "W_o": "d_model d_model",
                "ln2_gamma": "d_model", "ln2_beta": "d_model", "W1": "d_model d_ff", "b1": "d_ff",
                "W2": "d_ff d_model", "b2": "d_model"}
    arrays = checked_arrays(function, **{name: ({**params, "X": X}[name], pattern) for name, pattern in patterns.items()})
    return arrays[0], dict(zip(BLOCK_PARAMETERS, arrays[1:]))


def transformer_block(X, params, n_heads, causal=True):
    r"""One pre-norm Transformer block: attention then feed-forward, each on a normalised copy, each added back.

    .. math:: X_{mid} = X + \operatorname{MHA}\bigl(\operatorname{LN}_1(X)\bigr),\qquad
              Y = X_{mid} + \operatorname{FFN}\bigl(\operatorname{LN}_2(X_{mid})\bigr)

    with chapter 7's ``multi_head_self_attention`` (``W_q, W_k, W_v, W_o``, ``n_heads``, ``causal``),
    ``layer_norm`` with ``eps = 1e-5`` (:math:`\operatorname{LN}_1` with ``ln1_gamma, ln1_beta``,
    :math:`\operatorname{LN}_2` with ``ln2_gamma, ln2_beta``) and ``feed_forward`` (``W1, b1, W2, b2``).
    :math:`X_{mid}` is ``H`` in the code. The residual path :math:`X \to X_{mid} \to Y` is never normalised,
    so a block starts close to the identity.
    X: ``(n, d_model)``; params: dict with exactly the keys of ``BLOCK_PARAMETERS``.
    Returns ``Y`` of shape ``(n, d_model)``.
    """
    X, p = _checked_block("transformer_block", X, params)
    H = X + multi_head_self_attention(layer_norm(X, p["ln1_gamma"], p["ln1_beta"]), p["W_q"], p["W_k"], p["W_v"],
                                      p["W_o"], n_heads, causal=causal)
    return H + feed_forward(layer_norm(H, p["ln2_gamma"], p["ln2_beta"]), p["W1"], p["b1"], p["W2"], p["b2"])


def post_norm_block(X, params, n_heads, causal=True):
    r"""The original Transformer's post-norm block: normalise after each residual sum.

    .. math:: X_{mid} = \operatorname{LN}_1\bigl(X + \operatorname{MHA}(X)\bigr),\qquad
              Y = \operatorname{LN}_2\bigl(X_{mid} + \operatorname{FFN}(X_{mid})\bigr)

    Same parameters as ``transformer_block``. Every block's output passes through a layer norm, so
    no path from the output back to the input is the identity. Returns ``(n, d_model)``.
    """
    X, p = _checked_block("post_norm_block", X, params)
    H = layer_norm(X + multi_head_self_attention(X, p["W_q"], p["W_k"], p["W_v"], p["W_o"], n_heads, causal=causal),
                   p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(H + feed_forward(H, p["W1"], p["b1"], p["W2"], p["b2"]), p["ln2_gamma"], p["ln2_beta"])


def init_block_params(d_model, d_ff, rng, scale=None):
    r"""Random parameters of one block: weights :math:`\mathcal N(0, 1/\text{fan-in})`, gains 1, biases 0.

    ``scale`` overrides the standard deviation of every weight. Returns a dict with the keys of
    ``BLOCK_PARAMETERS``.
    """
    def weight(rows, columns):
        return rng.standard_normal((rows, columns)) * (scale if scale is not None else 1.0 / np.sqrt(rows))

    return {"ln1_gamma": np.ones(d_model), "ln1_beta": np.zeros(d_model),
            "W_q": weight(d_model, d_model), "W_k": weight(d_model, d_model), "W_v": weight(d_model, d_model),
            "W_o": weight(d_model, d_model), "ln2_gamma": np.ones(d_model), "ln2_beta": np.zeros(d_model),
            "W1": weight(d_model, d_ff), "b1": np.zeros(d_ff), "W2": weight(d_ff, d_model), "b2": np.zeros(d_model)}

