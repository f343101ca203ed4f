"""Feedback a student can act on (issue 14): each function graded on its own, mistakes named, short messages.

The messages are the ones a notebook's test cell prints (``check``) and the ones the trusted grader
writes (``judge``, ``failure``): one code path, so one test serves both.
"""

import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.calling import Outcome, run_case
from autograder.cases import _chapter_modules
from autograder.checking import (MAX_MESSAGE_LINES, NOTEBOOK_HIDDEN_SEED, CheckFailed, check, expected_output,
                                 failure, judge)

sys.path.insert(0, str(Path(__file__).parent))
from fresh_mistakes import FRESH  # noqa: E402
from unseen_mistakes import HELD_OUT, UNSEEN, compile_unseen  # noqa: E402

COURSE_CHAPTERS = ("01_chain_rule", "02_gradient_descent", "03_softmax", "04_dot_product_attention",
                   "05_backprop_through_time", "06_rnn", "07_self_attention")
CASE_SETS = [case_set for chapter in COURSE_CHAPTERS for case_set in _chapter_modules()[chapter].CASE_SETS]
SEEDS = (NOTEBOOK_HIDDEN_SEED,)
CLASSIC = re.compile(r"^This matches a classic mistake: (?P<mistake>.+)\.$", re.MULTILINE)

#: What the notebooks' locked cells give students.
PRELUDE = '''
import numpy as np

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
'''


def student(name, code, **others):
    """The function ``name`` as a notebook cell would define it (``others`` go into its namespace)."""
    namespace = dict(others)
    exec(compile(PRELUDE + code, f"<cell {name}>", "exec"), namespace)
    return namespace[name]


def messages(function, name, seeds=SEEDS):
    """The failure messages of the visible check and of the hidden check for each seed ('' when it passes)."""
    found = []
    for hidden, seed in [(False, None), *((True, s) for s in seeds)]:
        found.append(_check_message(function, name, hidden, seed))
    return found


def _check_message(function, name, hidden, seed):
    from autograder.cases import case_set
    chosen = case_set(name)
    cases = chosen.hidden_cases(seed) if hidden else chosen.visible()
    namespace = getattr(function, "__globals__", {})
    verdicts = [judge(chosen, case, run_case(function, case, namespace), number=i + 1, total=len(cases),
                      hidden=hidden) for i, case in enumerate(cases)]
    failed = failure(verdicts, name, hidden)
    return str(failed) if failed else ""


def named(function, name):
    """Every classic mistake the checks of ``name`` name for ``function``, and whether it lost points."""
    found = messages(function, name)
    return {m["mistake"] for text in found for m in CLASSIC.finditer(text)}, any(found)


# --- the issue's unnamed and misnamed mistakes, written as a student would ---

ISSUE_MISTAKES = [
    ("softmax", "normalised over every entry instead of along `axis`", '''
def softmax(x, axis=-1):
    exps = np.exp(x - np.max(x))
    return exps / np.sum(exps)
'''),
    ("softmax", "took the max along `axis` but the sum along axis 0: both run along `axis`", '''
def softmax(x, axis=-1):
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=0, keepdims=True)
'''),
    ("log_softmax", "subtracted the max inside the log-sum-exp but not from x: it is (x - m) - log(sum(exp(x - m)))", '''
def log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
'''),
    ("softmax_jacobian", "wrote diag(s) - s**2, which subtracts s_j**2 along every row; the second term is the outer "
                         "product np.outer(s, s)", '''
def softmax_jacobian(x):
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return np.diag(s) - s ** 2
'''),
    ("softmax_jacobian", "the sign is flipped: the Jacobian is diag(s) - s s^T", '''
def softmax_jacobian(x):
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return np.outer(s, s) - np.diag(s)
'''),
    ("cross_entropy_loss_and_grad", "logp[:, labels] picks whole columns (an N x N block); each example's own entry "
                                    "is logp[np.arange(N), labels]", '''
def cross_entropy_loss_and_grad(logits, labels):
    n = len(labels)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    return -np.mean(logp[:, labels]), grad / n
'''),
    ("self_attention", "the scores are K Q^T; row i must hold query i's scores, Q K^T", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = K @ Q.T / np.sqrt(W_k.shape[1])
    if causal:
        scores = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool)), scores, -np.inf)
    A = softmax(scores)
    return A @ V, A
'''),
    ("self_attention", "the causal mask also hides the diagonal (j < i): token i may attend to itself; row 0, left "
                       "with no key, becomes 0 / 0 = nan", '''
def self_attention(X, W_q, W_k, W_v, causal=False):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.T / np.sqrt(W_k.shape[1])
    if causal:
        scores = np.where(np.tril(np.ones((len(X), len(X)), dtype=bool), k=-1), scores, -np.inf)
    A = softmax(scores)
    return A @ V, A
'''),
    ("attention_by_hand", "exponentiated with base e; the exercise uses 3 ** floor(score / 2)", '''
def attention_by_hand(X, W_Q, W_K, W_V):
    Q, K, V = W_Q @ X, W_K @ X, W_V @ X
    powers = np.exp(np.floor(K.T @ Q / 2))
    A = powers / powers.sum(axis=0, keepdims=True)
    return A, V @ A
'''),
    ("multi_head_self_attention", "each head takes every n_heads-th column (h::n_heads); head h takes the consecutive "
                                  "columns h*d_head:(h+1)*d_head", '''
def multi_head_self_attention(X, W_q, W_k, W_v, W_o, n_heads, causal=False):
    n, d_model = X.shape
    heads = []
    for h in range(n_heads):
        Q, K, V = (X @ W_q)[:, h::n_heads], (X @ W_k)[:, h::n_heads], (X @ W_v)[:, h::n_heads]
        scores = Q @ K.T / np.sqrt(d_model // n_heads)
        if causal:
            scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
        heads.append(softmax(scores) @ V)
    return np.concatenate(heads, axis=1) @ W_o
'''),
    ("clip_by_global_norm", "used the L1 norm (sum of absolute values); the global norm is the L2 norm, sqrt of the "
                            "sum of squares", '''
def clip_by_global_norm(grads, max_norm):
    norm = sum(np.abs(g).sum() for g in grads)
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]
'''),
    ("rnn_forward", "the loop starts at t = 1 (range(1, T)): step 0 is never computed, and step 1 reads h0", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    h_prev = h0
    for t in range(1, T):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
        h[:, t] = h_prev
    return h, (x, h0, Wx, Wh, h)
'''),
    ("rnn_forward", "h[:, t] holds the state before step t (h_{t-1}); it must hold the new state h_t", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    h_prev = h0
    for t in range(T):
        h[:, t] = h_prev
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
    return h, (x, h0, Wx, Wh, h)
'''),
    ("minibatch_sgd", "each step's gradient is missing the factor 2 of the square (graded on its own: compute it "
                      "here, not with your mse_loss_and_grad)", '''
def mse_loss_and_grad(w, X, y):
    residual = X @ w - y
    return np.mean(residual ** 2), X.T @ residual / len(X)

def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = perm[start:start + batch_size]
            w = w - lr * mse_loss_and_grad(w, X[batch], y[batch])[1]
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
'''),
]


@pytest.mark.parametrize("name, mistake, code", ISSUE_MISTAKES, ids=[f"{n}-{m[:30]}" for n, m, _ in ISSUE_MISTAKES])
def test_the_issues_mistakes_are_named_exactly(name, mistake, code):
    found, lost = named(student(name, code), name)
    assert lost and found == {mistake}


@pytest.mark.parametrize("case_set, mistake", [(c, m) for c in CASE_SETS for m in c.mistakes],
                         ids=lambda item: getattr(item, "name", getattr(item, "description", "")[:40]))
def test_every_classic_mistake_of_chapters_1_to_7_is_named_exactly_and_alone(case_set, mistake):
    found, lost = named(mistake.function, case_set.name)
    assert lost and found == {mistake.description}


def test_a_causal_mask_without_the_diagonal_is_not_called_an_overflow():
    code = ISSUE_MISTAKES[7][2]
    text = "\n".join(messages(student("self_attention", code), "self_attention"))
    assert "row 0" in text and "overflow" not in text.split("(nan comes")[0]


# --- each function graded on its own ---

RNN_FORWARD_H0_EVERY_STEP = '''
def rnn_forward(x, h0, Wx, Wh, b):
    h = np.zeros((x.shape[0], x.shape[1], Wh.shape[0]))
    for t in range(x.shape[1]):
        h[:, t] = np.tanh(x[:, t] @ Wx + h0 @ Wh + b)
    return h, (x, h0, Wx, Wh, h)
'''

RNN_BACKWARD = '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
'''


def test_rnn_backward_keeps_its_points_when_rnn_forward_is_wrong():
    forward = student("rnn_forward", RNN_FORWARD_H0_EVERY_STEP)
    backward = student("rnn_backward", RNN_BACKWARD, rnn_forward=forward)
    assert any(messages(forward, "rnn_forward"))
    assert messages(backward, "rnn_backward") == ["", ""]


def test_minibatch_sgd_keeps_its_points_when_only_mse_loss_and_grad_is_wrong():
    wrong_mse = student("mse_loss_and_grad", ISSUE_MISTAKES[-1][2])
    assert named(wrong_mse, "mse_loss_and_grad") == (
        {"the gradient is missing the factor 2 from differentiating the square"}, True)
    sgd = student("minibatch_sgd", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(n_epochs):
        perm = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = perm[start:start + batch_size]
            w = w - lr * 2 * X[batch].T @ (X[batch] @ w - y[batch]) / len(batch)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
''', mse_loss_and_grad=wrong_mse)
    assert messages(sgd, "minibatch_sgd") == ["", ""]


def test_a_mistake_that_does_not_explain_every_case_is_not_named():
    """Right on the visible cases, off by 1e-3 on one hidden case: no classic mistake explains that."""
    from autograder.softmax import softmax as reference

    def softmax(x, axis=-1):
        result = reference(x, axis)
        return result + 1e-3 if np.asarray(x).ndim == 3 and axis == 1 else result

    found, lost = named(softmax, "softmax")
    assert lost and found == set()


# --- messages: short, leading with what to fix, no expected value of a hidden case ---

def _wrong_implementations(case_set):
    """The classic mistakes, plus outputs that are wrong in every generic way: zeros, a wrong shape, an error."""
    def zeros(*args, **kwargs):
        out = case_set.reference(*args, **kwargs)
        return tuple(np.zeros_like(o) if not isinstance(o, tuple) else o for o in out) \
            if isinstance(out, tuple) else np.zeros_like(np.asarray(out, dtype=float))

    def flattened(*args, **kwargs):
        out = case_set.reference(*args, **kwargs)
        return np.ravel(out[0] if isinstance(out, tuple) else out)

    def raises(*args, **kwargs):
        raise ValueError("operands could not be broadcast together " + "with shapes (2,3) (2,) " * 20)

    return [m.function for m in case_set.mistakes] + [zeros, flattened, raises]


@pytest.mark.parametrize("case_set", CASE_SETS, ids=lambda c: c.name)
def test_every_failure_message_fits_on_one_screen(case_set):
    assert all(len(mistake.description) <= 165 for mistake in case_set.mistakes)
    for function in _wrong_implementations(case_set):
        for text in messages(function, case_set.name, seeds=(NOTEBOOK_HIDDEN_SEED, 2)):
            lines = text.splitlines()
            assert len(lines) <= MAX_MESSAGE_LINES, text
            assert all(len(line) <= 200 for line in lines), text


@pytest.mark.parametrize("case_set", CASE_SETS, ids=lambda c: c.name)
def test_hidden_messages_never_show_an_expected_value(case_set):
    for function in _wrong_implementations(case_set):
        hidden = messages(function, case_set.name)[1:]
        for text in hidden:
            assert not re.search(r"^\s+(expected|got)\b|largest difference|expected -?\d", text, re.MULTILINE), text


def test_a_message_leads_with_the_mistake_the_output_and_the_first_wrong_time_step():
    text = messages(student("rnn_forward", RNN_FORWARD_H0_EVERY_STEP), "rnn_forward")[0]
    lines = text.splitlines()
    assert lines[0] == "rnn_forward: 2 of 3 visible cases fail."
    assert lines[1] == ("This matches a classic mistake: used h0 at every step instead of the previous step's "
                        "hidden state.")
    assert lines[2].startswith("case 1 of 3 (") and lines[2].endswith("h is wrong from time step 1 on")
    assert any(line.startswith("  h[:, 1, :], shape (2, 5):") for line in lines)
    assert "x (2, 3, 4)" in text and not re.search(r"\[\[\[", text)  # shapes of the inputs, never their values


def test_an_exception_points_at_the_line_of_the_students_cell():
    function = student("softmax", '''
def softmax(x, axis=-1):
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    total = np.sum(exps, axis=axis)
    return exps / total
''')
    text = messages(function, "softmax")[0]
    assert re.search(r"at line \d+ of your cell, in softmax", text)


def test_check_failures_render_without_a_traceback_in_ipython():
    with pytest.raises(CheckFailed) as caught:
        check(lambda x, axis=-1: np.zeros_like(x), "softmax")
    rendered = caught.value._render_traceback_()
    assert rendered[0].startswith("CheckFailed: softmax: ") and not any("checking.py" in line for line in rendered)


@pytest.mark.timeout(180)
def test_jupyter_shows_the_message_and_the_students_line_only():
    """Execute a notebook like a student's in a real kernel and read what its test cells show."""
    from nbclient import NotebookClient
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nfrom autograder.checking import check"),
        nbformat.v4.new_code_cell("def softmax(x, axis=-1):\n    e = np.exp(x)\n    return e / e.sum(axis=axis)"),
        nbformat.v4.new_code_cell('check(softmax, "softmax")'),
    ])
    NotebookClient(notebook, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(Path(__file__).parents[1])}}).execute()
    (error,) = [o for o in notebook.cells[2].outputs if o.output_type == "error"]
    assert error.ename == "CheckFailed" and len(error.traceback) == 1
    text = error.traceback[0]
    assert "checking.py" not in text and "calling.py" not in text
    assert "of your cell, in softmax: return e / e.sum(axis=axis)" in text


# --- measurement on wrong submissions kept apart from the case sets ---

def _share_named(submissions):
    lost = named_count = 0
    for items in submissions.values():
        for name, _, code in items:
            found, failed = named(compile_unseen(name, code), name)
            lost += failed
            named_count += failed and bool(found)
    return named_count, lost


def test_share_of_point_losing_unseen_mistakes_that_are_named(capsys):
    """At least 90% of the point-losing mistakes nobody wrote a classic mistake for are named.

    FRESH was written blind (see ``tests/fresh_mistakes.py``) and is the measurement; UNSEEN and
    HELD_OUT were read while the generic diagnosis (``autograder/diagnosis.py``) was built, and are
    kept as a floor, so that a change that loses a diagnosis shows here.
    """
    seen, seen_lost = _share_named(UNSEEN)
    held, held_lost = _share_named(HELD_OUT)
    fresh, fresh_lost = _share_named(FRESH)
    with capsys.disabled():
        print(f"\nunseen mistakes named: {fresh} of {fresh_lost} written blind, {seen} of {seen_lost} and "
              f"{held} of {held_lost} read while building the diagnosis")
    assert (seen_lost, held_lost, fresh_lost) == (70, 20, 70)
    assert fresh >= 0.9 * fresh_lost and seen >= 60 and held >= 15


def _each_leaf(value, change):
    return tuple(_each_leaf(item, change) for item in value) if isinstance(value, tuple) else change(value)


ODD_OUTPUTS = {
    "huge": lambda e: np.full(e.shape, 1e308),
    "booleans": lambda e: np.ones(e.shape, dtype=bool),
    "largest integers": lambda e: np.full(e.shape, np.iinfo(np.int64).max),
    "nan": lambda e: np.full(e.shape, np.nan),
    "a scalar": lambda e: np.array(7.0),
    "one more axis": lambda e: np.zeros((2, *e.shape)),
}


@pytest.mark.parametrize("odd", ODD_OUTPUTS)
def test_the_diagnosis_judges_any_output_a_student_returns(odd):
    """Whatever numbers come back (the grader judges them in its own process), a verdict, never an exception."""
    for case_set in CASE_SETS + list(_chapter_modules()["08_transformer"].CASE_SETS):
        case = case_set.visible()[0]
        value = _each_leaf(expected_output(case_set, case), ODD_OUTPUTS[odd])
        verdict = judge(case_set, case, Outcome(value=value), number=1, total=1, hidden=False)
        assert not verdict.passed and verdict.summary.startswith("case 1 of 1"), (case_set.name, verdict.message)
