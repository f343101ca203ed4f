"""Cases of chapter 5: the RNN forward pass, back-propagation through time, clipping by global norm."""

import numpy as np

from autograder import bptt as ref
from autograder.cases import StudentMistake
from autograder.checking import Answer, Case, CaseSet, Mistake

#: the chapter these cases grade (its name is not 0N_<this module>: see autograder.cases)
CHAPTER = "05_backprop_through_time"


def _rnn_inputs(rng, n, steps, d, h, scale=0.5):
    """``(x, h0, Wx, Wh, b)`` of the given sizes, with weights small enough to keep tanh mostly unsaturated."""
    return (rng.standard_normal((n, steps, d)), scale * rng.standard_normal((n, h)),
            scale * rng.standard_normal((d, h)), scale * rng.standard_normal((h, h)), scale * rng.standard_normal(h))


def _backward_case(label, rng, n, steps, d, h, dh=None, scale=0.5):
    """A case of ``rnn_backward`` whose cache the reference ``rnn_forward`` made, so that a wrong forward
    pass never costs the backward pass its points."""
    inputs = _rnn_inputs(rng, n, steps, d, h, scale)
    dh = rng.standard_normal((n, steps, h)) if dh is None else dh
    return Case(label, (dh, ref.rnn_forward(*inputs)[1]))


def _only_at(step, rng, n, steps, h):
    dh = np.zeros((n, steps, h))
    dh[:, step] = rng.standard_normal((n, h))
    return dh


# --- classic mistakes of rnn_forward (each returns the cache a correct backward pass would need) ---

def _forward_with(step):
    def forward(x, h0, Wx, Wh, b):
        h = np.empty(x.shape[:2] + (Wh.shape[0],))
        h_prev = h0
        for t in range(x.shape[1]):
            h[:, t] = step(x[:, t], h_prev, h0, Wx, Wh, b)
            h_prev = h[:, t]
        return h, (x, h0, Wx, Wh, h)
    return forward


_forward_h0_every_step = _forward_with(lambda x_t, h_prev, h0, Wx, Wh, b: np.tanh(x_t @ Wx + h0 @ Wh + b))
_forward_without_tanh = _forward_with(lambda x_t, h_prev, h0, Wx, Wh, b: x_t @ Wx + h_prev @ Wh + b)
_forward_wh_transposed = _forward_with(lambda x_t, h_prev, h0, Wx, Wh, b: np.tanh(x_t @ Wx + h_prev @ Wh.T + b))
_forward_bias_outside_tanh = _forward_with(lambda x_t, h_prev, h0, Wx, Wh, b: np.tanh(x_t @ Wx + h_prev @ Wh) + b)


def _forward_from_step_one(x, h0, Wx, Wh, b):
    h, _ = ref.rnn_forward(x, h0, Wx, Wh, b)
    h = h.copy()
    h[:, 0] = 0.0
    if x.shape[1] > 1:
        h[:, 1:] = ref.rnn_forward(x[:, 1:], h0, Wx, Wh, b)[0]
    return h, (x, h0, Wx, Wh, h)


def _forward_stores_previous_state(x, h0, Wx, Wh, b):
    h, _ = ref.rnn_forward(x, h0, Wx, Wh, b)
    shifted = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return shifted, (x, h0, Wx, Wh, shifted)


def _forward_cache_h_unchanged_but_h0_replaced(x, h0, Wx, Wh, b):
    h, _ = ref.rnn_forward(x, h0, Wx, Wh, b)
    return h, (x, h[:, 0], Wx, Wh, h)


_forward_sigmoid = _forward_with(lambda x_t, h_prev, h0, Wx, Wh, b: 1 / (1 + np.exp(-(x_t @ Wx + h_prev @ Wh + b))))


# --- classic mistakes of rnn_backward: one backward loop, with the mistake switched on ---

def _backward_with(*, carry=True, derivative="1-h^2", dWh_uses="h_prev", accumulate=True, carry_matrix="Wh.T",
                   dh0_is="delta Wh.T", order="backward", db_reduce="sum"):
    def backward(dh, cache):
        x, h0, Wx, Wh, h = cache
        n, steps, _ = x.shape
        dx = np.zeros_like(x)
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
        carried = np.zeros_like(h0)
        db_sum = db_reduce == "sum"
        for t in (reversed(range(steps)) if order == "backward" else range(steps)):
            h_prev = h[:, t - 1] if t > 0 else h0
            total = dh[:, t] + (carried if carry else 0.0)
            local = {"1-h^2": 1 - h[:, t] ** 2, "1-h": 1 - h[:, t], "1-tanh(h)^2": 1 - np.tanh(h[:, t]) ** 2}[derivative]
            da = total * local
            dx[:, t] = da @ Wx.T
            step_dWx = x[:, t].T @ da
            step_dWh = (h_prev if dWh_uses == "h_prev" else h[:, t]).T @ da
            if accumulate:
                dWx, dWh, db = dWx + step_dWx, dWh + step_dWh, db + (da.sum(axis=0) if db_sum else da.mean(axis=0))
            else:
                dWx, dWh, db = step_dWx, step_dWh, da.sum(axis=0)
            carried = da @ (Wh.T if carry_matrix == "Wh.T" else Wh)
            first_total = total
        dh0 = carried if dh0_is == "delta Wh.T" else first_total
        return dx, dh0, dWx, dWh, db
    return backward


# --- classic mistakes of clip_by_global_norm ---

def _clip_each_separately(grads, max_norm):
    return [g * min(1.0, max_norm / np.linalg.norm(g)) if np.linalg.norm(g) > 0 else g for g in grads]


def _clip_always_rescaled(grads, max_norm):
    norm = ref.global_norm(grads)
    return [g * (max_norm / norm) for g in grads]


def _clip_sum_of_norms(grads, max_norm):
    total = sum(np.linalg.norm(g) for g in grads)
    return [g * min(1.0, max_norm / total) for g in grads]


def _clip_by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def _clip_l1_norm(grads, max_norm):
    norm = sum(np.sum(np.abs(g)) for g in grads)
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]


def _clip_largest_array_norm(grads, max_norm):
    norm = max(np.linalg.norm(g) for g in grads)
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]


def _clip_inverted_ratio(grads, max_norm):
    norm = ref.global_norm(grads)
    return [g * (norm / max_norm) if norm > max_norm else g for g in grads]


# --- cases ---

def _forward_visible():
    rng = np.random.default_rng(5)
    return [
        Case("N=2 sequences, T=3 steps, D=4, H=5", _rnn_inputs(rng, 2, 3, 4, 5)),
        Case("one sequence, one step (T=1)", _rnn_inputs(rng, 1, 1, 3, 2)),
        Case("h0 = 0, T=4 steps, D=1, H=3",
             (rng.standard_normal((2, 4, 1)), np.zeros((2, 3)), rng.standard_normal((1, 3)),
              0.5 * rng.standard_normal((3, 3)), np.zeros(3))),
    ]


def _forward_hidden(rng):
    return [
        Case("N=1, T=7, D=2, H=6", _rnn_inputs(rng, 1, 7, 2, 6)),
        Case("T=1, H != D", _rnn_inputs(rng, 3, 1, 5, 2)),
        Case("large inputs that saturate tanh", _rnn_inputs(rng, 2, 5, 3, 4, scale=3.0)),
        Case("a square problem (D = H) with a non-symmetric Wh", _rnn_inputs(rng, 2, 6, 4, 4)),
        Case("a longer sequence, T=20", _rnn_inputs(rng, 3, 20, 3, 5)),
    ]


def _backward_visible():
    rng = np.random.default_rng(6)
    return [
        _backward_case("N=2, T=3, D=4, H=5, a gradient at every step", rng, 2, 3, 4, 5),
        _backward_case("a gradient at the last step only: it must travel back to every step",
                       rng, 2, 4, 3, 3, dh=_only_at(3, rng, 2, 4, 3)),
        _backward_case("one sequence, one step (T=1)", rng, 1, 1, 2, 3),
    ]


def _backward_hidden(rng):
    return [
        _backward_case("N=1, T=6, D=2, H=4", rng, 1, 6, 2, 4),
        _backward_case("T=1, H != D", rng, 3, 1, 5, 2),
        _backward_case("a zero upstream gradient (every gradient is zero)", rng, 2, 4, 3, 3, dh=np.zeros((2, 4, 3))),
        _backward_case("a gradient at the first step only", rng, 2, 5, 2, 3, dh=_only_at(0, rng, 2, 5, 3)),
        _backward_case("a gradient at the last step only, T=8", rng, 2, 8, 3, 4, dh=_only_at(7, rng, 2, 8, 4)),
        _backward_case("large inputs that saturate tanh", rng, 2, 5, 3, 4, scale=3.0),
        _backward_case("a longer sequence, T=15, N=3", rng, 3, 15, 4, 6),
    ]


def _clip_visible():
    return [
        Case("global norm 13 (entries 3, 4 and 12) clipped to 1.3",
             ([np.array([3.0, 4.0]), np.array([[12.0]]), np.zeros(3)], 1.3)),
        Case("global norm 13 below max_norm 20: unchanged", ([np.array([3.0, 4.0]), np.array([[12.0]])], 20.0)),
    ]


def _clip_hidden(rng):
    def grads(*shapes, scale=1.0):
        return [scale * rng.standard_normal(shape) for shape in shapes]

    big = grads((4, 5), (5, 5), (5,), scale=10.0)
    small = grads((3, 3), (3,), scale=0.01)
    return [
        Case("RNN-shaped gradients far above max_norm", (big, 2.5)),
        Case("gradients whose every array is below max_norm but their global norm is above",
             ([np.full(4, 0.4), np.full(4, 0.4), np.full(4, 0.4)], 1.0)),
        Case("gradients well below max_norm: unchanged", (small, 1.0)),
        Case("one array", (grads((2, 3), scale=5.0), 1.0)),
        Case("all-zero gradients", ([np.zeros((2, 2)), np.zeros(3)], 1.0)),
        Case("a global norm exactly at max_norm", ([np.array([0.6]), np.array([0.8])], 1.0)),
        Case("a large max_norm and entries beyond it", ([np.array([30.0, -40.0]), np.array([0.5])], 45.0)),
    ]


CASE_SETS = (
    CaseSet(
        "rnn_forward", ref.rnn_forward, _forward_visible, _forward_hidden, output_names=("h", "cache"),
        mistakes=(
            Mistake("used h0 at every step instead of the previous step's hidden state", _forward_h0_every_step),
            Mistake("forgot the tanh", _forward_without_tanh),
            Mistake("multiplied by Wh transposed: the previous state enters as h_prev @ Wh", _forward_wh_transposed),
            Mistake("used a sigmoid where the cell uses tanh", _forward_sigmoid),
            Mistake("added b after the tanh; it goes inside: tanh(x_t Wx + h_prev Wh + b)", _forward_bias_outside_tanh),
            Mistake("the loop starts at t = 1 (range(1, T)): step 0 is never computed, and step 1 reads h0",
                    _forward_from_step_one),
            Mistake("h[:, t] holds the state before step t (h_{t-1}); it must hold the new state h_t",
                    _forward_stores_previous_state),
            Mistake("the cache holds h[:, 0] where the initial state h0 goes: cache = (x, h0, Wx, Wh, h)",
                    _forward_cache_h_unchanged_but_h0_replaced),
        ),
        members={"cache": ("x", "h0", "Wx", "Wh", "h")}, steps={"h": (1, "time step")},
    ),
    CaseSet(
        "rnn_backward", ref.rnn_backward, _backward_visible, _backward_hidden,
        output_names=("dx", "dh0", "dWx", "dWh", "db"),
        mistakes=(
            Mistake("did not carry the gradient from step t+1 into step t: the total gradient of h_t is "
                    "dh[:, t] + (the gradient coming back from step t+1)", _backward_with(carry=False)),
            Mistake("used 1 - h for the derivative of tanh; it is 1 - h**2", _backward_with(derivative="1-h")),
            Mistake("computed tanh'(a) as 1 - tanh(h)**2: h is already tanh(a), so it is 1 - h**2",
                    _backward_with(derivative="1-tanh(h)^2")),
            Mistake("used h_t instead of h_{t-1} in dWh (the step-t pre-activation reads the previous state)",
                    _backward_with(dWh_uses="h_t")),
            Mistake("kept only one step's weight gradients: dWx, dWh and db must be summed over every step",
                    _backward_with(accumulate=False)),
            Mistake("carried the gradient back through Wh; it goes back through Wh.T", _backward_with(carry_matrix="Wh")),
            Mistake("returned the gradient of the first state h[:, 0] as dh0; dh0 is one step further back "
                    "(through tanh and Wh.T)", _backward_with(dh0_is="total at step 0")),
            Mistake("looped forwards in time; back-propagation runs t = T-1 down to 0, so that step t+1's gradient "
                    "is known when step t needs it", _backward_with(order="forward")),
            Mistake("averaged db over the batch; like dWx and dWh it is a sum over the examples",
                    _backward_with(db_reduce="mean")),
        ),
        steps={"dx": (1, "time step")},
    ),
    CaseSet(
        "clip_by_global_norm", ref.clip_by_global_norm, _clip_visible, _clip_hidden,
        mistakes=(
            Mistake("clipped each array by its own norm: one common factor must scale them all", _clip_each_separately),
            Mistake("rescaled to max_norm even when the global norm was already below it", _clip_always_rescaled),
            Mistake("used the sum of the arrays' norms; the global norm is the square root of the sum of squares",
                    _clip_sum_of_norms),
            Mistake("clipped each entry to [-max_norm, max_norm] (clipping by value, not by norm)", _clip_by_value),
            Mistake("multiplied by norm / max_norm; the factor is max_norm / norm", _clip_inverted_ratio),
            Mistake("used the L1 norm (sum of absolute values); the global norm is the L2 norm, "
                    "sqrt of the sum of squares", _clip_l1_norm),
            Mistake("used the largest array's norm; the global norm takes every entry of every array together",
                    _clip_largest_array_norm),
        ),
    ),
)


#: The scalar recurrences of the numeric questions.
LINEAR_WEIGHT, LINEAR_STEPS = 0.9, 20
TANH_WEIGHT, TANH_H0, TANH_STEPS = 1.5, 0.5, 3


def _tanh_gradient_factor():
    """d h_2 / d h_{-1} for h_t = tanh(1.5 h_{t-1}), h_{-1} = 0.5 (three steps): back-propagate a 1 from the last."""
    weights = np.array([[TANH_WEIGHT]])
    h, cache = ref.rnn_forward(np.zeros((1, TANH_STEPS, 1)), np.array([[TANH_H0]]), np.zeros((1, 1)), weights,
                               np.zeros(1))
    dh = np.zeros_like(h)
    dh[0, -1, 0] = 1.0
    return float(ref.rnn_backward(dh, cache)[1][0, 0])


ANSWERS = (
    Answer("linear_gradient_factor", lambda: LINEAR_WEIGHT ** LINEAR_STEPS, atol=5e-4,
           hint="Each step back multiplies the gradient by the derivative of h_t with respect to h_{t-1}."),
    Answer("tanh_gradient_factor", _tanh_gradient_factor, atol=5e-4,
           hint="Compute h_0, h_1, h_2 first; each step back multiplies by w (1 - h_t**2) at that step's h_t."),
)

STUDENT_MISTAKES = (
    StudentMistake("rnn_forward", "h0 fed to every step", '''
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]))
    for t in range(T):
        h[:, t] = np.tanh(x[:, t] @ Wx + h0 @ Wh + b)
    return h, (x, h0, Wx, Wh, h)
''', ("rnn_forward",)),
    StudentMistake("rnn_backward", "gradient from the next step not carried", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0
        da = dh[:, t] * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_prev = da @ Wh.T
    return dx, dh_prev, dWx, dWh, db
''', ("rnn_backward",)),
    StudentMistake("rnn_backward", "1 - h for the derivative of tanh", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + dh_next) * (1 - h[:, t])
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
''', ("rnn_backward",)),
    StudentMistake("rnn_backward", "dWh from h_t instead of h_{t-1}", '''
def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        da = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h[:, t].T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
''', ("rnn_backward",)),
    StudentMistake("clip_by_global_norm", "each array clipped separately", '''
def clip_by_global_norm(grads, max_norm):
    clipped = []
    for g in grads:
        norm = np.sqrt(np.sum(g ** 2))
        clipped.append(g * min(1.0, max_norm / norm) if norm > 0 else g.copy())
    return clipped
''', ("clip_by_global_norm",)),
    StudentMistake("gradient_factors", "tanh derivative left out of the product", '''
linear_gradient_factor = 0.9 ** 20
tanh_gradient_factor = 1.5 ** 3
''', ("tanh_gradient_factor",)),
)
