"""Cases of chapter 8: positions, layer normalisation and its backward pass, the feed-forward layer,
attention's backward pass and the pre-norm Transformer block."""

import numpy as np

from autograder import transformer as ref
from autograder.attention import scaled_dot_product_attention
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake
from autograder.self_attention import causal_mask, multi_head_self_attention


# --- classic wrong implementations of sinusoidal_positions ---

def _positions_with(n, d_model, *, exponent=lambda i, d: 2 * i / d, first=np.sin, second=np.cos,
                    interleaved=True, start=0):
    i = np.arange(d_model // 2)
    angles = np.outer(np.arange(start, start + n), 1.0 / 10000 ** exponent(i, d_model))
    if not interleaved:
        return np.concatenate([first(angles), second(angles)], axis=1)
    P = np.empty((n, d_model))
    P[:, 0::2], P[:, 1::2] = first(angles), second(angles)
    return P


def _positions_swapped(n, d_model):
    return _positions_with(n, d_model, first=np.cos, second=np.sin)


def _positions_exponent_halved(n, d_model):
    return _positions_with(n, d_model, exponent=lambda i, d: i / d)


def _positions_exponent_doubled(n, d_model):
    # The column index j = 2i used in place of i, so the exponent is 2j / d = 4i / d.
    return _positions_with(n, d_model, exponent=lambda i, d: 4 * i / d)


def _positions_concatenated(n, d_model):
    return _positions_with(n, d_model, interleaved=False)


def _positions_from_one(n, d_model):
    return _positions_with(n, d_model, start=1)


# --- classic wrong implementations of layer_norm ---

def _layer_norm_with(x, gamma, beta, eps=1e-5, *, ddof=0, axis=-1, eps_inside=True, use_eps=True):
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=axis, keepdims=True)
    variance = x.var(axis=axis, ddof=ddof, keepdims=True)
    if not use_eps:
        scale = np.sqrt(variance)
    elif eps_inside:
        scale = np.sqrt(variance + eps)
    else:
        scale = np.sqrt(variance) + eps
    return centred / scale * gamma + beta


def _layer_norm_ddof_1(x, gamma, beta, eps=1e-5):
    return _layer_norm_with(x, gamma, beta, eps, ddof=1)


def _layer_norm_first_axis(x, gamma, beta, eps=1e-5):
    return _layer_norm_with(x, gamma, beta, eps, axis=0)


def _layer_norm_without_eps(x, gamma, beta, eps=1e-5):
    return _layer_norm_with(x, gamma, beta, eps, use_eps=False)


def _layer_norm_eps_outside(x, gamma, beta, eps=1e-5):
    return _layer_norm_with(x, gamma, beta, eps, eps_inside=False)


def _layer_norm_gamma_beta_swapped(x, gamma, beta, eps=1e-5):
    return _layer_norm_with(x, beta, gamma, eps)


def _layer_norm_eps_ignored(x, gamma, beta, eps=1e-5):
    return ref.layer_norm(x, gamma, beta)


# --- classic wrong implementations of layer_norm_backward ---

def _normalised(x, eps, ddof=0):
    x = np.asarray(x, dtype=np.float64)
    inverse_std = 1.0 / np.sqrt(x.var(axis=-1, ddof=ddof, keepdims=True) + eps)
    return (x - x.mean(axis=-1, keepdims=True)) * inverse_std, inverse_std


def _leading(x):
    return tuple(range(np.ndim(x) - 1))


def _ln_backward_with(dy, x, gamma, eps, *, dx_of, dgamma_of=None, summed_over=_leading):
    x_hat, inverse_std = _normalised(x, eps)
    g = dy * gamma
    dgamma = dy * (x_hat if dgamma_of is None else dgamma_of(x))
    return dx_of(g, x_hat, inverse_std), np.sum(dgamma, axis=summed_over(x)), np.sum(dy, axis=summed_over(x))


def _full_dx(g, x_hat, inverse_std):
    return inverse_std * (g - g.mean(axis=-1, keepdims=True) - x_hat * np.mean(g * x_hat, axis=-1, keepdims=True))


def _ln_backward_constant_statistics(dy, x, gamma, eps=1e-5):
    return _ln_backward_with(dy, x, gamma, eps, dx_of=lambda g, x_hat, s: s * g)


def _ln_backward_without_variance_term(dy, x, gamma, eps=1e-5):
    return _ln_backward_with(dy, x, gamma, eps, dx_of=lambda g, x_hat, s: s * (g - g.mean(axis=-1, keepdims=True)))


def _ln_backward_without_gamma(dy, x, gamma, eps=1e-5):
    return _ln_backward_with(dy, x, np.ones_like(gamma), eps, dx_of=_full_dx)


def _ln_backward_dgamma_from_x(dy, x, gamma, eps=1e-5):
    return _ln_backward_with(dy, x, gamma, eps, dx_of=_full_dx, dgamma_of=lambda x: np.asarray(x, dtype=np.float64))


def _ln_backward_summed_over_first_axis(dy, x, gamma, eps=1e-5):
    return _ln_backward_with(dy, x, gamma, eps, dx_of=_full_dx, summed_over=lambda x: 0)


# --- classic wrong implementations of feed_forward ---

def _feed_forward_linear(X, W1, b1, W2, b2):
    return (X @ W1 + b1) @ W2 + b2


def _feed_forward_relu_on_output(X, W1, b1, W2, b2):
    return ref.relu(ref.feed_forward(X, W1, b1, W2, b2))


def _feed_forward_bias_after_relu(X, W1, b1, W2, b2):
    return (ref.relu(X @ W1) + b1) @ W2 + b2


def _feed_forward_without_b2(X, W1, b1, W2, b2):
    return ref.relu(X @ W1 + b1) @ W2


# --- classic wrong implementations of attention_backward ---

def _attention_backward_with(dZ, Q, K, V, mask=None, *, ignore_mask=False, score_gradient=ref.softmax_backward,
                             keys_transposed=True, values_transposed=True, scale=True):
    _, A = scaled_dot_product_attention(Q, K, V, mask=None if ignore_mask else mask)
    dS = score_gradient(A, dZ @ V.T) / (np.sqrt(Q.shape[-1]) if scale else 1.0)
    dK = dS.T @ Q if keys_transposed else dS @ Q
    dV = A.T @ dZ if values_transposed else A @ dZ
    return dS @ K, dK, dV


def _backward_mask_ignored(dZ, Q, K, V, mask=None):
    return _attention_backward_with(dZ, Q, K, V, mask, ignore_mask=True)


def _backward_keys_untransposed(dZ, Q, K, V, mask=None):
    return _attention_backward_with(dZ, Q, K, V, mask, keys_transposed=False)


def _backward_values_untransposed(dZ, Q, K, V, mask=None):
    return _attention_backward_with(dZ, Q, K, V, mask, values_transposed=False)


def _backward_unscaled(dZ, Q, K, V, mask=None):
    return _attention_backward_with(dZ, Q, K, V, mask, scale=False)


def _backward_jacobian_diagonal(dZ, Q, K, V, mask=None):
    return _attention_backward_with(dZ, Q, K, V, mask, score_gradient=lambda A, dA: A * (1 - A) * dA)


def _backward_through_weights_only(dZ, Q, K, V, mask=None):
    return _attention_backward_with(dZ, Q, K, V, mask, score_gradient=lambda A, dA: A * dA)


# --- classic wrong implementations of transformer_block ---

def _attention_part(X, p, n_heads, causal):
    return multi_head_self_attention(X, p["W_q"], p["W_k"], p["W_v"], p["W_o"], n_heads, causal=causal)


def _ffn_part(X, p):
    return ref.feed_forward(X, p["W1"], p["b1"], p["W2"], p["b2"])


def _norm(X, p, which):
    return ref.layer_norm(X, p[f"ln{which}_gamma"], p[f"ln{which}_beta"])


def _block_without_attention_residual(X, params, n_heads, causal=True):
    H = _attention_part(_norm(X, params, 1), params, n_heads, causal)
    return H + _ffn_part(_norm(H, params, 2), params)


def _block_without_ffn_residual(X, params, n_heads, causal=True):
    H = X + _attention_part(_norm(X, params, 1), params, n_heads, causal)
    return _ffn_part(_norm(H, params, 2), params)


def _block_residual_from_normalised(X, params, n_heads, causal=True):
    normed = _norm(X, params, 1)
    H = normed + _attention_part(normed, params, n_heads, causal)
    normed = _norm(H, params, 2)
    return normed + _ffn_part(normed, params)


def _block_without_layer_norm(X, params, n_heads, causal=True):
    H = X + _attention_part(X, params, n_heads, causal)
    return H + _ffn_part(H, params)


def _block_norms_swapped(X, params, n_heads, causal=True):
    H = X + _attention_part(_norm(X, params, 2), params, n_heads, causal)
    return H + _ffn_part(_norm(H, params, 1), params)


def _block_causal_ignored(X, params, n_heads, causal=True):
    return ref.transformer_block(X, params, n_heads, causal=False)


# --- cases ---

def _normal(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def _positions_visible():
    # widths other than the question's d_model = 4, whose row 1 is the answer to `position_1`
    return [
        Case("3 positions, d_model = 6", (3, 6)),
        Case("4 positions, d_model = 2 (one sine/cosine pair)", (4, 2)),
        Case("5 positions, d_model = 10", (5, 10)),
    ]


def _positions_redrawn(case, rng):
    """A visible case as the grader runs it: the same width, a few more positions (sizes are all it has)."""
    n, d_model = case.args
    more = n + int(rng.integers(2, 6))
    return Case(case.label.replace(f"{n} positions", f"{more} positions"), (more, d_model), case.kwargs)


def _positions_hidden(rng):
    return [
        Case("many positions, d_model = 16", (int(rng.integers(40, 60)), 16)),
        Case("a wide model, d_model = 64", (int(rng.integers(8, 12)), 64)),
        Case("a single position (p = 0)", (1, 6)),
        Case("d_model = 2, long sequence", (int(rng.integers(90, 110)), 2)),
    ]


def _layer_norm_visible():
    x = np.array([[1.0, 2.0, 4.0, 5.0], [0.0, -1.0, 1.0, 0.0]])  # not QUESTION_ROW, the question's own row
    return [
        Case("2 rows of 4, gamma = 1, beta = 0", (x, np.ones(4), np.zeros(4))),
        Case("the same rows with a scale and a shift",
             (x, np.array([1.0, 2.0, 0.5, -1.0]), np.array([0.0, 1.0, -1.0, 0.5]))),
        Case("3 rows of 3, eps = 0.1", (np.array([[1.0, 1.0, 4.0], [2.0, 0.0, 1.0], [0.5, 0.5, 0.5]]),
                                        np.ones(3), np.zeros(3)), {"eps": 0.1}),
    ]


def _layer_norm_hidden(rng):
    def case(label, shape, scale=1.0, offset=0.0, **kwargs):
        d = shape[-1]
        return Case(label, (offset + _normal(rng, shape, scale), 1.0 + _normal(rng, d, 0.3), _normal(rng, d, 0.3)),
                    kwargs)

    return [
        case("5 tokens of 6 features", (5, 6)),
        case("batch axes (2, 3, 5)", (2, 3, 5)),
        case("rows of tiny spread (variance about 1e-6, near eps)", (4, 5), scale=1e-3, offset=2.0),
        Case("a constant row (variance 0)", (np.vstack([np.full(4, 3.0), _normal(rng, 4)]),
                                             _normal(rng, 4), _normal(rng, 4))),
        case("a large eps = 0.5", (3, 4), eps=0.5),
        case("a single feature (d = 1)", (3, 1)),
    ]


def _ln_backward_visible():
    x = np.array([[1.0, 2.0, 3.0, 6.0], [0.0, -1.0, 1.0, 0.0]])
    return [
        Case("dy = 1 at one entry, gamma = 1", (np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]), x, np.ones(4))),
        Case("2 rows of 4 with a scale", (np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, 0.0, -2.0]]), x,
                                          np.array([1.0, 2.0, 0.5, -1.0]))),
    ]


def _ln_backward_hidden(rng):
    def case(label, shape, scale=1.0, **kwargs):
        return Case(label, (_normal(rng, shape), _normal(rng, shape, scale), 1.0 + _normal(rng, shape[-1], 0.5)),
                    kwargs)

    return [
        case("5 tokens of 6 features", (5, 6)),
        case("batch axes (2, 3, 4): dgamma and dbeta sum over both", (2, 3, 4)),
        case("rows of tiny spread, eps = 1e-3", (3, 5), scale=1e-2, eps=1e-3),
        case("a single row", (1, 7)),
    ]


def _feed_forward_visible():
    X = np.array([[1.0, -1.0], [0.0, 2.0], [1.0, 1.0]])
    W1 = np.array([[1.0, -1.0, 0.5], [1.0, 1.0, -1.0]])
    W2 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return [
        Case("3 tokens, d_model = 2, d_ff = 3", (X, W1, np.array([0.0, -0.5, 0.5]), W2, np.array([0.1, -0.1]))),
        Case("one token", (X[:1], W1, np.zeros(3), W2, np.zeros(2))),
    ]


def _feed_forward_hidden(rng):
    def case(label, n, d_model, d_ff, shift=0.0):
        return Case(label, (_normal(rng, (n, d_model)), _normal(rng, (d_model, d_ff)), shift + _normal(rng, d_ff),
                            _normal(rng, (d_ff, d_model)), _normal(rng, d_model)))

    return [
        case("6 tokens, d_model = 4, d_ff = 16", 6, 4, 16),
        case("d_ff smaller than d_model", 3, 5, 2),
        case("biases that switch most units off", 4, 3, 8, shift=-2.0),
        case("a single token, d_model = 8", 1, 8, 32),
    ]


def _mask_keeping_a_key(rng, n_q, n_k):
    mask = rng.random((n_q, n_k)) < 0.5
    mask[np.arange(n_q), rng.integers(0, n_k, size=n_q)] = True
    return mask


def _attention_backward_visible():
    Q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    K = np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 0.0]])
    V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    dZ = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]])
    return [
        Case("3 queries, 3 keys, no mask", (dZ, Q, K, V)),
        Case("the same with a causal mask", (dZ, Q, K, V), {"mask": causal_mask(3)}),
        Case("2 queries, 3 keys, d_v = 1", (dZ[:2, :1], Q[:2], K, V[:, :1])),
    ]


def _attention_backward_hidden(rng):
    def case(label, n_q, n_k, d_k, d_v, mask=None, scale=1.0):
        kwargs = {} if mask is None else {"mask": mask}
        return Case(label, (_normal(rng, (n_q, d_v)), _normal(rng, (n_q, d_k), scale), _normal(rng, (n_k, d_k), scale),
                            _normal(rng, (n_k, d_v))), kwargs)

    return [
        case("5 queries, 5 keys, d_k = 4, d_v = 3", 5, 5, 4, 3),
        case("causal mask, 6 tokens", 6, 6, 3, 2, mask=causal_mask(6)),
        case("a random mask, 4 queries, 4 keys", 4, 4, 2, 3, mask=_mask_keeping_a_key(rng, 4, 4)),
        case("a random mask, 3 queries, 7 keys", 3, 7, 5, 2, mask=_mask_keeping_a_key(rng, 3, 7)),
        case("large scores (nearly one-hot weights)", 4, 4, 3, 3, scale=4.0),
        case("a single query and key", 1, 1, 2, 2),
    ]


def _block_params(rng, d_model, d_ff):
    params = ref.init_block_params(d_model, d_ff, rng)
    for name in ("ln1_gamma", "ln2_gamma"):
        params[name] = 1.0 + _normal(rng, d_model, 0.3)
    for name in ("ln1_beta", "ln2_beta", "b1", "b2"):
        params[name] = _normal(rng, params[name].shape, 0.3)
    return params


def _block_visible():
    rng = np.random.default_rng(8)
    X = np.round(_normal(rng, (3, 4)), 1)
    params = {name: np.round(value, 1) for name, value in _block_params(rng, 4, 8).items()}
    return [
        Case("3 tokens, d_model = 4, d_ff = 8, two heads, causal", (X, params, 2)),
        Case("the same, not causal", (X, params, 2), {"causal": False}),
        Case("the same, one head", (X, params, 1)),
    ]


def _block_hidden(rng):
    def case(label, n, d_model, d_ff, n_heads, causal=True, scale=1.0):
        return Case(label, (_normal(rng, (n, d_model), scale), _block_params(rng, d_model, d_ff), n_heads),
                    {"causal": causal})

    return [
        case("6 tokens, d_model = 8, d_ff = 32, four heads", 6, 8, 32, 4),
        case("not causal, two heads", 5, 6, 12, 2, causal=False),
        case("one head, d_ff smaller than d_model", 4, 6, 3, 1),
        case("a single token", 1, 4, 8, 2),
        case("large inputs (the layer norms matter)", 5, 4, 8, 2, scale=10.0),
    ]


CASE_SETS = (
    CaseSet(
        "sinusoidal_positions", ref.sinusoidal_positions, _positions_visible, _positions_hidden,
        mistakes=(
            Mistake("sin and cos are swapped: even columns 2i hold the sine, odd columns 2i+1 the cosine",
                    _positions_swapped),
            Mistake("the exponent is off by a factor 2: it is 2i / d_model with i the pair's index (i / d_model "
                    "is half of it)", _positions_exponent_halved),
            Mistake("the exponent is off by a factor 2: it is 2i / d_model with i the pair's index, not the column "
                    "index 2i (which gives 4i / d_model)", _positions_exponent_doubled),
            Mistake("the sines fill the first half of the columns and the cosines the second; they alternate "
                    "(sin in column 2i, cos in column 2i+1)", _positions_concatenated),
            Mistake("positions start at 1; the first row is position p = 0 (sin 0 = 0, cos 0 = 1)", _positions_from_one),
        ),
    ),
    CaseSet(
        "layer_norm", ref.layer_norm, _layer_norm_visible, _layer_norm_hidden,
        mistakes=(
            Mistake("the variance uses ddof=1 (divides by d - 1); layer norm uses the population variance, "
                    "dividing by d", _layer_norm_ddof_1),
            Mistake("normalised over the wrong axis (axis 0, across tokens); each token's features, the last "
                    "axis, are normalised", _layer_norm_first_axis),
            Mistake("no eps: sqrt(var + eps) keeps a constant row finite", _layer_norm_without_eps),
            Mistake("eps is added outside the square root; it goes inside, sqrt(var + eps)", _layer_norm_eps_outside),
            Mistake("gamma and beta are swapped: gamma scales, beta shifts", _layer_norm_gamma_beta_swapped),
            Mistake("the `eps` argument is ignored (a fixed 1e-5 is used)", _layer_norm_eps_ignored),
        ),
    ),
    CaseSet(
        "layer_norm_backward", ref.layer_norm_backward, _ln_backward_visible, _ln_backward_hidden,
        output_names=("dx", "dgamma", "dbeta"),
        mistakes=(
            Mistake("dx treats the mean and the variance as constants (dx = dy * gamma / std); both depend "
                    "on every x_j", _ln_backward_constant_statistics),
            Mistake("dx is missing the term from the variance, - x_hat * mean(g * x_hat)",
                    _ln_backward_without_variance_term),
            Mistake("dx is missing the factor gamma: the gradient reaching x_hat is dy * gamma",
                    _ln_backward_without_gamma),
            Mistake("dgamma is sum(dy * x); it is sum(dy * x_hat), with the normalised x", _ln_backward_dgamma_from_x),
            Mistake("dgamma and dbeta are summed over axis 0 only; they sum over every leading axis",
                    _ln_backward_summed_over_first_axis),
        ),
    ),
    CaseSet(
        "feed_forward", ref.feed_forward, _feed_forward_visible, _feed_forward_hidden,
        mistakes=(
            Mistake("the relu is missing: two linear layers in a row are one linear layer", _feed_forward_linear),
            Mistake("a relu is also applied to the output; only the hidden layer has one",
                    _feed_forward_relu_on_output),
            Mistake("b1 is added after the relu; it goes inside, relu(X W1 + b1)", _feed_forward_bias_after_relu),
            Mistake("b2 is missing", _feed_forward_without_b2),
        ),
    ),
    CaseSet(
        "attention_backward", ref.attention_backward, _attention_backward_visible, _attention_backward_hidden,
        output_names=("dQ", "dK", "dV"),
        mistakes=(
            Mistake("the mask is ignored in the backward pass, so gradient flows into masked entries; "
                    "recompute A with the mask (masked weights are 0, and so is their gradient)",
                    _backward_mask_ignored),
            Mistake("dK is computed from the untransposed score gradient (dS @ Q); it is dS^T @ Q / sqrt(d_k)",
                    _backward_keys_untransposed),
            Mistake("dV is A @ dZ; it is A^T @ dZ", _backward_values_untransposed),
            Mistake("the 1 / sqrt(d_k) of the forward pass is missing from dQ and dK", _backward_unscaled),
            Mistake("only the diagonal of the softmax Jacobian is used (A * (1 - A) * dA); the off-diagonal "
                    "terms -a_i a_j subtract rowsum(dA * A)", _backward_jacobian_diagonal),
            Mistake("the softmax's backward pass is missing the - rowsum(dA * A) term", _backward_through_weights_only),
        ),
    ),
    CaseSet(
        "transformer_block", ref.transformer_block, _block_visible, _block_hidden,
        mistakes=(
            Mistake("post-norm instead of pre-norm: normalise the input of each sub-layer (X + MHA(LN(X))), "
                    "not the sum (LN(X + MHA(X)))", ref.post_norm_block),
            Mistake("the residual around attention is missing: H = X + MHA(LN1(X))",
                    _block_without_attention_residual),
            Mistake("the residual around the feed-forward layer is missing: Y = H + FFN(LN2(H))",
                    _block_without_ffn_residual),
            Mistake("the residual adds the normalised input; it adds X itself (the residual path is never "
                    "normalised)", _block_residual_from_normalised),
            Mistake("the layer norms are missing", _block_without_layer_norm),
            Mistake("ln1 and ln2 are swapped: ln1 goes before attention, ln2 before the feed-forward layer",
                    _block_norms_swapped),
            Mistake("causal=True is ignored", _block_causal_ignored),
        ),
    ),
)

#: The row of the notebook's layer-norm question (mean 3, population variance 3.5).
QUESTION_ROW = np.array([1.0, 2.0, 3.0, 6.0])

#: Sizes of the notebook's parameter-count question.
COUNT_D_MODEL, COUNT_D_FF = 8, 32


def _score_gradient_by_hand():
    """One query, two keys with equal scores, values e_0 and e_1, dZ = e_0: dS = A (dA - A . dA)."""
    A = np.array([0.5, 0.5])
    dA = np.array([1.0, 0.0])
    return ref.softmax_backward(A, dA)


#: how the grader redraws a visible case that has nothing but sizes (``autograder.grading.redraw``)
REDRAW = {"sinusoidal_positions": _positions_redrawn}

ANSWERS = (
    Answer("position_1", lambda: ref.sinusoidal_positions(2, 4)[1], atol=1e-3, shape=(4,),
           hint="Position p = 1 with d_model = 4: the frequencies are 10000^0 = 1 and 10000^(-2/4) = 0.01; "
                "the row is (sin 1, cos 1, sin 0.01, cos 0.01)."),
    Answer("layer_norm_by_hand", lambda: ref.layer_norm(QUESTION_ROW, np.ones(4), np.zeros(4)), atol=1e-3, shape=(4,),
           hint="Subtract the mean 3, then divide by the square root of the mean squared deviation (divide by 4)."),
    Answer("dS_by_hand", _score_gradient_by_hand, atol=1e-3, shape=(2,),
           hint="dA = dZ V^T = (1, 0); then dS_j = a_j (dA_j - sum_k a_k dA_k)."),
    Answer("block_parameters", lambda: sum(value.size for value in
                                           ref.init_block_params(COUNT_D_MODEL, COUNT_D_FF,
                                                                 np.random.default_rng(0)).values()),
           atol=0.5, shape=(),
           hint="Four d_model x d_model projections, W1 and b1, W2 and b2, and a gamma and a beta for each of the "
                "two layer norms."),
)

STUDENT_MISTAKES = (
    StudentMistake("sinusoidal_positions", "sin and cos swapped", '''
def sinusoidal_positions(n, d_model):
    P = np.zeros((n, d_model))
    for p in range(n):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            P[p, 2 * i] = np.cos(angle)
            P[p, 2 * i + 1] = np.sin(angle)
    return P
''', ("sinusoidal_positions",)),
    StudentMistake("sinusoidal_positions", "exponent with the column index", '''
def sinusoidal_positions(n, d_model):
    P = np.zeros((n, d_model))
    for p in range(n):
        for j in range(0, d_model, 2):
            angle = p / 10000 ** (2 * j / d_model)
            P[p, j] = np.sin(angle)
            P[p, j + 1] = np.cos(angle)
    return P
''', ("sinusoidal_positions",)),
    StudentMistake("layer_norm", "variance with ddof=1", '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, ddof=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta
''', ("layer_norm",)),
    StudentMistake("layer_norm", "no eps", '''
def layer_norm(x, gamma, beta, eps=1e-5):
    return (x - x.mean(axis=-1, keepdims=True)) / x.std(axis=-1, keepdims=True) * gamma + beta
''', ("layer_norm",)),
    StudentMistake("layer_norm_backward", "mean and variance treated as constants", '''
def layer_norm_backward(dy, x, gamma, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    inverse_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - mean) * inverse_std
    leading = tuple(range(x.ndim - 1))
    return dy * gamma * inverse_std, np.sum(dy * x_hat, axis=leading), np.sum(dy, axis=leading)
''', ("layer_norm_backward",)),
    StudentMistake("feed_forward", "no relu", '''
def feed_forward(X, W1, b1, W2, b2):
    return (X @ W1 + b1) @ W2 + b2
''', ("feed_forward",)),
    StudentMistake("attention_backward", "dK from the untransposed scores", '''
def attention_backward(dZ, Q, K, V, mask=None):
    scores = Q @ K.T / np.sqrt(Q.shape[1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    A = softmax(scores, axis=-1)
    dA = dZ @ V.T
    dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True)) / np.sqrt(Q.shape[1])
    return dS @ K, dS @ Q, A.T @ dZ
''', ("attention_backward",)),
    StudentMistake("attention_backward", "mask forgotten in the backward pass", '''
def attention_backward(dZ, Q, K, V, mask=None):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]), axis=-1)
    dA = dZ @ V.T
    dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True)) / np.sqrt(Q.shape[1])
    return dS @ K, dS.T @ Q, A.T @ dZ
''', ("attention_backward",)),
    StudentMistake("transformer_block", "post-norm instead of pre-norm", '''
def transformer_block(X, params, n_heads, causal=True):
    p = params

    def norm(x, gamma, beta):
        return (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-5) * gamma + beta

    H = norm(X + multi_head_self_attention(X, p["W_q"], p["W_k"], p["W_v"], p["W_o"], n_heads, causal),
             p["ln1_gamma"], p["ln1_beta"])
    ffn = np.maximum(H @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
    return norm(H + ffn, p["ln2_gamma"], p["ln2_beta"])
''', ("transformer_block",)),
    StudentMistake("transformer_block", "residual around attention missing", '''
def transformer_block(X, params, n_heads, causal=True):
    p = params

    def norm(x, gamma, beta):
        return (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-5) * gamma + beta

    H = multi_head_self_attention(norm(X, p["ln1_gamma"], p["ln1_beta"]), p["W_q"], p["W_k"], p["W_v"], p["W_o"],
                                  n_heads, causal)
    return H + np.maximum(norm(H, p["ln2_gamma"], p["ln2_beta"]) @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
''', ("transformer_block",)),
    StudentMistake("by_hand", "layer norm with ddof=1 and the sine and cosine swapped", '''
position_1 = np.array([np.cos(1.0), np.sin(1.0), np.cos(0.01), np.sin(0.01)])
layer_norm_by_hand = (np.array([1.0, 2.0, 3.0, 6.0]) - 3.0) / np.sqrt(14.0 / 3.0)
dS_by_hand = np.array([0.25, -0.25])
block_parameters = 840
''', ("position_1", "layer_norm_by_hand")),
)
