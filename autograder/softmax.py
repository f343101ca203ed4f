r"""Softmax, log-softmax, the softmax Jacobian and the cross-entropy loss (chapter 3).

All functions work on float64 arrays and never modify their inputs.
"""

import numpy as np


def softmax(x, axis=-1):
    r"""Numerically stable softmax along ``axis``.

    .. math:: \operatorname{softmax}(x)_i = \frac{e^{x_i - x_{\max}}}{\sum_j e^{x_j - x_{\max}}},\quad x_{\max} = \max_j x_j

    Subtracting the maximum changes nothing mathematically (it cancels between numerator and
    denominator) but keeps every exponent at most 0, so nothing overflows.

    x: array of any shape; the result has the same shape and sums to 1 along ``axis``.
    """
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    r"""Numerically stable log-softmax along ``axis``.

    .. math:: \log\operatorname{softmax}(x)_i = (x_i - m) - \log\sum_j e^{x_j - m}

    x: array of any shape; the result has the same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_jacobian(x):
    r"""Jacobian of ``softmax`` at a 1-D ``x``.

    .. math:: J_{ij} = \frac{\partial s_i}{\partial x_j} = s_i(\delta_{ij} - s_j),
              \qquad J = \operatorname{diag}(s) - s s^\top

    x: shape ``(n,)``; returns shape ``(n, n)``.
    """
    s = softmax(x)
    return np.diag(s) - np.outer(s, s)


def cross_entropy_loss_and_grad(logits, labels):
    r"""Mean cross-entropy of integer labels under ``softmax(logits)``, and its gradient.

    .. math:: L = -\frac{1}{N}\sum_n \log\operatorname{softmax}(z_n)_{y_n},\qquad
              \frac{\partial L}{\partial z_n} = \frac{1}{N}\left(\operatorname{softmax}(z_n) - \operatorname{onehot}(y_n)\right)

    logits: shape ``(N, C)``; labels: integers of shape ``(N,)`` in ``[0, C)``.
    Returns ``(loss, dlogits)`` with ``loss`` a float and ``dlogits`` of shape ``(N, C)``.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    n = logits.shape[0]
    rows = np.arange(n)
    loss = -np.mean(log_softmax(logits)[rows, labels])
    dlogits = softmax(logits)
    dlogits[rows, labels] -= 1.0
    return float(loss), dlogits / n
