"""The shared shape check: named axes across arguments, batch axes, multiples, dtypes and its messages."""

import doctest
import re

import numpy as np
import pytest

import autograder.shapes
from autograder.shapes import checked_arrays


def _message(call):
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def test_the_docstring_examples_hold():
    assert doctest.testmod(autograder.shapes).failed == 0


def test_a_shared_axis_is_fixed_by_the_first_argument_that_uses_it():
    x, h0, Wh = checked_arrays("f", x=(np.ones((2, 3, 4)), "N T D"), h0=(np.ones((2, 5)), "N H"),
                               Wh=(np.ones((5, 5)), "H H"))
    assert (x.shape, h0.shape, Wh.shape) == ((2, 3, 4), (2, 5), (5, 5))
    message = _message(lambda: checked_arrays("f", a=(np.ones(3), "N"), b=(np.ones(3), "N"), c=(np.ones(4), "N")))
    assert message == "f: `c` must have shape (N,) = (3,) (N = 3 from `a`); got shape (4,)"


def test_the_expected_shape_shows_every_known_size_and_the_names_of_the_unknown_ones():
    message = _message(lambda: checked_arrays("rnn_forward", x=(np.ones((2, 3, 4)), "N T D"),
                                              Wx=(np.ones((4, 5)), "D H"), h0=(np.ones((3, 5)), "N H")))
    assert message == "rnn_forward: `h0` must have shape (N, H) = (2, 5) (N = 2 from `x`); got shape (3, 5)"
    message = _message(lambda: checked_arrays("g", q=(np.ones(2), "d_q"), W=(np.ones((3, 4)), "d_q h")))
    assert message == "g: `W` must have shape (d_q, h) = (2, h) (d_q = 2 from `q`); got shape (3, 4)"


def test_a_wrong_number_of_dimensions_is_named():
    assert _message(lambda: checked_arrays("f", x=(np.ones((3, 4)), "N T D"))) == \
        "f: `x` must have shape (N, T, D) (3 dimensions); got shape (3, 4)"
    assert _message(lambda: checked_arrays("f", X=(np.ones((5, 2)), "N d"), y=(np.ones((5, 1)), "N"))) == \
        "f: `y` must have shape (N,) = (5,) (1 dimension); got shape (5, 1)"


def test_batch_axes_may_be_any_number_and_are_not_compared_between_arguments():
    for batch in [(), (7,), (2, 1, 3)]:
        Q, K = checked_arrays("attend", Q=(np.ones(batch + (4, 3)), "... n_q d_k"),
                              K=(np.ones((5, 6, 3)), "... n_k d_k"))
        assert Q.shape == batch + (4, 3) and K.shape == (5, 6, 3)
    assert _message(lambda: checked_arrays("attend", Q=(np.ones(3), "... n_q d_k"))) == \
        "attend: `Q` must have shape (..., n_q, d_k) (at least 2 dimensions); got shape (3,)"
    message = _message(lambda: checked_arrays("attend", Q=(np.ones((2, 4, 3)), "... n_q d_k"),
                                              K=(np.ones((2, 6, 2)), "... n_k d_k")))
    assert message == ("attend: `K` must have shape (..., n_k, d_k) = (..., 6, 3) (d_k = 3 from `Q`); "
                       "got shape (2, 6, 2)")


def test_a_multiple_fixes_its_symbol_and_must_divide_evenly():
    _, _, Wh = checked_arrays("lstm", x=(np.ones((2, 3)), "N D"), Wx=(np.ones((3, 16)), "D 4H"),
                              Wh=(np.ones((4, 16)), "H 4H"))
    assert Wh.shape == (4, 16)
    assert _message(lambda: checked_arrays("lstm", Wx=(np.ones((3, 16)), "D 4H"), Wh=(np.ones((5, 16)), "H 4H"))) == \
        "lstm: `Wh` must have shape (H, 4H) = (4, 16) (H = 4 from `Wx`); got shape (5, 16)"
    assert _message(lambda: checked_arrays("lstm", b=(np.ones(10), "4H"))) == \
        "lstm: `b` must have shape (4H,) (4H a multiple of 4); got shape (10,)"


def test_values_become_new_arrays_of_the_requested_dtype():
    integers = np.array([1, 2], dtype=np.int32)
    kept, y = checked_arrays("f", scores=([[1, 2]], "N C"), y=([[0, 2]], "N T"), dtype=None)
    assert kept.dtype.kind == "i" and y.dtype.kind == "i"
    (as_float,) = checked_arrays("f", w=(integers, "d"))
    assert as_float.dtype == np.float64 and np.array_equal(as_float, [1.0, 2.0])
    (single,) = checked_arrays("f", w=(integers, "d"), dtype=np.float32)
    assert single.dtype == np.float32
    # Already float64, so only a copy keeps the caller's array safe from changes made in place.
    weights = np.array([1.0, 2.0])
    (checked,) = checked_arrays("f", w=(weights, "d"))
    checked[0] = 99.0
    assert weights[0] == 1.0


def test_a_malformed_pattern_is_a_programming_error():
    with pytest.raises(ValueError, match=re.escape("'H-1' is not an axis")):
        checked_arrays("f", x=(np.ones(3), "H-1"))
