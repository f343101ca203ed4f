"""Cases of chapter 2: gradient descent, the mean squared error, mini-batch SGD."""

import numpy as np

from autograder import gradient_descent as ref
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake
from autograder.inputs import Fn


def _without_first_iterate(grad, x0, lr, n_steps):
    return ref.gradient_descent(grad, x0, lr, n_steps)[1:]


def _ascent(grad, x0, lr, n_steps):
    return ref.gradient_descent(grad, x0, -lr, n_steps)


def _same_array_appended(grad, x0, lr, n_steps):
    # x -= lr * grad(x) on one array appended at every step: all later rows show its final value.
    iterates = ref.gradient_descent(grad, x0, lr, n_steps)
    iterates[1:] = iterates[-1]
    return iterates


def _one_step_too_many(grad, x0, lr, n_steps):
    return ref.gradient_descent(grad, x0, lr, n_steps + 1)[1:]


def _mse_gradient_without_two(w, X, y):
    loss, grad = ref.mse_loss_and_grad(w, X, y)
    return loss, grad / 2.0


def _mse_gradient_summed(w, X, y):
    loss, grad = ref.mse_loss_and_grad(w, X, y)
    return loss, grad * np.shape(X)[0]


def _mse_summed(w, X, y):
    loss, grad = ref.mse_loss_and_grad(w, X, y)
    return loss * np.shape(X)[0], grad * np.shape(X)[0]


def _mse_gradient_sign(w, X, y):
    loss, grad = ref.mse_loss_and_grad(w, X, y)
    return loss, -grad


def _gradient_at_x0(grad, x0, lr, n_steps):
    x0 = np.asarray(x0, dtype=np.float64)
    step = lr * grad(x0)
    return np.stack([x0 - k * step for k in range(n_steps + 1)])


def _n_steps_rows(grad, x0, lr, n_steps):
    return ref.gradient_descent(grad, x0, lr, n_steps)[:-1] if n_steps else np.asarray(x0, dtype=np.float64)[None]


def _mse_square_of_mean(w, X, y):
    _, grad = ref.mse_loss_and_grad(w, X, y)
    return np.mean(np.asarray(X) @ w - y) ** 2, grad


def _mse_half(w, X, y):
    loss, grad = ref.mse_loss_and_grad(w, X, y)
    return loss / 2.0, grad / 2.0


def _sgd_variant(X, y, w0, lr, batch_size, n_epochs, seed, *, shuffle="every epoch", drop_last=False,
                 loss_before=False, batch_mean_over_n=False, gradient=ref.mse_loss_and_grad, loss_on_batch=False):
    """``ref.minibatch_sgd`` with one rule changed, to recognise a student's mistake."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = np.array(w0, dtype=np.float64)
    n = len(X)
    rng = np.random.default_rng(seed)
    first = rng.permutation(n) if shuffle == "once" else None
    legacy = np.random.RandomState(seed)  # what np.random.seed(seed) then np.random.permutation draw
    losses = []
    for _ in range(n_epochs):
        if loss_before:
            losses.append(ref.mse_loss_and_grad(w, X, y)[0])
        if shuffle == "every epoch":
            perm = rng.permutation(n)
        elif shuffle == "once":
            perm = first
        elif shuffle == "global":
            perm = legacy.permutation(n)
        else:
            perm = np.arange(n)
        stop = n - n % batch_size if drop_last == True else n - batch_size if drop_last == "one more" else n
        for start in range(0, stop, batch_size):
            batch = perm[start:start + batch_size]
            grad = gradient(w, X[batch], y[batch])[1]
            w = w - lr * (grad * len(batch) / n if batch_mean_over_n else grad)
        if not loss_before:
            losses.append(ref.mse_loss_and_grad(w, X[batch], y[batch])[0] if loss_on_batch
                          else ref.mse_loss_and_grad(w, X, y)[0])
    return w, np.array(losses)


#: minibatch_sgd is graded on its own arithmetic: a wrong mse_loss_and_grad it calls is its own mistake.
_OWN_GRADIENT = " (graded on its own: compute it here, not with your mse_loss_and_grad)"


def _regression(rng, n, d, noise=0.1):
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + noise * rng.standard_normal(n)


#: Six examples of a line y = 2 x1 - x2 + noise, small enough to follow by hand.
_X6 = np.array([[1.0, 0.5], [0.0, 1.0], [2.0, -1.0], [-1.0, 0.0], [0.5, 2.0], [1.5, 1.0]])
_Y6 = np.array([1.6, -1.1, 5.0, -1.9, -1.0, 2.1])


def _gradient_descent_visible():
    return [
        Case("gradient 2x of sum(x**2), 5 steps", (Fn("double"), np.array([1.0, -2.0]), 0.1, 5)),
        Case("a tilted bowl, 3 steps", (Fn("grad_tilted_bowl"), np.array([2.0, 1.0]), 0.3, 3)),
        Case("a single number", (Fn("double"), np.array(3.0), 0.25, 4)),
    ]


def _gradient_descent_hidden(rng):
    return [
        Case("zero steps: only x0", (Fn("double"), rng.standard_normal(3), 0.1, 0)),
        Case("a (2, 3) array", (Fn("double"), rng.standard_normal((2, 3)), 0.2, 4)),
        Case("a learning rate above 2/L, which diverges", (Fn("grad_tilted_bowl"), rng.standard_normal(2), 0.6, 6)),
        Case("a quartic, 10 steps", (Fn("grad_quartic"), rng.uniform(0.5, 1.0, 2), 0.05, 10)),
    ]


def _mse_visible():
    return [
        Case("six examples, two features", (np.array([0.5, 0.5]), _X6, _Y6)),
        Case("zero weights", (np.zeros(2), _X6, _Y6)),
    ]


def _mse_hidden(rng):
    X, y = _regression(rng, 12, 4)
    w_exact = rng.standard_normal(3)
    X_exact = rng.standard_normal((5, 3))
    return [
        Case("twelve examples, four features", (rng.standard_normal(4), X, y)),
        Case("a single example", (rng.standard_normal(3), rng.standard_normal((1, 3)), rng.standard_normal(1))),
        Case("one feature", (rng.standard_normal(1), rng.standard_normal((7, 1)), rng.standard_normal(7))),
        Case("more features than examples", (rng.standard_normal(6), rng.standard_normal((3, 6)), rng.standard_normal(3))),
        Case("an exact fit: loss and gradient 0", (w_exact, X_exact, X_exact @ w_exact)),
    ]


def _sgd_visible():
    return [
        Case("batches of 2, 3 epochs", (_X6, _Y6, np.zeros(2), 0.1, 2, 3, 0)),
        Case("batch gradient descent (batch_size = N)", (_X6, _Y6, np.zeros(2), 0.1, 6, 3, 0)),
    ]


def _sgd_hidden(rng):
    X7, y7 = _regression(rng, 7, 2)
    X10, y10 = _regression(rng, 10, 3)
    seed = int(rng.integers(0, 2**31))
    return [
        Case("7 examples in batches of 3: the last batch is short", (X7, y7, np.zeros(2), 0.1, 3, 4, seed)),
        Case("stochastic gradient descent (batch_size = 1)", (X10, y10, rng.standard_normal(3), 0.05, 1, 3, seed + 1)),
        Case("batches of 4, 5 epochs", (X10, y10, np.zeros(3), 0.05, 4, 5, seed + 2)),
        Case("a single epoch", (X10, y10, np.ones(3), 0.1, 5, 1, seed + 3)),
    ]


CASE_SETS = (
    CaseSet(
        "gradient_descent", ref.gradient_descent, _gradient_descent_visible, _gradient_descent_hidden,
        mistakes=(
            Mistake("row 0 must be x0: the result has n_steps + 1 rows", _without_first_iterate),
            Mistake("stepped along +grad (ascent); descent subtracts lr * grad", _ascent),
            Mistake("every row after the first equals the last iterate: the same array was appended and then "
                    "updated in place (append a copy, or write x = x - lr * grad(x))", _same_array_appended),
            Mistake("row 0 is missing and one step too many was taken", _one_step_too_many),
            Mistake("evaluated the gradient at x0 at every step; each step uses the gradient at the current x",
                    _gradient_at_x0),
            Mistake("took n_steps - 1 steps: the result has n_steps + 1 rows, x0 and one per step", _n_steps_rows),
        ),
    ),
    CaseSet(
        "mse_loss_and_grad", ref.mse_loss_and_grad, _mse_visible, _mse_hidden, output_names=("loss", "grad"),
        mistakes=(
            Mistake("the gradient is missing the factor 2 from differentiating the square", _mse_gradient_without_two),
            Mistake("the gradient is missing the 1/N of the mean (the loss has it)", _mse_gradient_summed),
            Mistake("loss and gradient are sums over the examples, not means (divide by N)", _mse_summed),
            Mistake("the gradient has the wrong sign: the residual is X @ w - y", _mse_gradient_sign),
            Mistake("computed mean(r) ** 2, the square of the mean residual; the loss is the mean of the squares, "
                    "mean(r ** 2)", _mse_square_of_mean),
            Mistake("computed half the mean squared error (the 1/2 convention); this loss has no 1/2", _mse_half),
        ),
    ),
    CaseSet(
        "minibatch_sgd", ref.minibatch_sgd, _sgd_visible, _sgd_hidden, output_names=("w", "losses"),
        mistakes=(
            Mistake("shuffled once (or re-created the generator every epoch): each epoch needs a new "
                    "rng.permutation from the one generator", lambda *a: _sgd_variant(*a, shuffle="once")),
            Mistake("never shuffled: the batches must be slices of rng.permutation(N)",
                    lambda *a: _sgd_variant(*a, shuffle="never")),
            Mistake("dropped the last, shorter batch: every example is used once per epoch",
                    lambda *a: _sgd_variant(*a, drop_last=True)),
            Mistake("the loop over batches stops early (range(0, N - batch_size, batch_size)): it must reach every "
                    "start below N", lambda *a: _sgd_variant(*a, drop_last="one more")),
            Mistake("recorded the loss before each epoch; losses[e] is the loss after epoch e",
                    lambda *a: _sgd_variant(*a, loss_before=True)),
            Mistake("divided the batch gradient by N instead of by the batch size",
                    lambda *a: _sgd_variant(*a, batch_mean_over_n=True)),
            Mistake("shuffled with numpy's global generator (np.random.seed, np.random.permutation); use "
                    "rng = np.random.default_rng(seed) and rng.permutation", lambda *a: _sgd_variant(*a, shuffle="global")),
            Mistake("losses[e] is the loss of the last batch; it is the loss on the whole data after epoch e",
                    lambda *a: _sgd_variant(*a, loss_on_batch=True)),
            Mistake("each step's gradient is missing the factor 2 of the square" + _OWN_GRADIENT,
                    lambda *a: _sgd_variant(*a, gradient=_mse_gradient_without_two)),
            Mistake("each step's gradient is a sum over the batch, not a mean" + _OWN_GRADIENT,
                    lambda *a: _sgd_variant(*a, gradient=_mse_gradient_summed)),
            Mistake("each step's gradient has the wrong sign (the residual is X @ w - y)" + _OWN_GRADIENT,
                    lambda *a: _sgd_variant(*a, gradient=_mse_gradient_sign)),
        ),
    ),
)

#: The quadratic of the numeric questions, f(x) = x1**2 + 4 x2**2, by its Hessian.
QUESTION_HESSIAN = np.diag([2.0, 8.0])
#: The learning rate of the second question.
QUESTION_LR = 0.2

ANSWERS = (
    Answer("lr_threshold", lambda: ref.divergence_threshold(QUESTION_HESSIAN), atol=5e-4,
           hint="The Hessian of x1**2 + 4 x2**2 is diag(2, 8); the threshold is 2 over its largest eigenvalue."),
    Answer("x2_factor", lambda: 1.0 - QUESTION_LR * QUESTION_HESSIAN[1, 1], atol=5e-4,
           hint="One step maps x2 to x2 - lr * (d f / d x2) = x2 - lr * 8 x2."),
)

STUDENT_MISTAKES = (
    StudentMistake("gradient_descent", "the same array appended and updated in place", '''
def gradient_descent(grad, x0, lr, n_steps):
    x = np.array(x0, dtype=np.float64)
    iterates = [x.copy()]
    for _ in range(n_steps):
        x -= lr * grad(x)
        iterates.append(x)
    return np.array(iterates)
''', ("gradient_descent",)),
    StudentMistake("mse_loss_and_grad", "gradient without the factor 2 (minibatch_sgd, graded on its own, keeps its points)", '''
def mse_loss_and_grad(w, X, y):
    residual = X @ w - y
    return float(np.mean(residual ** 2)), X.T @ residual / len(X)
''', ("mse_loss_and_grad",)),
    StudentMistake("minibatch_sgd", "shuffled once before the first epoch", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    w = np.array(w0, dtype=np.float64)
    losses = []
    for epoch in range(n_epochs):
        for start in range(0, len(X), batch_size):
            batch = perm[start:start + batch_size]
            w = w - lr * 2 * X[batch].T @ (X[batch] @ w - y[batch]) / len(batch)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
''', ("minibatch_sgd",)),
    StudentMistake("minibatch_sgd", "dropped the last short batch", '''
def minibatch_sgd(X, y, w0, lr, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    w = np.array(w0, dtype=np.float64)
    losses = []
    for epoch in range(n_epochs):
        perm = rng.permutation(len(X))
        for i in range(len(X) // batch_size):
            batch = perm[i * batch_size:(i + 1) * batch_size]
            w = w - lr * 2 * X[batch].T @ (X[batch] @ w - y[batch]) / len(batch)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
''', ("minibatch_sgd",)),
    StudentMistake("by_hand", "threshold taken as 1/L", '''
lr_threshold = 1 / 8
x2_factor = 1 - 0.2 * 8
''', ("lr_threshold",)),
)
