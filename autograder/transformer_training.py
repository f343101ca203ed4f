r"""A tiny decoder-only Transformer trained in numpy, for chapter 8's page.

Token ids ``(N, T)`` are embedded, sinusoidal positions are added, a few blocks of
``autograder.transformer`` transform the rows, and a softmax readout predicts one class per position:

.. math:: X_0 = E[\text{tokens}] + P,\qquad X_{b+1} = \operatorname{block}_b(X_b),\qquad
          \text{logits} = \operatorname{LN}(X_{n_{blocks}})\, W_{out} + b_{out}

The blocks run on a batch ``(N, T, d_model)`` at once; the backward passes are the chapter's own
(``layer_norm_backward``, ``attention_backward``, the feed-forward layer's chain rule) and the
parameters are updated with Adam. Nothing here is graded: the graded references are in
``autograder.transformer``.

Parameters live in one flat dict, block ``l``'s under ``"block<l>.<name>"``, so that Adam and the
gradient checks treat every array alike.
"""

import numpy as np

from autograder.attention import scaled_dot_product_attention
from autograder.self_attention import causal_mask
from autograder.softmax import cross_entropy_loss_and_grad, softmax
from autograder.transformer import (BLOCK_PARAMETERS, attention_backward, init_block_params, layer_norm,
                                    layer_norm_backward, relu, sinusoidal_positions)

#: A short public-domain poem (Jane Taylor, "The Star", 1806), lower-cased: the character-level corpus.
TINY_TEXT = """twinkle, twinkle, little star,
how i wonder what you are!
up above the world so high,
like a diamond in the sky.

when the blazing sun is gone,
when he nothing shines upon,
then you show your little light,
twinkle, twinkle, all the night.

then the traveller in the dark
thanks you for your tiny spark;
he could not see which way to go,
if you did not twinkle so.

in the dark blue sky you keep,
and often through my curtains peep,
for you never shut your eye
till the sun is in the sky.

as your bright and tiny spark
lights the traveller in the dark,
though i know not what you are,
twinkle, twinkle, little star.
"""


def init_model(n_tokens, n_classes, d_model, d_ff, n_blocks, rng):
    r"""Random parameters of the model: embeddings :math:`\mathcal N(0, 1)`, blocks as ``init_block_params``.

    The output projections of each block (``W_o``, ``W2``) are scaled by :math:`1/\sqrt{2 n_{blocks}}`,
    so that the residual stream does not grow with depth at the start.
    Returns the flat parameter dict.
    """
    params = {"embedding": rng.standard_normal((n_tokens, d_model))}
    for index in range(n_blocks):
        block = init_block_params(d_model, d_ff, rng)
        block["W_o"] /= np.sqrt(2 * n_blocks)
        block["W2"] /= np.sqrt(2 * n_blocks)
        params.update({f"block{index}.{name}": value for name, value in block.items()})
    params.update({"ln_gamma": np.ones(d_model), "ln_beta": np.zeros(d_model),
                   "W_out": rng.standard_normal((d_model, n_classes)) / np.sqrt(d_model),
                   "b_out": np.zeros(n_classes)})
    return params


def n_blocks(params):
    """How many blocks the flat parameter dict holds."""
    return sum(1 for name in params if name.endswith(".W_q"))


def block_params(params, index):
    """Block ``index``'s twelve parameters, under their own names."""
    return {name: params[f"block{index}.{name}"] for name in BLOCK_PARAMETERS}


def split_batch_heads(M, n_heads):
    """``(N, T, d_model)`` -> ``(N, n_heads, T, d_head)``: head ``h`` takes columns ``h*d_head:(h+1)*d_head``."""
    N, T, d_model = M.shape
    return M.reshape(N, T, n_heads, d_model // n_heads).transpose(0, 2, 1, 3)


def merge_batch_heads(heads):
    """``(N, n_heads, T, d_head)`` -> ``(N, T, n_heads * d_head)``, head 0 first."""
    N, n_heads, T, d_head = heads.shape
    return heads.transpose(0, 2, 1, 3).reshape(N, T, n_heads * d_head)


def _sum_rows(left, right):
    """:math:`\\sum_{n,t} \\text{left}_{nt}^\\top \\text{right}_{nt}`: a weight's gradient summed over the batch."""
    return left.reshape(-1, left.shape[-1]).T @ right.reshape(-1, right.shape[-1])


def attention_layer_forward(X, p, n_heads, mask):
    """Multi-head self-attention of a batch ``X (N, T, d_model)``; returns the output and what its backward needs."""
    Q, K, V = (split_batch_heads(X @ p[name], n_heads) for name in ("W_q", "W_k", "W_v"))
    heads, A = scaled_dot_product_attention(Q, K, V, mask=mask)
    merged = merge_batch_heads(heads)
    return merged @ p["W_o"], {"X": X, "Q": Q, "K": K, "V": V, "A": A, "merged": merged}


def attention_layer_backward(d_out, cache, p, mask):
    """Gradients of ``attention_layer_forward``: ``(dX, {W_q, W_k, W_v, W_o})``, through ``attention_backward``."""
    n_heads = cache["Q"].shape[1]
    d_heads = split_batch_heads(d_out @ p["W_o"].T, n_heads)
    dQ, dK, dV = (merge_batch_heads(d) for d in attention_backward(d_heads, cache["Q"], cache["K"], cache["V"], mask))
    grads = {"W_o": _sum_rows(cache["merged"], d_out), "W_q": _sum_rows(cache["X"], dQ),
             "W_k": _sum_rows(cache["X"], dK), "W_v": _sum_rows(cache["X"], dV)}
    return dQ @ p["W_q"].T + dK @ p["W_k"].T + dV @ p["W_v"].T, grads


def feed_forward_backward(d_out, X, p):
    r"""Gradients of ``feed_forward`` at ``X``: the relu passes gradient where its input was positive."""
    pre = X @ p["W1"] + p["b1"]
    d_pre = (d_out @ p["W2"].T) * (pre > 0)
    grads = {"W2": _sum_rows(relu(pre), d_out), "b2": d_out.sum(axis=(0, 1)),
             "W1": _sum_rows(X, d_pre), "b1": d_pre.sum(axis=(0, 1))}
    return d_pre @ p["W1"].T, grads


def block_forward(X, p, n_heads, mask, pre_norm=True):
    r"""One block on a batch ``(N, T, d_model)``, pre-norm (``transformer_block``) or post-norm (``post_norm_block``).

    Returns ``Y`` and the cache of ``block_backward``.
    """
    attention_input = layer_norm(X, p["ln1_gamma"], p["ln1_beta"]) if pre_norm else X
    attended, attention_cache = attention_layer_forward(attention_input, p, n_heads, mask)
    first_sum = X + attended
    H = first_sum if pre_norm else layer_norm(first_sum, p["ln1_gamma"], p["ln1_beta"])
    ffn_input = layer_norm(H, p["ln2_gamma"], p["ln2_beta"]) if pre_norm else H
    second_sum = H + relu(ffn_input @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    Y = second_sum if pre_norm else layer_norm(second_sum, p["ln2_gamma"], p["ln2_beta"])
    cache = {"X": X, "attention": attention_cache, "first_sum": first_sum, "H": H, "ffn_input": ffn_input,
             "second_sum": second_sum, "pre_norm": pre_norm, "mask": mask}
    return Y, cache


def block_backward(dY, cache, p):
    r"""Gradients of ``block_forward``: ``(dX, grads)``. Each residual sum passes its gradient to both branches."""
    pre_norm, grads = cache["pre_norm"], {}
    if pre_norm:
        d_second = dY
    else:
        d_second, grads["ln2_gamma"], grads["ln2_beta"] = layer_norm_backward(dY, cache["second_sum"], p["ln2_gamma"])
    d_ffn_input, ffn_grads = feed_forward_backward(d_second, cache["ffn_input"], p)
    grads.update(ffn_grads)
    if pre_norm:
        d_through_norm, grads["ln2_gamma"], grads["ln2_beta"] = layer_norm_backward(d_ffn_input, cache["H"],
                                                                                    p["ln2_gamma"])
        d_first = d_second + d_through_norm
    else:
        d_first, grads["ln1_gamma"], grads["ln1_beta"] = layer_norm_backward(d_second + d_ffn_input,
                                                                             cache["first_sum"], p["ln1_gamma"])
    d_attention_input, attention_grads = attention_layer_backward(d_first, cache["attention"], p, cache["mask"])
    grads.update(attention_grads)
    if not pre_norm:
        return d_first + d_attention_input, grads
    d_through_norm, grads["ln1_gamma"], grads["ln1_beta"] = layer_norm_backward(d_attention_input, cache["X"],
                                                                                p["ln1_gamma"])
    return d_first + d_through_norm, grads


def model_forward(params, tokens, n_heads, positions=True, pre_norm=True):
    r"""Logits ``(N, T, n_classes)`` of every position, each seeing only itself and the positions before it.

    ``positions=False`` leaves out the sinusoidal positions; ``pre_norm=False`` uses post-norm blocks (and no
    final layer norm, since their output is normalised already). Returns ``(logits, cache)``.
    """
    tokens = np.asarray(tokens)
    length, d_model = tokens.shape[1], params["embedding"].shape[1]
    mask = causal_mask(length)
    X = params["embedding"][tokens] + (sinusoidal_positions(length, d_model) if positions else 0.0)
    block_caches = []
    for index in range(n_blocks(params)):
        X, block_cache = block_forward(X, block_params(params, index), n_heads, mask, pre_norm)
        block_caches.append(block_cache)
    final = layer_norm(X, params["ln_gamma"], params["ln_beta"]) if pre_norm else X
    cache = {"tokens": tokens, "blocks": block_caches, "last": X, "final": final, "pre_norm": pre_norm}
    return final @ params["W_out"] + params["b_out"], cache


def model_loss_and_grads(params, tokens, labels, n_heads, positions=True, pre_norm=True):
    r"""Mean cross-entropy over every position of every sequence, and its gradient for every parameter.

    Returns ``(loss, grads, cache)``; ``grads`` has the keys of ``params``.
    """
    logits, cache = model_forward(params, tokens, n_heads, positions, pre_norm)
    N, T, C = logits.shape
    loss, dlogits = cross_entropy_loss_and_grad(logits.reshape(N * T, C), np.asarray(labels).reshape(N * T))
    dlogits = dlogits.reshape(N, T, C)
    grads = {"W_out": _sum_rows(cache["final"], dlogits), "b_out": dlogits.sum(axis=(0, 1))}
    dX = dlogits @ params["W_out"].T
    if pre_norm:
        dX, grads["ln_gamma"], grads["ln_beta"] = layer_norm_backward(dX, cache["last"], params["ln_gamma"])
    else:
        grads["ln_gamma"], grads["ln_beta"] = np.zeros_like(params["ln_gamma"]), np.zeros_like(params["ln_beta"])
    for index in reversed(range(n_blocks(params))):
        dX, block_grads = block_backward(dX, cache["blocks"][index], block_params(params, index))
        grads.update({f"block{index}.{name}": value for name, value in block_grads.items()})
    grads["embedding"] = np.zeros_like(params["embedding"])
    np.add.at(grads["embedding"], cache["tokens"], dX)
    return loss, grads, cache


def adam_step(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    r"""One Adam update of every parameter, in place on ``params`` and ``state``.

    .. math:: \overline{G} \leftarrow \beta_1 \overline{G} + (1-\beta_1) G,\quad
              \overline{G^2} \leftarrow \beta_2 \overline{G^2} + (1-\beta_2) G^2,\quad
              \theta \leftarrow \theta - \eta\, \frac{\overline{G} / (1-\beta_1^k)}{\sqrt{\overline{G^2} / (1-\beta_2^k)} + \epsilon}

    in the book's notation (chapter 8): update ``k = 1, 2, ...``; ``state`` keeps the running averages
    as ``m.<name>`` (for G bar) and ``v.<name>`` (for G² bar), the names most code uses.

    Each parameter's step is its running mean gradient divided by its running root-mean-square
    gradient, so every parameter moves at a similar pace whatever the scale of its gradient.
    ``state`` starts as ``{}``.
    """
    step = state["step"] = state.get("step", 0) + 1
    for name, g in grads.items():
        m = state[f"m.{name}"] = beta1 * state.get(f"m.{name}", 0.0) + (1 - beta1) * g
        v = state[f"v.{name}"] = beta2 * state.get(f"v.{name}", 0.0) + (1 - beta2) * g * g
        params[name] -= lr * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)


def train_model(params, make_batch, n_steps, lr, seed, n_heads, positions=True, pre_norm=True):
    r"""Adam on ``model_loss_and_grads`` for ``n_steps`` batches ``make_batch(rng) -> (tokens, labels)``.

    Returns ``(params, losses)``: new parameters (the input is left untouched) and the loss of every batch.
    """
    params = {name: value.copy() for name, value in params.items()}
    rng, state, losses = np.random.default_rng(seed), {}, []
    for _ in range(n_steps):
        tokens, labels = make_batch(rng)
        loss, grads, _ = model_loss_and_grads(params, tokens, labels, n_heads, positions, pre_norm)
        adam_step(params, grads, state, lr)
        losses.append(loss)
    return params, np.array(losses)


def attention_maps(params, tokens, n_heads, positions=True):
    """Every block's attention weights for one sequence of ids ``(T,)``: ``(n_blocks, n_heads, T, T)``."""
    _, cache = model_forward(params, np.asarray(tokens)[np.newaxis], n_heads, positions)
    return np.stack([block_cache["attention"]["A"][0] for block_cache in cache["blocks"]])


def character_vocabulary(text):
    """The sorted characters of ``text``, and ``text`` as their ids."""
    characters = sorted(set(text))
    index = {character: i for i, character in enumerate(characters)}
    return characters, np.array([index[character] for character in text])


def text_windows(ids, batch_size, length, rng):
    """``batch_size`` random windows of ``length`` ids, each labelled with the id that follows every position."""
    starts = rng.integers(0, len(ids) - length, size=batch_size)
    windows = np.stack([ids[start:start + length + 1] for start in starts])
    return windows[:, :-1], windows[:, 1:]


def sample_text(params, prompt_ids, n_new, temperature, rng, n_heads, context):
    r"""Generate ``n_new`` ids after ``prompt_ids``, each drawn from :math:`\operatorname{softmax}(z / \tau)`.

    The model sees at most the last ``context`` ids (the length it was trained on). A temperature
    :math:`\tau` near 0 picks the most likely id; a large one flattens the distribution towards uniform.
    Returns the ids generated, ``(n_new,)``.
    """
    ids = list(prompt_ids)
    for _ in range(n_new):
        logits, _ = model_forward(params, np.array(ids[-context:])[np.newaxis], n_heads)
        ids.append(int(rng.choice(logits.shape[-1], p=softmax(logits[0, -1] / temperature))))
    return np.array(ids[len(prompt_ids):])
