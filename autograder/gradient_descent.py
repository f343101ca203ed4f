r"""Gradient descent, the mean squared error of linear regression, and mini-batch SGD (chapter 2).

Examples are rows: ``X`` has shape ``(N, d)``, ``y`` shape ``(N,)``, weights ``w`` shape ``(d,)``.
All functions work on float64 arrays and never modify their inputs.
"""

import numpy as np

from autograder.shapes import checked_arrays


def gradient_descent(grad, x0, lr, n_steps):
    r"""Run ``n_steps`` steps of gradient descent from ``x0`` and return every iterate.

    .. math:: x_{k+1} = x_k - \eta\, \nabla f(x_k)

    grad: function returning :math:`\nabla f(x)` with the shape of ``x``; x0: array of any shape;
    lr: the learning rate :math:`\eta`. Returns shape ``(n_steps + 1, *x0.shape)``, row 0 is ``x0``.
    """
    x = np.array(x0, dtype=np.float64)
    iterates = [x]
    for _ in range(n_steps):
        x = x - lr * np.asarray(grad(x), dtype=np.float64)
        iterates.append(x)
    return np.stack(iterates)


def mse_loss_and_grad(w, X, y):
    r"""Mean squared error of the linear model ``X @ w`` and its gradient with respect to ``w``.

    .. math:: L(w) = \frac1N \lVert Xw - y \rVert^2,\qquad
              \nabla L(w) = \frac2N X^\top (Xw - y)

    w: shape ``(d,)``; X: shape ``(N, d)``; y: shape ``(N,)``.
    Returns ``(loss, grad)``: a float and shape ``(d,)``.
    """
    X, y, w = checked_arrays("mse_loss_and_grad", X=(X, "N d"), y=(y, "N"), w=(w, "d"))
    residual = X @ w - y
    return float(np.mean(residual ** 2)), (2.0 / len(X)) * (X.T @ residual)


def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    r"""Mini-batch stochastic gradient descent on the mean squared error.

    ``rng = np.random.default_rng(seed)``; each epoch draws ``perm = rng.permutation(N)`` and takes
    one step per consecutive slice of ``batch_size`` indices of ``perm`` (the last slice may be
    shorter), with the gradient of ``mse_loss_and_grad`` on that slice :math:`B`:

    .. math:: w \leftarrow w - \eta\, \frac{2}{|B|} X_B^\top (X_B w - y_B)

    ``batch_size = N`` is batch gradient descent, ``batch_size = 1`` stochastic gradient descent.
    X: ``(N, d)``; y: ``(N,)``; w0: ``(d,)``. Returns ``(w, losses)``: the final weights ``(d,)`` and
    ``losses`` of shape ``(n_epochs,)``, ``losses[e]`` the loss on all of ``X`` after epoch ``e``.
    """
    X, y, w = checked_arrays("minibatch_sgd", X=(X, "N d"), y=(y, "N"), w0=(w0, "d"))
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    rng = np.random.default_rng(seed)
    losses = np.empty(n_epochs)
    for epoch in range(n_epochs):
        perm = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = perm[start:start + batch_size]
            w = w - lr * mse_loss_and_grad(w, X[batch], y[batch])[1]
        losses[epoch] = mse_loss_and_grad(w, X, y)[0]
    return w, losses


def least_squares(X, y):
    r"""The exact minimiser of the mean squared error, the target that gradient descent approaches.

    .. math:: w^\star = \arg\min_w \lVert Xw - y \rVert^2, \qquad X^\top X w^\star = X^\top y

    Solved by ``np.linalg.lstsq`` (an SVD), which also handles a rank-deficient ``X``.
    X: ``(N, d)``; y: ``(N,)``; returns ``(d,)``.
    """
    return np.linalg.lstsq(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), rcond=None)[0]


def mse_hessian(X):
    r"""Hessian of the mean squared error, the same at every ``w``.

    .. math:: \nabla^2 L = \frac2N X^\top X

    X: ``(N, d)``; returns ``(d, d)``.
    """
    X = np.asarray(X, dtype=np.float64)
    return (2.0 / len(X)) * (X.T @ X)


def divergence_threshold(hessian):
    r"""The learning rate above which gradient descent on a quadratic diverges.

    On :math:`f(x) = \tfrac12 x^\top A x`, one step multiplies the component of :math:`x` along an
    eigenvector of :math:`A` with eigenvalue :math:`\lambda` by :math:`1 - \eta\lambda`. Every
    component shrinks exactly when :math:`|1 - \eta\lambda| < 1` for all eigenvalues, that is

    .. math:: \eta < \frac{2}{\lambda_{\max}(A)}

    (the optimisation literature's :math:`2/L`, with :math:`L` the smoothness constant; the book
    keeps :math:`L` for the loss and writes it :math:`\beta`).
    hessian: symmetric ``(D, D)`` matrix :math:`A`; returns :math:`2 / \lambda_{\max}` as a float.
    """
    return 2.0 / float(np.max(np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))))
