"""Chapter 6: the RNN step, the LSTM step, the sequence loss, and their cases."""

import math

import numpy as np
import pytest

from autograder import bptt, rnn
from autograder.cases import rnn as cases
from autograder.chain_rule import numerical_jacobian
from autograder.checking import check_answer
from autograder.softmax import cross_entropy_loss_and_grad


def _lstm_problem(n, d, h, seed=0, scale=0.7):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)), scale * rng.standard_normal((n, h)), rng.standard_normal((n, h)),
            scale * rng.standard_normal((d, 4 * h)), scale * rng.standard_normal((h, 4 * h)),
            scale * rng.standard_normal(4 * h))


@pytest.mark.parametrize("n, steps, d, h", [(1, 1, 1, 1), (2, 5, 3, 4), (3, 4, 4, 2)])
def test_rnn_steps_reproduce_rnn_forward(n, steps, d, h):
    rng = np.random.default_rng(steps)
    x, h0 = rng.standard_normal((n, steps, d)), rng.standard_normal((n, h))
    Wx, Wh, b = rng.standard_normal((d, h)), 0.5 * rng.standard_normal((h, h)), rng.standard_normal(h)
    states, _ = bptt.rnn_forward(x, h0, Wx, Wh, b)
    state = h0
    for t in range(steps):
        state = rnn.rnn_step_forward(x[:, t], state, Wx, Wh, b)
        assert np.array_equal(state, states[:, t])


def _lstm_step_by_scalar_loops(x, h_prev, c_prev, Wx, Wh, b):
    """The LSTM step unit by unit with the math module: an independent reading of the contract."""
    n, d = x.shape
    hidden = h_prev.shape[1]
    h_next, c_next = np.empty((n, hidden)), np.empty((n, hidden))
    for row in range(n):
        for unit in range(hidden):
            def pre(block):
                column = block * hidden + unit
                return (sum(x[row, k] * Wx[k, column] for k in range(d))
                        + sum(h_prev[row, k] * Wh[k, column] for k in range(hidden)) + b[column])

            i, f, o = (1 / (1 + math.exp(-pre(block))) for block in (0, 1, 2))
            g = math.tanh(pre(3))
            c_next[row, unit] = f * c_prev[row, unit] + i * g
            h_next[row, unit] = o * math.tanh(c_next[row, unit])
    return h_next, c_next


@pytest.mark.parametrize("n, d, h", [(1, 1, 1), (2, 3, 4), (3, 5, 2)])
def test_lstm_step_agrees_with_scalar_loops(n, d, h):
    problem = _lstm_problem(n, d, h, seed=n + d + h)
    kept = [a.copy() for a in problem]
    h_next, c_next = rnn.lstm_step_forward(*problem)
    expected_h, expected_c = _lstm_step_by_scalar_loops(*problem)
    assert np.allclose(h_next, expected_h, rtol=1e-12, atol=1e-14)
    assert np.allclose(c_next, expected_c, rtol=1e-12, atol=1e-14)
    assert all(np.array_equal(before, after) for before, after in zip(kept, problem))


def test_lstm_gates_do_what_their_names_say():
    x, h_prev, c_prev, Wx, Wh, _ = _lstm_problem(2, 3, 2)
    hidden = 2

    def bias(input_gate, forget_gate, output_gate):
        return np.concatenate([np.full(hidden, input_gate), np.full(hidden, forget_gate), np.full(hidden, output_gate),
                               np.zeros(hidden)])

    zero = (np.zeros_like(Wx), np.zeros_like(Wh))
    # Input gate shut, forget gate open: the memory passes unchanged.
    _, kept = rnn.lstm_step_forward(x, h_prev, c_prev, *zero, bias(-800, 800, 0))
    assert np.allclose(kept, c_prev)
    # Forget gate shut, input gate open: the memory is the candidate tanh(0) = 0.
    _, replaced = rnn.lstm_step_forward(x, h_prev, c_prev, *zero, bias(800, -800, 0))
    assert np.allclose(replaced, 0.0)
    # Output gate shut: nothing is shown, whatever the memory.
    hidden_state, _ = rnn.lstm_step_forward(x, h_prev, c_prev, Wx, Wh, bias(0, 0, -800))
    assert np.allclose(hidden_state, 0.0)


def test_lstm_forward_runs_the_step_over_time():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 3))
    _, h0, c0, Wx, Wh, b = _lstm_problem(2, 3, 2)
    h, c = rnn.lstm_forward(x, h0, c0, Wx, Wh, b)
    state, memory = h0, c0
    for t in range(4):
        state, memory = rnn.lstm_step_forward(x[:, t], state, memory, Wx, Wh, b)
        assert np.array_equal(h[:, t], state) and np.array_equal(c[:, t], memory)


def test_sequence_cross_entropy_against_loops_and_finite_differences():
    rng = np.random.default_rng(2)
    scores, y = rng.standard_normal((3, 4, 5)), rng.integers(0, 5, size=(3, 4))
    loss, dscores = rnn.sequence_cross_entropy(scores, y)
    by_loops = -sum(scores[n, t, y[n, t]] - math.log(sum(math.exp(s) for s in scores[n, t]))
                    for n in range(3) for t in range(4)) / 3
    assert loss == pytest.approx(by_loops, rel=1e-12)
    numerical = numerical_jacobian(lambda s: rnn.sequence_cross_entropy(s, y)[0], scores)
    assert np.max(np.abs(numerical - dscores)) / np.max(np.abs(dscores)) < 1e-6


def test_sequence_cross_entropy_is_the_per_step_loss_summed_over_time():
    rng = np.random.default_rng(3)
    scores, y = rng.standard_normal((2, 3, 4)) + 1e4, rng.integers(0, 4, size=(2, 3))
    loss, _ = rnn.sequence_cross_entropy(scores, y)
    per_step = sum(cross_entropy_loss_and_grad(scores[:, t], y[:, t])[0] for t in range(3))
    assert np.isfinite(loss) and loss == pytest.approx(per_step)


@pytest.mark.parametrize("call, words", [
    (lambda: rnn.rnn_step_forward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((3, 5)), np.zeros((4, 4)),
                                  np.zeros(4)), ["rnn_step_forward", "`Wx`", "(3, 4)", "(3, 5)"]),
    (lambda: rnn.lstm_step_forward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 16)),
                                   np.zeros((4, 12)), np.zeros(16)), ["lstm_step_forward", "`Wh`", "(4, 16)", "(4, 12)"]),
    (lambda: rnn.lstm_step_forward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((1, 4)), np.zeros((3, 16)),
                                   np.zeros((4, 16)), np.zeros(16)), ["`c_prev`", "(2, 4)", "(1, 4)"]),
    (lambda: rnn.sequence_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 2), dtype=int)),
     ["sequence_cross_entropy", "`y`", "(2, 3)", "(2, 2)"]),
    (lambda: rnn.sequence_cross_entropy(np.zeros((2, 3, 4)), np.full((2, 3), 4)), ["`y`", "[0, 4)"]),
])
def test_bad_input_gets_a_message_naming_the_argument_and_shapes(call, words):
    with pytest.raises(ValueError) as error:
        call()
    for word in words:
        assert word in str(error.value)


def test_counting_task_labels_the_running_count():
    x, y = rnn.counting_task(4, 9, 3, np.random.default_rng(0))
    bits = x.argmax(axis=-1)
    assert x.shape == (4, 9, 2) and np.all(x.sum(axis=-1) == 1)
    assert np.array_equal(y, np.cumsum(bits, axis=1) % 3)


def test_perturbation_through_time_measures_a_known_decay():
    decay = 0.5 ** np.arange(6)

    def forward(x):
        return x[:, :1] * decay[np.newaxis, :, np.newaxis]

    norms = rnn.perturbation_through_time(forward, np.random.default_rng(0).standard_normal((3, 6, 4)))
    assert np.allclose(norms, decay, rtol=1e-6)


def test_a_small_rnn_learns_to_count_modulo_3():
    rng = np.random.default_rng(0)
    params = bptt.init_rnn_model(2, 12, 3, rng)
    trained, losses = bptt.train_rnn_model(params, lambda r: rnn.counting_task(32, 12, 3, r),
                                           rnn.sequence_cross_entropy, n_steps=250, lr=0.1, max_norm=5.0, seed=1)
    x, y = rnn.counting_task(50, 30, 3, np.random.default_rng(9))
    h, _ = bptt.rnn_forward(x, np.zeros((50, 12)), trained["Wx"], trained["Wh"], trained["b"])
    accuracy = np.mean((h @ trained["Wy"] + trained["by"]).argmax(axis=-1) == y)
    assert losses[-10:].mean() < 0.1 * losses[:10].mean()
    assert accuracy > 0.95


# --- the cases module ---


def test_answers():
    answers = {answer.name: answer.expected() for answer in cases.ANSWERS}
    assert answers["lstm_parameter_count"] == 4 * 20 * (10 + 20 + 1)
    assert answers["memory_after_10_steps"] == pytest.approx((1 / (1 + math.exp(-2.0))) ** 10)
    check_answer(2480, "lstm_parameter_count", hidden=True)
