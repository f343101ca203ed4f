"""The reference functions of chapter 8 against independent computations: positions by hand, layer norm
and attention's backward pass by finite differences, the block by loops; argument checks."""

import math

import numpy as np
import pytest

from autograder import transformer as ref
from autograder.chain_rule import numerical_jacobian
from autograder.self_attention import causal_mask
from autograder.softmax import softmax_jacobian


@pytest.fixture
def rng():
    return np.random.default_rng(8)


def _numerical_gradient(loss, x, h=1e-6):
    """Central differences of the scalar ``loss`` with respect to every entry of ``x`` (changed and restored)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + h
        up = loss()
        x[index] = kept - h
        down = loss()
        x[index] = kept
        grad[index] = (up - down) / (2 * h)
    return grad


# --- positions ---

def test_sinusoidal_positions_by_hand():
    P = ref.sinusoidal_positions(3, 4)
    # d_model = 4: frequencies 1 and 10000^(-2/4) = 1/100.
    expected = [[0.0, 1.0, 0.0, 1.0],
                [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],
                [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)]]
    np.testing.assert_allclose(P, expected, rtol=0, atol=1e-15)


def test_sinusoidal_positions_entry_by_entry():
    n, d_model = 7, 10
    P = ref.sinusoidal_positions(n, d_model)
    for p in range(n):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            assert P[p, 2 * i] == pytest.approx(math.sin(angle), abs=1e-15)
            assert P[p, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-15)


def test_each_pair_has_norm_one_and_offsets_are_rotations():
    P = ref.sinusoidal_positions(40, 8)
    np.testing.assert_allclose(P[:, 0::2] ** 2 + P[:, 1::2] ** 2, 1.0, atol=1e-14)
    for k in (1, 5, 13):
        # Row vectors: P_{p+k} = P_p R_k for every p.
        np.testing.assert_allclose(P[:-k] @ ref.position_rotation(k, 8), P[k:], atol=1e-12)


def test_dot_product_of_two_positions_depends_on_their_offset_only():
    P = ref.sinusoidal_positions(30, 16)
    for k in (0, 3, 9):
        dots = np.sum(P[:-k or None] * P[k:], axis=1)
        np.testing.assert_allclose(dots, dots[0], atol=1e-12)


@pytest.mark.parametrize("d_model", [3, 0, 2.0])
def test_positions_need_an_even_size(d_model):
    with pytest.raises(ValueError, match="d_model"):
        ref.sinusoidal_positions(4, d_model)


# --- layer normalisation ---

def test_layer_norm_by_loops(rng):
    x, gamma, beta = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal(5)
    y = ref.layer_norm(x, gamma, beta)
    for row, out in zip(x, y):
        mean = sum(row) / 5
        variance = sum((v - mean) ** 2 for v in row) / 5
        expected = [(v - mean) / math.sqrt(variance + 1e-5) * g + b for v, g, b in zip(row, gamma, beta)]
        np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_layer_norm_gives_mean_zero_variance_one_and_handles_constant_rows(rng):
    x = rng.standard_normal((2, 3, 6)) * 5 + 3
    y = ref.layer_norm(x, np.ones(6), np.zeros(6), eps=0.0)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1, atol=1e-12)
    constant = ref.layer_norm(np.full((1, 4), 7.0), np.ones(4), np.arange(4.0))
    np.testing.assert_array_equal(constant, [np.arange(4.0)])


def test_layer_norm_backward_matches_finite_differences(rng):
    x, gamma, beta = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    dy = rng.standard_normal(x.shape)

    def loss():
        return float(np.sum(dy * ref.layer_norm(x, gamma, beta)))

    dx, dgamma, dbeta = ref.layer_norm_backward(dy, x, gamma)
    np.testing.assert_allclose(dx, _numerical_gradient(loss, x), atol=1e-7)
    np.testing.assert_allclose(dgamma, _numerical_gradient(loss, gamma), atol=1e-7)
    np.testing.assert_allclose(dbeta, _numerical_gradient(loss, beta), atol=1e-7)


def test_layer_norm_backward_is_the_transposed_jacobian(rng):
    x, gamma = rng.standard_normal(5), rng.standard_normal(5)
    jacobian = numerical_jacobian(lambda v: ref.layer_norm(v, gamma, np.zeros(5)), x)
    dy = rng.standard_normal(5)
    np.testing.assert_allclose(ref.layer_norm_backward(dy, x, gamma)[0], jacobian.T @ dy, atol=1e-7)


def test_layer_norm_shape_errors():
    with pytest.raises(ValueError, match=r"layer_norm: `gamma` must have shape \(d,\) = \(4,\)"):
        ref.layer_norm(np.zeros((2, 4)), np.ones(3), np.zeros(4))
    with pytest.raises(ValueError, match="`dy` must have the shape of `x`"):
        ref.layer_norm_backward(np.zeros((3, 4)), np.zeros((2, 4)), np.ones(4))


# --- feed-forward ---

def test_feed_forward_row_by_row(rng):
    X, W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal((3, 7)), rng.standard_normal(7)
    W2, b2 = rng.standard_normal((7, 3)), rng.standard_normal(3)
    Y = ref.feed_forward(X, W1, b1, W2, b2)
    for x, y in zip(X, Y):
        hidden = [max(0.0, float(x @ W1[:, j] + b1[j])) for j in range(7)]
        np.testing.assert_allclose(y, np.array(hidden) @ W2 + b2, rtol=1e-12)


def test_feed_forward_shape_error():
    with pytest.raises(ValueError, match=r"feed_forward: `W2` must have shape \(d_ff, d_model\) = \(5, 3\)"):
        ref.feed_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5), np.zeros((3, 5)), np.zeros(3))


# --- attention's backward pass ---

def _attention_output(Q, K, V, mask):
    scores = Q @ K.T / math.sqrt(Q.shape[1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True) @ V


@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_matches_finite_differences(rng, masked):
    Q, K, V = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    mask = (rng.random((4, 5)) < 0.6) | np.eye(4, 5, dtype=bool) if masked else None
    dZ = rng.standard_normal((4, 2))

    def loss():
        return float(np.sum(dZ * _attention_output(Q, K, V, mask)))

    dQ, dK, dV = ref.attention_backward(dZ, Q, K, V, mask)
    for got, array in ((dQ, Q), (dK, K), (dV, V)):
        np.testing.assert_allclose(got, _numerical_gradient(loss, array), atol=1e-7)


def test_a_key_no_query_may_see_gets_no_gradient(rng):
    Q, K, V = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    mask = np.array([[True, True, False], [True, True, False], [True, False, False]])
    dQ, dK, dV = ref.attention_backward(rng.standard_normal((3, 2)), Q, K, V, mask)
    np.testing.assert_array_equal(dK[2], 0.0)
    np.testing.assert_array_equal(dV[2], 0.0)


def test_softmax_backward_applies_chapter_3s_jacobian_row_by_row(rng):
    scores = rng.standard_normal((3, 4))
    A = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    dA = rng.standard_normal((3, 4))
    expected = np.stack([softmax_jacobian(s).T @ d for s, d in zip(scores, dA)])
    np.testing.assert_allclose(ref.softmax_backward(A, dA), expected, atol=1e-14)


def test_attention_backward_batched_equals_one_by_one(rng):
    dZ, Q, K, V = (rng.standard_normal((2, 3, 4, 2)) for _ in range(4))
    mask = causal_mask(4)
    batched = ref.attention_backward(dZ, Q, K, V, mask)
    for index in np.ndindex(2, 3):
        for got, expected in zip(batched, ref.attention_backward(dZ[index], Q[index], K[index], V[index], mask)):
            np.testing.assert_allclose(got[index], expected, atol=1e-14)


def test_attention_backward_shape_errors():
    with pytest.raises(ValueError, match=r"attention_backward: `K` must have shape \(\.\.\., n_k, d_k\)"):
        ref.attention_backward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((5, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="no key to attend"):
        ref.attention_backward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((5, 4)), np.zeros((5, 3)),
                               np.zeros((2, 5), dtype=bool))


# --- the block ---

def _block_by_loops(X, p, n_heads, causal):
    """Token by token and head by head, with nothing from the reference package."""
    n, d_model = X.shape
    d_head = d_model // n_heads

    def norm(row, gamma, beta):
        mean = sum(row) / len(row)
        variance = sum((v - mean) ** 2 for v in row) / len(row)
        return np.array([(v - mean) / math.sqrt(variance + 1e-5) * g + b for v, g, b in zip(row, gamma, beta)])

    normed = np.array([norm(x, p["ln1_gamma"], p["ln1_beta"]) for x in X])
    Q, K, V = normed @ p["W_q"], normed @ p["W_k"], normed @ p["W_v"]
    concatenated = np.zeros((n, d_model))
    for h in range(n_heads):
        columns = slice(h * d_head, (h + 1) * d_head)
        for i in range(n):
            visible = range(i + 1) if causal else range(n)
            scores = [float(Q[i, columns] @ K[j, columns]) / math.sqrt(d_head) for j in visible]
            weights = [math.exp(s - max(scores)) for s in scores]
            concatenated[i, columns] = sum(w * V[j, columns] for w, j in zip(weights, visible)) / sum(weights)
    H = X + concatenated @ p["W_o"]
    Y = np.zeros_like(H)
    for i in range(n):
        hidden = np.maximum(norm(H[i], p["ln2_gamma"], p["ln2_beta"]) @ p["W1"] + p["b1"], 0.0)
        Y[i] = H[i] + hidden @ p["W2"] + p["b2"]
    return Y


def _random_params(rng, d_model, d_ff):
    params = ref.init_block_params(d_model, d_ff, rng)
    for name in ("ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta", "b1", "b2"):
        params[name] = params[name] + 0.3 * rng.standard_normal(params[name].shape)
    return params


@pytest.mark.parametrize("n_heads, causal", [(1, True), (2, False), (4, True)])
def test_transformer_block_matches_loops(rng, n_heads, causal):
    X, params = rng.standard_normal((5, 8)), _random_params(rng, 8, 12)
    np.testing.assert_allclose(ref.transformer_block(X, params, n_heads, causal),
                               _block_by_loops(X, params, n_heads, causal), rtol=1e-10, atol=1e-12)


def test_causal_block_output_ignores_later_tokens(rng):
    X, params = rng.standard_normal((6, 4)), _random_params(rng, 4, 8)
    Y = ref.transformer_block(X, params, 2)
    changed = X.copy()
    changed[3:] = rng.standard_normal((3, 4))
    np.testing.assert_allclose(ref.transformer_block(changed, params, 2)[:3], Y[:3], atol=1e-14)


def test_block_with_zero_output_layers_is_the_identity(rng):
    X, params = rng.standard_normal((4, 6)), _random_params(rng, 6, 10)
    params["W_o"], params["W2"], params["b2"] = np.zeros((6, 6)), np.zeros((10, 6)), np.zeros(6)
    np.testing.assert_array_equal(ref.transformer_block(X, params, 3), X)


def test_post_norm_block_normalises_its_output(rng):
    X, params = rng.standard_normal((5, 6)), ref.init_block_params(6, 12, rng)
    Y = ref.post_norm_block(X, params, 2, causal=False)
    np.testing.assert_allclose(Y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(Y.var(axis=1), 1, atol=1e-3)


def test_block_leaves_its_inputs_untouched(rng):
    X, params = rng.standard_normal((3, 4)), _random_params(rng, 4, 4)
    kept_X, kept = X.copy(), {name: value.copy() for name, value in params.items()}
    ref.transformer_block(X, params, 2)
    np.testing.assert_array_equal(X, kept_X)
    for name in params:
        np.testing.assert_array_equal(params[name], kept[name])


def test_block_argument_errors(rng):
    params = ref.init_block_params(4, 8, rng)
    missing = {name: value for name, value in params.items() if name != "b2"}
    with pytest.raises(ValueError, match="exactly the keys"):
        ref.transformer_block(np.zeros((3, 4)), missing, 2)
    with pytest.raises(ValueError, match=r"transformer_block: `W1` must have shape \(d_model, d_ff\) = \(4, d_ff\)"):
        ref.transformer_block(np.zeros((3, 4)), {**params, "W1": np.zeros((5, 8))}, 2)
    with pytest.raises(ValueError, match="n_heads must be a positive integer that divides d_model = 4"):
        ref.transformer_block(np.zeros((3, 4)), params, 3)


# --- the training code of the page ---

def test_batched_block_forward_is_the_graded_block_on_every_sequence(rng):
    from autograder import transformer_training as training
    X, params = rng.standard_normal((3, 5, 8)), _random_params(rng, 8, 12)
    for pre_norm, single in ((True, ref.transformer_block), (False, ref.post_norm_block)):
        Y, _ = training.block_forward(X, params, 2, causal_mask(5), pre_norm)
        for sequence, output in zip(X, Y):
            np.testing.assert_allclose(output, single(sequence, params, 2), atol=1e-12)


@pytest.mark.parametrize("pre_norm", [True, False])
def test_model_gradients_match_finite_differences(rng, pre_norm):
    from autograder import transformer_training as training
    params = training.init_model(5, 3, 4, 6, 2, rng)
    for name in params:
        if "gamma" in name or "beta" in name or name.endswith(("b1", "b2")) or name == "b_out":
            params[name] = params[name] + 0.2 * rng.standard_normal(params[name].shape)
    tokens, labels = rng.integers(0, 5, size=(2, 4)), rng.integers(0, 3, size=(2, 4))

    def loss():
        return training.model_loss_and_grads(params, tokens, labels, 2, pre_norm=pre_norm)[0]

    _, grads, _ = training.model_loss_and_grads(params, tokens, labels, 2, pre_norm=pre_norm)
    assert set(grads) == set(params)
    for name in params:
        np.testing.assert_allclose(grads[name], _numerical_gradient(loss, params[name]), atol=1e-6, err_msg=name)


def test_adam_first_step_moves_every_parameter_by_the_learning_rate():
    from autograder import transformer_training as training
    params, grads = {"w": np.array([1.0, -2.0, 3.0])}, {"w": np.array([0.5, -1e-3, 40.0])}
    training.adam_step(params, grads, {}, lr=0.1)
    np.testing.assert_allclose(params["w"], [0.9, -1.9, 2.9], atol=1e-6)


def test_training_lowers_the_loss_and_leaves_the_initial_parameters_alone():
    from autograder import transformer_training as training
    characters, ids = training.character_vocabulary("abcabcabcabcabcabc")
    initial = training.init_model(len(characters), len(characters), 8, 16, 1, np.random.default_rng(0))
    kept = {name: value.copy() for name, value in initial.items()}
    trained, losses = training.train_model(initial, lambda r: training.text_windows(ids, 4, 6, r), 60, 0.02, 0, 2)
    assert losses[-10:].mean() < 0.2 * losses[:5].mean()
    for name in initial:
        np.testing.assert_array_equal(initial[name], kept[name])
    generated = training.sample_text(trained, ids[:6], 6, 0.01, np.random.default_rng(0), 2, 6)
    assert "".join(characters[i] for i in generated) == "abcabc"
