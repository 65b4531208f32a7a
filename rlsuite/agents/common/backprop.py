"""The actor-critic loss's gradient by backpropagation written out in numpy, for MLP networks.

A2C updates on tiny batches (8 envs x 5 steps = 40 samples). There torch's autograd spends far
more time on per-operation bookkeeping (about 10 us per op forward, 20 us per node backward) than
on the arithmetic, while a numpy call costs a microsecond or two. So for an ``ActorCriticNet`` on
an ``MLPEncoder`` the update can compute its gradient here, by the chain rule, one layer at a time:

1. forward pass: keep every layer's output ``h_k = act(h_{k-1} W_k + b_k)``;
2. the loss's gradient with respect to the heads' outputs (logits or Gaussian mean, and V(s));
3. backward pass: ``d pre_k = d h_k * act'(h_k)``, ``dW_k = h_{k-1}^T d pre_k``,
   ``db_k = sum d pre_k``, ``d h_{k-1} = d pre_k W_k^T``, from the heads down to the input.

The loss is exactly ``actor_critic_loss`` (actor_critic.py):
``-mean(A log pi(a|s)) + vf_coef mean((V(s) - G)^2) - ent_coef mean(H(pi(.|s)))``, and
``tests/agents/test_backprop.py`` checks the gradient against autograd's for every kind of net.
The result is a gradient per parameter name, as ``net.named_parameters()`` names them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rlsuite.agents.common.nets import (
    ActorCriticNet,
    MLPEncoder,
    gaussian_entropy,
    gaussian_log_prob,
    log_softmax,
)


class HeadGradient(NamedTuple):
    """The actor's loss and entropy, and the actor loss's gradient w.r.t. the policy head."""

    policy_loss: float  # -mean(A log pi(a|s))
    entropy: float  # mean H(pi(.|s))
    d_out: np.ndarray  # (B, out): d loss / d(logits or Gaussian mean)
    d_log_std: np.ndarray | None  # (act_dim,) d loss / d log_std (Box actions), else None


def supports(net: ActorCriticNet) -> bool:
    """True when this module can compute ``net``'s gradient: an MLP with a critic head, on the
    CPU (numpy works on views of the weights' memory)."""
    on_cpu = net.policy_head.weight.is_cpu
    return isinstance(net.encoder, MLPEncoder) and net.value_head is not None and on_cpu


def categorical_gradient(
    logits: np.ndarray, actions: np.ndarray, advantages: np.ndarray, ent_coef: float
) -> HeadGradient:
    """Discrete actions: ``d/dz [-mean(A log softmax(z)_a) - ent_coef mean(H)]``.

    ``d log softmax(z)_a / dz = onehot(a) - pi`` and ``dH/dz = -pi (log pi + H)``.
    """
    n = len(logits)
    log_pi = log_softmax(logits)  # (B, n_actions)
    pi = np.exp(log_pi)
    rows = np.arange(n)
    entropy = -(pi * log_pi).sum(axis=1)  # (B,)
    weight = advantages / n  # each sample's share of the mean
    d_logits = pi * weight[:, None]  # -A/n (onehot - pi) ...
    d_logits[rows, actions] -= weight  # ... written as A/n pi - A/n onehot
    if ent_coef != 0.0:
        d_logits += (ent_coef / n) * pi * (log_pi + entropy[:, None])
    policy_loss = -float(weight @ log_pi[rows, actions])
    return HeadGradient(policy_loss, float(entropy.mean()), d_logits, None)


def gaussian_gradient(
    mean: np.ndarray,
    log_std: np.ndarray,
    actions: np.ndarray,
    advantages: np.ndarray,
    ent_coef: float,
) -> HeadGradient:
    """Box actions, diagonal Gaussian N(mean, exp(log_std)^2): the same loss's gradient.

    With ``z = (a - mean) / std``: ``log pi = sum(-z^2/2 - log_std - log(2 pi)/2)``,
    ``d log pi / d mean = z / std``, ``d log pi / d log_std = z^2 - 1``, ``dH / d log_std = 1``.
    """
    n = len(mean)
    std = np.exp(log_std)
    z = (actions.reshape(mean.shape) - mean) / std  # (B, act_dim)
    log_pi = gaussian_log_prob(z, log_std)  # (B,)
    entropy = float(gaussian_entropy(log_std))  # the same at every state
    weight = advantages / n
    d_mean = -weight[:, None] * z / std
    d_log_std = -(weight @ (z**2 - 1.0)) - ent_coef
    return HeadGradient(-float(weight @ log_pi), entropy, d_mean, d_log_std)


def activation_derivative(output: np.ndarray, activation: str) -> np.ndarray:
    """``act'(pre)`` from the layer's output: tanh' = 1 - tanh^2, relu' = 1 where relu > 0."""
    if activation == "tanh":
        return 1.0 - output * output
    return (output > 0).astype(output.dtype)


def trunk_backward(
    encoder: MLPEncoder, outputs: list[np.ndarray], d_features: np.ndarray
) -> dict[str, np.ndarray]:
    """Backward pass through the MLP trunk, from d loss / d (last layer's output) down.

    ``outputs`` is the forward pass's ``[input, h_1, ..., h_L]``. For each layer, top down:
    ``d pre = d h * act'``, ``dW = input^T d pre``, ``db = sum over the batch of d pre``, and
    ``d input = d pre W^T`` becomes the layer below's ``d h``.
    """
    grads = {}
    d_output = d_features
    weights = encoder.numpy_weights()
    for k in range(len(weights) - 1, -1, -1):
        weight, _ = weights[k]  # (copies, in, out)
        d_pre = d_output * activation_derivative(outputs[k + 1], encoder.activation_name)
        layer_input = outputs[k]  # (B, in) for the first layer, else (copies, B, in)
        grads[f"encoder.weights.{k}"] = np.swapaxes(layer_input, -1, -2) @ d_pre
        grads[f"encoder.biases.{k}"] = d_pre.sum(axis=1, keepdims=True)
        if k > 0:  # the observation needs no gradient
            d_output = d_pre @ np.swapaxes(weight, -1, -2)
    return grads


def actor_critic_gradient(
    net: ActorCriticNet,
    obs: np.ndarray,
    actions: np.ndarray,
    advantages: np.ndarray,
    returns: np.ndarray,
    vf_coef: float,
    ent_coef: float,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The actor-critic loss at this batch and its gradient per parameter name.

    ``advantages`` are used as given (normalise them first if wanted). Returns
    ``({"policy_loss", "value_loss", "entropy"}, {parameter name: gradient})``.
    """
    encoder: MLPEncoder = net.encoder
    # 1. Forward pass, keeping each layer's output: outputs[0] is the input (B, obs_dim), then
    #    (copies, B, width) per layer; copy 0 is the actor's trunk, the last copy the critic's.
    outputs = encoder.layer_outputs_numpy(obs)
    features = outputs[-1]
    (w_pi, b_pi), (w_v, b_v) = net.head_views()
    out = features[0] @ w_pi.T + b_pi  # logits or Gaussian mean
    value = features[-1] @ w_v.T + b_v  # (B, n_values): V(s), or V_E, V_I with curiosity

    # 2. The loss and its gradient at the heads' outputs.
    n = len(obs)
    if net.discrete:
        head = categorical_gradient(out, actions, advantages, ent_coef)
    else:
        log_std = net.log_std.detach().numpy()
        head = gaussian_gradient(out, log_std, actions, advantages, ent_coef)
    value_error = value - returns.reshape(n, -1)  # (B, n_values)
    # d vf_coef sum_heads mean((V-G)^2) / dV, (B, n_values)
    d_value = (2.0 * vf_coef / n) * value_error

    # 3. Backward pass: the heads, then the trunk's layers from the top down.
    grads = {
        "policy_head.weight": head.d_out.T @ features[0],
        "policy_head.bias": head.d_out.sum(axis=0),
        "value_head.weight": d_value.T @ features[-1],
        "value_head.bias": d_value.sum(axis=0),
    }
    if head.d_log_std is not None:
        grads["log_std"] = head.d_log_std.astype(np.float32)
    d_features = np.zeros_like(features)  # d loss / d features, (copies, B, width)
    d_features[0] += head.d_out @ w_pi
    d_features[-1] += d_value @ w_v  # the same slice as the actor's when the trunk is shared
    grads.update(trunk_backward(encoder, outputs, d_features))
    losses = {
        "policy_loss": head.policy_loss,
        "value_loss": float((value_error * value_error).sum()) / n,
        "entropy": head.entropy,
    }
    return losses, grads
