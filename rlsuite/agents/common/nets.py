"""Networks: encoders (observation -> features), policy heads, value head, the actor-critic.

An ``Encoder`` turns an observation tensor into features ``(B, out_dim)``; it is chosen from the
observation space (uint8 images -> small CNN, anything else -> flatten + MLP). The actor (policy
head) and critic (value head) sit on one shared trunk, as in the lecture's actor-critic, or on two
trunks of the same shape when ``shared_trunk=False``.

The per-step path (``ActorCriticNet.step``) avoids ``torch.distributions`` objects: sampling and
log-probabilities are a few tensor ops, which matters when the environment step costs microseconds.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


def NUMPY_RELU(x: np.ndarray) -> np.ndarray:  # noqa: N802  (named like the table it joins)
    return np.maximum(x, 0.0)


class UnsupportedSpaceError(ValueError):
    """An agent was given an observation or action space it cannot handle."""


def layer_init(layer: nn.Module, gain: float = math.sqrt(2), bias: float = 0.0) -> nn.Module:
    """Orthogonal weights, constant bias (Saxe et al. 2014), as OpenAI baselines' A2C/PPO."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


def numpy_views(layers: list[nn.Linear], cache: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Zero-copy numpy views ``(W^T, b)`` of Linear layers, kept in ``cache``.

    Optimizers and ``load_state_dict`` write parameters in place, so the views stay current; they
    are rebuilt only if the storage ever moves (a deepcopy, ``.to()``), which the first layer's
    data pointer tells.
    """
    pointer = layers[0].weight.data_ptr()
    if cache.get("pointer") != pointer:
        cache["views"] = [(l.weight.detach().numpy().T, l.bias.detach().numpy()) for l in layers]
        cache["pointer"] = pointer
    return cache["views"]


def is_image_space(space: gym.Space) -> bool:
    """uint8 Box of rank 3 in HWC layout, e.g. a (64, 64, 3) game frame."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


class MLPEncoder(nn.Module):
    """Flatten the observation, then Linear + activation layers."""

    def __init__(self, obs_space: gym.Space, hidden_sizes: tuple[int, ...], activation: str):
        super().__init__()
        in_dim = int(np.prod(obs_space.shape))
        self.layers = nn.ModuleList()
        for size in hidden_sizes:
            self.layers.append(layer_init(nn.Linear(in_dim, size)))
            in_dim = size
        self.activation = ACTIVATIONS[activation]
        self.numpy_activation = np.tanh if activation == "tanh" else NUMPY_RELU
        self.out_dim = in_dim
        self._numpy_cache: dict = {}

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.flatten(1).float()  # (B, *obs_shape) -> (B, obs_dim)
        # F.linear instead of calling the modules: same maths, without the per-module hook
        # machinery that costs more than the arithmetic at batch size 8.
        for layer in self.layers:
            x = self.activation(F.linear(x, layer.weight, layer.bias))
        return x

    def forward_numpy(self, obs: np.ndarray) -> np.ndarray:
        """The same forward in numpy, for acting (no gradients needed, far less call overhead)."""
        x = obs.reshape(len(obs), -1).astype(np.float32, copy=False)  # (B, obs_dim)
        activation = self.numpy_activation
        for weight_t, bias in numpy_views(self.layers, self._numpy_cache):
            x = activation(x @ weight_t + bias)
        return x


class CNNEncoder(nn.Module):
    """Nature-DQN's three convolutions (Mnih et al. 2015), narrower, for uint8 HWC frames.

    On 64x64 input the feature maps are 15x15x16 -> 6x6x32 -> 4x4x32, then one linear layer.
    """

    def __init__(self, obs_space: gym.Space, out_dim: int = 256):
        super().__init__()
        height, width, channels = obs_space.shape
        self.convs = nn.Sequential(
            layer_init(nn.Conv2d(channels, 16, 8, stride=4)),
            nn.ReLU(),
            layer_init(nn.Conv2d(16, 32, 4, stride=2)),
            nn.ReLU(),
            layer_init(nn.Conv2d(32, 32, 3, stride=1)),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_flat = self.convs(torch.zeros(1, channels, height, width)).shape[1]
        self.linear = nn.Sequential(layer_init(nn.Linear(n_flat, out_dim)), nn.ReLU())
        self.out_dim = out_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.permute(0, 3, 1, 2).float() / 255.0  # (B, H, W, C) uint8 -> (B, C, H, W) in [0, 1]
        return self.linear(self.convs(x))


def make_encoder(
    obs_space: gym.Space, hidden_sizes: tuple[int, ...], activation: str
) -> MLPEncoder | CNNEncoder:
    """The built-in encoder for an observation space: CNN for uint8 images, else MLP."""
    if is_image_space(obs_space):
        return CNNEncoder(obs_space)
    if isinstance(obs_space, gym.spaces.Box):
        return MLPEncoder(obs_space, hidden_sizes, activation)
    raise UnsupportedSpaceError(f"observation space {obs_space} is not supported (Box only)")


def check_action_space(space: gym.Space) -> None:
    """Raise UnsupportedSpaceError unless the action space is Discrete or Box."""
    if not isinstance(space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise UnsupportedSpaceError(
            f"action space {type(space).__name__} is not supported (Discrete and Box are)"
        )


class ActorCriticNet(nn.Module):
    """Policy pi(a|s) and, optionally, critic V(s) on top of an encoder.

    Discrete actions: a categorical head (logits). Box actions: a diagonal Gaussian whose mean comes
    from the network and whose log standard deviation is a free parameter, state-independent as in
    Schulman et al. 2017 (PPO, sec. 6.1). Samples are stored unclipped (their log-prob is exact) and
    clipped to the space only when handed to the environment (``to_env``).
    """

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        hidden_sizes: tuple[int, ...] = (64, 64),
        activation: str = "tanh",
        shared_trunk: bool = True,
        with_critic: bool = True,
        log_std_init: float = 0.0,
    ):
        super().__init__()
        check_action_space(action_space)
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.encoder = make_encoder(obs_space, hidden_sizes, activation)
        # A separate critic trunk keeps value-regression gradients out of the policy's features.
        self.critic_encoder = None
        if with_critic and not shared_trunk:
            self.critic_encoder = make_encoder(obs_space, hidden_sizes, activation)
        features = self.encoder.out_dim
        if self.discrete:
            self.policy_head = layer_init(nn.Linear(features, int(action_space.n)), gain=0.01)
        else:
            self.action_shape = action_space.shape
            act_dim = int(np.prod(action_space.shape))
            self.policy_head = layer_init(nn.Linear(features, act_dim), gain=0.01)
            self.log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))
            self.low = action_space.low.astype(np.float32).reshape(-1)
            self.high = action_space.high.astype(np.float32).reshape(-1)
        self.value_head = layer_init(nn.Linear(features, 1), gain=1.0) if with_critic else None
        self._numpy_cache: dict = {}

    # -- the pieces ---------------------------------------------------------------------------
    def features(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(policy features, value features); the same tensor when the trunk is shared."""
        policy_features = self.encoder(obs)
        if self.critic_encoder is None:
            return policy_features, policy_features
        return policy_features, self.critic_encoder(obs)

    def value_from(self, value_features: torch.Tensor) -> torch.Tensor:
        if self.value_head is None:
            return torch.zeros(value_features.shape[0], device=value_features.device)
        return self.value_head(value_features).squeeze(-1)  # (B,)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(s), shape (B,). Zeros when the agent has no critic (REINFORCE)."""
        return self.value_from(self.features(obs)[1])

    def log_prob_entropy(
        self, policy_features: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log pi(a|s) and the policy's entropy at each state, both (B,)."""
        out = self.policy_head(policy_features)
        if self.discrete:
            log_probs = torch.log_softmax(out, dim=-1)  # (B, n_actions)
            chosen = log_probs.gather(1, actions.long().unsqueeze(1)).squeeze(1)
            entropy = -(log_probs.exp() * log_probs).sum(-1)
            return chosen, entropy
        log_std = self.log_std.expand_as(out)
        z = (actions.reshape(out.shape) - out) / log_std.exp()
        log_prob = (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        entropy = (log_std + 0.5 + 0.5 * math.log(2 * math.pi)).sum(-1)
        return log_prob, entropy

    def evaluate_actions(
        self, obs: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log pi(a|s), entropy, V(s)) with gradients, for the update."""
        policy_features, value_features = self.features(obs)
        log_prob, entropy = self.log_prob_entropy(policy_features, actions)
        return log_prob, entropy, self.value_from(value_features)

    # -- acting -------------------------------------------------------------------------------
    def heads_numpy(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Policy head output and V(s) as numpy arrays, for acting.

        MLPs run in numpy on views of the torch parameters (``numpy_views``): at a batch of 8
        vectors each torch call costs more than its arithmetic. CNNs run in torch.
        """
        if not isinstance(self.encoder, MLPEncoder):
            with torch.inference_mode():
                policy_features, value_features = self.features(torch.from_numpy(obs))
                out = self.policy_head(policy_features)
                return out.numpy(), self.value_from(value_features).numpy()
        policy_features = self.encoder.forward_numpy(obs)
        value_features = policy_features
        if self.critic_encoder is not None:
            value_features = self.critic_encoder.forward_numpy(obs)
        heads = (
            [self.policy_head] if self.value_head is None else [self.policy_head, self.value_head]
        )
        views = numpy_views(heads, self._numpy_cache)
        weight_t, bias = views[0]
        out = policy_features @ weight_t + bias
        if self.value_head is None:
            return out, np.zeros(len(obs), dtype=np.float32)
        weight_t, bias = views[1]
        return out, (value_features @ weight_t + bias)[:, 0]

    def step(
        self, obs: np.ndarray, rng: np.random.Generator, deterministic: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample a ~ pi(.|s) for a batch of observations: (actions, log_probs, values) in numpy.

        The network runs in torch; the sampling runs in numpy, whose calls cost about a
        microsecond where a torch call costs several, and acting is a handful of tiny ops per
        env step. Box actions are returned unclipped (``to_env`` clips).
        """
        out, values = self.heads_numpy(obs)  # (B, n_actions) logits or (B, act_dim); (B,)
        if self.discrete:
            shifted = out - out.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            if deterministic:
                actions = out.argmax(axis=1)
            else:  # Gumbel-max trick: argmax(logits + Gumbel noise) is a categorical sample.
                actions = (log_probs + rng.gumbel(size=out.shape)).argmax(axis=1)
            chosen = log_probs[np.arange(len(actions)), actions]
            return actions, chosen, values
        log_std = self.log_std.detach().numpy()
        if deterministic:
            noise = np.zeros_like(out)
        else:
            noise = rng.standard_normal(out.shape, dtype=np.float32)
        actions = out + np.exp(log_std) * noise  # (B, act_dim), unclipped
        chosen = (-0.5 * noise**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(axis=1)
        return actions, chosen.astype(np.float32), values

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them: int64 indices, or float32 clipped to the box."""
        if self.discrete:
            return actions
        return np.clip(actions, self.low, self.high).reshape(-1, *self.action_shape)
