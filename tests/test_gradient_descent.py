"""The reference functions of chapter 2 against independent computations."""


import numpy as np
import pytest

from autograder import gradient_descent as ref
from autograder.cases import answer
from autograder.chain_rule import numerical_jacobian


def _regression(seed, n=40, d=3, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, y


def test_gradient_descent_on_a_quadratic_follows_the_closed_form():
    # grad of x^T A x / 2 is A x, so x_k = (I - lr A)^k x0.
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    x0 = np.array([1.0, -2.0])
    iterates = ref.gradient_descent(lambda x: A @ x, x0, 0.1, 6)
    assert iterates.shape == (7, 2)
    expected = [np.linalg.matrix_power(np.eye(2) - 0.1 * A, k) @ x0 for k in range(7)]
    np.testing.assert_allclose(iterates, expected, rtol=1e-14)


def test_gradient_descent_keeps_the_shape_of_x0_and_leaves_it_alone():
    x0 = np.arange(6.0).reshape(2, 3)
    iterates = ref.gradient_descent(lambda x: 2 * x, x0, 0.25, 3)
    assert iterates.shape == (4, 2, 3)
    np.testing.assert_array_equal(iterates[0], np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(iterates[3], 0.5 ** 3 * x0)
    np.testing.assert_array_equal(x0, np.arange(6.0).reshape(2, 3))
    assert ref.gradient_descent(lambda x: 2 * x, x0, 0.25, 0).shape == (1, 2, 3)


def test_divergence_threshold_separates_convergence_from_divergence():
    # f = x1^2 + 4 x2^2 has Hessian diag(2, 8): L = 8 and the threshold is 2/8.
    hessian = np.diag([2.0, 8.0])
    threshold = ref.divergence_threshold(hessian)
    assert threshold == pytest.approx(0.25, rel=1e-14)
    x0 = np.array([1.0, 1.0])
    below = ref.gradient_descent(lambda x: hessian @ x, x0, 0.95 * threshold, 400)
    above = ref.gradient_descent(lambda x: hessian @ x, x0, 1.05 * threshold, 400)
    assert np.linalg.norm(below[-1]) < 1e-6
    assert np.linalg.norm(above[-1]) > 1e6


def test_mse_loss_and_grad_match_a_loop_and_finite_differences():
    X, y = _regression(0, n=7, d=3)
    w = np.array([0.5, -1.0, 2.0])
    loss, grad = ref.mse_loss_and_grad(w, X, y)
    assert loss == pytest.approx(sum((X[i] @ w - y[i]) ** 2 for i in range(7)) / 7, rel=1e-13)
    np.testing.assert_allclose(grad, numerical_jacobian(lambda v: ref.mse_loss_and_grad(v, X, y)[0], w),
                               rtol=1e-7)


def test_mse_hessian_matches_finite_differences_of_the_gradient():
    X, y = _regression(1, n=9, d=4)
    hessian = numerical_jacobian(lambda v: ref.mse_loss_and_grad(v, X, y)[1], np.zeros(4))
    np.testing.assert_allclose(ref.mse_hessian(X), hessian, rtol=1e-7, atol=1e-10)


def test_mse_names_the_argument_with_a_bad_shape():
    X, y = _regression(0, n=5, d=2)
    with pytest.raises(ValueError, match=r"mse_loss_and_grad: `w` must have shape \(d,\) = \(2,\) \(d = 2 from `X`\); "
                                         r"got shape \(3,\)"):
        ref.mse_loss_and_grad(np.zeros(3), X, y)
    with pytest.raises(ValueError, match=r"`y` must have shape \(N,\) = \(5,\) \(1 dimension\); got shape \(5, 1\)"):
        ref.mse_loss_and_grad(np.zeros(2), X, y[:, None])
    with pytest.raises(ValueError, match=r"`X` must have shape \(N, d\) \(2 dimensions\); got shape \(5,\)"):
        ref.mse_loss_and_grad(np.zeros(2), X[:, 0], y)


def test_gradient_descent_on_the_mse_approaches_the_least_squares_solution():
    X, y = _regression(2)
    w_star = ref.least_squares(X, y)
    np.testing.assert_allclose(X.T @ X @ w_star, X.T @ y, rtol=1e-10)
    lr = 0.5 * ref.divergence_threshold(ref.mse_hessian(X))
    path = ref.gradient_descent(lambda w: ref.mse_loss_and_grad(w, X, y)[1], np.zeros(3), lr, 300)
    np.testing.assert_allclose(path[-1], w_star, atol=1e-10)


def test_full_batch_sgd_is_gradient_descent_on_the_mse():
    X, y = _regression(3)
    w, losses = ref.minibatch_sgd(X, y, np.zeros(3), 0.1, len(X), 25, seed=7)
    path = ref.gradient_descent(lambda v: ref.mse_loss_and_grad(v, X, y)[1], np.zeros(3), 0.1, 25)
    np.testing.assert_allclose(w, path[-1], rtol=1e-12)
    np.testing.assert_allclose(losses, [ref.mse_loss_and_grad(v, X, y)[0] for v in path[1:]], rtol=1e-12)


@pytest.mark.parametrize("batch_size, tolerance", [(1, 0.05), (8, 0.01)])
def test_stochastic_and_minibatch_sgd_settle_near_the_least_squares_solution(batch_size, tolerance):
    # With a fixed learning rate SGD keeps jittering around w*: close to it, not on it.
    X, y = _regression(4, n=200)
    w_star = ref.least_squares(X, y)
    best = ref.mse_loss_and_grad(w_star, X, y)[0]
    assert ref.mse_loss_and_grad(np.zeros(3), X, y)[0] > 100 * best
    w, losses = ref.minibatch_sgd(X, y, np.zeros(3), 0.01, batch_size, 20, seed=0)
    assert np.linalg.norm(w - w_star) < tolerance
    assert np.all(losses >= best)
    assert losses[-1] < 1.05 * best


def _batch_sizes_seen(n, batch_size, n_epochs, seed, lr=0.05):
    """Run SGD on X = identity so that each step moves only the coordinates of its batch.

    With X = I, w0 = 0 and y = 1, the gradient on a batch B is (2/|B|) (w_i - 1) on each i in B and
    0 elsewhere, so coordinate i follows 1 - w_i <- (1 - w_i)(1 - 2 lr / |B_i|) once per epoch in
    which it belongs to a batch B_i. The returned weights encode every batch size seen.
    """
    w, _ = ref.minibatch_sgd(np.eye(n), np.ones(n), np.zeros(n), lr, batch_size, n_epochs, seed)
    return w


@pytest.mark.parametrize("n, batch_size, n_epochs, seed", [(7, 3, 1, 0), (7, 3, 3, 5), (10, 4, 2, 1), (6, 6, 2, 3)])
def test_each_epoch_partitions_a_fresh_permutation_into_consecutive_batches(n, batch_size, n_epochs, seed):
    rng = np.random.default_rng(seed)
    remaining = np.ones(n)
    for _ in range(n_epochs):
        perm = rng.permutation(n)
        size_of_batch = np.empty(n)
        for start in range(0, n, batch_size):
            size_of_batch[perm[start:start + batch_size]] = len(perm[start:start + batch_size])
        remaining *= 1 - 2 * 0.05 / size_of_batch
    np.testing.assert_allclose(_batch_sizes_seen(n, batch_size, n_epochs, seed), 1 - remaining, rtol=1e-13)


def test_the_short_last_batch_changes_from_epoch_to_epoch():
    # With 7 rows in batches of 3, the one row alone in the last batch moves by 2 lr instead of 2 lr / 3;
    # reshuffling gives that privilege to different rows in different epochs.
    moved_alone = [np.argmax(_batch_sizes_seen(7, 3, 1, seed)) for seed in range(3)]
    assert moved_alone == [np.random.default_rng(seed).permutation(7)[-1] for seed in range(3)]
    two_epochs = _batch_sizes_seen(7, 3, 2, seed=0)
    rng = np.random.default_rng(0)
    alone = {rng.permutation(7)[-1] for _ in range(2)}
    assert len(alone) == 2
    assert set(np.argsort(two_epochs)[-2:]) == alone


def test_losses_are_recorded_after_each_epoch():
    X, y = _regression(5, n=11)
    w2, losses2 = ref.minibatch_sgd(X, y, np.zeros(3), 0.05, 4, 2, seed=9)
    w3, losses3 = ref.minibatch_sgd(X, y, np.zeros(3), 0.05, 4, 3, seed=9)
    np.testing.assert_array_equal(losses3[:2], losses2)
    assert losses2[-1] == ref.mse_loss_and_grad(w2, X, y)[0]
    assert losses3[-1] == ref.mse_loss_and_grad(w3, X, y)[0]


def test_minibatch_sgd_leaves_its_inputs_alone():
    X, y = _regression(6, n=5)
    w0 = np.array([1.0, 2.0, 3.0])
    kept = X.copy(), y.copy(), w0.copy()
    ref.minibatch_sgd(X, y, w0, 0.1, 2, 2, seed=0)
    for before, after in zip(kept, (X, y, w0)):
        np.testing.assert_array_equal(before, after)


def test_by_hand_answers_are_the_hand_computed_values():
    # f = x1^2 + 4 x2^2: L = 8, so the threshold is 2/8; with lr = 0.2 one step maps x2 to (1 - 1.6) x2.
    assert float(answer("lr_threshold").expected()) == pytest.approx(0.25, abs=1e-15)
    assert float(answer("x2_factor").expected()) == pytest.approx(-0.6, abs=1e-15)


