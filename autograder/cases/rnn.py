"""Cases of chapter 6: one RNN step, one LSTM step, cross-entropy over a sequence."""

import numpy as np

from autograder import rnn as ref
from autograder.cases import StudentMistake
from autograder.chain_rule import sigmoid
from autograder.checking import Answer, Case, CaseSet, Mistake
from autograder.softmax import log_softmax, softmax


def _step_inputs(rng, n, d, h, scale=0.5):
    """``(x, h_prev, Wx, Wh, b)`` of one RNN step."""
    return (rng.standard_normal((n, d)), scale * rng.standard_normal((n, h)), scale * rng.standard_normal((d, h)),
            scale * rng.standard_normal((h, h)), scale * rng.standard_normal(h))


def _lstm_inputs(rng, n, d, h, scale=0.5):
    """``(x, h_prev, c_prev, Wx, Wh, b)`` of one LSTM step."""
    return (rng.standard_normal((n, d)), scale * rng.standard_normal((n, h)), rng.standard_normal((n, h)),
            scale * rng.standard_normal((d, 4 * h)), scale * rng.standard_normal((h, 4 * h)),
            scale * rng.standard_normal(4 * h))


def _sequence_scores(rng, n, steps, classes, scale=2.0, offset=0.0):
    return offset + scale * rng.standard_normal((n, steps, classes)), rng.integers(0, classes, size=(n, steps))


# --- classic mistakes of rnn_step_forward ---

def _step_without_tanh(x, h_prev, Wx, Wh, b):
    return x @ Wx + h_prev @ Wh + b


def _step_wh_transposed(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh.T + b)


def _step_weights_swapped(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wh + h_prev @ Wx + b)


def _step_sigmoid(x, h_prev, Wx, Wh, b):
    return sigmoid(x @ Wx + h_prev @ Wh + b)


def _step_bias_outside_tanh(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh) + b


def _step_relu(x, h_prev, Wx, Wh, b):
    return np.maximum(0.0, x @ Wx + h_prev @ Wh + b)


# --- classic mistakes of lstm_step_forward: the right gates, wrongly wired ---

def _lstm_with(order=ref.LSTM_GATES, *, forget=True, squash_cell=True, candidate_tanh=True, shown_cell="c_next",
               input_gate=True, gate=sigmoid, forget_as="f", tanh_outside_o=False, interleaved=False):
    def step(x, h_prev, c_prev, Wx, Wh, b):
        a = x @ Wx + h_prev @ Wh + b
        blocks = dict(zip(order, np.split(a, 4, axis=1) if not interleaved
                          else np.moveaxis(a.reshape(len(a), -1, 4), 2, 0)))
        i, f, o = gate(blocks["input"]), gate(blocks["forget"]), gate(blocks["output"])
        g = np.tanh(blocks["candidate"]) if candidate_tanh else sigmoid(blocks["candidate"])
        kept = f if forget_as == "f" else 1.0 - f
        c_next = (kept * c_prev if forget else 0.0) + (i * g if input_gate else g)
        shown = c_next if shown_cell == "c_next" else c_prev
        if tanh_outside_o:
            return np.tanh(o * shown), c_next
        return o * (np.tanh(shown) if squash_cell else shown), c_next
    return step


# --- classic mistakes of sequence_cross_entropy ---

def _sequence_mean_over_time(scores, y):
    loss, dscores = ref.sequence_cross_entropy(scores, y)
    steps = np.shape(scores)[1]
    return loss / steps, dscores / steps


def _sequence_summed_over_batch(scores, y):
    loss, dscores = ref.sequence_cross_entropy(scores, y)
    n = np.shape(scores)[0]
    return loss * n, dscores * n


def _sequence_gradient_not_averaged(scores, y):
    loss, dscores = ref.sequence_cross_entropy(scores, y)
    return loss, dscores * np.shape(scores)[0]


def _sequence_gradient_without_onehot(scores, y):
    loss, _ = ref.sequence_cross_entropy(scores, y)
    return loss, softmax(scores) / np.shape(scores)[0]


def _sequence_softmax_over_time(scores, y):
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    onehot = np.eye(scores.shape[2])[y]
    loss = -np.sum(log_softmax(scores, axis=1) * onehot) / n
    return float(loss), (softmax(scores, axis=1) - onehot) / n


# --- cases ---

def _step_visible():
    rng = np.random.default_rng(7)
    return [
        Case("N=2, D=3, H=4", _step_inputs(rng, 2, 3, 4)),
        Case("one example, h_prev = 0", (rng.standard_normal((1, 2)), np.zeros((1, 3)),
                                         rng.standard_normal((2, 3)), rng.standard_normal((3, 3)), np.zeros(3))),
    ]


def _step_hidden(rng):
    return [
        Case("N=1, H != D", _step_inputs(rng, 1, 5, 2)),
        Case("a square problem (D = H) with a non-symmetric Wh", _step_inputs(rng, 3, 4, 4)),
        Case("large inputs that saturate tanh", _step_inputs(rng, 2, 3, 5, scale=4.0)),
        Case("a batch of 6, D=1, H=1", _step_inputs(rng, 6, 1, 1)),
    ]


def _lstm_visible():
    rng = np.random.default_rng(8)
    return [
        Case("N=2, D=3, H=4", _lstm_inputs(rng, 2, 3, 4)),
        Case("one example, H=1: z = [z_i, z_f, z_o, z_c] with one number each",
             (np.array([[1.0]]), np.array([[0.5]]), np.array([[2.0]]), np.array([[1.0, -1.0, 0.5, 2.0]]),
              np.array([[0.5, 0.5, -1.0, 1.0]]), np.array([0.0, 1.0, 0.0, -0.5]))),
    ]


def _lstm_hidden(rng):
    shut_forget = _lstm_inputs(rng, 2, 3, 3)
    closed = shut_forget[5].copy()
    closed[3:6] = -30.0
    return [
        Case("N=1, H != D", _lstm_inputs(rng, 1, 5, 2)),
        Case("a batch of 4, D=2, H=6", _lstm_inputs(rng, 4, 2, 6)),
        Case("a forget gate shut (bias -30): the old memory is dropped", shut_forget[:5] + (closed,)),
        Case("large pre-activations that saturate the gates", _lstm_inputs(rng, 2, 3, 4, scale=4.0)),
        Case("zero state (h_prev = c_prev = 0)", (rng.standard_normal((3, 2)), np.zeros((3, 5)), np.zeros((3, 5)))
             + _lstm_inputs(rng, 3, 2, 5)[3:]),
    ]


def _sequence_visible():
    return [
        Case("N=1 sequence, T=2 steps, C=3 classes",
             (np.array([[[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]]]), np.array([[0, 2]]))),
        Case("N=2 sequences, T=3 steps, C=2 classes", _sequence_scores(np.random.default_rng(9), 2, 3, 2)),
    ]


def _sequence_hidden(rng):
    return [
        Case("N=4, T=5, C=3", _sequence_scores(rng, 4, 5, 3)),
        Case("T=1", _sequence_scores(rng, 3, 1, 4)),
        Case("N=1, T=6, C=2", _sequence_scores(rng, 1, 6, 2)),
        Case("scores around 1e4", _sequence_scores(rng, 2, 3, 5, offset=1e4)),
        Case("more steps than classes and sequences, N=2, T=8, C=3", _sequence_scores(rng, 2, 8, 3)),
    ]


CASE_SETS = (
    CaseSet(
        "rnn_step_forward", ref.rnn_step_forward, _step_visible, _step_hidden,
        mistakes=(
            Mistake("forgot the tanh", _step_without_tanh),
            Mistake("multiplied by Wh transposed: the previous state enters as h_prev @ Wh", _step_wh_transposed),
            Mistake("swapped Wx and Wh: the input goes through Wx, the previous state through Wh",
                    _step_weights_swapped),
            Mistake("used a sigmoid where the cell uses tanh", _step_sigmoid),
            Mistake("added b after the tanh; it goes inside: tanh(x Wx + h_prev Wh + b)", _step_bias_outside_tanh),
            Mistake("used a ReLU where the cell uses tanh", _step_relu),
        ),
    ),
    CaseSet(
        "lstm_step_forward", ref.lstm_step_forward, _lstm_visible, _lstm_hidden, output_names=("h_next", "c_next"),
        mistakes=(
            Mistake("swapped the input and forget gates: the blocks of a are in the order i, f, o, g",
                    _lstm_with(order=("forget", "input", "output", "candidate"))),
            Mistake("swapped the output gate and the candidate (PyTorch's order i, f, g, o); "
                    "this course's blocks are in the order i, f, o, g",
                    _lstm_with(order=("input", "forget", "candidate", "output"))),
            Mistake("left out the forget gate: c_next = f * c_prev + i * g", _lstm_with(forget=False)),
            Mistake("forgot the tanh of the cell: h_next = o * tanh(c_next)", _lstm_with(squash_cell=False)),
            Mistake("used a sigmoid for the candidate g; it is a tanh", _lstm_with(candidate_tanh=False)),
            Mistake("computed h_next from the old memory c_prev; it is o * tanh(c_next)",
                    _lstm_with(shown_cell="c_prev")),
            Mistake("cut a into interleaved columns (reshape(N, H, 4)); the gates are four consecutive H-wide blocks "
                    "a[:, :H], a[:, H:2H], ...", _lstm_with(interleaved=True)),
            Mistake("left out the input gate: c_next = f * c_prev + i * g", _lstm_with(input_gate=False)),
            Mistake("used tanh for the gates i, f, o; gates are sigmoids (between 0 and 1)", _lstm_with(gate=np.tanh)),
            Mistake("kept (1 - f) of the old memory; the forget gate multiplies it directly: f * c_prev",
                    _lstm_with(forget_as="1-f")),
            Mistake("took tanh(o * c_next); the tanh comes first: h_next = o * tanh(c_next)",
                    _lstm_with(tanh_outside_o=True)),
        ),
    ),
    CaseSet(
        "sequence_cross_entropy", ref.sequence_cross_entropy, _sequence_visible, _sequence_hidden,
        output_names=("loss", "dscores"),
        exp_overflow=True,
        mistakes=(
            Mistake("averaged over the T steps too; the loss is summed over time and averaged over N only",
                    _sequence_mean_over_time),
            Mistake("summed over the N sequences instead of averaging", _sequence_summed_over_batch),
            Mistake("averaged the loss over N but not the gradient (divide dscores by N too)",
                    _sequence_gradient_not_averaged),
            Mistake("the gradient is missing the - onehot(y) term", _sequence_gradient_without_onehot),
            Mistake("took the softmax over the time axis; it is over the classes (the last axis)",
                    _sequence_softmax_over_time),
        ),
    ),
)


#: Sizes of the numeric questions.
QUESTION_INPUT_SIZE, QUESTION_HIDDEN_SIZE = 10, 20
FORGET_PREACTIVATION, MEMORY_STEPS = 2.0, 10


def _lstm_parameter_count():
    d, h = QUESTION_INPUT_SIZE, QUESTION_HIDDEN_SIZE
    shapes = [(d, 4 * h), (h, 4 * h), (4 * h,)]
    return sum(int(np.prod(shape)) for shape in shapes)


def _memory_after_steps():
    """c_9 of one LSTM unit with c_{-1} = 1, the input gate shut and z_f = 2 at each of the steps 0..9."""
    bias = np.array([-1e3, FORGET_PREACTIVATION, 0.0, 0.0])
    _, c = ref.lstm_forward(np.zeros((1, MEMORY_STEPS, 1)), np.zeros((1, 1)), np.ones((1, 1)),
                            np.zeros((1, 4)), np.zeros((1, 4)), bias)
    return float(c[0, -1, 0])


ANSWERS = (
    Answer("lstm_parameter_count", _lstm_parameter_count, atol=0.5,
           hint="Count the entries of Wx, Wh and b: each has four blocks, one per gate and one for the candidate."),
    Answer("memory_after_10_steps", _memory_after_steps, atol=5e-4,
           hint="With the input gate shut, each step multiplies the memory by the forget gate sigmoid(z_f)."),
)

STUDENT_MISTAKES = (
    StudentMistake("rnn_step_forward", "Wh transposed", '''
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return np.tanh(x @ Wx + h_prev @ Wh.T + b)
''', ("rnn_step_forward",)),
    StudentMistake("lstm_step_forward", "input and forget gates swapped", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    f = 1 / (1 + np.exp(-a[:, :H]))
    i = 1 / (1 + np.exp(-a[:, H:2 * H]))
    o = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next
''', ("lstm_step_forward",)),
    StudentMistake("lstm_step_forward", "memory cell without the forget gate", '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = 1 / (1 + np.exp(-a[:, :H]))
    o = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))
    g = np.tanh(a[:, 3 * H:])
    c_next = c_prev + i * g
    return o * np.tanh(c_next), c_next
''', ("lstm_step_forward",)),
    StudentMistake("sequence_cross_entropy", "averaged over time too", '''
def sequence_cross_entropy(scores, y):
    N, T, C = scores.shape
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
    loss = -log_p[n_idx, t_idx, y].mean()
    dscores = np.exp(log_p)
    dscores[n_idx, t_idx, y] -= 1
    return float(loss), dscores / (N * T)
''', ("sequence_cross_entropy",)),
    StudentMistake("lstm_questions", "the four blocks forgotten in the count", '''
lstm_parameter_count = 10 * 20 + 20 * 20 + 20
memory_after_10_steps = float((1 / (1 + np.exp(-2.0))) ** 10)
''', ("lstm_parameter_count",)),
)
