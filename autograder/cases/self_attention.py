"""Cases of chapter 7: self-attention, multi-head self-attention and the by-hand exercise."""

import numpy as np

from autograder import self_attention as ref
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake
from autograder.softmax import softmax


# --- classic wrong implementations of self_attention ---

def _self_attention_with(X, W_q, W_k, W_v, *, divisor, axis=-1, mask=None, mask_after_softmax=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T / divisor
    if mask is not None and not mask_after_softmax:
        scores = np.where(mask, scores, -np.inf)
    A = softmax(scores, axis=axis)
    if mask is not None and mask_after_softmax:
        A = A * mask
    return A @ V, A


def _causal(X, causal):
    return ref.causal_mask(len(X)) if causal else None


def _self_unscaled(X, W_q, W_k, W_v, causal=False):
    return _self_attention_with(X, W_q, W_k, W_v, divisor=1.0, mask=_causal(X, causal))


def _self_scaled_by_d_model(X, W_q, W_k, W_v, causal=False):
    return _self_attention_with(X, W_q, W_k, W_v, divisor=np.sqrt(X.shape[1]), mask=_causal(X, causal))


def _self_softmax_over_columns(X, W_q, W_k, W_v, causal=False):
    return _self_attention_with(X, W_q, W_k, W_v, divisor=np.sqrt(W_k.shape[1]), axis=0, mask=_causal(X, causal))


def _self_weights_transposed(X, W_q, W_k, W_v, causal=False):
    _, A = ref.self_attention(X, W_q, W_k, W_v, causal)
    return A.T @ (X @ W_v), A.T


def _self_causal_upper(X, W_q, W_k, W_v, causal=False):
    mask = ref.causal_mask(len(X)).T if causal else None
    return _self_attention_with(X, W_q, W_k, W_v, divisor=np.sqrt(W_k.shape[1]), mask=mask)


def _self_causal_after_softmax(X, W_q, W_k, W_v, causal=False):
    return _self_attention_with(X, W_q, W_k, W_v, divisor=np.sqrt(W_k.shape[1]), mask=_causal(X, causal),
                                mask_after_softmax=True)


def _self_scores_transposed(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = K @ Q.T / np.sqrt(W_k.shape[1])
    if causal:
        scores = np.where(ref.causal_mask(len(X)), scores, -np.inf)
    A = softmax(scores, axis=-1)
    return A @ V, A


def _self_causal_without_diagonal(X, W_q, W_k, W_v, causal=False):
    mask = np.tril(np.ones((len(X), len(X)), dtype=bool), k=-1) if causal else None
    return _self_attention_with(X, W_q, W_k, W_v, divisor=np.sqrt(W_k.shape[1]), mask=mask)


def _self_causal_mask_multiplied(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        scores = scores * ref.causal_mask(len(X))
    A = softmax(scores, axis=-1)
    return A @ V, A


def _self_scaled_by_d_v(X, W_q, W_k, W_v, causal=False):
    return _self_attention_with(X, W_q, W_k, W_v, divisor=np.sqrt(W_v.shape[1]), mask=_causal(X, causal))


def _self_causal_ignored(X, W_q, W_k, W_v, causal=False):
    return ref.self_attention(X, W_q, W_k, W_v)


# --- classic wrong implementations of multi_head_self_attention ---

def _heads_by_columns_interleaved(M, n_heads):
    n, d_model = M.shape
    return M.reshape(n, d_model // n_heads, n_heads).transpose(2, 0, 1)


def _heads_by_rows(M, n_heads):
    n, d_model = M.shape
    return M.reshape(n_heads, n, d_model // n_heads)


def _multi_head_with(X, W_q, W_k, W_v, W_o, n_heads, causal, *, split=ref.split_heads, merge=ref.merge_heads,
                     divisor=None):
    Q, K, V = (split(X @ W, n_heads) for W in (W_q, W_k, W_v))
    scores = Q @ K.transpose(0, 2, 1) / (np.sqrt(Q.shape[-1]) if divisor is None else divisor)
    if causal:
        scores = np.where(ref.causal_mask(len(X)), scores, -np.inf)
    return merge(softmax(scores, axis=-1) @ V) @ W_o


def _multi_head_scaled_by_d_model(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    return _multi_head_with(X, W_q, W_k, W_v, W_o, n_heads, causal, divisor=np.sqrt(X.shape[1]))


def _multi_head_scaled_by_n_heads(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    return _multi_head_with(X, W_q, W_k, W_v, W_o, n_heads, causal, divisor=np.sqrt(n_heads))


def _multi_head_split_by_rows(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    return _multi_head_with(X, W_q, W_k, W_v, W_o, n_heads, causal, split=_heads_by_rows)


def _multi_head_interleaved(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    def merge_interleaved(heads):
        return heads.transpose(1, 2, 0).reshape(X.shape[0], X.shape[1])
    return _multi_head_with(X, W_q, W_k, W_v, W_o, n_heads, causal, split=_heads_by_columns_interleaved,
                            merge=merge_interleaved)


def _multi_head_split_interleaved(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    return _multi_head_with(X, W_q, W_k, W_v, W_o, n_heads, causal, split=_heads_by_columns_interleaved)


def _multi_head_softmax_over_queries(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    Q, K, V = (ref.split_heads(X @ W, n_heads) for W in (W_q, W_k, W_v))
    scores = Q @ K.transpose(0, 2, 1) / np.sqrt(Q.shape[-1])
    if causal:
        scores = np.where(ref.causal_mask(len(X)), scores, -np.inf)
    return ref.merge_heads(softmax(scores, axis=-2) @ V) @ W_o


def _multi_head_without_W_o(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    return _multi_head_with(X, W_q, W_k, W_v, np.eye(X.shape[1]), n_heads, causal)


def _multi_head_causal_ignored(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    return ref.multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads)


# --- classic wrong implementations of attention_by_hand ---

def _by_hand_with(X, W_Q, W_K, W_V, *, scale=lambda s: np.floor(s / 2), axis=0, transpose_scores=False,
                  transpose_in_z=False):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    scores = Q.T @ K if transpose_scores else K.T @ Q
    powers = 3.0 ** scale(scores)
    A = powers / powers.sum(axis=axis, keepdims=True)
    return A, V @ (A.T if transpose_in_z else A)


def _by_hand_base_e(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    powers = np.exp(np.floor(K.T @ Q / 2))
    A = powers / powers.sum(axis=0, keepdims=True)
    return A, V @ A


def _by_hand_rows_normalised(X, W_Q, W_K, W_V):
    return _by_hand_with(X, W_Q, W_K, W_V, axis=1)


def _by_hand_query_key_swapped(X, W_Q, W_K, W_V):
    return _by_hand_with(X, W_Q, W_K, W_V, transpose_scores=True)


def _by_hand_truncated(X, W_Q, W_K, W_V):
    return _by_hand_with(X, W_Q, W_K, W_V, scale=lambda s: np.trunc(s / 2))


def _by_hand_rounded(X, W_Q, W_K, W_V):
    return _by_hand_with(X, W_Q, W_K, W_V, scale=lambda s: np.round(s / 2))


def _by_hand_without_floor(X, W_Q, W_K, W_V):
    return _by_hand_with(X, W_Q, W_K, W_V, scale=lambda s: s / 2)


def _by_hand_normalised_by_total(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    powers = 3.0 ** np.floor(K.T @ Q / 2)
    A = powers / powers.sum()
    return A, V @ A


def _by_hand_z_transposed(X, W_Q, W_K, W_V):
    return _by_hand_with(X, W_Q, W_K, W_V, transpose_in_z=True)


# --- cases ---

def _integers(rng, shape, low=-2, high=3):
    return rng.integers(low, high, size=shape).astype(np.float64)


def _normal(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# (not the question of chapter 4: no row of its attention matrix is that question's answer)
_SMALL_X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
_SMALL_W_Q = np.array([[1.0, 0.0], [1.0, 1.0]])
_SMALL_W_K = np.array([[0.0, 1.0], [1.0, 0.0]])
_SMALL_W_V = np.array([[1.0, 2.0], [3.0, 0.0]])


def _self_visible():
    X4 = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, -1.0]])
    W_q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, -1.0]])
    W_k = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    W_v = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    return [
        Case("3 tokens, d_model = d_k = d_v = 2", (_SMALL_X, _SMALL_W_Q, _SMALL_W_K, _SMALL_W_V)),
        Case("4 tokens, d_model = 4, d_k = 2, d_v = 3", (X4, W_q, W_k, W_v)),
        Case("the same 4 tokens with causal=True", (X4, W_q, W_k, W_v), {"causal": True}),
    ]


def _self_hidden(rng):
    def case(label, n, d_model, d_k, d_v, causal=False, scale=1.0):
        return Case(label, (_normal(rng, (n, d_model), scale), _normal(rng, (d_model, d_k)),
                            _normal(rng, (d_model, d_k)), _normal(rng, (d_model, d_v))), {"causal": causal})

    return [
        case("6 tokens, d_model = 5, d_k = 3, d_v = 4", 6, 5, 3, 4),
        case("6 tokens, causal", 6, 5, 3, 4, causal=True),
        case("d_k = 8 larger than d_model = 3, causal", 5, 3, 8, 2, causal=True),
        case("a single token, causal", 1, 4, 2, 3, causal=True),
        case("large inputs (scores around 1e3)", 4, 4, 4, 4, scale=12.0),
    ]


def _projections(rng, d_model, scale=0.5):
    return tuple(_normal(rng, (d_model, d_model), scale) for _ in range(4))


def _multi_head_visible():
    rng = np.random.default_rng(4)
    X = _integers(rng, (3, 4), -1, 2)
    W_q, W_k, W_v, W_o = (_integers(rng, (4, 4), -1, 2) for _ in range(4))
    return [
        Case("3 tokens, d_model = 4, one head", (X, W_q, W_k, W_v, W_o, 1)),
        Case("3 tokens, d_model = 4, two heads", (X, W_q, W_k, W_v, W_o, 2)),
        Case("two heads, causal", (X, W_q, W_k, W_v, W_o, 2), {"causal": True}),
    ]


def _multi_head_hidden(rng):
    return [
        Case("5 tokens, d_model = 8, four heads", (_normal(rng, (5, 8)), *_projections(rng, 8), 4)),
        Case("d_model = 6, three heads, causal", (_normal(rng, (4, 6)), *_projections(rng, 6), 3), {"causal": True}),
        Case("as many heads as features (d_head = 1)", (_normal(rng, (4, 4)), *_projections(rng, 4), 4)),
        Case("one head, d_model = 5", (_normal(rng, (3, 5)), *_projections(rng, 5), 1)),
        Case("a single token, two heads, causal", (_normal(rng, (1, 4)), *_projections(rng, 4), 2),
             {"causal": True}),
    ]


def _by_hand_visible():
    example = ref.BY_HAND_EXAMPLE
    return [
        Case("2 tokens of 3 features, d_k = 2, d_v = 2",
             (np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]), np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]),
              np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))),
        Case("the chapter's example: 4 tokens of 6 features, d_k = 3",
             (example["X"], example["W_Q"], example["W_K"], example["W_V"])),
    ]


def _by_hand_hidden(rng):
    def case(label, d_in, n, d_k, d_v, low=-2, high=3):
        return Case(label, (_integers(rng, (d_in, n), low, high), _integers(rng, (d_k, d_in), low, high),
                            _integers(rng, (d_k, d_in), low, high), _integers(rng, (d_v, d_in), low, high)))

    return [
        case("negative scores (floor rounds down: floor(-1.5) = -2)", 3, 4, 3, 2, low=-1, high=2),
        case("5 tokens, d_in = 4, d_k = 3, d_v = 4", 4, 5, 3, 4, low=0, high=2),
        case("d_k = 2, d_v = 1, 3 tokens", 4, 3, 2, 1, low=-1, high=2),
        case("a single token", 3, 1, 3, 2),
    ]


CASE_SETS = (
    CaseSet(
        "self_attention", ref.self_attention, _self_visible, _self_hidden, output_names=("Z", "A"),
        exp_overflow=True,
        mistakes=(
            Mistake("the scores are not divided by sqrt(d_k)", _self_unscaled),
            Mistake("the scores are divided by sqrt(d_model) (X.shape[1]); d_k is W_k.shape[1]",
                    _self_scaled_by_d_model),
            Mistake("the softmax normalises the columns; each row (one query) must sum to 1",
                    _self_softmax_over_columns),
            Mistake("A is transposed: row i must hold token i's weights", _self_weights_transposed),
            Mistake("the causal mask is the wrong way round: token i may see j <= i, not j >= i",
                    _self_causal_upper),
            Mistake("the causal mask is applied after the softmax, so rows no longer sum to 1",
                    _self_causal_after_softmax),
            Mistake("causal=True is ignored", _self_causal_ignored),
            Mistake("the scores are divided by sqrt(d_v) (W_v.shape[1]); d_k is W_k.shape[1]", _self_scaled_by_d_v),
            Mistake("the scores are K Q^T; row i must hold query i's scores, Q K^T", _self_scores_transposed),
            Mistake("the causal mask also hides the diagonal (j < i): token i may attend to itself; row 0, left "
                    "with no key, becomes 0 / 0 = nan", _self_causal_without_diagonal),
            Mistake("the causal mask multiplies the scores, which sets hidden scores to 0 (still weighted); set "
                    "them to -inf before the softmax", _self_causal_mask_multiplied),
        ),
    ),
    CaseSet(
        "multi_head_self_attention", ref.multi_head_self_attention, _multi_head_visible, _multi_head_hidden,
        exp_overflow=True,
        mistakes=(
            Mistake("each head divides its scores by sqrt(d_model); it must use its own size sqrt(d_head)",
                    _multi_head_scaled_by_d_model),
            Mistake("the heads are cut along the tokens (reshape without transpose); "
                    "head h takes columns h*d_head:(h+1)*d_head", _multi_head_split_by_rows),
            Mistake("the heads take every n_heads-th column; head h takes the consecutive columns "
                    "h*d_head:(h+1)*d_head", _multi_head_interleaved),
            Mistake("the output projection W_o is missing", _multi_head_without_W_o),
            Mistake("the scores are divided by sqrt(n_heads); each head uses its own size sqrt(d_head)",
                    _multi_head_scaled_by_n_heads),
            Mistake("each head's softmax normalises the columns; each row (one query) must sum to 1",
                    _multi_head_softmax_over_queries),
            Mistake("each head takes every n_heads-th column (h::n_heads); head h takes the consecutive columns "
                    "h*d_head:(h+1)*d_head", _multi_head_split_interleaved),
            Mistake("causal=True is ignored", _multi_head_causal_ignored),
        ),
    ),
    CaseSet(
        "attention_by_hand", ref.attention_by_hand, _by_hand_visible, _by_hand_hidden, output_names=("A", "Z"),
        mistakes=(
            Mistake("the rows are normalised; in this exercise each COLUMN (one query) sums to 1",
                    _by_hand_rows_normalised),
            Mistake("the exact formulas (e and sqrt(d_k)) are used; the exercise uses 3 and floor(x / 2)",
                    ref.attention_by_formula),
            Mistake("the scores are Q^T K; the exercise computes K^T Q (keys on the rows, queries on the columns)",
                    _by_hand_query_key_swapped),
            Mistake("x / 2 is truncated toward zero; floor rounds down, so floor(-1.5) = -2", _by_hand_truncated),
            Mistake("x / 2 is rounded to the nearest integer instead of floored", _by_hand_rounded),
            Mistake("Z = V A^T; the exercise computes Z = V A", _by_hand_z_transposed),
            Mistake("divided by the sum of every entry; each column is divided by its own sum",
                    _by_hand_normalised_by_total),
            Mistake("exponentiated with base e; the exercise uses 3 ** floor(score / 2)", _by_hand_base_e),
            Mistake("the floor is missing: the exercise uses 3 ** floor(score / 2)", _by_hand_without_floor),
        ),
    ),
)

#: The matrices of the notebook's by-hand question (column convention: tokens are columns).
QUESTION_X = np.array([[2.0, 1.0, 1.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
QUESTION_W_Q = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
QUESTION_W_K = np.array([[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
QUESTION_W_V = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]])

#: Number of features of the layer of the one-head question.
ONE_HEAD_D_MODEL = 4


def _question_by_hand():
    return ref.attention_by_hand(QUESTION_X, QUESTION_W_Q, QUESTION_W_K, QUESTION_W_V)


ANSWERS = (
    Answer("A_by_hand", lambda: _question_by_hand()[0], atol=1e-3, shape=(3, 3),
           hint="Scores K^T Q, then floor(x / 2), then 3 to that power, then divide each COLUMN by its sum."),
    Answer("Z_by_hand", lambda: _question_by_hand()[1], atol=1e-2, shape=(2, 3),
           hint="Z = V A, with V = W_V X: column i of Z is the weighted sum of the value columns."),
    Answer("W_o_plain", lambda: np.eye(ONE_HEAD_D_MODEL), atol=1e-9, shape=(ONE_HEAD_D_MODEL, ONE_HEAD_D_MODEL),
           hint="With one head, the concatenation is that head's output, and W_o multiplies it from the right."),
)

STUDENT_MISTAKES = (
    StudentMistake("self_attention", "scaled by sqrt(d_model) instead of sqrt(d_k)", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T / np.sqrt(X.shape[1])
    if causal:
        scores = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool)), scores, -np.inf)
    A = softmax(scores, axis=-1)
    return A @ V, A
''', ("self_attention",)),
    StudentMistake("self_attention", "causal mask the wrong way round", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        scores = np.where(np.triu(np.ones((len(X), len(X)), dtype=bool)), scores, -np.inf)
    A = softmax(scores, axis=-1)
    return A @ V, A
''', ("self_attention",)),
    StudentMistake("multi_head_self_attention", "heads split along the tokens", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d_model = X.shape
    d_head = d_model // n_heads
    heads = []
    for h in range(n_heads):
        Q = (X @ W_q).reshape(n_heads, n, d_head)[h]
        K = (X @ W_k).reshape(n_heads, n, d_head)[h]
        V = (X @ W_v).reshape(n_heads, n, d_head)[h]
        scores = Q @ K.T / np.sqrt(d_head)
        if causal:
            scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
        heads.append(softmax(scores, axis=-1) @ V)
    return np.concatenate(heads, axis=1) @ W_o
''', ("multi_head_self_attention",)),
    StudentMistake("multi_head_self_attention", "each head scaled by sqrt(d_model)", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d_model = X.shape
    d_head = d_model // n_heads
    heads = []
    for h in range(n_heads):
        columns = slice(h * d_head, (h + 1) * d_head)
        Q, K, V = X @ W_q[:, columns], X @ W_k[:, columns], X @ W_v[:, columns]
        scores = Q @ K.T / np.sqrt(d_model)
        if causal:
            scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
        heads.append(softmax(scores, axis=-1) @ V)
    return np.concatenate(heads, axis=1) @ W_o
''', ("multi_head_self_attention",)),
    StudentMistake("attention_by_hand", "rows normalised instead of columns", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    powers = 3.0 ** np.floor(K.T @ Q / 2)
    A = powers / powers.sum(axis=1, keepdims=True)
    return A, V @ A
''', ("attention_by_hand",)),
    StudentMistake("attention_by_hand", "exact formulas instead of the exercise's shortcuts", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    A = softmax(K.T @ Q / np.sqrt(W_K.shape[0]), axis=0)
    return A, V @ A
''', ("attention_by_hand",)),
    StudentMistake("by_hand", "rows normalised in the by-hand question", '''
powers = np.array([[1.0, 9.0, 1.0], [3.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
A_by_hand = powers / powers.sum(axis=1, keepdims=True)
Z_by_hand = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]]) @ X_hand @ A_by_hand
''', ("A_by_hand", "Z_by_hand")),
    StudentMistake("one_head", "W_o taken as a matrix of ones", '''
W_o_plain = np.ones((4, 4))
''', ("W_o_plain",)),
)
