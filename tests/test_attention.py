"""The reference functions of chapter 4 against independent computations, and its cases."""

import math

import numpy as np
import pytest

from autograder import attention as ref
from autograder.cases import attention as cases
from autograder.checking import CheckFailed, check_answer


def _attention_by_loops(Q, K, V, mask=None):
    """Attention of 2-D ``Q``, ``K``, ``V`` one query and one key at a time, with ``math`` only."""
    n_q, d_k = Q.shape
    n_k = K.shape[0]
    weights = np.zeros((n_q, n_k))
    for i in range(n_q):
        allowed = [j for j in range(n_k) if mask is None or mask[i][j]]
        scores = {j: sum(Q[i, a] * K[j, a] for a in range(d_k)) / math.sqrt(d_k) for j in allowed}
        top = max(scores.values())
        total = sum(math.exp(s - top) for s in scores.values())
        for j, s in scores.items():
            weights[i, j] = math.exp(s - top) / total
    output = np.array([[sum(weights[i, j] * V[j, c] for j in range(n_k)) for c in range(V.shape[1])]
                       for i in range(n_q)])
    return output, weights


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


def test_scaled_dot_product_attention_matches_loops(rng):
    Q, K, V = rng.standard_normal((4, 3)), rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    output, weights = ref.scaled_dot_product_attention(Q, K, V)
    expected_output_, expected_weights = _attention_by_loops(Q, K, V)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-12)
    np.testing.assert_allclose(output, expected_output_, rtol=1e-12, atol=1e-14)


def test_batch_axes_and_a_broadcast_mask_match_each_slice_by_loops(rng):
    Q, K, V = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 2))
    padding = np.array([[[[True] * 4 + [False] * 2]], [[[True] * 6]]])  # (2, 1, 1, 6): per first batch index
    output, weights = ref.scaled_dot_product_attention(Q, K, V, mask=padding)
    assert output.shape == (2, 3, 4, 2) and weights.shape == (2, 3, 4, 6)
    for a in range(2):
        for b in range(3):
            mask = np.broadcast_to(padding[a, 0], (4, 6))
            expected_output_, expected_weights = _attention_by_loops(Q[a, b], K[a, b], V[a, b], mask)
            np.testing.assert_allclose(weights[a, b], expected_weights, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(output[a, b], expected_output_, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(weights[0, :, :, 4:], 0.0)


def test_masked_keys_get_weight_exactly_zero_and_rows_sum_to_one(rng):
    Q, K, V = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    mask = np.tril(np.ones((5, 5), dtype=bool))
    _, weights = ref.scaled_dot_product_attention(Q, K, V, mask=mask)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(weights[0], [1.0, 0, 0, 0, 0])


def test_weights_depend_on_the_scores_only_up_to_the_scale(rng):
    Q, K, V = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    _, weights = ref.scaled_dot_product_attention(Q, K, V)
    # Q K^T is unchanged when Q is multiplied by c and K divided by c.
    np.testing.assert_allclose(ref.scaled_dot_product_attention(2.5 * Q, K / 2.5, V)[1], weights, rtol=1e-12)
    # Adding one vector to every key adds q . c to all of a query's scores: the softmax ignores it.
    shifted_keys = K + rng.standard_normal(4)
    np.testing.assert_allclose(ref.scaled_dot_product_attention(Q, shifted_keys, V)[1], weights, rtol=1e-10)
    # Without the scale, the weights are softmax(Q K^T): scaling Q by sqrt(d_k) undoes the division.
    unscaled = np.exp(Q @ K.T) / np.exp(Q @ K.T).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ref.scaled_dot_product_attention(2.0 * Q, K, V)[1], unscaled, rtol=1e-12)


def test_output_is_linear_in_the_values_and_equivariant_to_reordering_the_keys(rng):
    Q, K, V = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    output, weights = ref.scaled_dot_product_attention(Q, K, V)
    other = rng.standard_normal((5, 2))
    np.testing.assert_allclose(ref.scaled_dot_product_attention(Q, K, 3.0 * V - other)[0],
                               3.0 * output - ref.scaled_dot_product_attention(Q, K, other)[0], atol=1e-12)
    order = rng.permutation(5)
    permuted_output, permuted_weights = ref.scaled_dot_product_attention(Q, K[order], V[order])
    np.testing.assert_allclose(permuted_output, output, atol=1e-12)
    np.testing.assert_allclose(permuted_weights, weights[:, order], atol=1e-15)


def test_score_variance_grows_like_d_k_and_the_scale_brings_it_back_to_one():
    for d_k in (4, 64, 512):
        scores = ref.random_query_key_scores(d_k, n_keys=20, n_trials=2000, seed=d_k)
        assert scores.shape == (2000, 20)
        # 40000 samples: the sample variance is within a few percent of its expectation.
        assert np.var(scores) == pytest.approx(d_k, rel=0.05)
        assert np.var(scores / np.sqrt(d_k)) == pytest.approx(1.0, rel=0.05)


def test_unscaled_scores_saturate_the_softmax_as_d_k_grows():
    def mean_largest_weight(d_k, scaled):
        scores = ref.random_query_key_scores(d_k, n_keys=10, n_trials=500, seed=1)
        return ref.softmax(scores / np.sqrt(d_k) if scaled else scores).max(axis=1).mean()

    assert mean_largest_weight(512, scaled=False) > 0.95
    assert mean_largest_weight(512, scaled=True) < 0.6
    assert mean_largest_weight(4, scaled=True) == pytest.approx(mean_largest_weight(512, scaled=True), abs=0.05)


def test_additive_attention_matches_loops(rng):
    q, K, V = rng.standard_normal(3), rng.standard_normal((5, 2)), rng.standard_normal((5, 4))
    W_q, W_k, w_v = rng.standard_normal((3, 6)), rng.standard_normal((2, 6)), rng.standard_normal(6)
    def hidden(i, a):
        return math.tanh(sum(q[b] * W_q[b, a] for b in range(3)) + sum(K[i, b] * W_k[b, a] for b in range(2)))

    scores = [sum(w_v[a] * hidden(i, a) for a in range(6)) for i in range(5)]
    weights = np.exp(scores) / np.sum(np.exp(scores))
    context, got_weights = ref.additive_attention(q, K, V, W_q, W_k, w_v)
    np.testing.assert_allclose(got_weights, weights, rtol=1e-12)
    np.testing.assert_allclose(context, weights @ V, rtol=1e-12)


def test_luong_general_scores_are_dot_products_of_projections(rng):
    q, K = rng.standard_normal(3), rng.standard_normal((4, 5))
    W = rng.standard_normal((3, 5))
    loops = [sum(q[a] * W[a, b] * K[i, b] for a in range(3) for b in range(5)) for i in range(4)]
    np.testing.assert_allclose(ref.luong_general_scores(q, K, W), loops, rtol=1e-12)
    # W = I is Luong's "dot"; W = A B^T compares the projections q A and k B.
    np.testing.assert_allclose(ref.luong_general_scores(q, K[:, :3], np.eye(3)), K[:, :3] @ q, rtol=1e-14)
    A, B = rng.standard_normal((3, 2)), rng.standard_normal((5, 2))
    np.testing.assert_allclose(ref.luong_general_scores(q, K, A @ B.T), (K @ B) @ (q @ A), rtol=1e-12)


def test_dot_product_is_length_times_length_times_cosine(rng):
    q, K = rng.standard_normal(4), rng.standard_normal((6, 4))
    cosines = ref.cosine_similarity(q, K)
    np.testing.assert_allclose(K @ q, np.linalg.norm(q) * np.linalg.norm(K, axis=1) * cosines, rtol=1e-12)
    assert np.all(np.abs(cosines) <= 1.0)
    along_an_axis = ref.cosine_similarity(np.array([1.0, 0.0]), np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]))
    np.testing.assert_allclose(along_an_axis, [1.0, 0.0, -1.0], atol=1e-15)


def test_hard_attention_picks_the_first_maximum_and_is_the_cold_limit_of_soft_attention(rng):
    V = rng.standard_normal((4, 3))
    output, weights = ref.hard_attention(np.array([0.5, 2.0, -1.0, 2.0]), V)
    np.testing.assert_array_equal(weights, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(output, V[1])
    scores = rng.standard_normal(4)
    soft_output, soft_weights = ref.scaled_dot_product_attention(1e4 * scores[None, :], np.eye(4), V)
    hard_output, hard_weights = ref.hard_attention(scores, V)
    np.testing.assert_allclose(soft_weights[0], hard_weights, atol=1e-12)
    np.testing.assert_allclose(soft_output[0], hard_output, atol=1e-12)


def test_functions_leave_their_inputs_unchanged(rng):
    Q, K, V = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    mask = np.array([True, False, True, True])
    kept = [a.copy() for a in (Q, K, V, mask)]
    ref.scaled_dot_product_attention(Q, K, V, mask=mask)
    ref.hard_attention(K[:, 0], V)
    for before, after in zip(kept, (Q, K, V, mask)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("call, message", [
    (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 1))),
     r"scaled_dot_product_attention: `K` must have shape \(\.\.\., n_k, d_k\) = \(\.\.\., 4, 3\) \(d_k = 3 from `Q`\); "
     r"got shape \(4, 2\)"),
    (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 1))),
     r"`V` must have shape \(\.\.\., n_k, d_v\) = \(\.\.\., 4, d_v\) \(n_k = 4 from `K`\); got shape \(5, 1\)"),
    (lambda: ref.scaled_dot_product_attention(np.ones(3), np.ones((4, 3)), np.ones((4, 1))),
     r"`Q` must have shape \(\.\.\., n_q, d_k\) \(at least 2 dimensions\); got shape \(3,\)"),
    (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)), mask=np.ones((3, 4))),
     r"mask must be broadcastable to the scores' shape \(\.\.\., n_q, n_k\) = \(2, 4\), got shape \(3, 4\)"),
    (lambda: ref.scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)),
                                              mask=np.array([[True] * 4, [False] * 4])),
     "mask leaves a query with no key"),
    (lambda: ref.additive_attention(np.ones(2), np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 4)), np.ones((2, 4)),
                                    np.ones(4)),
     r"additive_attention: `W_q` must have shape \(d_q, h\) = \(2, h\) \(d_q = 2 from `q`\); got shape \(3, 4\)"),
    (lambda: ref.luong_general_scores(np.ones(2), np.ones((3, 4)), np.ones((2, 3))),
     r"luong_general_scores: `W` must have shape \(d_q, d_k\) = \(2, 4\) \(d_k = 4 from `K`\); got shape \(2, 3\)"),
    (lambda: ref.hard_attention(np.ones(3), np.ones((4, 2))),
     r"hard_attention: `V` must have shape \(n, d_v\) = \(3, d_v\) \(n = 3 from `scores`\); got shape \(4, 2\)"),
])
def test_bad_shapes_are_reported_with_the_argument_and_both_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the numeric answers (the generic checks of every case set are in test_case_sets.py) ---

def test_the_by_hand_answers_are_the_attention_of_the_question_and_catch_the_unscaled_computation():
    weights, context = cases.ANSWERS[0].expected(), cases.ANSWERS[1].expected()
    scores = [1.0 / math.sqrt(2), 2.0 / math.sqrt(2), 3.0 / math.sqrt(2)]
    total = sum(math.exp(s) for s in scores)
    np.testing.assert_allclose(weights, [math.exp(s) / total for s in scores], rtol=1e-12)
    np.testing.assert_allclose(context, [4 * weights[0] + 2 * weights[2], 4 * weights[1] + 2 * weights[2]], rtol=1e-12)
    check_answer(np.round(weights, 3), "weights_by_hand", hidden=True)
    check_answer(np.round(context, 2), "context_by_hand", hidden=True)
    unscaled = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    with pytest.raises(CheckFailed):
        check_answer(unscaled, "weights_by_hand", hidden=True)
    with pytest.raises(CheckFailed):
        check_answer(unscaled @ cases.QUESTION_VALUES, "context_by_hand", hidden=True)
