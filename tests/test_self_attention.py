"""The reference functions of chapter 7 against independent computations, and its cases."""

import math
from fractions import Fraction

import nbformat
import numpy as np
import pytest

from autograder import self_attention as ref
from autograder.cases import self_attention as cases
from autograder.checking import CheckFailed, check_answer
from conftest import PROJECT


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _layer(rng, n=5, d_model=6, d_k=3, d_v=4):
    return (rng.standard_normal((n, d_model)), rng.standard_normal((d_model, d_k)),
            rng.standard_normal((d_model, d_k)), rng.standard_normal((d_model, d_v)))


def _square_layer(rng, n=5, d_model=6):
    return (rng.standard_normal((n, d_model)),) + tuple(rng.standard_normal((d_model, d_model)) for _ in range(4))


def _self_attention_by_loops(X, W_q, W_k, W_v, causal=False):
    """Token by token: project, score against the visible tokens, exponentiate, normalise, sum."""
    n, d_k = len(X), W_k.shape[1]
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    A = np.zeros((n, n))
    for i in range(n):
        visible = range(i + 1) if causal else range(n)
        scores = [float(Q[i] @ K[j]) / math.sqrt(d_k) for j in visible]
        top = max(scores)
        total = sum(math.exp(s - top) for s in scores)
        for j, s in zip(visible, scores):
            A[i, j] = math.exp(s - top) / total
    Z = np.array([sum(A[i, j] * V[j] for j in range(n)) for i in range(n)])
    return Z, A


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_matches_loops(rng, causal):
    layer = _layer(rng)
    Z, A = ref.self_attention(*layer, causal=causal)
    expected_Z, expected_A = _self_attention_by_loops(*layer, causal=causal)
    np.testing.assert_allclose(A, expected_A, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(Z, expected_Z, rtol=1e-12, atol=1e-14)


def test_causal_output_of_a_token_ignores_every_later_token(rng):
    X, W_q, W_k, W_v, W_o = _square_layer(rng, n=6)
    Z, A = ref.self_attention(X, W_q, W_k, W_v, causal=True)
    multi = ref.multi_head_self_attention(X, W_q, W_k, W_v, W_o, 3, causal=True)
    for i in range(6):
        changed = X.copy()
        changed[i + 1:] = rng.standard_normal(changed[i + 1:].shape)
        Z_changed, A_changed = ref.self_attention(changed, W_q, W_k, W_v, causal=True)
        np.testing.assert_allclose(Z_changed[: i + 1], Z[: i + 1], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(A_changed[: i + 1], A[: i + 1], rtol=1e-12, atol=1e-15)
        multi_changed = ref.multi_head_self_attention(changed, W_q, W_k, W_v, W_o, 3, causal=True)
        np.testing.assert_allclose(multi_changed[: i + 1], multi[: i + 1], rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(A[np.triu_indices(6, k=1)], 0.0)
    np.testing.assert_allclose(Z[0], X[0] @ W_v, rtol=1e-12)


def test_without_the_mask_a_later_token_does_change_earlier_outputs(rng):
    X, W_q, W_k, W_v = _layer(rng)
    changed = X.copy()
    changed[-1] += 1.0
    assert not np.allclose(ref.self_attention(changed, W_q, W_k, W_v)[0][0], ref.self_attention(X, W_q, W_k, W_v)[0][0])


def test_reordering_the_tokens_reorders_the_outputs(rng):
    # Self-attention has no notion of position: it is equivariant to permutations of the tokens.
    X, W_q, W_k, W_v = _layer(rng)
    Z, A = ref.self_attention(X, W_q, W_k, W_v)
    order = rng.permutation(len(X))
    Z_permuted, A_permuted = ref.self_attention(X[order], W_q, W_k, W_v)
    np.testing.assert_allclose(Z_permuted, Z[order], atol=1e-12)
    np.testing.assert_allclose(A_permuted, A[np.ix_(order, order)], atol=1e-15)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_with_one_head_is_self_attention_followed_by_W_o(rng, causal):
    X, W_q, W_k, W_v, W_o = _square_layer(rng)
    Z, _ = ref.self_attention(X, W_q, W_k, W_v, causal=causal)
    np.testing.assert_allclose(ref.multi_head_self_attention(X, W_q, W_k, W_v, W_o, 1, causal=causal), Z @ W_o,
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ref.multi_head_self_attention(X, W_q, W_k, W_v, np.eye(6), 1, causal=causal), Z,
                               rtol=1e-12, atol=1e-13)


def test_the_answer_W_o_plain_turns_one_head_into_plain_self_attention(rng):
    W_o_plain = cases.ANSWERS[2].expected()
    X, W_q, W_k, W_v, _ = _square_layer(rng, d_model=len(W_o_plain))
    np.testing.assert_allclose(ref.multi_head_self_attention(X, W_q, W_k, W_v, W_o_plain, 1),
                               ref.self_attention(X, W_q, W_k, W_v)[0], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("n_heads", [2, 3, 6])
def test_multi_head_is_each_column_block_attended_separately_then_concatenated(rng, n_heads):
    X, W_q, W_k, W_v, W_o = _square_layer(rng)
    d_head = 6 // n_heads
    blocks = [slice(h * d_head, (h + 1) * d_head) for h in range(n_heads)]
    # self_attention divides by sqrt of its own d_k, here d_head: the scale of each head.
    heads = [_self_attention_by_loops(X, W_q[:, b], W_k[:, b], W_v[:, b])[0] for b in blocks]
    expected = np.concatenate(heads, axis=1) @ W_o
    np.testing.assert_allclose(ref.multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads), expected,
                               rtol=1e-11, atol=1e-12)
    outputs, weights = ref.attention_heads(X, W_q, W_k, W_v, n_heads)
    assert outputs.shape == (n_heads, 5, d_head) and weights.shape == (n_heads, 5, 5)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)


def test_merge_heads_undoes_split_heads(rng):
    M = rng.standard_normal((4, 6))
    heads = ref.split_heads(M, 3)
    np.testing.assert_array_equal(heads[1], M[:, 2:4])
    np.testing.assert_array_equal(ref.merge_heads(heads), M)


def _by_hand_with_fractions(X, W_Q, W_K, W_V):
    """The exercise with exact rational arithmetic and Python integers: no numpy, no rounding."""
    def matmul(left, right):
        return [[sum(left[i][k] * right[k][j] for k in range(len(right))) for j in range(len(right[0]))]
                for i in range(len(left))]

    def integers(matrix):
        return [[int(value) for value in row] for row in matrix]

    X, W_Q, W_K, W_V = map(integers, (X, W_Q, W_K, W_V))
    Q, K, V = matmul(W_Q, X), matmul(W_K, X), matmul(W_V, X)
    n = len(X[0])
    scores = [[sum(K[a][j] * Q[a][i] for a in range(len(K))) for i in range(n)] for j in range(n)]
    powers = [[Fraction(3) ** (s // 2) for s in row] for row in scores]
    sums = [sum(powers[j][i] for j in range(n)) for i in range(n)]
    A = [[powers[j][i] / sums[i] for i in range(n)] for j in range(n)]
    return A, matmul(V, A)


def test_the_chapter_example_by_hand():
    example = ref.BY_HAND_EXAMPLE
    A, Z = ref.attention_by_hand(example["X"], example["W_Q"], example["W_K"], example["W_V"])
    exact_A, exact_Z = _by_hand_with_fractions(example["X"], example["W_Q"], example["W_K"], example["W_V"])
    np.testing.assert_allclose(A, np.array(exact_A, dtype=float), rtol=1e-15)
    np.testing.assert_allclose(Z, np.array(exact_Z, dtype=float), rtol=1e-15)
    # Worked with pencil: query 1 = (1, 0, 0) scores (1, 0, 2, 1) against the keys, floor(./2) gives
    # (0, 0, 1, 0), powers of 3 (1, 1, 3, 1) summing to 6; query 4 = (1, 1, 1) scores (1, 2, 3, 5),
    # floors (0, 1, 1, 2), powers (1, 3, 3, 9) summing to 16.
    np.testing.assert_allclose(A[:, 0], [1 / 6, 1 / 6, 1 / 2, 1 / 6], rtol=1e-15)
    np.testing.assert_allclose(A[:, 3], [1 / 16, 3 / 16, 3 / 16, 9 / 16], rtol=1e-15)
    np.testing.assert_allclose(Z[:, 0], [1 / 3, 4 / 3, 2.0], rtol=1e-15)
    steps = ref.by_hand_steps(example["X"], example["W_Q"], example["W_K"], example["W_V"])
    np.testing.assert_array_equal(steps["column_sums"], [6, 14, 16, 16])
    np.testing.assert_array_equal(steps["Q"][:, 0], [1, 0, 0])


def test_by_hand_matches_fractions_on_integer_matrices_with_negative_scores():
    rng = np.random.default_rng(3)
    for _ in range(5):
        X, W_Q, W_K, W_V = (rng.integers(-2, 3, size=shape).astype(float)
                            for shape in ((4, 5), (3, 4), (3, 4), (2, 4)))
        A, Z = ref.attention_by_hand(X, W_Q, W_K, W_V)
        exact_A, exact_Z = _by_hand_with_fractions(X, W_Q, W_K, W_V)
        np.testing.assert_allclose(A, np.array(exact_A, dtype=float), rtol=1e-13)
        np.testing.assert_allclose(Z, np.array(exact_Z, dtype=float), rtol=1e-12, atol=1e-12)


def test_columns_with_exact_formulas_are_the_transpose_of_the_row_convention(rng):
    X_rows, W_q, W_k, W_v = _layer(rng, n=4, d_model=6, d_k=3, d_v=3)
    A_rows = ref.self_attention(X_rows, W_q, W_k, W_v)[1]
    Z_rows = ref.self_attention(X_rows, W_q, W_k, W_v)[0]
    A_columns, Z_columns = ref.attention_by_formula(X_rows.T, W_q.T, W_k.T, W_v.T)
    np.testing.assert_allclose(A_columns, A_rows.T, rtol=1e-12)
    np.testing.assert_allclose(Z_columns, Z_rows.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A_columns.sum(axis=0), 1.0, rtol=1e-14)


def test_the_shortcuts_are_a_softmax_with_other_constants():
    # 3^floor(s/2) = e^(ln 3 * floor(s/2)): the exercise is a column softmax of floor(s/2) ln 3,
    # close to s / sqrt(3) because ln(3) / 2 = 0.549 and 1 / sqrt(3) = 0.577.
    example = ref.BY_HAND_EXAMPLE
    steps = ref.by_hand_steps(example["X"], example["W_Q"], example["W_K"], example["W_V"])
    np.testing.assert_allclose(steps["A"], ref.softmax(np.log(3.0) * steps["scaled"], axis=0), rtol=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: ref.self_attention(np.ones((3, 4)), np.ones((4, 2)), np.ones((4, 3)), np.ones((4, 2))),
     r"self_attention: `W_k` must have shape \(d_model, d_k\) = \(4, 2\) \(d_k = 2 from `W_q`\); got shape \(4, 3\)"),
    (lambda: ref.self_attention(np.ones(4), np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2))),
     r"self_attention: `X` must have shape \(n, d_model\) \(2 dimensions\); got shape \(4,\)"),
    (lambda: ref.multi_head_self_attention(np.ones((3, 6)), *[np.ones((6, 6))] * 4, 4),
     r"n_heads must be a positive integer that divides d_model = 6, got 4"),
    (lambda: ref.multi_head_self_attention(np.ones((3, 6)), *[np.ones((6, 6))] * 3, np.ones((6, 5)), 2),
     r"multi_head_self_attention: `W_o` must have shape \(d_model, d_model\) = \(6, 6\) \(d_model = 6 from `X`\); "
     r"got shape \(6, 5\)"),
    (lambda: ref.multi_head_self_attention(np.ones((3, 6)), np.ones((6, 4)), *[np.ones((6, 6))] * 3, 2),
     r"multi_head_self_attention: `W_q` must have shape \(d_model, d_model\) = \(6, 6\) \(d_model = 6 from `X`\); "
     r"got shape \(6, 4\)"),
    (lambda: ref.attention_by_hand(np.ones((6, 4)), np.ones((3, 5)), np.ones((3, 6)), np.ones((3, 6))),
     r"attention_by_hand: `W_Q` must have shape \(d_k, d_in\) = \(3, 6\) \(d_in = 6 from `X`\); got shape \(3, 5\)"),
])
def test_bad_shapes_are_reported_with_the_argument_and_both_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the notebook's questions (the generic checks of every case set are in test_case_sets.py) ---

def _setup_cell(grade_id):
    notebook = nbformat.read(PROJECT / "solutions" / "07_self_attention" / "self_attention.ipynb", as_version=4)
    (cell,) = [c for c in notebook.cells if c.metadata["nbgrader"]["grade_id"] == grade_id]
    return cell.source


def test_the_notebook_shows_the_matrices_the_by_hand_answers_are_computed_from():
    namespace = {"np": np}
    exec(_setup_cell("by_hand_matrices"), namespace)
    for name in ("X", "W_Q", "W_K", "W_V"):
        np.testing.assert_array_equal(namespace[f"{name}_hand"], getattr(cases, f"QUESTION_{name}"))


def test_the_by_hand_answers_reject_the_classic_mistakes():
    matrices = (cases.QUESTION_X, cases.QUESTION_W_Q, cases.QUESTION_W_K, cases.QUESTION_W_V)
    A, Z = cases.ANSWERS[0].expected(), cases.ANSWERS[1].expected()
    check_answer(np.round(A, 3), "A_by_hand", hidden=True)
    check_answer(np.round(Z, 2), "Z_by_hand", hidden=True)
    rejected = set()
    for mistake in cases.CASE_SETS[2].mistakes:
        wrong_A, wrong_Z = mistake.function(*matrices)
        for name, wrong, right in (("A_by_hand", wrong_A, A), ("Z_by_hand", wrong_Z, Z)):
            if not np.allclose(wrong, right, atol=1e-12):
                with pytest.raises(CheckFailed):
                    check_answer(wrong, name, hidden=True)
                rejected.add(mistake.description)
    # Every score of the question is >= 0, so truncating toward zero is the one mistake it cannot see.
    truncated = cases.CASE_SETS[2].mistakes[3].description
    assert {m.description for m in cases.CASE_SETS[2].mistakes} - rejected == {truncated}
