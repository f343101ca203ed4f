"""Cases of chapter 4: scaled dot-product, additive, Luong "general" and hard attention."""

import numpy as np

from autograder import attention as ref
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake
from autograder.softmax import softmax

#: the chapter these cases grade (its name is not 0N_<this module>: see autograder.cases)
CHAPTER = "04_dot_product_attention"


# --- classic wrong implementations, with the signatures of the graded functions ---

def _attention_from_scores(scores, V, mask=None):
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights


def _keys_transposed(K):
    return np.swapaxes(np.asarray(K, dtype=np.float64), -1, -2)


def _keys_with_every_axis_reversed(Q, K, V, mask=None):
    return _attention_from_scores(np.asarray(Q) @ np.asarray(K).T / np.sqrt(np.shape(Q)[-1]), V, mask)


def _unscaled(Q, K, V, mask=None):
    return _attention_from_scores(np.asarray(Q) @ _keys_transposed(K), V, mask)


def _scaled_by_d_k(Q, K, V, mask=None):
    return _attention_from_scores(np.asarray(Q) @ _keys_transposed(K) / np.shape(Q)[-1], V, mask)


def _softmax_over_queries(Q, K, V, mask=None):
    scores = np.asarray(Q) @ _keys_transposed(K) / np.sqrt(np.shape(Q)[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-2)
    return weights @ V, weights


def _weights_transposed(Q, K, V, mask=None):
    _, weights = ref.scaled_dot_product_attention(Q, K, V, mask)
    flipped = np.swapaxes(weights, -1, -2)
    return flipped @ V, flipped


def _mask_polarity_inverted(Q, K, V, mask=None):
    inverted = None if mask is None else ~np.asarray(mask, dtype=bool)
    scores = np.asarray(Q) @ _keys_transposed(K) / np.sqrt(np.shape(Q)[-1])
    if inverted is not None:
        scores = np.where(inverted, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights


def _mask_after_softmax(Q, K, V, mask=None):
    _, weights = ref.scaled_dot_product_attention(Q, K, V)
    if mask is not None:
        weights = weights * mask
    return weights @ V, weights


def _masked_scores_set_to_zero(Q, K, V, mask=None):
    scores = np.asarray(Q) @ _keys_transposed(K) / np.sqrt(np.shape(Q)[-1])
    if mask is not None:
        scores = scores * mask
    weights = softmax(scores, axis=-1)
    return weights @ V, weights


def _additive_without_tanh(q, K, V, W_q, W_k, w_v):
    weights = softmax((q @ W_q + K @ W_k) @ w_v)
    return weights @ V, weights


def _additive_without_softmax(q, K, V, W_q, W_k, w_v):
    scores = np.tanh(q @ W_q + K @ W_k) @ w_v
    return scores @ V, scores


def _additive_tanh_of_each_projection(q, K, V, W_q, W_k, w_v):
    weights = softmax((np.tanh(q @ W_q) + np.tanh(K @ W_k)) @ w_v)
    return weights @ V, weights


def _additive_context_from_keys(q, K, V, W_q, W_k, w_v):
    _, weights = ref.additive_attention(q, K, V, W_q, W_k, w_v)
    return weights @ K, weights


def _additive_tanh_after_w_v(q, K, V, W_q, W_k, w_v):
    weights = softmax(np.tanh((q @ W_q + K @ W_k) @ w_v))
    return weights @ V, weights


def _luong_with_W_transposed(q, K, W):
    return K @ (q @ np.asarray(W).T)


def _luong_plain_dot(q, K, W):
    return np.asarray(K) @ q


def _luong_scaled(q, K, W):
    return ref.luong_general_scores(q, K, W) / np.sqrt(np.shape(K)[1])


def _one_hot(n, index):
    weights = np.zeros(n)
    weights[index] = 1.0
    return weights


def _hard_last_on_ties(scores, V):
    scores = np.asarray(scores)
    best = len(scores) - 1 - int(np.argmax(scores[::-1]))
    return np.asarray(V)[best], _one_hot(len(scores), best)


def _hard_every_maximum(scores, V):
    weights = (np.asarray(scores) == np.max(scores)).astype(np.float64)
    return weights @ V, weights


def _hard_argmin(scores, V):
    best = int(np.argmin(scores))
    return np.asarray(V)[best], _one_hot(len(scores), best)


def _hard_soft_weights(scores, V):
    weights = softmax(scores)
    return weights @ V, weights


# --- cases ---

def _normal(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def _mask_with_a_key_per_query(rng, shape):
    """A random boolean mask of ``shape (..., n_q, n_k)`` in which every query keeps at least one key."""
    mask = rng.random(shape) < 0.6
    kept = rng.integers(0, shape[-1], size=shape[:-1])
    np.put_along_axis(mask, kept[..., None], True, axis=-1)
    return mask


def _sdpa_visible():
    Q = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    K = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    V = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return [
        Case("one query, three keys", (np.array([[1.0, 2.0]]), K, V)),
        Case("three queries, three keys", (Q, K, V)),
        Case("d_k = 4, so the scores are divided by 2",
             (np.array([[1.0, 0.0, 2.0, 1.0], [0.0, 1.0, 1.0, -1.0]]),
              np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 2.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]]), V)),
        Case("a mask that hides the last key from every query", (Q, K, V),
             {"mask": np.array([[True, True, False]] * 3)}),
        Case("2 queries, 4 keys, d_k = 3, d_v = 1",
             (np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
              np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]),
              np.array([[1.0], [2.0], [3.0], [4.0]]))),
    ]


def _sdpa_hidden(rng):
    return [
        Case("5 queries, 7 keys, d_k = 6, d_v = 2",
             (_normal(rng, (5, 6)), _normal(rng, (7, 6)), _normal(rng, (7, 2)))),
        Case("one batch axis (2, 3, 4) and 5 keys",
             (_normal(rng, (2, 3, 4)), _normal(rng, (2, 5, 4)), _normal(rng, (2, 5, 3)))),
        Case("two batch axes (2, 3, ...)",
             (_normal(rng, (2, 3, 4, 8)), _normal(rng, (2, 3, 6, 8)), _normal(rng, (2, 3, 6, 5)))),
        Case("a random mask of shape (n_q, n_k)",
             (_normal(rng, (4, 3)), _normal(rng, (6, 3)), _normal(rng, (6, 2))),
             {"mask": _mask_with_a_key_per_query(rng, (4, 6))}),
        Case("a key mask of shape (n_k,) broadcast over queries",
             (_normal(rng, (3, 4)), _normal(rng, (5, 4)), _normal(rng, (5, 4))),
             {"mask": np.array([True, True, False, True, False])}),
        Case("a padding mask of shape (batch, 1, n_k) with batch axes",
             (_normal(rng, (2, 3, 4)), _normal(rng, (2, 5, 4)), _normal(rng, (2, 5, 2))),
             {"mask": np.array([[[True, True, True, False, False]], [[True, True, True, True, True]]])}),
        Case("a causal mask (n, n) shared by a batch",
             (_normal(rng, (3, 4, 2)), _normal(rng, (3, 4, 2)), _normal(rng, (3, 4, 3))),
             {"mask": np.tril(np.ones((4, 4), dtype=bool))}),
        Case("a full mask (batch, n_q, n_k)",
             (_normal(rng, (2, 3, 5)), _normal(rng, (2, 4, 5)), _normal(rng, (2, 4, 2))),
             {"mask": _mask_with_a_key_per_query(rng, (2, 3, 4))}),
        Case("large scores (around 1e3): the softmax must be stable",
             (_normal(rng, (3, 4), 30.0), _normal(rng, (5, 4), 30.0), _normal(rng, (5, 2)))),
        Case("a single query and a single key", (_normal(rng, (1, 3)), _normal(rng, (1, 3)), _normal(rng, (1, 2)))),
    ]


def _additive_visible():
    return [
        Case("one query, three keys, h = 2",
             (np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
              np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]),
              np.array([[1.0, 0.5], [0.0, 1.0]]), np.array([[0.5, 0.0], [1.0, -1.0]]), np.array([2.0, -1.0]))),
        Case("query and keys of different sizes (d_q = 3, d_k = 2), h = 4",
             (np.array([1.0, -1.0, 0.5]), np.array([[0.0, 1.0], [2.0, 0.0]]),
              np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]),
              np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]]),
              np.array([[1.0, -1.0, 0.0, 0.5], [0.0, 1.0, -1.0, 0.5]]), np.array([1.0, 1.0, -1.0, 0.5]))),
    ]


def _additive_hidden(rng):
    def case(label, d_q, d_k, d_v, h, n, w_scale=1.0):
        return Case(label, (_normal(rng, d_q), _normal(rng, (n, d_k)), _normal(rng, (n, d_v)),
                            _normal(rng, (d_q, h)), _normal(rng, (d_k, h)), _normal(rng, h, w_scale)))

    return [
        case("6 keys, d_q = 4, d_k = 5, d_v = 3, h = 7", 4, 5, 3, 7, 6),
        case("a single key", 3, 3, 2, 4, 1),
        case("h = 1", 2, 3, 4, 1, 5),
        case("a large w_v (scores around 1e3)", 3, 2, 2, 5, 4, w_scale=500.0),
    ]


def _luong_visible():
    return [
        Case("W the identity: the plain dot product",
             (np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.eye(2))),
        Case("a non-symmetric W",
             (np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
              np.array([[0.0, 1.0], [2.0, 0.0]]))),
        Case("d_q = 3, d_k = 2",
             (np.array([1.0, 0.0, -1.0]), np.array([[1.0, 2.0], [0.0, 1.0]]),
              np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))),
    ]


def _luong_hidden(rng):
    return [
        Case("square W, 6 keys", (_normal(rng, 4), _normal(rng, (6, 4)), _normal(rng, (4, 4)))),
        Case("d_q = 5, d_k = 3, 4 keys", (_normal(rng, 5), _normal(rng, (4, 3)), _normal(rng, (5, 3)))),
        Case("a single key", (_normal(rng, 2), _normal(rng, (1, 3)), _normal(rng, (2, 3)))),
    ]


def _hard_visible():
    V = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    return [
        Case("one clear maximum", (np.array([0.1, 2.0, -1.0]), V)),
        Case("a tie between the last two keys: the first of them wins", (np.array([1.0, 3.0, 3.0]), V)),
    ]


def _hard_hidden(rng):
    scores = _normal(rng, 8)
    tied = _normal(rng, 6)
    tied[[1, 4]] = tied.max() + 1.0
    return [
        Case("8 keys, d_v = 3", (scores, _normal(rng, (8, 3)))),
        Case("every score negative", (-np.abs(_normal(rng, 5)) - 1.0, _normal(rng, (5, 2)))),
        Case("a tie between keys 1 and 4", (tied, _normal(rng, (6, 2)))),
        Case("all scores equal: key 0 wins", (np.full(4, 0.5), _normal(rng, (4, 3)))),
        Case("a single key", (_normal(rng, 1), _normal(rng, (1, 2)))),
    ]


CASE_SETS = (
    CaseSet(
        "scaled_dot_product_attention", ref.scaled_dot_product_attention, _sdpa_visible, _sdpa_hidden,
        output_names=("output", "weights"),
        exp_overflow=True,
        mistakes=(
            Mistake("the scores are not divided by sqrt(d_k)", _unscaled),
            Mistake("K.T reverses every axis of a batched K; transpose only the last two: np.swapaxes(K, -1, -2)",
                    _keys_with_every_axis_reversed),
            Mistake("the scores are divided by d_k instead of sqrt(d_k)", _scaled_by_d_k),
            Mistake("the softmax runs over the queries (axis -2) instead of the keys (axis -1)",
                    _softmax_over_queries),
            Mistake("the weights are transposed: row i must hold query i's weights over the keys",
                    _weights_transposed),
            Mistake("the mask is inverted: True means the query MAY attend to the key", _mask_polarity_inverted),
            Mistake("the mask is applied after the softmax, so the remaining weights no longer sum to 1",
                    _mask_after_softmax),
            Mistake("masked scores are set to 0 instead of -inf, so masked keys still get weight",
                    _masked_scores_set_to_zero),
        ),
    ),
    CaseSet(
        "additive_attention", ref.additive_attention, _additive_visible, _additive_hidden,
        output_names=("context", "weights"),
        exp_overflow=True,
        mistakes=(
            Mistake("tanh is missing: score_i = w_v @ tanh(q @ W_q + K[i] @ W_k)", _additive_without_tanh),
            Mistake("the scores are used as weights without a softmax", _additive_without_softmax),
            Mistake("tanh is applied after w_v instead of before it", _additive_tanh_after_w_v),
            Mistake("tanh is applied to each projection separately; it applies to their sum, "
                    "tanh(q @ W_q + K[i] @ W_k)", _additive_tanh_of_each_projection),
            Mistake("the context is a weighted sum of the keys; it is the weighted sum of the values V",
                    _additive_context_from_keys),
        ),
    ),
    CaseSet(
        "luong_general_scores", ref.luong_general_scores, _luong_visible, _luong_hidden,
        mistakes=(
            Mistake("W is transposed: the score is q @ W @ K[i], so q multiplies W from the left",
                    _luong_with_W_transposed),
            Mistake("W is left out (that is Luong's 'dot' score)", _luong_plain_dot),
            Mistake("the scores are divided by sqrt(d_k): Luong's scores are not scaled", _luong_scaled),
        ),
    ),
    CaseSet(
        "hard_attention", ref.hard_attention, _hard_visible, _hard_hidden,
        output_names=("output", "weights"),
        mistakes=(
            Mistake("on a tie the last maximum wins; the first must (as np.argmax)", _hard_last_on_ties),
            Mistake("the key with the lowest score is chosen", _hard_argmin),
            Mistake("every key equal to the maximum gets weight 1 (scores == max); on a tie only the first one does",
                    _hard_every_maximum),
            Mistake("the weights are a softmax (soft attention), not one-hot", _hard_soft_weights),
        ),
    ),
)

#: The query, keys and values of the notebook's attention computation by hand.
QUESTION_QUERY = np.array([1.0, 2.0])
QUESTION_KEYS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
QUESTION_VALUES = np.array([[4.0, 0.0], [0.0, 4.0], [2.0, 2.0]])


def _question_attention():
    return ref.scaled_dot_product_attention(QUESTION_QUERY[None, :], QUESTION_KEYS, QUESTION_VALUES)


ANSWERS = (
    Answer("weights_by_hand", lambda: _question_attention()[1][0], atol=1e-3, shape=(3,),
           hint="Divide each dot product q . k_i by sqrt(2) before the softmax, then normalise over the 3 keys."),
    Answer("context_by_hand", lambda: _question_attention()[0][0], atol=1e-2, shape=(2,),
           hint="The context is the weighted sum of the value rows, weighted by your three weights."),
)

STUDENT_MISTAKES = (
    StudentMistake("scaled_dot_product_attention", "forgot to divide by sqrt(d_k)", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
''', ("scaled_dot_product_attention",)),
    StudentMistake("scaled_dot_product_attention", "mask polarity inverted", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
''', ("scaled_dot_product_attention",)),
    StudentMistake("scaled_dot_product_attention", "weights transposed (keys on the rows)", '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = K @ np.swapaxes(Q, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(np.swapaxes(mask, -1, -2), scores, -np.inf)
    weights = softmax(scores, axis=-2)
    return np.swapaxes(weights, -1, -2) @ V, weights
''', ("scaled_dot_product_attention",)),
    StudentMistake("additive_attention", "tanh left out", '''
def additive_attention(q, K, V, W_q, W_k, w_v):
    scores = (q @ W_q + K @ W_k) @ w_v
    weights = softmax(scores)
    return weights @ V, weights
''', ("additive_attention",)),
    StudentMistake("luong_general_scores", "W transposed", '''
def luong_general_scores(q, K, W):
    return K @ W @ q
''', ("luong_general_scores",)),
    StudentMistake("hard_attention", "the last maximum wins on ties", '''
def hard_attention(scores, V):
    best = len(scores) - 1 - np.argmax(scores[::-1])
    weights = np.zeros(len(scores))
    weights[best] = 1.0
    return V[best], weights
''', ("hard_attention",)),
    StudentMistake("by_hand", "forgot the sqrt(d_k) scaling by hand", '''
scores = np.array([1.0, 2.0, 3.0])
weights_by_hand = np.exp(scores) / np.exp(scores).sum()
context_by_hand = weights_by_hand @ np.array([[4.0, 0.0], [0.0, 4.0], [2.0, 2.0]])
''', ("weights_by_hand", "context_by_hand")),
)
