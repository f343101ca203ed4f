"""Chapter 3's reference functions against independent computations, and the checking layer on them."""

import math

import numpy as np
import pytest

from autograder import softmax as ref
from autograder.cases import case_set
from autograder.checking import NOTEBOOK_HIDDEN_SEED, CheckFailed, check, check_answer

RNG = np.random.default_rng(0)


def loop_softmax(row):
    """Softmax of a short list with Python's math module: no numpy, no tricks (inputs stay small)."""
    exps = [math.exp(value) for value in row]
    return [value / sum(exps) for value in exps]


def finite_difference_jacobian(function, x, h=1e-6):
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        columns.append((function(x + step) - function(x - step)) / (2 * h))
    return np.stack(columns, axis=-1)


def test_softmax_matches_the_definition_row_by_row():
    logits = RNG.normal(size=(4, 6))
    expected = np.array([loop_softmax(row) for row in logits])
    np.testing.assert_allclose(ref.softmax(logits), expected, rtol=1e-12)
    np.testing.assert_allclose(ref.softmax(logits.T, axis=0), expected.T, rtol=1e-12)


def test_softmax_is_invariant_under_adding_a_constant_per_row():
    logits = RNG.normal(size=(3, 5))
    shifts = np.array([[-100.0], [0.5], [700.0]])
    np.testing.assert_allclose(ref.softmax(logits + shifts), ref.softmax(logits), rtol=1e-12)


def test_no_overflow_at_logits_of_1e4():
    logits = np.array([[1e4, 1e4 + 1.0, 1e4 - 2.0], [-1e4, -1e4 + 3.0, -1e4]])
    with np.errstate(all="raise"):
        probabilities = ref.softmax(logits)
        log_probabilities = ref.log_softmax(logits)
    np.testing.assert_allclose(probabilities[0], loop_softmax([0.0, 1.0, -2.0]), rtol=1e-12)
    np.testing.assert_allclose(log_probabilities[1], np.log(loop_softmax([0.0, 3.0, 0.0])), rtol=1e-12)


def test_log_softmax_stays_finite_where_log_of_softmax_does_not():
    logits = np.array([0.0, -800.0])
    assert np.isfinite(ref.log_softmax(logits)).all()
    assert ref.log_softmax(logits)[1] == pytest.approx(-800.0)


def test_jacobian_matches_finite_differences():
    x = RNG.normal(size=5)
    np.testing.assert_allclose(ref.softmax_jacobian(x), finite_difference_jacobian(ref.softmax, x), atol=1e-9)


def test_cross_entropy_matches_its_definition_and_finite_differences():
    logits, labels = RNG.normal(size=(6, 4)), RNG.integers(0, 4, size=6)
    loss, grad = ref.cross_entropy_loss_and_grad(logits, labels)
    expected = -sum(math.log(loop_softmax(row)[label]) for row, label in zip(logits, labels)) / 6
    assert loss == pytest.approx(expected, rel=1e-12)
    numeric = finite_difference_jacobian(
        lambda z: np.array(ref.cross_entropy_loss_and_grad(z.reshape(6, 4), labels)[0]), logits.ravel())
    np.testing.assert_allclose(grad.ravel(), numeric, atol=1e-9)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


def test_reference_functions_do_not_modify_their_inputs():
    logits = RNG.normal(size=(3, 4))
    kept = logits.copy()
    ref.softmax(logits), ref.log_softmax(logits), ref.softmax_jacobian(logits[0])
    ref.cross_entropy_loss_and_grad(logits, np.array([0, 1, 2]))
    np.testing.assert_array_equal(logits, kept)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_jacobian", "cross_entropy_loss_and_grad"])
def test_the_reference_passes_its_own_checks(name, capsys):
    function = case_set(name).reference
    check(function, name)
    check(function, name, hidden=True)
    assert capsys.readouterr().out.count("cases pass") == 2


def _message(function, name, hidden=False):
    with pytest.raises(CheckFailed) as failure:
        check(function, name, hidden=hidden)
    return str(failure.value)


def test_check_diagnoses_the_wrong_axis_with_shapes_and_values():
    def softmax(x, axis=-1):
        exps = np.exp(x - np.max(x))
        return exps / np.sum(exps, axis=0, keepdims=True)

    message = _message(softmax, "softmax")
    assert "case 3 of 5" in message and "shape (2, 3)" in message
    assert "expected [[0.09" in message and "got      [[0.5" in message
    assert "normalised over the wrong axis" in message


def test_check_diagnoses_overflow_without_printing_warnings_to_stderr(capsys):
    def softmax(x, axis=-1):
        exps = np.exp(x)
        return exps / np.sum(exps, axis=axis, keepdims=True)

    message = _message(softmax, "softmax")
    assert "contains nan" in message and "no max subtraction" in message
    assert capsys.readouterr().err == ""


def test_hidden_failures_never_show_expected_values():
    def softmax(x, axis=-1):
        return np.full(np.shape(x), 0.25)

    message = _message(softmax, "softmax", hidden=True)
    assert "expected:" not in message and "largest difference" not in message
    for case in case_set("softmax").hidden_cases(NOTEBOOK_HIDDEN_SEED):
        for value in np.ravel(ref.softmax(*case.args, **case.kwargs)):
            if 0.01 < value < 0.99:
                assert f"{value:.3f}"[1:] not in message


def test_modifying_an_input_in_place_fails():
    def softmax(x, axis=-1):
        x -= np.max(x, axis=axis, keepdims=True)
        np.exp(x, out=x)
        x /= np.sum(x, axis=axis, keepdims=True)
        return x

    assert "modified its input x in place" in _message(softmax, "softmax")


def test_an_object_that_lies_about_equality_fails():
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return True

    class Liar:
        def __eq__(self, other):
            return True

    assert "object" in _message(lambda x, axis=-1: Liar(), "softmax")
    lying_array = lambda x, axis=-1: np.zeros(np.shape(x)).view(AlwaysEqual)
    assert "the output is all zeros" in _message(lying_array, "softmax")  # its values, not its __eq__


def test_numeric_answers():
    check_answer(0.5, "p_first_class")
    check_answer(float(ref.softmax(np.array([3.0, 1.0, 0.2]))[0]), "p_first_class", hidden=True)
    with pytest.raises(CheckFailed, match="not the expected value"):
        check_answer(0.5, "p_first_class", hidden=True)
    with pytest.raises(CheckFailed, match="expected a scalar"):
        check_answer([0.5, 0.5], "p_first_class")
