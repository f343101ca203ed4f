r"""Back-propagation through time for the vanilla recurrent network (chapter 5).

The network reads a sequence one step at a time and keeps a hidden state:

.. math:: h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad t = 0, \dots, T-1

Examples are rows and time is the second axis: ``x`` has shape ``(N, T, D)``, the hidden states
``h`` shape ``(N, T, H)``. Back-propagation through time is the chain rule on this unrolled graph:
the gradient reaching :math:`h_t` comes from the loss at step :math:`t` and from step :math:`t+1`,
and the shared weights add up their gradients over every step.

All functions work on float64 arrays and never modify their inputs.
"""

import numpy as np

from autograder.shapes import checked_arrays


def rnn_forward(x, h0, Wx, Wh, b):
    r"""Run the recurrence over a whole sequence and keep what the backward pass needs.

    .. math:: h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad t = 0, \dots, T-1

    starting from the initial state :math:`h_{-1}` = ``h0``.
    x: ``(N, T, D)``; h0: ``(N, H)``; Wx: ``(D, H)``; Wh: ``(H, H)``; b: ``(H,)``.
    Returns ``(h, cache)``: ``h`` of shape ``(N, T, H)`` (``h[:, t]`` is :math:`h_t`) and
    ``cache = (x, h0, Wx, Wh, h)``, the arrays ``rnn_backward`` reads.
    """
    x, h0, Wx, Wh, b = checked_arrays("rnn_forward", x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"),
                                      Wh=(Wh, "H H"), b=(b, "H"))
    n_sequences, n_steps, _ = x.shape
    h = np.empty((n_sequences, n_steps, h0.shape[1]))
    h_prev = h0
    for t in range(n_steps):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)
        h[:, t] = h_prev
    return h, (x, h0, Wx, Wh, h)


def _check_cache(function, dh, cache):
    if not isinstance(cache, tuple) or len(cache) != 5:
        raise ValueError(f"{function}: `cache` must be the tuple (x, h0, Wx, Wh, h) returned by rnn_forward")
    x, h0, Wx, Wh, h = cache
    h, dh, x, h0, Wx, Wh = checked_arrays(function, h=(h, "N T H"), dh=(dh, "N T H"), x=(x, "N T D"),
                                          h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"))
    return dh, (x, h0, Wx, Wh, h)


def hidden_state_gradients(dh, cache, window=None):
    r"""The total gradient of the loss with respect to every hidden state, from the last step back.

    The state :math:`h_t` feeds the loss directly (``dh[:, t]``) and the next state
    :math:`h_{t+1} = \tanh(z_{t+1})`, so the chain rule adds the two paths:

    .. math:: g_{T-1} = \ell_{T-1}', \qquad
              g_t = \ell_t' + \bigl(g_{t+1} \odot (1 - h_{t+1}^2)\bigr) W_h^\top

    where :math:`\ell_t' = \partial \ell_t / \partial h_t` is ``dh[:, t]``, the loss's direct
    dependence on step :math:`t`'s output, and :math:`g_t = \partial L / \partial h_t` the total. With ``window = k`` (truncated back-propagation through time) the
    sequence is cut into consecutive windows of ``k`` steps and the second term is dropped
    whenever :math:`t + 1` starts a new window: no gradient crosses a window boundary.

    dh: ``(N, T, H)``; cache: the ``cache`` of ``rnn_forward``. Returns :math:`g`, ``(N, T, H)``.
    """
    dh, (_, _, _, Wh, h) = _check_cache("hidden_state_gradients", dh, cache)
    if window is not None and (int(window) != window or window < 1):
        raise ValueError(f"hidden_state_gradients: `window` must be a positive integer or None; got {window!r}")
    total = np.empty_like(dh)
    carried = np.zeros_like(dh[:, 0])
    for t in reversed(range(dh.shape[1])):
        total[:, t] = dh[:, t] + carried
        starts_window = window is not None and t % window == 0
        carried = np.zeros_like(carried) if starts_window else (total[:, t] * (1.0 - h[:, t] ** 2)) @ Wh.T
    return total


def _gradients_from_hidden(total, cache):
    x, h0, Wx, Wh, h = cache
    da = total * (1.0 - h ** 2)
    h_prev = np.concatenate([h0[:, np.newaxis], h[:, :-1]], axis=1)
    dx = da @ Wx.T
    dh0 = da[:, 0] @ Wh.T
    dWx = np.einsum("ntd,nth->dh", x, da)
    dWh = np.einsum("nti,nth->ih", h_prev, da)
    db = da.sum(axis=(0, 1))
    return dx, dh0, dWx, dWh, db


def rnn_backward(dh, cache):
    r"""Back-propagation through time: gradients of the loss with respect to every input of ``rnn_forward``.

    With :math:`g_t` the total gradient reaching :math:`h_t` (see ``hidden_state_gradients``) and
    :math:`\delta_t = g_t \odot (1 - h_t^2)` the gradient of the pre-activation
    :math:`z_t = x_t W_x + h_{t-1} W_h + b` (because :math:`\tanh' (z) = 1 - \tanh^2 z`):

    .. math:: \frac{\partial L}{\partial x_t} = \delta_t W_x^\top, \qquad
              \frac{\partial L}{\partial h_{-1}} = \delta_0 W_h^\top, \qquad
              \frac{\partial L}{\partial W_x} = \sum_t x_t^\top \delta_t, \qquad
              \frac{\partial L}{\partial W_h} = \sum_t h_{t-1}^\top \delta_t, \qquad
              \frac{\partial L}{\partial b} = \sum_{n, t} \delta_{n, t}

    with :math:`h_{-1}` = ``h0``. The weights are shared by every step, so their gradients are
    sums over time (and the batch).

    dh: ``(N, T, H)``, the gradient of the loss with respect to each step's output ``h[:, t]``
    (not the gradient carried between steps); cache: what ``rnn_forward`` returned.
    Returns ``(dx, dh0, dWx, dWh, db)`` with the shapes of ``x, h0, Wx, Wh, b``.
    """
    dh, cache = _check_cache("rnn_backward", dh, cache)
    return _gradients_from_hidden(hidden_state_gradients(dh, cache), cache)


def truncated_rnn_backward(dh, cache, window):
    r"""``rnn_backward`` with the gradient carried back at most to the start of each ``window``-step window.

    Truncated back-propagation through time: the forward pass runs over the whole sequence, but
    the backward recursion of ``hidden_state_gradients`` is cut at every window boundary, so a
    training step can work on one window at a time, with a cost and a memory that no longer grow
    with the length of the sequence. The loss at step :math:`t` then sends no gradient to the
    steps before its window: a biased gradient, blind to the longer dependencies.
    ``window >= T`` gives ``rnn_backward``'s result.

    dh, cache: as in ``rnn_backward``; window: a positive integer.
    Returns ``(dx, dh0, dWx, dWh, db)`` as ``rnn_backward``.
    """
    dh, cache = _check_cache("truncated_rnn_backward", dh, cache)
    return _gradients_from_hidden(hidden_state_gradients(dh, cache, window), cache)


def global_norm(grads):
    r"""The L2 norm of all the gradients taken together as one long vector.

    .. math:: \lVert g \rVert = \sqrt{\textstyle\sum_k \sum_i (g_k)_i^2}

    grads: a list of arrays of any shapes; returns a float.
    """
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads)))


def clip_by_global_norm(grads, max_norm):
    r"""Scale every gradient by the same factor so that their global norm is at most ``max_norm``.

    .. math:: g_k \leftarrow g_k \cdot \min\!\left(1, \frac{c}{\lVert g \rVert}\right)

    with :math:`c` = ``max_norm`` and :math:`\lVert g \rVert` the ``global_norm``. One common
    factor keeps the direction of the whole update and only shortens it; gradients already within
    the bound are returned unchanged.

    grads: a list of arrays; max_norm: a positive number. Returns a new list of arrays of the same shapes.
    """
    if not isinstance(grads, (list, tuple)):
        raise ValueError(f"clip_by_global_norm: `grads` must be a list of arrays; got {type(grads).__name__}")
    if not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: `max_norm` must be positive; got {max_norm!r}")
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return [g * scale for g in grads]


def scaled_orthogonal(size, spectral_radius, rng):
    r"""A random ``(size, size)`` recurrent matrix whose eigenvalues all have modulus ``spectral_radius``.

    .. math:: W_h = \rho\, Q, \qquad Q^\top Q = I

    :math:`Q` is the orthogonal factor of a Gaussian matrix (uniformly distributed over the
    orthogonal matrices once the signs of :math:`R`'s diagonal are moved into it). Every
    singular value of :math:`W_h` is then :math:`\rho` too, so multiplying by :math:`W_h^\top`
    scales every vector's norm by exactly :math:`\rho`: the cleanest matrix on which to watch a
    gradient vanish or explode.
    """
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return spectral_radius * q * np.sign(np.diag(r))


def gradient_norms_through_time(spectral_radius, hidden_size=32, n_steps=50, input_scale=0.1,
                                n_sequences=8, seed=0):
    r"""How the gradient of a loss on the last step shrinks or grows as it travels back in time.

    A random network (``Wh = scaled_orthogonal(H, spectral_radius)``, ``Wx`` Gaussian with
    variance :math:`1/D`, ``b = 0``, ``h0 = 0``) reads random inputs of standard deviation
    ``input_scale``; the loss depends on the last state only through a random direction
    :math:`u`, :math:`L = u^\top h_{T-1}`. Back-propagation through time then gives

    .. math:: \frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_{t+1}}
              \operatorname{diag}(1 - h_{t+1}^2)\, W_h^\top

    so each step back multiplies the norm by at most :math:`\rho` (and less where ``tanh``
    saturates). Returns the mean over ``n_sequences`` sequences of
    :math:`\lVert \partial L / \partial h_t \rVert`, shape ``(n_steps,)``, index ``t``.
    """
    rng = np.random.default_rng(seed)
    Wh = scaled_orthogonal(hidden_size, spectral_radius, rng)
    Wx = rng.standard_normal((hidden_size, hidden_size)) / np.sqrt(hidden_size)
    x = input_scale * rng.standard_normal((n_sequences, n_steps, hidden_size))
    h, cache = rnn_forward(x, np.zeros((n_sequences, hidden_size)), Wx, Wh, np.zeros(hidden_size))
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((n_sequences, hidden_size)) / np.sqrt(hidden_size)
    return np.linalg.norm(hidden_state_gradients(dh, cache), axis=-1).mean(axis=0)


def mean_squared_error(predictions, targets):
    r"""Mean squared error over every entry, and its gradient with respect to the predictions.

    .. math:: L = \frac{1}{M} \sum_i (\hat y_i - y_i)^2, \qquad
              \frac{\partial L}{\partial \hat y_i} = \frac{2}{M} (\hat y_i - y_i)

    with :math:`M` the number of entries. predictions, targets: arrays of the same shape.
    Returns ``(loss, dpredictions)``.
    """
    predictions, targets = (np.asarray(array, dtype=np.float64) for array in (predictions, targets))
    if predictions.shape != targets.shape:
        raise ValueError(f"mean_squared_error: `targets` must have the shape of `predictions` {predictions.shape}; "
                         f"got shape {targets.shape}")
    residual = predictions - targets
    return float(np.mean(residual ** 2)), 2.0 * residual / residual.size


def init_rnn_model(input_size, hidden_size, output_size, rng, spectral_radius=0.9):
    r"""Initial parameters of an RNN with a linear readout at every step.

    ``Wx`` and ``Wy`` are Gaussian with variance :math:`1/\text{fan-in}`, ``Wh`` is
    ``scaled_orthogonal(hidden_size, spectral_radius)`` (just below 1, so that gradients neither
    explode nor vanish fast at the start), the biases are zero. Returns the dict
    ``{"Wx": (D, H), "Wh": (H, H), "b": (H,), "Wy": (H, C), "by": (C,)}``.
    """
    return {
        "Wx": rng.standard_normal((input_size, hidden_size)) / np.sqrt(input_size),
        "Wh": scaled_orthogonal(hidden_size, spectral_radius, rng),
        "b": np.zeros(hidden_size),
        "Wy": rng.standard_normal((hidden_size, output_size)) / np.sqrt(hidden_size),
        "by": np.zeros(output_size),
    }


def rnn_model_loss(params, x, targets, loss_fn, window=None):
    r"""Loss of an RNN with a linear readout at every step, and the gradient of every parameter.

    .. math:: h = \operatorname{rnn\_forward}(x, 0, W_x, W_h, b), \qquad
              \hat y_t = h_t W_y + b_y, \qquad L = \operatorname{loss\_fn}(\hat y, \text{targets})

    The readout's gradient :math:`\partial L / \partial h_t = (\partial L / \partial \hat y_t) W_y^\top`
    is the ``dh`` that ``rnn_backward`` (or ``truncated_rnn_backward`` when ``window`` is given)
    carries back through time.

    params: as ``init_rnn_model``; x: ``(N, T, D)``; loss_fn: ``(scores, targets) -> (loss, dscores)``.
    Returns ``(loss, grads)``, ``grads`` a dict with the keys and shapes of ``params``.
    """
    x = np.asarray(x, dtype=np.float64)
    h0 = np.zeros((x.shape[0], params["Wh"].shape[0]))
    h, cache = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    scores = h @ params["Wy"] + params["by"]
    loss, dscores = loss_fn(scores, targets)
    dh = dscores @ params["Wy"].T
    backward = rnn_backward(dh, cache) if window is None else truncated_rnn_backward(dh, cache, window)
    _, _, dWx, dWh, db = backward
    grads = {"Wx": dWx, "Wh": dWh, "b": db,
             "Wy": np.einsum("nth,ntc->hc", h, dscores), "by": dscores.sum(axis=(0, 1))}
    return loss, grads


def train_rnn_model(params, make_batch, loss_fn, n_steps, lr, max_norm, seed, window=None):
    r"""Gradient descent on ``rnn_model_loss`` with a fresh batch at every step and clipped gradients.

    .. math:: \theta \leftarrow \theta - \eta\, \operatorname{clip}(\nabla_\theta L, \gamma)

    Each step draws ``x, targets = make_batch(rng)`` from ``rng = np.random.default_rng(seed)``,
    computes every gradient by back-propagation through time (truncated to ``window`` steps if
    given) and clips them together with ``clip_by_global_norm(grads, max_norm)``.
    Returns ``(params, losses)``: new parameters (the given ones are not changed) and the loss
    of each step's batch, shape ``(n_steps,)``.
    """
    rng = np.random.default_rng(seed)
    names = list(params)
    params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    losses = np.empty(n_steps)
    for step in range(n_steps):
        x, targets = make_batch(rng)
        losses[step], grads = rnn_model_loss(params, x, targets, loss_fn, window)
        clipped = clip_by_global_norm([grads[name] for name in names], max_norm)
        params = {name: params[name] - lr * grad for name, grad in zip(names, clipped)}
    return params, losses


def echo_task(n_sequences, n_steps, delay, rng):
    r"""Sequences of random numbers whose target is the input ``delay`` steps earlier.

    .. math:: y_t = x_{t - d} \ (t \ge d), \qquad y_t = 0 \ (t < d)

    as if the sequence were preceded by zeros. A network can only solve it by keeping each
    input in its hidden state for :math:`d` steps, and can only *learn* to if the gradient of
    the loss at step :math:`t` reaches back to step :math:`t - d`.
    Returns ``(x, y)``, both ``(n_sequences, n_steps, 1)``.
    """
    x = rng.standard_normal((n_sequences, n_steps, 1))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :n_steps - delay]
    return x, y
