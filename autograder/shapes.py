r"""One check of the shapes of a function's arguments, used by every chapter.

A pattern names the axes of one argument, separated by spaces: ``"N T D"`` for a batch of
sequences, ``"D 4H"`` for an LSTM weight whose columns are four blocks of ``H``, ``"... n_q d_k"``
for queries under any number of batch axes. Arguments that use the same name share that size, so a
wrong shape is reported the moment it disagrees with an argument checked before it.
"""

import re

import numpy as np


def checked_arrays(function, /, *, dtype=np.float64, **arguments):
    r"""The arguments of ``function`` as arrays of ``dtype``, once their shapes agree with their patterns.

    ``arguments`` maps each argument's name to ``(value, pattern)``, in the order of the signature.
    In a pattern:

    - a name (``N``, ``d_k``) is one axis; the first argument that uses it fixes its size, and
      every later use must have that size;
    - a factor before the name (``4H``) is an axis of that many times the size of ``H``;
    - a leading ``...`` accepts any number of batch axes before the named ones. They are not
      compared between arguments, because batch axes may broadcast.

    ``dtype=None`` keeps each value's own dtype (integer labels, boolean masks). Returns new arrays
    (copies, so the caller may change them in place and still leave its inputs untouched) as a
    tuple, in the order of ``arguments``.

    A disagreement raises ``ValueError`` naming the function, the argument, the expected shape with
    the sizes known so far, where the disagreeing size came from, and the actual shape:

    >>> x, h0 = checked_arrays("rnn_forward", x=([[1, 2, 3]], "N D"), h0=(np.zeros((1, 5)), "N H"))
    >>> x.dtype, h0.shape
    (dtype('float64'), (1, 5))
    >>> checked_arrays("rnn_forward", x=(np.zeros((2, 3)), "N D"), h0=(np.zeros((4, 5)), "N H"))
    Traceback (most recent call last):
    ValueError: rnn_forward: `h0` must have shape (N, H) = (2, H) (N = 2 from `x`); got shape (4, 5)
    >>> checked_arrays("lstm_gates", h_prev=(np.zeros((2, 3)), "N H"), b=(np.zeros(10), "4H"))
    Traceback (most recent call last):
    ValueError: lstm_gates: `b` must have shape (4H,) = (12,) (H = 3 from `h_prev`); got shape (10,)
    >>> checked_arrays("attention", Q=(np.zeros(3), "... n_q d_k"))
    Traceback (most recent call last):
    ValueError: attention: `Q` must have shape (..., n_q, d_k) (at least 2 dimensions); got shape (3,)
    """
    sizes, sources, arrays = {}, {}, []
    for name, (value, pattern) in arguments.items():
        array = np.array(value, dtype=dtype)
        problem = _shape_problem(array.shape, pattern, name, sizes, sources)
        if problem:
            raise ValueError(f"{function}: `{name}` must have shape {_expected_shape(pattern, sizes)} {problem}; "
                             f"got shape {array.shape}")
        arrays.append(array)
    return tuple(arrays)


def _shape_problem(shape, pattern, name, sizes, sources):
    """Why ``shape`` does not fit ``pattern`` (``""`` if it does), recording the sizes it fixes first."""
    tokens = pattern.split()
    has_batch = tokens[:1] == ["..."]
    axes = [_factor_and_name(token) for token in (tokens[1:] if has_batch else tokens)]
    if len(shape) < len(axes) or (not has_batch and len(shape) != len(axes)):
        plural = "" if len(axes) == 1 else "s"
        return f"({'at least ' if has_batch else ''}{len(axes)} dimension{plural})"
    for (factor, symbol), size in zip(axes, shape[len(shape) - len(axes):]):
        if symbol not in sizes:
            if size % factor:
                return f"({factor}{symbol} a multiple of {factor})"
            sizes[symbol], sources[symbol] = size // factor, name
        elif size != factor * sizes[symbol]:
            return f"({symbol} = {sizes[symbol]} from `{sources[symbol]}`)"
    return ""


def _expected_shape(pattern, sizes):
    """``"(N, 4H)"``, then ``" = (2, 12)"`` with every size known so far (an unknown one keeps its name)."""
    tokens = pattern.split()
    named, known = _as_tuple_text(tokens), _as_tuple_text([_known_size(token, sizes) for token in tokens])
    return named if known == named else f"{named} = {known}"


def _known_size(token, sizes):
    """The size of the axis ``token`` as text if it is known, else ``token`` itself."""
    if token == "...":
        return token
    factor, symbol = _factor_and_name(token)
    return str(factor * sizes[symbol]) if symbol in sizes else token


def _factor_and_name(token):
    """``"4H"`` -> ``(4, "H")``, ``"d_k"`` -> ``(1, "d_k")``."""
    match = re.fullmatch(r"(\d*)([A-Za-z_]\w*)", token)
    if match is None:
        raise ValueError(f"{token!r} is not an axis: write a name such as d_k, with a factor in front "
                         f"for a multiple (4H)")
    return int(match[1] or 1), match[2]


def _as_tuple_text(items):
    """Items written as Python writes a tuple: ``(N, T)``, and ``(N,)`` for one item."""
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
