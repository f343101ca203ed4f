"""Fresh, blind wrong student submissions for every graded function of the course (chapters 1 to 8).

What this is: 70 plausible mistakes, each a complete definition of one graded function with the
contract's exact signature (/work/shared/COURSE.md, "Exercise contract"), written as a student would
write it in the release notebook. They exist to measure honestly how often the course's feedback
names a student's mistake on submissions it was never tuned on.

How it was written: blind, by a helper session on 2026-11-30, from the contract, the release
notebooks, the book pages and the reference implementations only (the latter to make sure each
version really differs from the reference). The author never opened the checking code, the case
files, the existing mistake collections or the feedback tests, and never saw a feedback message.
Each entry was verified to give a result different from the reference (beyond float noise) on
ordinary inputs of the notebook's shapes, or to raise.

This file must never be used to change the diagnosis: tuning the feedback to these entries would
turn them into one more training set and spoil the measurement they are for. What happened once:
measured before the generic diagnosis (``autograder/diagnosis.py``) was wired in, 62 of the 70 were
named; the 8 unnamed messages were read, and one symptom was added after reading them (an array
stored again and again while it changed in place, one of the 8). With the generic diagnosis: 66 of 70.

Format: FRESH[chapter] is a list of (function name, short description of the mistake, code). Each
code string is self-contained apart from ``np``, ``sigmoid(z)`` and ``softmax(x, axis=-1)``, which
the notebooks provide (the softmax of chapter 3 is itself graded, so its entries define their own).
"""

FRESH = {
    "01_chain_rule": [
        ("numerical_derivative", "forward difference (f(x+h) - f(x)) / h instead of the central difference", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return (f(x + h) - f(x)) / h
'''),
        ("numerical_derivative", "operator precedence: divides by 2 and then multiplies by h, '/ 2 * h'", '''
def numerical_derivative(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    return (f(x + h) - f(x - h)) / 2 * h
'''),
        ("chain_rule_derivative", "outer derivative evaluated at x instead of at g(x)", '''
def chain_rule_derivative(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=float)
    return f_prime(x) * g_prime(x)
'''),
        ("chain_rule_derivative", "multiplies by the inner function g(x) instead of its derivative g'(x)", '''
def chain_rule_derivative(f_prime, g, g_prime, x):
    x = np.asarray(x, dtype=float)
    u = g(x)
    return f_prime(u) * g(x)
'''),
        ("neuron_backward", "forgets the sigmoid's derivative: dz = a - y", '''
def neuron_backward(w, b, x, y):
    z = w @ x + b
    a = sigmoid(z)
    loss = 0.5 * (a - y) ** 2
    dz = a - y
    dw = dz * x
    db = dz
    return loss, dw, db
'''),
        ("neuron_backward", "sigmoid derivative written with the pre-activation: z * (1 - z) instead of a * (1 - a)", '''
def neuron_backward(w, b, x, y):
    z = w @ x + b
    a = sigmoid(z)
    loss = 0.5 * (a - y) ** 2
    dz = (a - y) * z * (1 - z)
    return loss, dz * x, dz
'''),
        ("neuron_backward", "weight gradient multiplied by w instead of by the input x", '''
def neuron_backward(w, b, x, y):
    z = np.dot(w, x) + b
    a = sigmoid(z)
    loss = 0.5 * (a - y) ** 2
    dz = (a - y) * a * (1 - a)
    dw = dz * w
    db = dz
    return loss, dw, db
'''),
    ],
    "02_gradient_descent": [
        ("gradient_descent", "in-place update 'x -= ...' appends the same array every step: all rows equal the last iterate", '''
def gradient_descent(grad, x0, lr, n_steps):
    x = np.array(x0, dtype=float)
    iterates = [x]
    for _ in range(n_steps):
        x -= lr * grad(x)
        iterates.append(x)
    return np.array(iterates)
'''),
        ("gradient_descent", "starts the list empty: x0 is missing, only n_steps rows", '''
def gradient_descent(grad, x0, lr, n_steps):
    x = np.asarray(x0, dtype=float)
    iterates = []
    for step in range(n_steps):
        x = x - lr * grad(x)
        iterates.append(x)
    return np.array(iterates)
'''),
        ("gradient_descent", "wrong sign: steps up the gradient (gradient ascent)", '''
def gradient_descent(grad, x0, lr, n_steps):
    xs = [np.asarray(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] + lr * grad(xs[-1]))
    return np.stack(xs)
'''),
        ("mse_loss_and_grad", "gradient misses the factor 2 from the square", '''
def mse_loss_and_grad(w, X, y):
    residual = X @ w - y
    loss = np.mean(residual ** 2)
    grad = X.T @ residual / len(y)
    return loss, grad
'''),
        ("mse_loss_and_grad", "gradient divided by N * d (X.size) instead of N", '''
def mse_loss_and_grad(w, X, y):
    r = X @ w - y
    loss = np.mean(r ** 2)
    grad = 2 * (X.T @ r) / X.size
    return loss, grad
'''),
        ("minibatch_sgd", "creates the generator inside the epoch loop: the same permutation every epoch", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    w = np.array(w0, dtype=float)
    N = len(X)
    losses = []
    for epoch in range(n_epochs):
        rng = np.random.default_rng(seed)
        perm = rng.permutation(N)
        for start in range(0, N, batch_size):
            idx = perm[start:start + batch_size]
            Xb, yb = X[idx], y[idx]
            grad = 2 / len(idx) * Xb.T @ (Xb @ w - yb)
            w = w - lr * grad
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
        ("minibatch_sgd", "batch gradient normalised by the full data size N instead of the batch size", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    N = X.shape[0]
    losses = np.zeros(n_epochs)
    for e in range(n_epochs):
        perm = rng.permutation(N)
        for start in range(0, N, batch_size):
            batch = perm[start:start + batch_size]
            residual = X[batch] @ w - y[batch]
            w = w - lr * (2 / N) * X[batch].T @ residual
        losses[e] = np.mean((X @ w - y) ** 2)
    return w, losses
'''),
        ("minibatch_sgd", "loops over N // batch_size full batches: the shorter last batch is dropped", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = w0.astype(float).copy()
    n_batches = len(X) // batch_size
    losses = []
    for epoch in range(n_epochs):
        perm = rng.permutation(len(X))
        for k in range(n_batches):
            idx = perm[k * batch_size:(k + 1) * batch_size]
            err = X[idx] @ w - y[idx]
            w -= lr * 2 * X[idx].T @ err / len(idx)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
    ],
    "03_softmax": [
        ("softmax", "no max subtraction: overflows for large logits", '''
def softmax(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)
'''),
        ("softmax", "sum without keepdims: broadcasts wrongly (or fails) on batches", '''
def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis)
'''),
        ("log_softmax", "shifts by the max inside the exponent but forgets it outside: off by max(x)", '''
def log_softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
'''),
        ("log_softmax", "log of the softmax: -inf where a probability underflows", '''
def log_softmax(x, axis=-1):
    return np.log(softmax(x, axis=axis))
'''),
        ("softmax_jacobian", "only the diagonal s_i (1 - s_i): forgets the off-diagonal -s_i s_j", '''
def softmax_jacobian(x):
    s = softmax(x)
    return np.diag(s * (1 - s))
'''),
        ("softmax_jacobian", "dot product s @ s instead of the outer product s s^T", '''
def softmax_jacobian(x):
    s = softmax(x)
    return np.diag(s) - s @ s
'''),
        ("cross_entropy_loss_and_grad", "gradient not divided by N although the loss is a mean", '''
def cross_entropy_loss_and_grad(logits, labels):
    N = logits.shape[0]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(N), labels])
    dlogits = np.exp(log_probs)
    dlogits[np.arange(N), labels] -= 1
    return loss, dlogits
'''),
        ("cross_entropy_loss_and_grad", "indexes log_probs[:, labels]: averages an N x N block instead of one entry per row", '''
def cross_entropy_loss_and_grad(logits, labels):
    N = len(labels)
    z = logits - logits.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -np.mean(log_probs[:, labels])
    grad = softmax(logits, axis=1)
    grad[np.arange(N), labels] -= 1
    return loss, grad / N
'''),
    ],
    "04_dot_product_attention": [
        ("scaled_dot_product_attention", "forgets the 1/sqrt(d_k) scale", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
'''),
        ("scaled_dot_product_attention", "applies the mask by multiplying the scores by it (masked scores become 0, not -inf)", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        scores = scores * mask
    weights = softmax(scores, axis=-1)
    output = weights @ V
    return output, weights
'''),
        ("scaled_dot_product_attention", "K.T reverses every axis: right for 2-D inputs, wrong with batch axes", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    d_k = K.shape[-1]
    scores = Q @ K.T / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores)
    return weights @ V, weights
'''),
        ("additive_attention", "tanh applied after the projection by w_v instead of before", '''
def additive_attention(q, K, V, W_q, W_k, w_v):
    scores = np.tanh((q @ W_q + K @ W_k) @ w_v)
    weights = softmax(scores)
    context = weights @ V
    return context, weights
'''),
        ("additive_attention", "tanh applied to the query and key projections separately, then added", '''
def additive_attention(q, K, V, W_q, W_k, w_v):
    hidden = np.tanh(q @ W_q) + np.tanh(K @ W_k)
    scores = hidden @ w_v
    weights = softmax(scores)
    return weights @ V, weights
'''),
        ("luong_general_scores", "multiplies in the wrong order, k W q (i.e. q W^T k)", '''
def luong_general_scores(q, K, W):
    return K @ W @ q
'''),
        ("luong_general_scores", "divides by sqrt(d_k) as in scaled dot-product attention", '''
def luong_general_scores(q, K, W):
    d_k = K.shape[1]
    return (K @ (q @ W)) / np.sqrt(d_k)
'''),
        ("hard_attention", "last maximum wins on ties instead of the first", '''
def hard_attention(scores, V):
    scores = np.asarray(scores)
    best = len(scores) - 1 - np.argmax(scores[::-1])
    weights = np.zeros(len(scores))
    weights[best] = 1.0
    return V[best], weights
'''),
        ("hard_attention", "weight 1 on every tied maximum: not one-hot, output the sum of the tied rows", '''
def hard_attention(scores, V):
    weights = (scores == np.max(scores)).astype(float)
    output = weights @ V
    return output, weights
'''),
    ],
    "05_backprop_through_time": [
        ("rnn_forward", "never updates the previous state: every step uses h0", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    for t in range(T):
        h[:, t] = np.tanh(x[:, t] @ Wx + h0 @ Wh + b)
    cache = (x, h0, Wx, Wh, h)
    return h, cache
'''),
        ("rnn_forward", "bias added outside the tanh", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    h_prev = h0
    for t in range(T):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh) + b
        h[:, t] = h_prev
    return h, (x, h0, Wx, Wh, h)
'''),
        ("rnn_forward", "wrong initial state: starts from zeros and ignores h0", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    hs = []
    h_prev = np.zeros((N, H))
    for t in range(T):
        h_prev = np.tanh(x[:, t, :] @ Wx + h_prev @ Wh + b)
        hs.append(h_prev)
    h = np.stack(hs, axis=1)
    return h, (x, h0, Wx, Wh, h)
'''),
        ("rnn_backward", "previous state taken as h[:, t-1] at every step: at t = 0 that is the last state, not h0", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = dh.shape
    dx = np.zeros_like(x)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dh_next
        da = dh_t * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1]
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    dh0 = dh_next
    return dx, dh0, dWx, dWh, db
'''),
        ("rnn_backward", "weight and bias gradients assigned with = instead of +=: only step 0 counts", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = dh.shape
    dx = np.zeros_like(x)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros_like(h0[0])
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        h_prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + dnext) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx = x[:, t].T @ da
        dWh = h_prev.T @ da
        db = np.sum(da, axis=0)
        dnext = da @ Wh.T
    return dx, dnext, dWx, dWh, db
'''),
        ("rnn_backward", "tanh derivative taken as 1 - tanh(h)^2 of the cached output (tanh applied twice)", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, H = h.shape
    dx = np.zeros(x.shape)
    dWx = np.zeros(Wx.shape)
    dWh = np.zeros(Wh.shape)
    db = np.zeros(H)
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        g = dh[:, t] + carry
        da = g * (1 - np.tanh(h[:, t]) ** 2)
        prev = h0 if t == 0 else h[:, t - 1]
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += prev.T @ da
        db += da.sum(axis=0)
        carry = da @ Wh.T
    return dx, carry, dWx, dWh, db
'''),
        ("clip_by_global_norm", "clips each array by its own norm instead of one global factor", '''
def clip_by_global_norm(grads, max_norm):
    clipped = []
    for g in grads:
        norm = np.linalg.norm(g)
        if norm > max_norm:
            g = g * max_norm / norm
        clipped.append(g)
    return clipped
'''),
        ("clip_by_global_norm", "always rescales to max_norm, also gradients already below it", '''
def clip_by_global_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * (max_norm / total) for g in grads]
'''),
    ],
    "06_rnn": [
        ("rnn_step_forward", "sigmoid instead of tanh as the activation", '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return sigmoid(x @ Wx + h_prev @ Wh + b)
'''),
        ("rnn_step_forward", "forgets the bias b", '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh)
    return h_next
'''),
        ("lstm_step_forward", "gate blocks read in the order i, f, g, o instead of i, f, o, g", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
'''),
        ("lstm_step_forward", "forgets the tanh on the cell: h_next = o * c_next", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ao, ag = np.split(a, 4, axis=1)
    i, f, o = sigmoid(ai), sigmoid(af), sigmoid(ao)
    g = np.tanh(ag)
    c_next = f * c_prev + i * g
    h_next = o * c_next
    return h_next, c_next
'''),
        ("lstm_step_forward", "hidden state computed from the old cell c_prev instead of c_next", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = Wh.shape[0]
    a = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:4 * H])
    h_next = o * np.tanh(c_prev)
    c_next = f * c_prev + i * g
    return h_next, c_next
'''),
        ("sequence_cross_entropy", "averages over all N * T predictions instead of summing over T", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    flat = scores.reshape(N * T, C)
    labels = y.reshape(N * T)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    loss = -np.mean(log_probs[rows, labels])
    dflat = np.exp(log_probs)
    dflat[rows, labels] -= 1
    dscores = (dflat / (N * T)).reshape(N, T, C)
    return loss, dscores
'''),
        ("sequence_cross_entropy", "softmax taken over the time axis instead of the classes", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    probs = softmax(scores, axis=1)
    n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -np.sum(np.log(probs[n_idx, t_idx, y])) / N
    dscores = probs.copy()
    dscores[n_idx, t_idx, y] -= 1
    dscores /= N
    return loss, dscores
'''),
    ],
    "07_self_attention": [
        ("self_attention", "scales by sqrt(d_model) (X.shape[1]) instead of sqrt(d_k)", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q = X @ W_q
    K = X @ W_k
    V = X @ W_v
    d = X.shape[1]
    scores = Q @ K.T / np.sqrt(d)
    if causal:
        n = X.shape[0]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    A = softmax(scores, axis=-1)
    Z = A @ V
    return Z, A
'''),
        ("self_attention", "causal mask built with np.triu: each token sees the future instead of the past", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    d_k = W_k.shape[1]
    scores = Q @ K.T / np.sqrt(d_k)
    if causal:
        mask = np.triu(np.ones_like(scores, dtype=bool))
        scores[~mask] = -np.inf
    A = softmax(scores)
    return A @ V, A
'''),
        ("self_attention", "causal mask np.tril(..., k=-1) also hides the diagonal: a token may not attend to itself", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T / np.sqrt(K.shape[1])
    if causal:
        n = len(X)
        allowed = np.tril(np.ones((n, n)), k=-1).astype(bool)
        scores = np.where(allowed, scores, -np.inf)
    A = softmax(scores, axis=1)
    Z = A @ V
    return Z, A
'''),
        ("multi_head_self_attention", "heads split with reshape(n_heads, n, d_head) without a transpose: mixes tokens and columns", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d_model = X.shape
    d_head = d_model // n_heads
    Q = (X @ W_q).reshape(n_heads, n, d_head)
    K = (X @ W_k).reshape(n_heads, n, d_head)
    V = (X @ W_v).reshape(n_heads, n, d_head)
    scores = Q @ K.transpose(0, 2, 1) / np.sqrt(d_head)
    if causal:
        mask = np.tril(np.ones((n, n), dtype=bool))
        scores = np.where(mask, scores, -np.inf)
    A = softmax(scores, axis=-1)
    heads = A @ V
    concat = heads.reshape(n, d_model)
    return concat @ W_o
'''),
        ("multi_head_self_attention", "each head scaled by sqrt(d_model) instead of sqrt(d_head)", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d_model = X.shape
    d_head = d_model // n_heads
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    heads = []
    for h in range(n_heads):
        cols = slice(h * d_head, (h + 1) * d_head)
        scores = Q[:, cols] @ K[:, cols].T / np.sqrt(d_model)
        if causal:
            scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
        heads.append(softmax(scores, axis=-1) @ V[:, cols])
    return np.concatenate(heads, axis=1) @ W_o
'''),
        ("multi_head_self_attention", "the causal flag is never used inside the heads", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    d_model = X.shape[1]
    d_head = d_model // n_heads
    outputs = []
    for h in range(n_heads):
        lo, hi = h * d_head, (h + 1) * d_head
        Q = X @ W_q[:, lo:hi]
        K = X @ W_k[:, lo:hi]
        V = X @ W_v[:, lo:hi]
        A = softmax(Q @ K.T / np.sqrt(d_head), axis=-1)
        outputs.append(A @ V)
    Z = np.hstack(outputs)
    return Z @ W_o
'''),
        ("attention_by_hand", "normalises each row instead of each column", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q = W_Q @ X
    K = W_K @ X
    V = W_V @ X
    scores = K.T @ Q
    P = 3.0 ** np.floor(scores / 2)
    A = P / P.sum(axis=1, keepdims=True)
    Z = V @ A
    return A, Z
'''),
        ("attention_by_hand", "halves with astype(int), which truncates towards zero instead of flooring negative scores", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    scores = K.T @ Q
    halved = (scores / 2).astype(int)
    powers = 3.0 ** halved
    A = powers / powers.sum(axis=0)
    return A, V @ A
'''),
    ],
    "08_transformer": [
        ("sinusoidal_positions", "exponent uses the column index j for both columns of a pair: cos columns get (2i+1)/d_model", '''
def sinusoidal_positions(n, d_model):
    P = np.zeros((n, d_model))
    for p in range(n):
        for j in range(d_model):
            angle = p / 10000 ** (j / d_model)
            if j % 2 == 0:
                P[p, j] = np.sin(angle)
            else:
                P[p, j] = np.cos(angle)
    return P
'''),
        ("sinusoidal_positions", "all sines then all cosines (concatenated) instead of interleaved columns", '''
def sinusoidal_positions(n, d_model):
    positions = np.arange(n)[:, None]
    i = np.arange(d_model // 2)[None, :]
    angles = positions / 10000 ** (2 * i / d_model)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
'''),
        ("layer_norm", "sample variance (ddof=1) instead of the population variance", '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True, ddof=1)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta
'''),
        ("layer_norm", "eps added to the standard deviation, outside the square root", '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    sigma = x.std(axis=-1, keepdims=True)
    x_hat = (x - mu) / (sigma + eps)
    return gamma * x_hat + beta
'''),
        ("layer_norm_backward", "treats the mean and variance as constants: dx = dy * gamma / std", '''
def layer_norm_backward(dy, x, gamma, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    dx = dy * gamma * inv_std
    axes = tuple(range(x.ndim - 1))
    dgamma = np.sum(dy * x_hat, axis=axes)
    dbeta = np.sum(dy, axis=axes)
    return dx, dgamma, dbeta
'''),
        ("layer_norm_backward", "dgamma uses the raw input x instead of the normalised x_hat", '''
def layer_norm_backward(dy, x, gamma, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - mu) * inv_std
    g = dy * gamma
    dx = inv_std * (g - g.mean(axis=-1, keepdims=True) - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))
    axes = tuple(range(x.ndim - 1))
    dgamma = (dy * x).sum(axis=axes)
    dbeta = dy.sum(axis=axes)
    return dx, dgamma, dbeta
'''),
        ("layer_norm_backward", "dgamma and dbeta summed over axis 0 only: wrong with more than one leading axis", '''
def layer_norm_backward(dy, x, gamma, eps=1e-5):
    d = x.shape[-1]
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    dx_hat = dy * gamma
    dx = (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True)) / (d * std)
    dgamma = np.sum(dy * x_hat, axis=0)
    dbeta = np.sum(dy, axis=0)
    return dx, dgamma, dbeta
'''),
        ("feed_forward", "applies relu to the output layer as well", '''
def feed_forward(X, W1, b1, W2, b2):
    hidden = np.maximum(0, X @ W1 + b1)
    return np.maximum(0, hidden @ W2 + b2)
'''),
        ("feed_forward", "np.max(z, 0) (a reduction over axis 0) instead of np.maximum(z, 0)", '''
def feed_forward(X, W1, b1, W2, b2):
    z = X @ W1 + b1
    h = np.max(z, 0)
    return h @ W2 + b2
'''),
        ("attention_backward", "softmax backward taken elementwise, dU = A * dA (forgets the row-sum term)", '''
def attention_backward(dZ, Q, K, V, mask=None):
    d_k = Q.shape[-1]
    S = Q @ K.T / np.sqrt(d_k)
    if mask is not None:
        S = np.where(mask, S, -np.inf)
    A = softmax(S, axis=-1)
    dV = A.T @ dZ
    dA = dZ @ V.T
    dS = A * dA
    dQ = dS @ K / np.sqrt(d_k)
    dK = dS.T @ Q / np.sqrt(d_k)
    return dQ, dK, dV
'''),
        ("attention_backward", "forgets the 1/sqrt(d_k) factor in dQ and dK", '''
def attention_backward(dZ, Q, K, V, mask=None):
    d_k = K.shape[1]
    scores = Q @ K.T / np.sqrt(d_k)
    if mask is not None:
        scores[~mask] = -np.inf
    A = softmax(scores)
    dV = A.T @ dZ
    dA = dZ @ V.T
    dS = A * (dA - np.sum(dA * A, axis=1, keepdims=True))
    dQ = dS @ K
    dK = dS.T @ Q
    return dQ, dK, dV
'''),
        ("attention_backward", "recomputes the forward weights without the mask", '''
def attention_backward(dZ, Q, K, V, mask=None):
    d_k = Q.shape[1]
    A = softmax(Q @ K.T / np.sqrt(d_k), axis=-1)
    dV = A.T @ dZ
    dA = dZ @ V.T
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)) / np.sqrt(d_k)
    return dS @ K, dS.T @ Q, dV
'''),
        ("transformer_block", "post-norm: layer norm applied after each residual sum instead of before each sublayer", '''
def transformer_block(X, params, n_heads, causal=True):
    def layer_norm(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * gamma + beta

    def mha(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
        n, d_model = X.shape
        d_head = d_model // n_heads
        Q, K, V = X @ W_q, X @ W_k, X @ W_v
        heads = []
        for h in range(n_heads):
            cols = slice(h * d_head, (h + 1) * d_head)
            scores = Q[:, cols] @ K[:, cols].T / np.sqrt(d_head)
            if causal:
                scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
            heads.append(softmax(scores, axis=-1) @ V[:, cols])
        return np.concatenate(heads, axis=1) @ W_o

    def ffn(X, W1, b1, W2, b2):
        return np.maximum(0, X @ W1 + b1) @ W2 + b2

    p = params
    H = layer_norm(X + mha(X, p["W_q"], p["W_k"], p["W_v"], p["W_o"], n_heads, causal),
                   p["ln1_gamma"], p["ln1_beta"])
    Y = layer_norm(H + ffn(H, p["W1"], p["b1"], p["W2"], p["b2"]), p["ln2_gamma"], p["ln2_beta"])
    return Y
'''),
        ("transformer_block", "residual added to the normalised input LN(X) instead of X (and LN(H) instead of H)", '''
def transformer_block(X, params, n_heads, causal=True):
    def layer_norm(x, gamma, beta, eps=1e-5):
        mu = np.mean(x, axis=-1, keepdims=True)
        var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta

    def mha(X, W_q, W_k, W_v, W_o, n_heads, causal):
        n, d_model = X.shape
        d_head = d_model // n_heads
        out = []
        for h in range(n_heads):
            s = slice(h * d_head, (h + 1) * d_head)
            Q, K, V = X @ W_q[:, s], X @ W_k[:, s], X @ W_v[:, s]
            scores = Q @ K.T / np.sqrt(d_head)
            if causal:
                scores = scores + np.triu(np.full((n, n), -np.inf), k=1)
            out.append(softmax(scores) @ V)
        return np.concatenate(out, axis=-1) @ W_o

    p = params
    x1 = layer_norm(X, p["ln1_gamma"], p["ln1_beta"])
    H = x1 + mha(x1, p["W_q"], p["W_k"], p["W_v"], p["W_o"], n_heads, causal)
    x2 = layer_norm(H, p["ln2_gamma"], p["ln2_beta"])
    Y = x2 + np.maximum(0, x2 @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return Y
'''),
        ("transformer_block", "calls the attention without passing causal: the block is never causal", '''
def transformer_block(X, params, n_heads, causal=True):
    def layer_norm(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * gamma + beta

    def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
        n, d_model = X.shape
        d_head = d_model // n_heads
        Q, K, V = X @ W_q, X @ W_k, X @ W_v
        heads = []
        for h in range(n_heads):
            c = slice(h * d_head, (h + 1) * d_head)
            scores = Q[:, c] @ K[:, c].T / np.sqrt(d_head)
            if causal:
                scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
            heads.append(softmax(scores, axis=-1) @ V[:, c])
        return np.concatenate(heads, axis=1) @ W_o

    def feed_forward(X, W1, b1, W2, b2):
        return np.maximum(0, X @ W1 + b1) @ W2 + b2

    p = params
    H = X + multi_head_self_attention(layer_norm(X, p["ln1_gamma"], p["ln1_beta"]),
                                      p["W_q"], p["W_k"], p["W_v"], p["W_o"], n_heads)
    return H + feed_forward(layer_norm(H, p["ln2_gamma"], p["ln2_beta"]), p["W1"], p["b1"], p["W2"], p["b2"])
'''),
    ],
}
