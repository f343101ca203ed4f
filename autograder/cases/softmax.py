"""Cases of chapter 3: softmax, log-softmax, the softmax Jacobian, cross-entropy."""

import numpy as np

from autograder import softmax as ref
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake


def _naive_softmax(x, axis=-1):
    exps = np.exp(np.asarray(x, dtype=np.float64))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _softmax_over_all(x, axis=-1):
    exps = np.exp(np.asarray(x, dtype=np.float64) - np.max(x))
    return exps / np.sum(exps)


def _softmax_first_axis(x, axis=-1):
    return ref.softmax(x, axis=0)


def _softmax_unstable_max_over_all(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    exps = np.exp(x - np.max(x))
    return exps / np.sum(exps, axis=axis, keepdims=True)


_KEEPDIMS = ("a max or a sum along `axis` lost that axis: pass keepdims=True so that each row uses its own "
             "max and sum")


def _softmax_without_keepdims(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis)


def _softmax_max_without_keepdims(x, axis=-1):
    exps = np.exp(np.asarray(x, dtype=np.float64) - np.max(x, axis=axis))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def _softmax_sum_along_first_axis(x, axis=-1):
    exps = np.exp(np.asarray(x, dtype=np.float64) - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=0, keepdims=True)


def _softmax_max_in_numerator_only(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return np.exp(shifted) / np.sum(np.exp(x), axis=axis, keepdims=True)


def _jacobian_inner_product(x):
    s = ref.softmax(x)
    return np.diag(s) - s @ s


def _log_softmax_max_dropped_from_first_term(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return x - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_unstable(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


def _log_softmax_over_all(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    return x - np.max(x) - np.log(np.sum(np.exp(x - np.max(x))))


def _log_of_softmax(x, axis=-1):
    return np.log(_naive_softmax(x, axis=axis))


def _log_softmax_without_log(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    return x - np.max(x, axis=axis, keepdims=True)


def _jacobian_diag_only(x):
    return np.diag(ref.softmax(x))


def _jacobian_missing_diag(x):
    s = ref.softmax(x)
    return -np.outer(s, s)


def _jacobian_diag_of_s_times_one_minus_s(x):
    s = ref.softmax(x)
    return np.diag(s * (1 - s))


def _jacobian_diag_minus_squares(x):
    s = ref.softmax(x)
    return np.diag(s) - s ** 2


def _jacobian_sign_flipped(x):
    return -ref.softmax_jacobian(x)


def _jacobian_outer_with_one_minus_s(x):
    s = ref.softmax(x)
    return np.diag(s) - np.outer(s, 1 - s)


def _cross_entropy_columns_indexed(logits, labels):
    _, grad = ref.cross_entropy_loss_and_grad(logits, labels)
    logp = ref.log_softmax(logits, axis=1)
    return -np.mean(logp[:, labels]), grad


def _cross_entropy_unstable(logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    n = len(logits)
    probs = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    probs[np.arange(n), labels] -= 1.0
    return loss, probs / n


def _cross_entropy_raw_logit(logits, labels):
    _, grad = ref.cross_entropy_loss_and_grad(logits, labels)
    return -np.mean(np.asarray(logits)[np.arange(len(labels)), labels]), grad


def _cross_entropy_summed(logits, labels):
    loss, grad = ref.cross_entropy_loss_and_grad(logits, labels)
    n = np.asarray(logits).shape[0]
    return loss * n, grad * n


def _cross_entropy_gradient_not_averaged(logits, labels):
    loss, grad = ref.cross_entropy_loss_and_grad(logits, labels)
    return loss, grad * np.asarray(logits).shape[0]


def _cross_entropy_gradient_sign(logits, labels):
    loss, grad = ref.cross_entropy_loss_and_grad(logits, labels)
    return loss, -grad


def _cross_entropy_gradient_without_onehot(logits, labels):
    loss, _ = ref.cross_entropy_loss_and_grad(logits, labels)
    return loss, ref.softmax(logits) / np.asarray(logits).shape[0]


def _logits(rng, shape, scale=3.0, offset=0.0):
    return offset + scale * rng.standard_normal(shape)


def _softmax_visible():
    return [
        Case("one vector of logits", (np.array([2.0, 1.0, 0.1]),)),
        Case("equal logits", (np.zeros(4),)),
        Case("a batch of 2 rows, 3 classes", (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, -1.0]]),)),
        Case("the same batch along axis=0", (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, -1.0]]),), {"axis": 0}),
        Case("large logits around 1000", (np.array([1000.0, 1001.0, 1002.0]),)),
    ]


def _softmax_hidden(rng):
    return [
        Case("logits around 1e4", (_logits(rng, (4, 5), offset=1e4),)),
        Case("very negative logits around -1e4", (_logits(rng, (3, 6), offset=-1e4),)),
        Case("a non-square batch (5, 2)", (_logits(rng, (5, 2)),)),
        Case("batch axes (2, 3, 4), axis=1", (_logits(rng, (2, 3, 4)),), {"axis": 1}),
        Case("batch axes (2, 3, 4), default axis", (_logits(rng, (2, 3, 4)),)),
        Case("a single class", (_logits(rng, (3, 1)),)),
        Case("one dominant logit", (np.array([0.0, 50.0, -50.0]) + rng.standard_normal(3),)),
        Case("two rows far apart, around 0 and around 2000",
             (np.stack([_logits(rng, 4), _logits(rng, 4, offset=2000.0)]),)),
    ]


def _log_softmax_visible():
    return [
        Case("one vector of logits", (np.array([2.0, 1.0, 0.1]),)),
        Case("a batch of 2 rows", (np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]),)),
        Case("large logits around 1000", (np.array([1000.0, 1001.0, 1002.0]),)),
    ]


def _log_softmax_hidden(rng):
    return [
        Case("logits around 1e4", (_logits(rng, (4, 5), offset=1e4),)),
        Case("a far-away logit (would give log 0)", (np.array([0.0, -800.0, 3.0]) + rng.uniform(0, 1, 3),)),
        Case("batch axes (3, 2, 4), axis=0", (_logits(rng, (3, 2, 4)),), {"axis": 0}),
        Case("a non-square batch (2, 7)", (_logits(rng, (2, 7)),)),
    ]


def _jacobian_visible():
    return [
        Case("three logits", (np.array([2.0, 1.0, 0.1]),)),
        Case("two equal logits", (np.zeros(2),)),
    ]


def _jacobian_hidden(rng):
    return [
        Case("six random logits", (_logits(rng, 6),)),
        Case("large logits around 1e4", (_logits(rng, 4, offset=1e4),)),
        Case("a single logit", (_logits(rng, 1),)),
    ]


def _cross_entropy_visible():
    return [
        Case("one example, 3 classes", (np.array([[2.0, 1.0, 0.1]]), np.array([0]))),
        Case("two examples", (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, -1.0]]), np.array([2, 0]))),
    ]


def _cross_entropy_hidden(rng):
    def batch(n, c, offset=0.0):
        return (_logits(rng, (n, c), offset=offset), rng.integers(0, c, size=n))

    return [
        Case("8 examples, 5 classes", batch(8, 5)),
        Case("logits around 1e4", batch(4, 3, offset=1e4)),
        Case("a confident wrong prediction", (np.array([[0.0, 40.0], [30.0, 0.0]]), np.array([0, 0]))),
        Case("many classes, one example", batch(1, 10)),
    ]


CASE_SETS = (
    CaseSet(
        "softmax", ref.softmax, _softmax_visible, _softmax_hidden,
        exp_overflow=True,
        mistakes=(
            Mistake("normalised over every entry instead of along `axis`", _softmax_over_all),
            Mistake("normalised over the wrong axis (axis 0 instead of the `axis` argument)", _softmax_first_axis),
            Mistake("took the max along `axis` but the sum along axis 0: both run along `axis`",
                    _softmax_sum_along_first_axis),
            Mistake(_KEEPDIMS, _softmax_without_keepdims),
            Mistake("subtracted the max in the numerator only: numerator and denominator both use exp(x - max)",
                    _softmax_max_in_numerator_only),
            Mistake(_KEEPDIMS, _softmax_max_without_keepdims),
            Mistake("no max subtraction, so exp overflows on large logits", _naive_softmax),
            Mistake("subtracted the maximum of the whole array instead of each row's: rows far below it underflow",
                    _softmax_unstable_max_over_all),
        ),
    ),
    CaseSet(
        "log_softmax", ref.log_softmax, _log_softmax_visible, _log_softmax_hidden,
        exp_overflow=True,
        mistakes=(
            Mistake("computed log(softmax(x)): it gives -inf or overflows where the stable formula does not",
                    _log_of_softmax),
            Mistake("forgot to subtract log-sum-exp (only the max was subtracted)", _log_softmax_without_log),
            Mistake("subtracted the max inside the log-sum-exp but not from x: it is (x - m) - log(sum(exp(x - m)))",
                    _log_softmax_max_dropped_from_first_term),
            Mistake("no max subtraction, so exp overflows on large logits", _log_softmax_unstable),
            Mistake("took the log-sum-exp over every entry instead of along `axis`", _log_softmax_over_all),
        ),
    ),
    CaseSet(
        "softmax_jacobian", ref.softmax_jacobian, _jacobian_visible, _jacobian_hidden,
        mistakes=(
            Mistake("kept only the diagonal diag(s): the off-diagonal terms -s_i s_j are missing", _jacobian_diag_only),
            Mistake("kept only -s s^T: the diag(s) term is missing", _jacobian_missing_diag),
            Mistake("kept only the diagonal s_i (1 - s_i)", _jacobian_diag_of_s_times_one_minus_s),
            Mistake("wrote diag(s) - s**2, which subtracts s_j**2 along every row; the second term is the outer "
                    "product np.outer(s, s)", _jacobian_diag_minus_squares),
            Mistake("the sign is flipped: the Jacobian is diag(s) - s s^T", _jacobian_sign_flipped),
            Mistake("used np.outer(s, 1 - s); the second term is np.outer(s, s)", _jacobian_outer_with_one_minus_s),
            Mistake("used s @ s, a single number; the second term is the matrix np.outer(s, s)", _jacobian_inner_product),
        ),
    ),
    CaseSet(
        "cross_entropy_loss_and_grad", ref.cross_entropy_loss_and_grad, _cross_entropy_visible,
        _cross_entropy_hidden, output_names=("loss", "dlogits"),
        exp_overflow=True,
        mistakes=(
            Mistake("summed over the batch instead of averaging over N", _cross_entropy_summed),
            Mistake("averaged the loss but not the gradient (divide dlogits by N too)",
                    _cross_entropy_gradient_not_averaged),
            Mistake("the gradient has the wrong sign: it is softmax - onehot", _cross_entropy_gradient_sign),
            Mistake("the gradient is missing the - onehot(labels) term", _cross_entropy_gradient_without_onehot),
            Mistake("logp[:, labels] picks whole columns (an N x N block); each example's own entry is "
                    "logp[np.arange(N), labels]", _cross_entropy_columns_indexed),
            Mistake("no max subtraction, so exp overflows on large logits", _cross_entropy_unstable),
            Mistake("the loss uses the raw logit of the label; it is minus its log-softmax", _cross_entropy_raw_logit),
        ),
    ),
)

#: Logits of the numeric question of the notebook.
QUESTION_LOGITS = np.array([3.0, 1.0, 0.2])

ANSWERS = (
    Answer("p_first_class", lambda: ref.softmax(QUESTION_LOGITS)[0], atol=5e-4,
           hint="Exponentiate each logit, then divide by the sum of the exponentials."),
    Answer("loss_if_label_2", lambda: -ref.log_softmax(QUESTION_LOGITS)[2], atol=5e-4,
           hint="The cross-entropy of one example is -log of the probability of its label."),
)

STUDENT_MISTAKES = (
    StudentMistake("softmax", "no max subtraction", '''
def softmax(x, axis=-1):
    exps = np.exp(x)
    return exps / np.sum(exps, axis=axis, keepdims=True)
''', ("softmax",)),
    StudentMistake("softmax", "normalised over the whole array", '''
def softmax(x, axis=-1):
    exps = np.exp(x - np.max(x))
    return exps / np.sum(exps)
''', ("softmax",)),
    StudentMistake("log_softmax", "log of softmax", '''
def log_softmax(x, axis=-1):
    return np.log(softmax(x, axis=axis))
''', ("log_softmax",)),
    StudentMistake("softmax_jacobian", "diagonal only", '''
def softmax_jacobian(x):
    exps = np.exp(x - np.max(x))
    s = exps / np.sum(exps)
    return np.diag(s * (1 - s))
''', ("softmax_jacobian",)),
    StudentMistake("cross_entropy_loss_and_grad", "gradient not averaged over the batch", '''
def cross_entropy_loss_and_grad(logits, labels):
    n = logits.shape[0]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    probs[np.arange(n), labels] -= 1.0
    return float(loss), probs
''', ("cross_entropy_loss_and_grad",)),
    StudentMistake("by_hand", "forgot to normalise the probability", '''
p_first_class = float(np.exp(3.0))
loss_if_label_2 = float(-np.log(np.exp(0.2) / (np.exp(3.0) + np.exp(1.0) + np.exp(0.2))))
''', ("p_first_class",)),
)
