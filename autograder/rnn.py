r"""Recurrent cells and a sequence loss (chapter 6): the vanilla RNN step, the LSTM step, and
cross-entropy over a sequence of predictions.

Examples are rows: one step's input ``x`` has shape ``(N, D)``, a hidden state ``(N, H)``, a
sequence ``(N, T, D)``. The RNN step is one step of ``autograder.bptt.rnn_forward``; the sequence
loss is chapter 3's cross-entropy applied at every step. All functions work on float64 arrays
and never modify their inputs.
"""

import numpy as np

from autograder.bptt import rnn_forward
from autograder.chain_rule import sigmoid
from autograder.shapes import checked_arrays
from autograder.softmax import cross_entropy_loss_and_grad

#: Order of the four blocks of the LSTM's pre-activation :math:`z` (each ``H`` wide); the book writes the
#: candidate :math:`\tilde c`, the code's block ``g``.
LSTM_GATES = ("input", "forget", "output", "candidate")


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    r"""One step of the vanilla RNN: the new hidden state from the input and the previous state.

    .. math:: h_t = \tanh(x_t W_x + h_{t-1} W_h + b)

    x: ``(N, D)``; h_prev: ``(N, H)``; Wx: ``(D, H)``; Wh: ``(H, H)``; b: ``(H,)``.
    Returns ``h_next`` of shape ``(N, H)``.
    """
    x, h_prev, Wx, Wh, b = checked_arrays("rnn_step_forward", x=(x, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D H"),
                                          Wh=(Wh, "H H"), b=(b, "H"))
    h, _ = rnn_forward(x[:, np.newaxis], h_prev, Wx, Wh, b)
    return h[:, 0]


def lstm_gates(x, h_prev, Wx, Wh, b):
    r"""The LSTM's three gates and its candidate, from one affine map split into four blocks.

    .. math:: z = x W_x + h_{t-1} W_h + b = [z_i \mid z_f \mid z_o \mid z_c], \qquad
              i = \sigma(z_i),\ f = \sigma(z_f),\ o = \sigma(z_o),\ \tilde c = \tanh(z_c)

    x: ``(N, D)``; h_prev: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``.
    Returns the dict ``{"input": i, "forget": f, "output": o, "candidate": c~}``, each ``(N, H)``.
    """
    x, h_prev, Wx, Wh, b = checked_arrays("lstm_gates", x=(x, "N D"), h_prev=(h_prev, "N H"), Wx=(Wx, "D 4H"),
                                          Wh=(Wh, "H 4H"), b=(b, "4H"))
    blocks = dict(zip(LSTM_GATES, np.split(x @ Wx + h_prev @ Wh + b, 4, axis=1)))
    return {name: np.tanh(block) if name == "candidate" else sigmoid(block) for name, block in blocks.items()}


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    r"""One step of the LSTM: the new hidden state and memory cell.

    .. math:: c_t = f \odot c_{t-1} + i \odot \tilde c, \qquad h_t = o \odot \tanh(c_t)

    with the gates of ``lstm_gates``: the forget gate :math:`f` decides how much of the old
    memory to keep, the input gate :math:`i` how much of the candidate :math:`\tilde c` (the block
    ``g`` of the graded notebook) to write, the
    output gate :math:`o` how much of the memory to show.

    x: ``(N, D)``; h_prev, c_prev: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``.
    Returns ``(h_next, c_next)``, both ``(N, H)``.
    """
    x, h_prev, c_prev, Wx, Wh, b = checked_arrays("lstm_step_forward", x=(x, "N D"), h_prev=(h_prev, "N H"),
                                                  c_prev=(c_prev, "N H"), Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"),
                                                  b=(b, "4H"))
    gates = lstm_gates(x, h_prev, Wx, Wh, b)
    c_next = gates["forget"] * c_prev + gates["input"] * gates["candidate"]
    return gates["output"] * np.tanh(c_next), c_next


def lstm_forward(x, h0, c0, Wx, Wh, b):
    r"""Run ``lstm_step_forward`` over a sequence.

    x: ``(N, T, D)``; h0, c0: ``(N, H)``; Wx, Wh, b: as ``lstm_step_forward``.
    Returns ``(h, c)``, both ``(N, T, H)``, the hidden states and memory cells of every step.
    """
    x, h_t, c_t, Wx, Wh, b = checked_arrays("lstm_forward", x=(x, "N T D"), h0=(h0, "N H"), c0=(c0, "N H"),
                                            Wx=(Wx, "D 4H"), Wh=(Wh, "H 4H"), b=(b, "4H"))
    hs, cs = [], []
    for t in range(x.shape[1]):
        h_t, c_t = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        hs.append(h_t)
        cs.append(c_t)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)


def sequence_cross_entropy(scores, y):
    r"""Cross-entropy of a prediction at every step, summed over time and averaged over sequences.

    .. math:: L = -\frac{1}{N} \sum_{n} \sum_{t} \log \operatorname{softmax}(s_{n,t})_{y_{n,t}},
              \qquad
              \frac{\partial L}{\partial s_{n,t}} = \frac{1}{N}
              \bigl(\operatorname{softmax}(s_{n,t}) - \operatorname{onehot}(y_{n,t})\bigr)

    It is chapter 3's mean cross-entropy over the :math:`NT` predictions, times :math:`T`.
    scores: ``(N, T, C)``; y: integers ``(N, T)`` in ``[0, C)``. Returns ``(loss, dscores)``:
    a float and ``(N, T, C)``.
    """
    # dtype=None: the labels must stay integers, so that float labels are reported rather than truncated.
    scores, y = checked_arrays("sequence_cross_entropy", scores=(np.asarray(scores, dtype=np.float64), "N T C"),
                               y=(y, "N T"), dtype=None)
    n, steps, classes = scores.shape
    if y.dtype.kind not in "iu" or np.any(y < 0) or np.any(y >= classes):
        raise ValueError(f"sequence_cross_entropy: `y` must hold integer classes in [0, {classes}); "
                         f"got dtype {y.dtype}, values from {y.min()} to {y.max()}")
    loss, dflat = cross_entropy_loss_and_grad(scores.reshape(n * steps, classes), y.reshape(n * steps))
    return loss * steps, dflat.reshape(scores.shape) * steps


def counting_task(n_sequences, n_steps, modulus, rng):
    r"""Random bit sequences labelled at every step with the number of ones so far, modulo ``modulus``.

    .. math:: y_t = \Bigl(\sum_{s \le t} b_s\Bigr) \bmod m

    ``modulus = 2`` is the running parity. The network must carry the count in its hidden state:
    the current bit alone says nothing about the label. Bits are one-hot encoded.
    Returns ``(x, y)``: ``x`` of shape ``(n_sequences, n_steps, 2)``, integer ``y`` ``(n_sequences, n_steps)``.
    """
    bits = rng.integers(0, 2, size=(n_sequences, n_steps))
    return np.eye(2)[bits], np.cumsum(bits, axis=1) % modulus


def perturbation_through_time(forward, x, eps=1e-4, seed=0):
    r"""How strongly each later state still depends on the first input: :math:`\lVert \partial h_t / \partial x_0 \rVert`.

    For a random unit direction :math:`u` per sequence, the central difference

    .. math:: \frac{\lVert h_t(x_0 + \epsilon u) - h_t(x_0 - \epsilon u) \rVert}{2\epsilon}

    measures how much of a nudge to the first input survives at step :math:`t`; it is also the
    size of the gradient that step :math:`t`'s loss sends back to :math:`x_0`.
    forward: ``x -> h``, ``(N, T, D) -> (N, T, H)``; x: ``(N, T, D)``; seed: of the directions.
    Returns the mean over sequences, shape ``(T,)``.
    """
    x = np.asarray(x, dtype=np.float64)
    direction = np.random.default_rng(seed).standard_normal(x[:, 0].shape)
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    nudge = np.zeros_like(x)
    nudge[:, 0] = eps * direction
    difference = forward(x + nudge) - forward(x - nudge)
    return (np.linalg.norm(difference, axis=-1) / (2 * eps)).mean(axis=0)
