"""Chapter 5: the RNN forward pass, back-propagation through time, clipping, and their cases."""

import numpy as np
import pytest

from autograder import bptt
from autograder.cases import bptt as cases
from autograder.chain_rule import numerical_jacobian
from autograder.checking import check_answer

SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 5, 2, 3), (1, 6, 3, 3), (2, 2, 5, 1)]


def _relative_error(numerical, analytic):
    scale = max(np.max(np.abs(numerical)), np.max(np.abs(analytic)), 1e-12)
    return np.max(np.abs(numerical - analytic)) / scale


def _random_problem(n, steps, d, h, seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((n, steps, d)), scale * rng.standard_normal((n, h)),
              scale * rng.standard_normal((d, h)), scale * rng.standard_normal((h, h)), scale * rng.standard_normal(h)]
    return inputs, rng.standard_normal((n, steps, h))


@pytest.mark.parametrize("n, steps, d, h", SHAPES)
def test_rnn_backward_agrees_with_finite_differences(n, steps, d, h):
    inputs, dh = _random_problem(n, steps, d, h)
    _, cache = bptt.rnn_forward(*inputs)
    analytic = bptt.rnn_backward(dh, cache)
    for index, (name, gradient) in enumerate(zip(("x", "h0", "Wx", "Wh", "b"), analytic)):
        def loss(value, index=index):
            changed = list(inputs)
            changed[index] = value
            return np.sum(bptt.rnn_forward(*changed)[0] * dh)

        numerical = numerical_jacobian(loss, inputs[index])
        assert gradient.shape == inputs[index].shape, name
        assert _relative_error(numerical, gradient) < 1e-6, name


def test_rnn_forward_agrees_with_scalar_loops():
    inputs, _ = _random_problem(2, 4, 3, 2, seed=1)
    x, h0, Wx, Wh, b = inputs
    h, _ = bptt.rnn_forward(*inputs)
    for n in range(2):
        state = list(h0[n])
        for t in range(4):
            state = [np.tanh(sum(x[n, t, k] * Wx[k, j] for k in range(3)) + sum(state[i] * Wh[i, j] for i in range(2))
                             + b[j]) for j in range(2)]
            assert np.allclose(h[n, t], state, rtol=1e-12, atol=1e-14)


def test_rnn_forward_returns_the_documented_cache_and_leaves_inputs_alone():
    inputs, _ = _random_problem(2, 3, 4, 5)
    kept = [a.copy() for a in inputs]
    h, cache = bptt.rnn_forward(*inputs)
    assert h.shape == (2, 3, 5)
    for expected, stored in zip(kept[:4] + [h], cache):
        assert np.array_equal(expected, stored)
    for before, after in zip(kept, inputs):
        assert np.array_equal(before, after)


def test_gradient_at_the_last_step_reaches_every_earlier_state():
    inputs, _ = _random_problem(1, 5, 2, 3)
    h, cache = bptt.rnn_forward(*inputs)
    dh = np.zeros_like(h)
    dh[:, -1] = 1.0
    total = bptt.hidden_state_gradients(dh, cache)
    assert np.all(np.linalg.norm(total[0], axis=-1) > 0)
    assert np.array_equal(total[:, -1], dh[:, -1])
    expected = (total[:, 3] * (1 - h[:, 3] ** 2)) @ inputs[3].T
    assert np.allclose(total[:, 2], expected)


def test_truncated_backward_equals_chunked_forward_and_backward():
    inputs, dh = _random_problem(2, 7, 3, 4, seed=2)
    x, h0, Wx, Wh, b = inputs
    _, cache = bptt.rnn_forward(*inputs)
    truncated = bptt.truncated_rnn_backward(dh, cache, window=3)
    # Independent computation: run each window on its own, its initial state detached from the past.
    summed = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    state = h0
    for start in range(0, 7, 3):
        window = slice(start, start + 3)
        h, window_cache = bptt.rnn_forward(x[:, window], state, Wx, Wh, b)
        dx, dh0, dWx, dWh, db = bptt.rnn_backward(dh[:, window], window_cache)
        assert np.allclose(truncated[0][:, window], dx)
        if start == 0:
            assert np.allclose(truncated[1], dh0)
        summed = [s + g for s, g in zip(summed, (dWx, dWh, db))]
        state = h[:, -1]
    for expected, got in zip(summed, truncated[2:]):
        assert np.allclose(expected, got)


def test_truncation_longer_than_the_sequence_changes_nothing():
    inputs, dh = _random_problem(2, 4, 3, 3)
    _, cache = bptt.rnn_forward(*inputs)
    for full, truncated in zip(bptt.rnn_backward(dh, cache), bptt.truncated_rnn_backward(dh, cache, window=4)):
        assert np.array_equal(full, truncated)
    one_step = bptt.hidden_state_gradients(dh, cache, window=1)
    assert np.array_equal(one_step, dh)


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.2])
def test_gradient_norm_scales_by_the_spectral_radius_in_the_linear_regime(radius):
    norms = bptt.gradient_norms_through_time(radius, hidden_size=8, n_steps=12, input_scale=1e-7)
    assert np.allclose(norms[:-1] / norms[1:], radius, rtol=1e-6)


def test_saturation_makes_gradients_shrink_faster_than_the_radius():
    small = bptt.gradient_norms_through_time(1.0, n_steps=30, input_scale=0.01)
    large = bptt.gradient_norms_through_time(1.0, n_steps=30, input_scale=1.0)
    assert small[0] / small[-1] > 0.5
    assert large[0] / large[-1] < 1e-3


def test_scaled_orthogonal_has_every_singular_value_equal_to_the_radius():
    matrix = bptt.scaled_orthogonal(6, 1.3, np.random.default_rng(0))
    assert np.allclose(np.linalg.svd(matrix, compute_uv=False), 1.3)
    assert np.allclose(np.abs(np.linalg.eigvals(matrix)), 1.3)


def test_clip_scales_every_array_by_one_factor_to_max_norm():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]]), np.zeros(3)]
    kept = [g.copy() for g in grads]
    clipped = bptt.clip_by_global_norm(grads, 1.0)
    assert bptt.global_norm(clipped) == pytest.approx(1.0)
    assert np.allclose(clipped[0], [0.6, 0.0]) and np.allclose(clipped[1], [[0.8]])
    assert [g.shape for g in clipped] == [g.shape for g in grads]
    for before, after in zip(kept, grads):
        assert np.array_equal(before, after)


def test_clip_leaves_small_and_zero_gradients_unchanged():
    small = [np.array([0.1, -0.2]), np.array([0.3])]
    assert all(np.array_equal(a, b) for a, b in zip(bptt.clip_by_global_norm(small, 1.0), small))
    zeros = bptt.clip_by_global_norm([np.zeros((2, 2))], 1.0)
    assert np.array_equal(zeros[0], np.zeros((2, 2)))


def test_clip_preserves_the_direction_of_the_whole_update():
    rng = np.random.default_rng(3)
    grads = [10 * rng.standard_normal((3, 4)), 10 * rng.standard_normal(4)]
    clipped = bptt.clip_by_global_norm(grads, 2.0)
    flat, flat_clipped = np.concatenate([g.ravel() for g in grads]), np.concatenate([g.ravel() for g in clipped])
    assert np.allclose(flat_clipped * (bptt.global_norm(grads) / 2.0), flat)


@pytest.mark.parametrize("call, words", [
    (lambda: bptt.rnn_forward(np.zeros((2, 3, 4)), np.zeros((2, 5)), np.zeros((4, 5)), np.zeros((5, 4)),
                              np.zeros(5)), ["rnn_forward", "`Wh`", "(5, 5)", "(5, 4)"]),
    (lambda: bptt.rnn_forward(np.zeros((3, 4)), np.zeros((2, 5)), np.zeros((4, 5)), np.zeros((5, 5)),
                              np.zeros(5)), ["`x`", "3 dimensions", "(3, 4)"]),
    (lambda: bptt.rnn_backward(np.zeros((2, 3, 4)), bptt.rnn_forward(np.zeros((2, 3, 1)), np.zeros((2, 5)),
                                                                     np.zeros((1, 5)), np.zeros((5, 5)),
                                                                     np.zeros(5))[1]),
     ["rnn_backward", "`dh`", "(2, 3, 5)", "(2, 3, 4)"]),
    (lambda: bptt.rnn_backward(np.zeros((1, 1, 1)), {"h": 0}), ["rnn_backward", "`cache`"]),
    (lambda: bptt.clip_by_global_norm([np.ones(2)], 0.0), ["clip_by_global_norm", "`max_norm`"]),
    (lambda: bptt.clip_by_global_norm(np.ones(2), 1.0), ["clip_by_global_norm", "`grads`", "list"]),
])
def test_bad_input_gets_a_message_naming_the_argument_and_shapes(call, words):
    with pytest.raises(ValueError) as error:
        call()
    for word in words:
        assert word in str(error.value)


def test_model_gradients_agree_with_finite_differences():
    rng = np.random.default_rng(4)
    params = bptt.init_rnn_model(2, 3, 2, rng)
    x, y = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 2))
    for window in (None, 2):
        _, grads = bptt.rnn_model_loss(params, x, y, bptt.mean_squared_error, window)
        for name in ("Wy", "by") if window else params:
            def loss(value, name=name):
                return bptt.rnn_model_loss({**params, name: value}, x, y, bptt.mean_squared_error)[0]

            assert _relative_error(numerical_jacobian(loss, params[name]), grads[name]) < 1e-6, name


def test_training_on_the_echo_task_lowers_the_loss_and_keeps_the_initial_parameters():
    rng = np.random.default_rng(0)
    params = bptt.init_rnn_model(1, 8, 1, rng)
    kept = {name: value.copy() for name, value in params.items()}
    trained, losses = bptt.train_rnn_model(params, lambda r: bptt.echo_task(16, 10, 2, r), bptt.mean_squared_error,
                                           n_steps=150, lr=0.5, max_norm=1.0, seed=1)
    assert losses.shape == (150,)
    assert losses[-20:].mean() < 0.5 * losses[:20].mean()
    assert all(np.array_equal(kept[name], params[name]) for name in params)


def test_echo_task_targets_are_the_delayed_inputs():
    x, y = bptt.echo_task(3, 6, 2, np.random.default_rng(0))
    assert np.array_equal(y[:, 2:], x[:, :4]) and np.all(y[:, :2] == 0)


# --- the cases module ---


def test_hidden_cases_cover_the_edge_cases():
    labels = {name: " / ".join(case.label for case in cases_of.hidden_cases(0))
              for name, cases_of in ((c.name, c) for c in cases.CASE_SETS)}
    assert "T=1" in labels["rnn_forward"] and "N=1" in labels["rnn_forward"] and "H != D" in labels["rnn_forward"]
    assert "zero upstream gradient" in labels["rnn_backward"]
    assert "below max_norm: unchanged" in labels["clip_by_global_norm"]


def test_answers_are_the_gradient_factors_of_the_scalar_recurrences():
    answers = {answer.name: answer.expected() for answer in cases.ANSWERS}
    assert answers["linear_gradient_factor"] == pytest.approx(0.9 ** 20)
    h1 = np.tanh(1.5 * 0.5)
    h2 = np.tanh(1.5 * h1)
    h3 = np.tanh(1.5 * h2)
    assert answers["tanh_gradient_factor"] == pytest.approx(1.5 ** 3 * (1 - h1 ** 2) * (1 - h2 ** 2) * (1 - h3 ** 2))
    check_answer(answers["tanh_gradient_factor"], "tanh_gradient_factor", hidden=True)
