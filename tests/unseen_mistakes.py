"""Plausible wrong submissions kept apart from the case sets, to measure how many mistakes feedback names.

They were written before the classic mistakes of ``autograder/cases/`` were extended, and were not used
to design them; both sets were then read while the generic diagnosis (``autograder/diagnosis.py``) was
built, so they are a floor, not a measurement (``tests/fresh_mistakes.py`` is the blind one):
``tests/test_feedback_messages.py`` reports the share of those that lose points whose failure message
names a mistake. Each entry is ``(graded function, short description, code)``;
the code may use ``np``, ``sigmoid`` and ``softmax``, as the notebooks' locked cells provide them.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


UNSEEN = {
    "01_chain_rule": [
        ("numerical_derivative", "/ 2 * h precedence", '''
def numerical_derivative(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / 2 * h
'''),
        ("numerical_derivative", "denominator ignores h", '''
def numerical_derivative(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * 1e-5)
'''),
        ("numerical_derivative", "divides by h", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return (f(x + h) - f(x - h)) / h
'''),
        ("chain_rule_derivative", "inner derivative at g(x)", '''
def chain_rule_derivative(f_prime, g, g_prime, x):
    return f_prime(g(x)) * g_prime(g(x))
'''),
        ("chain_rule_derivative", "outer derivative at g'(x)", '''
def chain_rule_derivative(f_prime, g, g_prime, x):
    return f_prime(g_prime(x)) * g_prime(x)
'''),
        ("neuron_backward", "bias left out of z", '''
def neuron_backward(w, b, x, y):
    z = w @ x
    a = sigmoid(z)
    dz = (a - y) * a * (1 - a)
    return 0.5 * (a - y) ** 2, dz * x, dz
'''),
        ("neuron_backward", "db as the sum of dw", '''
def neuron_backward(w, b, x, y):
    a = sigmoid(w @ x + b)
    dz = (a - y) * a * (1 - a)
    dw = dz * x
    return 0.5 * (a - y) ** 2, dw, np.sum(dw)
'''),
        ("neuron_backward", "sigmoid with the sign of z flipped", '''
def neuron_backward(w, b, x, y):
    a = 1 / (1 + np.exp(w @ x + b))
    dz = (a - y) * a * (1 - a)
    return 0.5 * (a - y) ** 2, dz * x, dz
'''),
        ("neuron_backward", "no sigmoid derivative and no half", '''
def neuron_backward(w, b, x, y):
    a = sigmoid(w @ x + b)
    return (a - y) ** 2, (a - y) * x, a - y
'''),
        ("neuron_backward", "loss without the half, gradient right", '''
def neuron_backward(w, b, x, y):
    a = sigmoid(np.dot(w, x) + b)
    dz = (a - y) * a * (1 - a)
    return (a - y) ** 2, x * dz, dz
'''),
    ],
    "02_gradient_descent": [
        ("gradient_descent", "gradient always at x0", '''
def gradient_descent(grad, x0, lr, n_steps):
    xs = [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * grad(x0))
    return np.array(xs)
'''),
        ("gradient_descent", "updates x0 in place", '''
def gradient_descent(grad, x0, lr, n_steps):
    xs = [x0.copy()]
    x = x0
    for _ in range(n_steps):
        x -= lr * grad(x)
        xs.append(x.copy())
    return np.array(xs)
'''),
        ("gradient_descent", "learning rate squared", '''
def gradient_descent(grad, x0, lr, n_steps):
    x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(n_steps):
        x = x - lr * lr * grad(x)
        xs.append(x)
    return np.array(xs)
'''),
        ("mse_loss_and_grad", "residual y - Xw in the gradient", '''
def mse_loss_and_grad(w, X, y):
    r = X @ w - y
    return np.mean(r ** 2), 2 * X.T @ (y - X @ w) / len(y)
'''),
        ("mse_loss_and_grad", "square of the mean residual", '''
def mse_loss_and_grad(w, X, y):
    r = X @ w - y
    return np.mean(r) ** 2, 2 * X.T @ r / len(y)
'''),
        ("mse_loss_and_grad", "divided by the number of features", '''
def mse_loss_and_grad(w, X, y):
    r = X @ w - y
    return np.mean(r ** 2), 2 * X.T @ r / X.shape[1]
'''),
        ("minibatch_sgd", "losses are the last batch's loss", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            r = X[idx] @ w - y[idx]
            w = w - lr * 2 * X[idx].T @ r / len(idx)
        losses.append(np.mean((X[idx] @ w - y[idx]) ** 2))
    return w, np.array(losses)
'''),
        ("minibatch_sgd", "generator re-created every epoch", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = np.random.default_rng(seed).permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            w = w - lr * 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
        ("minibatch_sgd", "numpy's global generator", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    np.random.seed(seed)
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = np.random.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = perm[s:s + batch_size]
            w = w - lr * 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
        ("minibatch_sgd", "range stops one batch early", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X) - batch_size, batch_size):
            idx = perm[s:s + batch_size]
            w = w - lr * 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
    ],
    "03_softmax": [
        ("softmax", "sum without keepdims", '''
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis)
'''),
        ("softmax", "max without keepdims", '''
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis))
    return e / e.sum(axis=axis, keepdims=True)
'''),
        ("softmax", "exp divided by the sum of the logits", '''
def softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    return np.exp(z) / np.sum(np.exp(x), axis=axis, keepdims=True)
'''),
        ("log_softmax", "no max subtraction", '''
def log_softmax(x, axis=-1):
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
'''),
        ("log_softmax", "log-sum-exp over the whole array", '''
def log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m)))
'''),
        ("softmax_jacobian", "s @ s instead of the outer product", '''
def softmax_jacobian(x):
    s = np.exp(x - x.max()); s = s / s.sum()
    return np.diag(s) - s @ s
'''),
        ("softmax_jacobian", "outer(s, 1 - s)", '''
def softmax_jacobian(x):
    s = np.exp(x - x.max()); s = s / s.sum()
    return np.diag(s) - np.outer(s, 1 - s)
'''),
        ("cross_entropy_loss_and_grad", "unstable softmax", '''
def cross_entropy_loss_and_grad(logits, labels):
    n = len(labels)
    p = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return loss, p / n
'''),
        ("cross_entropy_loss_and_grad", "one-hot of the prediction", '''
def cross_entropy_loss_and_grad(logits, labels):
    n = len(labels)
    p = softmax(logits, axis=1)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    onehot = np.eye(logits.shape[1])[np.argmax(logits, axis=1)]
    return loss, (p - onehot) / n
'''),
        ("cross_entropy_loss_and_grad", "raw logit as the log-probability", '''
def cross_entropy_loss_and_grad(logits, labels):
    n = len(labels)
    p = softmax(logits, axis=1)
    loss = -np.mean(logits[np.arange(n), labels])
    p[np.arange(n), labels] -= 1
    return loss, p / n
'''),
    ],
    "04_dot_product_attention": [
        ("scaled_dot_product_attention", "K.T with batch axes", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = softmax(s, axis=-1)
    return w @ V, w
'''),
        ("scaled_dot_product_attention", "mask multiplies the scores", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = s * mask
    w = softmax(s, axis=-1)
    return w @ V, w
'''),
        ("scaled_dot_product_attention", "returns (weights, output)", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = softmax(s, axis=-1)
    return w, w @ V
'''),
        ("scaled_dot_product_attention", "softmax without max subtraction", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s)
    w = e / e.sum(axis=-1, keepdims=True)
    return w @ V, w
'''),
        ("additive_attention", "context from the keys", '''
def additive_attention(q, K, V, W_q, W_k, w_v):
    scores = np.tanh(q @ W_q + K @ W_k) @ w_v
    weights = softmax(scores)
    return weights @ K, weights
'''),
        ("additive_attention", "tanh of each projection separately", '''
def additive_attention(q, K, V, W_q, W_k, w_v):
    scores = (np.tanh(q @ W_q) + np.tanh(K @ W_k)) @ w_v
    weights = softmax(scores)
    return weights @ V, weights
'''),
        ("luong_general_scores", "W on the key side", '''
def luong_general_scores(q, K, W):
    return K @ W @ q
'''),
        ("luong_general_scores", "summed over the keys", '''
def luong_general_scores(q, K, W):
    return np.sum((q @ W) * K, axis=0)
'''),
        ("hard_attention", "every maximum gets weight 1", '''
def hard_attention(scores, V):
    weights = (scores == scores.max()).astype(float)
    return weights @ V, weights
'''),
        ("hard_attention", "weight is the score", '''
def hard_attention(scores, V):
    i = np.argmax(scores)
    weights = np.zeros_like(scores, dtype=float)
    weights[i] = scores[i]
    return V[i], weights
'''),
    ],
    "05_backprop_through_time": [
        ("rnn_forward", "bias outside the tanh", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh) + b
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)
'''),
        ("rnn_forward", "cache holds h[:, 0] for h0", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h[:, 0], Wx, Wh, h)
'''),
        ("rnn_forward", "tanh of each term", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx) + np.tanh(prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)
'''),
        ("rnn_backward", "dx without the transpose", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x); dWx = np.zeros_like(Wx); dWh = np.zeros_like(Wh); db = np.zeros_like(Wh[0])
    nxt = np.zeros_like(h0)
    for t in reversed(range(T)):
        prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + nxt) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T if D != Wx.shape[1] else da @ Wx
        dWx += x[:, t].T @ da; dWh += prev.T @ da; db += da.sum(0)
        nxt = da @ Wh.T
    return dx, nxt, dWx, dWh, db
'''),
        ("rnn_backward", "db averaged over the batch", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x); dWx = np.zeros_like(Wx); dWh = np.zeros_like(Wh); db = np.zeros_like(Wh[0])
    nxt = np.zeros_like(h0)
    for t in reversed(range(T)):
        prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + nxt) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da; dWh += prev.T @ da; db += da.mean(0)
        nxt = da @ Wh.T
    return dx, nxt, dWx, dWh, db
'''),
        ("rnn_backward", "dWx as da.T @ x", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x); dWx = np.zeros((Wx.shape[1], D)); dWh = np.zeros_like(Wh); db = np.zeros_like(Wh[0])
    nxt = np.zeros_like(h0)
    for t in reversed(range(T)):
        prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + nxt) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += da.T @ x[:, t]; dWh += prev.T @ da; db += da.sum(0)
        nxt = da @ Wh.T
    return dx, nxt, dWx, dWh, db
'''),
        ("rnn_backward", "loop in forward order", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x); dWx = np.zeros_like(Wx); dWh = np.zeros_like(Wh); db = np.zeros_like(Wh[0])
    nxt = np.zeros_like(h0)
    for t in range(T):
        prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + nxt) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da; dWh += prev.T @ da; db += da.sum(0)
        nxt = da @ Wh.T
    return dx, nxt, dWx, dWh, db
'''),
        ("clip_by_global_norm", "square of each array's sum", '''
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g) ** 2 for g in grads))
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]
'''),
        ("clip_by_global_norm", "largest array norm", '''
def clip_by_global_norm(grads, max_norm):
    norm = max(np.linalg.norm(g) for g in grads)
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]
'''),
        ("clip_by_global_norm", "scaled in place", '''
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return list(grads)
'''),
    ],
    "06_rnn": [
        ("rnn_step_forward", "bias outside the tanh", '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh) + b
'''),
        ("rnn_step_forward", "ReLU instead of tanh", '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return np.maximum(0, x @ Wx + h_prev @ Wh + b)
'''),
        ("lstm_step_forward", "input gate left out", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2*H]), sigmoid(a[:, 2*H:3*H]), np.tanh(a[:, 3*H:])
    c = f * c_prev + g
    return o * np.tanh(c), c
'''),
        ("lstm_step_forward", "tanh outside the output gate", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2*H]), sigmoid(a[:, 2*H:3*H]), np.tanh(a[:, 3*H:])
    c = f * c_prev + i * g
    return np.tanh(o * c), c
'''),
        ("lstm_step_forward", "blocks interleaved", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    N, H = h_prev.shape
    a = (x @ Wx + h_prev @ Wh + b).reshape(N, H, 4)
    i, f, o, g = sigmoid(a[..., 0]), sigmoid(a[..., 1]), sigmoid(a[..., 2]), np.tanh(a[..., 3])
    c = f * c_prev + i * g
    return o * np.tanh(c), c
'''),
        ("lstm_step_forward", "1 - f on the memory", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2*H]), sigmoid(a[:, 2*H:3*H]), np.tanh(a[:, 3*H:])
    c = (1 - f) * c_prev + i * g
    return o * np.tanh(c), c
'''),
        ("lstm_step_forward", "tanh for every gate", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = np.tanh(x @ Wx + h_prev @ Wh + b)
    i, f, o, g = a[:, :H], a[:, H:2*H], a[:, 2*H:3*H], a[:, 3*H:]
    c = f * c_prev + i * g
    return o * np.tanh(c), c
'''),
        ("sequence_cross_entropy", "gradient divided by T", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    p = softmax(scores, axis=-1)
    onehot = np.eye(C)[y]
    loss = -np.sum(np.log(np.sum(p * onehot, axis=-1))) / N
    return loss, (p - onehot) / T
'''),
        ("sequence_cross_entropy", "gradient sign flipped", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    p = softmax(scores, axis=-1)
    onehot = np.eye(C)[y]
    loss = -np.sum(np.log(np.sum(p * onehot, axis=-1))) / N
    return loss, (onehot - p) / N
'''),
        ("sequence_cross_entropy", "unstable softmax", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    e = np.exp(scores)
    p = e / e.sum(axis=-1, keepdims=True)
    onehot = np.eye(C)[y]
    loss = -np.sum(np.log(np.sum(p * onehot, axis=-1))) / N
    return loss, (p - onehot) / N
'''),
    ],
    "07_self_attention": [
        ("self_attention", "returns (A, Z)", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    s = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        s = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool)), s, -np.inf)
    A = softmax(s, axis=-1)
    return A, A @ V
'''),
        ("self_attention", "mask multiplies the scores", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    s = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        s = s * np.tril(np.ones((len(X), len(X))))
    A = softmax(s, axis=-1)
    return A @ V, A
'''),
        ("self_attention", "V from W_q", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_q
    s = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        s = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool)), s, -np.inf)
    A = softmax(s, axis=-1)
    return A @ V, A
'''),
        ("self_attention", "scaled by sqrt(d_v)", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    s = Q @ K.T / np.sqrt(V.shape[1])
    if causal:
        s = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool)), s, -np.inf)
    A = softmax(s, axis=-1)
    return A @ V, A
'''),
        ("multi_head_self_attention", "softmax over the queries in each head", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d = X.shape
    dh = d // n_heads
    outs = []
    for h in range(n_heads):
        c = slice(h * dh, (h + 1) * dh)
        s = (X @ W_q[:, c]) @ (X @ W_k[:, c]).T / np.sqrt(dh)
        if causal:
            s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
        outs.append(softmax(s, axis=0) @ (X @ W_v[:, c]))
    return np.concatenate(outs, axis=1) @ W_o
'''),
        ("multi_head_self_attention", "d_head and n_heads swapped in the scale", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d = X.shape
    dh = d // n_heads
    outs = []
    for h in range(n_heads):
        c = slice(h * dh, (h + 1) * dh)
        s = (X @ W_q[:, c]) @ (X @ W_k[:, c]).T / np.sqrt(n_heads)
        if causal:
            s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
        outs.append(softmax(s, axis=-1) @ (X @ W_v[:, c]))
    return np.concatenate(outs, axis=1) @ W_o
'''),
        ("multi_head_self_attention", "rows of the projections instead of columns", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d = X.shape
    dh = d // n_heads
    outs = []
    for h in range(n_heads):
        r = slice(h * dh, (h + 1) * dh)
        s = (X[:, r] @ W_q[r, r]) @ (X[:, r] @ W_k[r, r]).T / np.sqrt(dh)
        if causal:
            s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
        outs.append(softmax(s, axis=-1) @ (X[:, r] @ W_v[r, r]))
    return np.concatenate(outs, axis=1) @ W_o
'''),
        ("attention_by_hand", "base 2", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    p = 2.0 ** np.floor(K.T @ Q / 2)
    A = p / p.sum(axis=0, keepdims=True)
    return A, V @ A
'''),
        ("attention_by_hand", "no floor", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    p = 3.0 ** (K.T @ Q / 2)
    A = p / p.sum(axis=0, keepdims=True)
    return A, V @ A
'''),
        ("attention_by_hand", "normalised by the total", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    p = 3.0 ** np.floor(K.T @ Q / 2)
    A = p / p.sum()
    return A, V @ A
'''),
    ],
}


def compile_unseen(name, code):
    """The function ``name`` that ``code`` defines, in a namespace with ``np``, ``sigmoid`` and ``softmax``."""
    namespace = {"np": np, "sigmoid": sigmoid, "softmax": softmax}
    exec(compile(code, "<unseen submission>", "exec"), namespace)
    return namespace[name]


#: A second set, written after the classic mistakes of ``autograder/cases/`` were final and never used to change them.
HELD_OUT = {
    "01_chain_rule": [
        ("numerical_derivative", "forward difference over 2h", '''
def numerical_derivative(f, x, h=1e-5):
    return (f(x + h) - f(x)) / (2 * h)
'''),
        ("neuron_backward", "dw without the sigmoid derivative, db with it", '''
def neuron_backward(w, b, x, y):
    a = sigmoid(w @ x + b)
    return 0.5 * (a - y) ** 2, x * (a - y), (a - y) * a * (1 - a)
'''),
    ],
    "02_gradient_descent": [
        ("gradient_descent", "a list of arrays", '''
def gradient_descent(grad, x0, lr, n_steps):
    xs = [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * grad(xs[-1]))
    return xs
'''),
        ("mse_loss_and_grad", "loss over 2N", '''
def mse_loss_and_grad(w, X, y):
    r = X @ w - y
    return np.sum(r ** 2) / (2 * len(y)), 2 * X.T @ r / len(y)
'''),
        ("minibatch_sgd", "full-data gradient at every step", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            w = w - lr * 2 * X.T @ (X @ w - y) / len(X)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
    ],
    "03_softmax": [
        ("softmax", "no axis and no max", '''
def softmax(x, axis=-1):
    return np.exp(x) / np.exp(x).sum()
'''),
        ("log_softmax", "log of a stable softmax", '''
def log_softmax(x, axis=-1):
    return np.log(softmax(x, axis=axis))
'''),
        ("cross_entropy_loss_and_grad", "gradient divided by the number of classes", '''
def cross_entropy_loss_and_grad(logits, labels):
    n, c = logits.shape
    p = softmax(logits, axis=1)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return loss, p / c
'''),
    ],
    "04_dot_product_attention": [
        ("scaled_dot_product_attention", "scaled by sqrt(d_v)", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(V.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = softmax(s, axis=-1)
    return w @ V, w
'''),
        ("hard_attention", "the index as the weights", '''
def hard_attention(scores, V):
    i = np.argmax(scores)
    return V[i], i
'''),
        ("additive_attention", "w_v on the left", '''
def additive_attention(q, K, V, W_q, W_k, w_v):
    weights = softmax(w_v @ np.tanh(q @ W_q + K @ W_k))
    return weights @ V, weights
'''),
    ],
    "05_backprop_through_time": [
        ("rnn_forward", "cache without h0", '''
def rnn_forward(x, h0, Wx, Wh, b):
    h = np.zeros((x.shape[0], x.shape[1], Wh.shape[0]))
    prev = h0
    for t in range(x.shape[1]):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, Wx, Wh, h)
'''),
        ("rnn_backward", "dh0 left at zero", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    nxt = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + nxt) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da; dWh += prev.T @ da; db += da.sum(0)
        nxt = da @ Wh.T
    return dx, np.zeros_like(h0), dWx, dWh, db
'''),
        ("clip_by_global_norm", "comparison inverted", '''
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * (max_norm / norm) if norm < max_norm else g.copy() for g in grads]
'''),
    ],
    "06_rnn": [
        ("rnn_step_forward", "residual connection added", '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh + b) + h_prev
'''),
        ("lstm_step_forward", "output gate left out", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2*H]), np.tanh(a[:, 3*H:])
    c = f * c_prev + i * g
    return np.tanh(c), c
'''),
        ("sequence_cross_entropy", "mean over every entry of the one-hot product", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    p = softmax(scores, axis=-1)
    onehot = np.eye(C)[y]
    return -np.mean(np.log(p) * onehot), (p - onehot) / N
'''),
    ],
    "07_self_attention": [
        ("self_attention", "mask hides the allowed keys", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    s = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        s = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool)), -np.inf, s)
    A = softmax(s, axis=-1)
    return A @ V, A
'''),
        ("multi_head_self_attention", "causal mask on head 0 only", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d = X.shape
    dh = d // n_heads
    outs = []
    for h in range(n_heads):
        c = slice(h * dh, (h + 1) * dh)
        s = (X @ W_q[:, c]) @ (X @ W_k[:, c]).T / np.sqrt(dh)
        if causal and h == 0:
            s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
        outs.append(softmax(s, axis=-1) @ (X @ W_v[:, c]))
    return np.concatenate(outs, axis=1) @ W_o
'''),
        ("attention_by_hand", "floor before halving", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    p = 3.0 ** (np.floor(K.T @ Q) / 2)
    A = p / p.sum(axis=0, keepdims=True)
    return A, V @ A
'''),
    ],
}
