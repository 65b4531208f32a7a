"""Networks: encoders (observation -> features), policy heads, value head, the actor-critic.

An ``Encoder`` turns an observation tensor into features ``(B, out_dim)`` (``MLPEncoder``:
``(copies, B, out_dim)``, one slice per trunk); it is chosen from the observation space (uint8
images -> small CNN, anything else -> flatten + MLP). The actor (policy head) and critic (value
head) sit on one shared trunk, as in the lecture's actor-critic, or on two trunks of the same shape
when ``shared_trunk=False`` (for vector observations, one ``MLPEncoder`` with ``copies=2``: two
independent MLPs evaluated together, one batched product per layer). ``shared_trunk=None``, the
agents' default, means one trunk for images (as SB3's ``CnnPolicy``: a CNN is most of the cost and
learns features both heads use) and two for vectors (as SB3's ``MlpPolicy``).

The per-step path (``ActorCriticNet.step``) avoids ``torch.distributions`` objects: sampling and
log-probabilities are a few tensor ops, which matters when the environment step costs microseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import math
import sys

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rlsuite.errors import ConfigError

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


def NUMPY_RELU(x: np.ndarray) -> np.ndarray:  # noqa: N802  (named like the table it joins)
    return np.maximum(x, 0.0)


HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log pi(.|s) from logits ``(B, n_actions)`` in numpy; shifted by each row's max so that
    ``exp`` never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def gaussian_log_prob(z, log_std):
    """log N(a; mean, std^2) of a diagonal Gaussian, summed over the action's dimensions, from
    ``z = (a - mean) / std`` (numpy arrays or torch tensors)."""
    return (-0.5 * z**2 - log_std - HALF_LOG_2PI).sum(axis=-1)


def gaussian_entropy(log_std):
    """Entropy of a diagonal Gaussian, summed over the action's dimensions (numpy or torch)."""
    return (log_std + 0.5 + HALF_LOG_2PI).sum(axis=-1)


class UnsupportedSpaceError(ValueError):
    """An agent was given an observation or action space it cannot handle."""


def layer_init(layer: nn.Module, gain: float = math.sqrt(2), bias: float = 0.0) -> nn.Module:
    """Orthogonal weights, constant bias (Saxe et al. 2014), as OpenAI baselines' A2C/PPO."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


def numpy_views(
    layers: list[tuple[torch.Tensor, torch.Tensor]], cache: dict
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Zero-copy numpy views of ``(weight, bias)`` parameter pairs, kept in ``cache``.

    Optimizers and ``load_state_dict`` write parameters in place, so the views stay current; they
    are rebuilt only if the storage ever moves (a deepcopy, ``.to()``, ``flatten_parameters``),
    which the first weight's data pointer tells.
    """
    pointer = layers[0][0].data_ptr()
    if cache.get("pointer") != pointer:
        cache["views"] = [(w.detach().numpy(), b.detach().numpy()) for w, b in layers]
        cache["pointer"] = pointer
    return cache["views"]


def is_image_space(space: gym.Space) -> bool:
    """uint8 Box of rank 3 in HWC layout, e.g. a (64, 64, 3) game frame."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


@functools.cache
def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse rather than hand it back to the OS.

    A CNN update allocates and frees megabytes per minibatch (float frames, feature maps, their
    gradients). By default glibc returns blocks over 128 KB to the OS as soon as they are freed,
    and the next allocation pays a page fault for every 4 KB it touches: a quarter of PPO's
    update time on 64x64 frames. PyTorch's CPU performance guide suggests an allocator that keeps
    memory (jemalloc, tcmalloc); these two settings do that within glibc, for the whole process,
    which keeps its peak memory reserved. Elsewhere (macOS, Windows, musl) nothing changes.
    """
    if sys.platform != "linux":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)  # allocations below 32 MB (glibc's maximum) from the heap
    mallopt(m_trim_threshold, 2**30)  # give the heap's free top back only past 1 GB


class MLPEncoder(nn.Module):
    """Flatten the observation, then Linear + activation layers, in ``copies`` independent copies.

    ``copies=2`` holds the actor's and critic's trunks: two independent MLPs of the same shape,
    evaluated as one batched matrix product per layer. The maths is exactly that of two separate
    MLPs (each copy has its own weights, initialised as its own layer would be), but every layer
    is one torch call instead of two, which at A2C's 40-sample batches is most of the cost.

    Layer ``k``'s weights are stored input-major, ``(copies, in, out)``, so that the forward is
    ``x @ W + b`` with no transpose. ``forward`` returns ``(copies, B, out_dim)``.
    """

    def __init__(
        self,
        obs_space: gym.Space,
        hidden_sizes: tuple[int, ...],
        activation: str,
        copies: int = 1,
    ):
        super().__init__()
        sizes = [int(np.prod(obs_space.shape)), *hidden_sizes]
        # Each copy is initialised as a plain MLP of nn.Linear layers would be, one copy after
        # the other, so that the random draws (and results) equal those of separate MLPs.
        copies_layers = [
            [layer_init(nn.Linear(n_in, n_out)) for n_in, n_out in itertools.pairwise(sizes)]
            for _ in range(copies)
        ]
        self.copies = copies
        self.weights = nn.ParameterList()  # layer k: (copies, in, out)
        self.biases = nn.ParameterList()  # layer k: (copies, 1, out), broadcast over the batch
        for layers in zip(*copies_layers, strict=True):  # the copies of one layer
            weight = torch.stack([layer.weight.detach().T for layer in layers])
            bias = torch.stack([layer.bias.detach()[None] for layer in layers])
            self.weights.append(nn.Parameter(weight.contiguous()))
            self.biases.append(nn.Parameter(bias))
        # The same Parameters as a plain list of (weight, bias) pairs, for the forward passes:
        # indexing a ParameterList goes through nn.Module's attribute machinery, microseconds
        # per item, which here would cost more than a layer's arithmetic.
        self.layers = list(zip(self.weights, self.biases, strict=True))
        in_dim = sizes[-1]
        self.activation = ACTIVATIONS[activation]
        self.activation_name = activation
        self.numpy_activation = np.tanh if activation == "tanh" else NUMPY_RELU
        self.out_dim = in_dim
        self._numpy_cache: dict = {}

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.flatten(1).float()  # (B, *obs_shape) -> (B, obs_dim)
        x = x.expand(self.copies, *x.shape)  # (copies, B, obs_dim), a view: no copy
        for weight, bias in self.layers:
            x = self.activation(torch.baddbmm(bias, x, weight))  # (copies, B, out)
        return x

    def forward_numpy(self, obs: np.ndarray) -> np.ndarray:
        """The same forward in numpy, for acting (no gradients needed, far less call overhead)."""
        return self.layer_outputs_numpy(obs)[-1]

    def layer_outputs_numpy(self, obs: np.ndarray) -> list[np.ndarray]:
        """Every layer's output in numpy: ``[input (B, obs_dim), h_1, ..., h_L]``, each
        ``h_k`` of shape ``(copies, B, width)``; backprop.py's backward pass needs them all."""
        x = obs.reshape(len(obs), -1).astype(np.float32, copy=False)  # (B, obs_dim)
        outputs = [x]
        activation = self.numpy_activation
        for weight, bias in self.numpy_weights():
            x = activation(x @ weight + bias)  # broadcast over copies: (copies, B, out)
            outputs.append(x)
        return outputs

    def numpy_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Zero-copy numpy views of the layers' (weight, bias): ``(copies, in, out)``,
        ``(copies, 1, out)``."""
        return numpy_views(self.layers, self._numpy_cache)


class CNNEncoder(nn.Module):
    """A small CNN for uint8 HWC frames drawn in 4-pixel cells, as every rlsuite game draws them.

    Layers (on a 64x64 frame): conv 4x4 stride 4, 16 channels -> 16x16x16, one output per cell
    (what the cell shows); conv 3x3 stride 2, 32 channels -> 7x7x32 (neighbourhoods of cells);
    linear to ``out_dim``; ReLU after each. Nature-DQN's CNN (Mnih et al. 2015; SB3's NatureCNN)
    was made for 84x84 Atari frames; on ours its 8x8 stride-4 filters straddle cells, and it costs
    about four times the arithmetic of this one (docs/decisions.md).

    Two options for games whose action depends on where things lie relative to the player,
    anywhere on the screen (Forage: the way to the nearest food):

    - ``context_layers`` 3x3 stride-1 convolutions (32 channels) between the two: the stride-2
      layer then sees each cell with its surroundings out to ``1 + context_layers`` cells;
    - ``pool="max"``: the stride-2 layer has 64 channels and the linear layer reads each
      channel's maximum over all positions, not the flattened map. The map's linear layer learns
      the player's surroundings at every position separately; the maximum learns them once,
      wherever the player stands. Cloning Forage's expert from 48 episodes of frames, the
      held-out accuracy is 0.42 without the options, 0.48 with the context layers alone and
      0.88 with both (docs/decisions.md).

    The frame stays uint8 and channels-last until the network: ``forward`` permutes it to NCHW
    as a view (no copy; convolutions accept channels-last memory) and converts it to float once.
    The division by 255 is folded into the first layer's weights, conv(x / 255, W) =
    conv(x, W / 255): a few hundred weights are scaled instead of every pixel of every frame.
    """

    def __init__(
        self,
        obs_space: gym.Space,
        out_dim: int = 256,
        context_layers: int = 0,
        pool: str = "flatten",
    ):
        super().__init__()
        height, width, channels = obs_space.shape
        self.cell_conv = layer_init(nn.Conv2d(channels, 16, 4, stride=4))
        # Optional 3x3 stride-1 convolutions over the map of cells (padded, so the map keeps its
        # size): each widens what every cell's features see by one cell on every side.
        widths = [16] + [32] * context_layers
        self.context_convs = nn.ModuleList(
            layer_init(nn.Conv2d(a, b, 3, padding=1)) for a, b in itertools.pairwise(widths)
        )
        self.pool = pool
        out_channels = 64 if pool == "max" else 32
        self.neighbour_conv = layer_init(nn.Conv2d(widths[-1], out_channels, 3, stride=2))
        n_flat = out_channels  # "max": one number per channel
        if pool == "flatten":
            n_flat *= _conv_size(_conv_size(height, 4, 4), 3, 2)
            n_flat *= _conv_size(_conv_size(width, 4, 4), 3, 2)
        self.linear = layer_init(nn.Linear(n_flat, out_dim))
        self.out_dim = out_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """uint8 frames ``(B, H, W, C)`` -> features ``(B, out_dim)``."""
        # Convert, then permute: the conversion runs over contiguous memory (about 3x faster).
        pixels = obs.float().permute(0, 3, 1, 2)  # (B, C, H, W) in 0..255, channels-last memory
        return self.forward_chw(pixels, scale=1 / 255)

    def forward_chw(self, pixels: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """Float frames ``(B, C, H, W)``, multiplied by ``scale`` -> features ``(B, out_dim)``."""
        x = self.conv_map(pixels, scale)  # (B, channels, h, w), channels-last memory
        if self.pool == "max":
            x = x.amax(dim=(2, 3))  # (B, channels): each feature's strongest response anywhere
        else:
            # Flatten in (h, w, channel) order: for channels-last memory that is a view, where
            # flatten(1) would copy the maps into (channel, h, w) order (and back in the backward).
            x = x.permute(0, 2, 3, 1).flatten(1)  # (B, h * w * channels)
        return F.relu(self.linear(x))  # (B, out_dim)

    def conv_map(self, pixels: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """The convolutions' output map ``(B, channels, h, w)``."""
        cell = self.cell_conv
        x = F.relu(F.conv2d(pixels, cell.weight * scale, cell.bias, stride=cell.stride))
        for conv in self.context_convs:
            x = F.relu(conv(x))  # (B, 32, cells down, cells across)
        return F.relu(self.neighbour_conv(x))


class SmallCNNEncoder(nn.Module):
    """A CNN for small uint8 HWC images whose pixels are cells, e.g. MiniGrid's 7x7x3 view
    (``ImgObsWrapper``), too small for ``CNNEncoder``'s 4-pixel cells.

    Three 2x2 convolutions, stride 1 (16, 32, 64 channels; each sees a cell and its neighbours
    a little further out), then linear to ``out_dim``; ReLU after each. As the MiniGrid baselines
    (rl-starter-files) without their max-pool, which would halve a 7-cell view.
    """

    def __init__(self, obs_space: gym.Space, out_dim: int = 256):
        super().__init__()
        height, width, channels = obs_space.shape
        if min(height, width) < 4:
            raise UnsupportedSpaceError(f"images of {height}x{width} pixels are too small (4x4+)")
        widths = ((channels, 16), (16, 32), (32, 64))
        self.convs = nn.ModuleList(layer_init(nn.Conv2d(a, b, 2)) for a, b in widths)
        self.linear = layer_init(nn.Linear(64 * (height - 3) * (width - 3), out_dim))
        self.out_dim = out_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """uint8 images ``(B, H, W, C)`` -> features ``(B, out_dim)``."""
        return self.forward_chw(obs.float().permute(0, 3, 1, 2), scale=1 / 255)

    def forward_chw(self, pixels: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """Float images ``(B, C, H, W)``, multiplied by ``scale`` -> features ``(B, out_dim)``."""
        x = pixels * scale
        for conv in self.convs:
            x = F.relu(conv(x))  # (B, channels, H - k, W - k) after the k-th layer
        return F.relu(self.linear(x.flatten(1)))  # (B, out_dim)


SMALL_IMAGE = 16  # images narrower than this (in pixels) get SmallCNNEncoder


def image_encoder(
    obs_space: gym.Space, out_dim: int = 256, context_layers: int = 0, pool: str = "flatten"
) -> CNNEncoder | SmallCNNEncoder:
    """The CNN for an image space: 4-pixel cells (rlsuite's frames) or one pixel a cell.

    ``context_layers`` and ``pool`` apply to the 4-pixel-cell CNN only (see ``CNNEncoder``);
    set for small images, they are refused.
    """
    if min(obs_space.shape[:2]) < SMALL_IMAGE:
        height, width = obs_space.shape[:2]
        refuse_cnn_options(context_layers, pool, f"the small-image CNN ({height}x{width} images)")
        return SmallCNNEncoder(obs_space, out_dim)
    return CNNEncoder(obs_space, out_dim, context_layers, pool)


def refuse_cnn_options(context_layers: int, pool: str, reader: str) -> None:
    """ConfigError when either CNN option is set where ``reader``, not the 4-pixel-cell CNN,
    reads the observations (they would do nothing there)."""
    changed = [f"cnn_context_layers={context_layers}"] if context_layers != 0 else []
    changed += [f"cnn_pool={pool}"] if pool != "flatten" else []
    if changed:
        raise ConfigError(
            f"{changed[0]} shapes the CNN of images drawn in 4-pixel cells, but this policy reads "
            f"the observations with {reader}: drop the setting"
        )


def _conv_size(size: int, kernel: int, stride: int) -> int:
    """Output length of an unpadded convolution along one axis."""
    return (size - kernel) // stride + 1


def make_encoder(
    obs_space: gym.Space,
    hidden_sizes: tuple[int, ...],
    activation: str,
    copies: int = 1,
    cnn_context_layers: int = 0,
    cnn_pool: str = "flatten",
) -> MLPEncoder | CNNEncoder | SmallCNNEncoder:
    """The built-in encoder for an observation space: CNN for uint8 images (``image_encoder``),
    else MLP.

    ``copies`` applies to the MLP only (see ``MLPEncoder``); a CNN is always one copy. The CNN
    options are refused where no CNN of 4-pixel cells reads them (vectors, small images). A given
    (pretrained) encoder replaces this one and the options with it: ``ActorCriticNet`` then never
    calls here, so a pixel entry's options stand aside for ``--encoder`` without an error.
    """
    if is_image_space(obs_space):
        return image_encoder(obs_space, context_layers=cnn_context_layers, pool=cnn_pool)
    if isinstance(obs_space, gym.spaces.Box):
        vectors = f"an MLP (the observations are vectors of shape {obs_space.shape})"
        refuse_cnn_options(cnn_context_layers, cnn_pool, vectors)
        return MLPEncoder(obs_space, hidden_sizes, activation, copies)
    hint = ""
    if isinstance(obs_space, gym.spaces.Discrete):  # tabular tasks: FrozenLake, Taxi
        hint = "; one-hot encode it with --wrapper rlsuite.wrappers:OneHotObservation"
    raise UnsupportedSpaceError(f"observation space {obs_space} is not supported (Box only){hint}")


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
        shared_trunk: bool | None = None,
        with_critic: bool = True,
        log_std_init: float = 0.0,
        n_values: int = 1,
        encoder: nn.Module | None = None,
        freeze_encoder: bool = False,
        cnn_context_layers: int = 0,
        cnn_pool: str = "flatten",
    ):
        super().__init__()
        check_action_space(action_space)
        # Critic outputs: V(s); with curiosity two, V_E and V_I (extrinsic and intrinsic return,
        # Burda et al. 2018's two value heads: each return has its own discount).
        self.n_values = n_values
        if is_image_space(obs_space):
            keep_freed_memory()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        if shared_trunk is None:  # the default: one trunk for images, two for vectors
            # A given (pretrained) encoder's features are a vector observation to what follows.
            shared_trunk = is_image_space(obs_space) and encoder is None
        # A separate critic trunk keeps value-regression gradients out of the policy's features.
        two_trunks = with_critic and not shared_trunk
        self.critic_encoder = None
        self.feature_trunk = None  # the MLP on a given encoder's features
        self.frozen_encoder = encoder is not None and freeze_encoder
        if encoder is not None:
            # A given encoder (supervised/encoders.py: obs -> (B, out_dim)), pretrained, then
            # an MLP of `hidden_sizes` per trunk, as SB3's features extractor + net_arch.
            self.encoder = encoder
            if freeze_encoder:  # no gradients, no optimizer state: its weights never change
                encoder.requires_grad_(False)
            feature_space = gym.spaces.Box(-np.inf, np.inf, (encoder.out_dim,), np.float32)
            self.feature_trunk = MLPEncoder(feature_space, hidden_sizes, activation, 1 + two_trunks)
            features = self.feature_trunk.out_dim
        else:
            # An MLP holds both trunks as two copies of itself (copy 0 the actor's, copy 1 the
            # critic's), computed together; a CNN critic gets its own encoder.
            self.encoder = make_encoder(
                obs_space, hidden_sizes, activation, 1 + two_trunks, cnn_context_layers, cnn_pool
            )
            if two_trunks and not isinstance(self.encoder, MLPEncoder):
                self.critic_encoder = make_encoder(
                    obs_space, hidden_sizes, activation, 1, cnn_context_layers, cnn_pool
                )
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
        self.value_head = (
            layer_init(nn.Linear(features, n_values), gain=1.0) if with_critic else None
        )
        # The heads' (weight, bias) as a plain list, for acting (see MLPEncoder.layers: why).
        heads = (
            [self.policy_head] if self.value_head is None else [self.policy_head, self.value_head]
        )
        self.head_parameters = [(head.weight, head.bias) for head in heads]
        self._numpy_cache: dict = {}

    # -- the pieces ---------------------------------------------------------------------------
    def features(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(policy features, value features); the same tensor when the trunk is shared."""
        if self.feature_trunk is not None:
            return self.trunk_features(self.encoded(obs))
        if isinstance(self.encoder, MLPEncoder):
            features = self.encoder(obs)  # (copies, B, out_dim)
            return features[0], features[-1]  # the critic's copy is the last (or the only) one
        policy_features = self.encoder(obs)
        if self.critic_encoder is None:
            return policy_features, policy_features
        return policy_features, self.critic_encoder(obs)

    def encoded(self, obs: torch.Tensor) -> torch.Tensor:
        """A given encoder's features ``(B, out_dim)``; computed without gradients when it is
        frozen (no graph is kept, so neither the forward's memory nor a backward is paid)."""
        if not self.frozen_encoder:
            return self.encoder(obs)
        with torch.no_grad():
            return self.encoder(obs)

    def trunk_features(self, encoded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(policy features, value features) of a given encoder's features, through the MLP."""
        features = self.feature_trunk(encoded)  # (copies, B, width)
        return features[0], features[-1]

    def value_from(self, value_features: torch.Tensor) -> torch.Tensor:
        if self.value_head is None:
            return torch.zeros(value_features.shape[0], device=value_features.device)
        head = self.value_head
        # (B,); with two value heads (B, 2): V_E, V_I
        return F.linear(value_features, head.weight, head.bias).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(s), shape (B,) ((B, 2) with two value heads). Zeros when the agent has no critic
        (REINFORCE)."""
        return self.value_from(self.features(obs)[1])

    def log_prob_entropy(
        self, policy_features: torch.Tensor, actions: torch.Tensor, entropy_grad: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log pi(a|s) and the policy's entropy at each state, both (B,).

        ``entropy_grad=False`` computes the entropy without gradients: when the loss gives it
        zero weight it is only a metric, and its backward pass would be wasted work.
        """
        head = self.policy_head
        out = F.linear(policy_features, head.weight, head.bias)  # (B, n_actions) or (B, act_dim)
        entropy_context = contextlib.nullcontext() if entropy_grad else torch.no_grad()
        if self.discrete:
            log_probs = torch.log_softmax(out, dim=-1)  # (B, n_actions)
            # log pi(a_t|s_t): pick each row's taken action (nll_loss is exactly that gather).
            chosen = -F.nll_loss(log_probs, actions, reduction="none")
            with entropy_context:
                entropy = -(log_probs.exp() * log_probs).sum(-1)
            return chosen, entropy
        log_std = self.log_std.expand_as(out)
        z = (actions.reshape(out.shape) - out) / log_std.exp()
        log_prob = gaussian_log_prob(z, log_std)
        with entropy_context:
            entropy = gaussian_entropy(log_std)
        return log_prob, entropy

    def evaluate_actions(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        entropy_grad: bool = True,
        encoded: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log pi(a|s), entropy, V(s)) with gradients, for the update.

        ``encoded=True``: ``obs`` already holds a frozen encoder's features, those computed when
        the agent acted (``RolloutBatch.features``): a frozen encoder's features cannot change,
        so the update never runs it again.
        """
        if encoded:
            policy_features, value_features = self.trunk_features(obs)
        else:
            policy_features, value_features = self.features(obs)
        log_prob, entropy = self.log_prob_entropy(policy_features, actions, entropy_grad)
        return log_prob, entropy, self.value_from(value_features)

    # -- acting -------------------------------------------------------------------------------
    def encode_numpy(self, obs: np.ndarray) -> np.ndarray:
        """A frozen encoder's features of ``obs``, ``(B, out_dim)`` float32 in numpy: computed
        once when acting, kept in the rollout (``RolloutBatch.features``) for the update."""
        with torch.inference_mode():
            obs_tensor = torch.as_tensor(obs, device=self.policy_head.weight.device)
            return self.encoder(obs_tensor).float().cpu().numpy()

    def heads_numpy(self, obs: np.ndarray, encoded: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Policy head output and V(s) (V_E with two value heads) as numpy arrays, for acting.

        MLPs on the CPU run in numpy on views of the torch parameters (``numpy_views``): at a
        batch of 8 vectors each torch call costs more than its arithmetic. CNNs, given encoders
        and any net on a GPU (numpy cannot read its memory) run in torch (``heads_torch``).
        ``encoded=True``: ``obs`` holds a frozen encoder's features (``encode_numpy``).
        """
        if (
            encoded
            or not isinstance(self.encoder, MLPEncoder)
            or not self.head_parameters[0][0].is_cpu
        ):
            return self.heads_torch(obs, encoded)
        features = self.encoder.forward_numpy(obs)  # (copies, B, out_dim)
        policy_features, value_features = features[0], features[-1]
        heads = self.head_views()
        weight, bias = heads[0]  # nn.Linear layout: weight (out, in)
        out = policy_features @ weight.T + bias
        if len(heads) == 1:  # no critic
            return out, np.zeros(len(obs), dtype=np.float32)
        weight, bias = heads[1]
        return out, (value_features @ weight.T + bias)[:, 0]

    def values_numpy(self, obs: np.ndarray) -> np.ndarray:
        """Every value head's output, ``(B, n_values)``, as numpy (curiosity's V_E and V_I);
        in numpy for an MLP on the CPU, as ``heads_numpy``, else in torch."""
        if not isinstance(self.encoder, MLPEncoder) or not self.head_parameters[0][0].is_cpu:
            device = self.policy_head.weight.device
            with torch.inference_mode():
                value_features = self.features(torch.as_tensor(obs, device=device))[1]
                values = self.value_from(value_features).reshape(len(obs), -1)
                return values.cpu().numpy()
        value_features = self.encoder.forward_numpy(obs)[-1]  # the critic's copy
        weight, bias = self.head_views()[1]
        return value_features @ weight.T + bias

    def heads_torch(self, obs: np.ndarray, encoded: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``heads_numpy``'s result computed in torch on the net's device, back as numpy."""
        device = self.policy_head.weight.device
        with torch.inference_mode():
            # No copy on the CPU; one transfer of the uint8/float batch to a GPU.
            obs_tensor = torch.as_tensor(obs, device=device)
            features = self.trunk_features if encoded else self.features
            policy_features, value_features = features(obs_tensor)
            out = self.policy_head(policy_features)
            values = self.value_from(value_features)
            if self.n_values > 1:
                values = values[:, 0]  # acting and bootstrapping use V_E (as heads_numpy)
            return out.cpu().numpy(), values.cpu().numpy()

    def head_views(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Zero-copy numpy views of the heads' (weight, bias), nn.Linear layout ``(out, in)``:
        the policy head's, then the value head's when there is a critic."""
        return numpy_views(self.head_parameters, self._numpy_cache)

    def step(
        self,
        obs: np.ndarray,
        rng: np.random.Generator,
        deterministic: bool = False,
        encoded: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample a ~ pi(.|s) for a batch of observations: (actions, log_probs, values) in numpy.

        The network runs in torch; the sampling runs in numpy, whose calls cost about a
        microsecond where a torch call costs several, and acting is a handful of tiny ops per
        env step. Box actions are returned unclipped (``to_env`` clips). ``encoded=True``:
        ``obs`` holds a frozen encoder's features (``encode_numpy``).
        """
        out, values = self.heads_numpy(obs, encoded)  # (B, n_actions) logits or (B, act_dim); (B,)
        if self.discrete:
            log_probs = log_softmax(out)
            if deterministic:
                actions = out.argmax(axis=1)
            else:  # Gumbel-max trick: argmax(logits + Gumbel noise) is a categorical sample.
                actions = (log_probs + rng.gumbel(size=out.shape)).argmax(axis=1)
            chosen = log_probs[np.arange(len(actions)), actions]
            return actions, chosen, values
        log_std = self.log_std.detach().cpu().numpy()
        if deterministic:
            noise = np.zeros_like(out)
        else:
            noise = rng.standard_normal(out.shape, dtype=np.float32)
        actions = out + np.exp(log_std) * noise  # (B, act_dim), unclipped
        chosen = gaussian_log_prob(noise, log_std)  # noise is z = (a - mean) / std
        return actions, chosen.astype(np.float32), values

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them: int64 indices, or float32 clipped to the box."""
        if self.discrete:
            return actions
        return np.clip(actions, self.low, self.high).reshape(-1, *self.action_shape)
