"""Curiosity: intrinsic rewards that pay the agent for reaching what it cannot yet predict.

When the env's (extrinsic) reward is almost always 0, a policy gradient has nothing to follow and
the agent never finds the reward. Curiosity adds an *intrinsic reward* r_I, high in states the
agent has rarely seen, so that it explores; the policy then follows the advantage of both
rewards, ``A = extrinsic_coef * A_E + intrinsic_coef * A_I``. Three sources of r_I:

- ``icm``, the Intrinsic Curiosity Module (Pathak et al. 2017, "Curiosity-driven Exploration by
  Self-supervised Prediction"): an encoder phi, an inverse model that predicts a_t from
  (phi(s_t), phi(s_{t+1})) and a forward model that predicts phi(s_{t+1}) from (phi(s_t), a_t).
  ``r_I = eta / 2 * ||f(phi(s_t), a_t) - phi(s_{t+1})||^2``: the forward model's surprise. The
  loss is ``(1 - beta) * inverse + beta * forward``, and phi learns only through the inverse
  model, so it keeps what the agent's actions can change and ignores what they cannot (noise).
- ``rnd``, Random Network Distillation (Burda et al. 2018, "Exploration by Random Network
  Distillation"): a fixed, randomly initialised target network g and a predictor g_hat trained
  to match it; ``r_I = ||g_hat(s_{t+1}) - g(s_{t+1})||^2`` (mean over features) is small where the
  predictor has seen many such states. Observations are normalised by running statistics
  (warmed up with random actions before training) and clipped to [-5, 5].
- ``count``: ``r_I = 1 / sqrt(N(s_{t+1}))``, N counting visits of each discretised state, hashed
  (Strehl & Littman 2008; Tang et al. 2017): the cheap reference. With ``count_per_episode``,
  N counts the visits of the current episode only (each env's counts start over when its
  episode ends; the episodic count of Raileanu & Rocktaschel 2020 and Zhang et al. 2021): the
  bonus then pays for ground new to *this* episode, which games with a new layout every
  episode need, where counts over all episodes soon call every place near the start old.

What the three share (``Curiosity``):

- r_I is divided by the running std of the discounted intrinsic return (RND's normalisation,
  here for all three: the coefficients then mean the same for each);
- the critic has two value heads, V_E and V_I, each regressing on its own return with its own
  discount (``gamma`` and ``intrinsic_gamma``);
- the intrinsic return is not cut at episode ends: novelty found after a reset still counts, so
  an agent is not discouraged from ending an episode (dying) when the next one is new (RND,
  sec. 2.3). The extrinsic return ends at a termination, as always;
- ``extrinsic_coef=0`` is curiosity alone: the env's reward is not learned from at all.

The agents (A2C, PPO) compose with it in one place, ``Agent.train_batch``: the rollout is
collected as usual, then :meth:`Curiosity.train_batch` computes r_I, trains the module on the
rollout and returns the advantages and the two critics' targets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rlsuite import logger as tags
from rlsuite.agents.common.nets import (
    UnsupportedSpaceError,
    image_encoder,
    is_image_space,
    layer_init,
    log_softmax,
    numpy_views,
)
from rlsuite.agents.common.normalize import ObservationNormalizer, RewardScaler
from rlsuite.agents.common.optim import flatten_parameters
from rlsuite.agents.common.returns import gae
from rlsuite.agents.common.rollout import RolloutBatch, RolloutCollector, TrainBatch, to_train_batch
from rlsuite.config import (
    FLAG,
    LAYER_SIZES,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    TEXT,
    Settings,
    choice,
    optional,
    setting,
)
from rlsuite.errors import ConfigError

if TYPE_CHECKING:
    from rlsuite.agents.base import Agent

CURIOSITY_KINDS = ("icm", "rnd", "count")
# Batches up to this many rows go through numpy (A2C's rollouts: each torch call would cost more
# than its arithmetic), larger ones through torch (PPO's): numpy's OpenBLAS spreads a larger
# product over every core, which on a busy machine was 70x slower than one thread (23 ms
# against 0.3 ms for 1024x64 @ 64x64), while torch keeps to the run's torch_threads.
NUMPY_MAX_ROWS = 128
RND_OBS_CLIP = 5.0  # RND clips normalised observations to [-5, 5] (Burda et al. 2018, A.3)
# Passes of the module over each rollout (curiosity_epochs=none). ICM's encoder moves under the
# inverse loss, so its forward model must keep up: with one pass its error stayed as high on
# common moves as on new ones, r_I was noise, and ppo+icm won none of KeyDoor-16x16 sparse
# (training success 0.03 at 2M steps, seed 0); with four, 1.00 on seeds 0-2 (docs/decisions.md).
# RND, whose target is fixed, keeps the one pass with which it met its target.
EPOCHS = {"icm": 4, "rnd": 1, "count": 1}
# Weight of the intrinsic advantage (intrinsic_coef=none). RND's 1 (beside extrinsic_coef 2) is
# the RND paper's. ICM's surprise stays as loud after the goal is found (normalised, its scale
# never fades), and at 1 the sampled policy solved KeyDoor-16x16 sparse while the argmax policy
# pushed into walls in 8-40% of the episodes (0.62, 0.60, 0.92 on seeds 0-2); at 0.5 the
# extrinsic advantage leads (docs/decisions.md: tuned on seed 0, seeds 1-2 held out).
INTRINSIC_COEF = {"icm": 0.5, "rnd": 1.0, "count": 1.0}
# How that weight moves over training (intrinsic_schedule=none). ICM's surprise is largest where
# its forward model cannot tell a move from a bump into a wall (about 3x an ordinary move's on
# KeyDoor-16x16), so its weight falls linearly to 0 by the end of the budget and hands the
# policy over to the extrinsic advantage: at a constant half weight the argmax policy failed
# 2-36% of the episodes (seeds 0-5), most of them bumping into the wall beside the door for
# good; with the schedule it failed none (docs/decisions.md). With no
# extrinsic reward (extrinsic_coef=0) there is nothing to hand over to, and it stays constant.
INTRINSIC_SCHEDULE = {"icm": "linear", "rnd": "constant", "count": "constant"}

__all__ = [
    "CURIOSITY_KINDS",
    "ICM",
    "RND",
    "Curiosity",
    "CuriositySettings",
    "EpisodeStateCounter",
    "StateCounter",
    "VisitCounter",
]


@dataclass(frozen=True)
class CuriositySettings(Settings):
    """The curiosity settings of the agents that take it (A2C's and PPO's Config extend this).

    ``curiosity=None`` (the default) is the plain agent; every other setting here is then unused,
    and setting one is refused (it would silently do nothing).
    """

    # Where the intrinsic reward comes from: icm, rnd, count, or none (a plain agent)
    curiosity: str | None = setting(None, optional(choice(*CURIOSITY_KINDS)))
    # A = extrinsic_coef * A_E + intrinsic_coef * A_I. RND's values (2 and 1); extrinsic_coef=0
    # is curiosity alone: the env's reward is not learned from. intrinsic_coef none: the kind's
    # own (INTRINSIC_COEF: 0.5 for ICM, 1 for RND and count)
    intrinsic_coef: float | None = setting(None, optional(NON_NEGATIVE))
    extrinsic_coef: float = setting(2.0, NON_NEGATIVE)
    # constant, or linear: intrinsic_coef falls to 0 at the end of the budget, as lr_schedule's
    # learning rate. none: the kind's own (INTRINSIC_SCHEDULE: linear for ICM, constant for RND
    # and count; constant whenever extrinsic_coef=0)
    intrinsic_schedule: str | None = setting(None, optional(choice("constant", "linear")))
    intrinsic_gamma: float = setting(0.99, PROBABILITY)  # discount of the intrinsic return
    # Divide r_I by the running std of the discounted intrinsic return (RND sec. 2.4)
    normalize_intrinsic: bool = setting(True, FLAG)
    curiosity_learning_rate: float = setting(1e-3, POSITIVE)  # Adam, the module's own optimiser
    # Passes over each rollout; none: the kind's own (EPOCHS: 4 for ICM, 1 for RND)
    curiosity_epochs: int | None = setting(None, optional(POSITIVE_INT))
    curiosity_batch_size: int = setting(256, POSITIVE_INT)  # minibatch of transitions
    curiosity_features: int = setting(64, POSITIVE_INT)  # size of phi(s) (ICM), of g(s) (RND)
    # MLP widths of the encoders for vector observations (images get a CNN)
    curiosity_hidden_sizes: tuple[int, ...] = setting((64, 64), LAYER_SIZES)
    icm_eta: float = setting(1.0, POSITIVE)  # r_I = eta / 2 * ||f(phi(s), a) - phi(s')||^2
    icm_beta: float = setting(0.2, PROBABILITY)  # loss (1 - beta) inverse + beta forward (paper)
    # Random-action steps per env that warm RND's observation statistics up (RND: 50 x 128)
    rnd_warmup_steps: int = setting(32, NON_NEGATIVE_INT)
    # count: states are rounded to multiples of this (in the observation's units) before hashing
    count_resolution: float = setting(0.01, POSITIVE)
    # count: N counts the visits of the current episode only (each env's start over at its end)
    count_per_episode: bool = setting(False, FLAG)
    # A pretrained encoder (an `rlsuite pretrain` run or its encoder.pt) as ICM's phi
    curiosity_encoder: str | None = setting(None, optional(TEXT))

    def __post_init__(self) -> None:
        super().__post_init__()
        check_curiosity_settings(self)


CURIOSITY_FIELDS = tuple(f.name for f in dataclasses.fields(CuriositySettings))


def kinds_own(value: Any, defaults: dict[str, Any], kind: str) -> Any:
    """A curiosity setting's value, or, when it is none, the kind's own (``EPOCHS``, ...)."""
    return defaults[kind] if value is None else value


def check_curiosity_settings(settings: CuriositySettings) -> None:
    """ConfigError for curiosity settings that would do nothing or cannot work together."""
    if settings.curiosity is None:
        changed = [
            f.name
            for f in dataclasses.fields(CuriositySettings)
            if f.name != "curiosity" and getattr(settings, f.name) != f.default
        ]
        if changed:
            raise ConfigError(
                f"{changed[0]} applies only with curiosity (--curiosity icm|rnd|count)"
            )
        return
    if settings.intrinsic_coef == 0:
        raise ConfigError("intrinsic_coef=0 turns curiosity off; drop --curiosity instead")
    if settings.extrinsic_coef == 0 and settings.intrinsic_schedule == "linear":
        raise ConfigError(
            "intrinsic_schedule=linear fades curiosity out in favour of the extrinsic reward, "
            "and extrinsic_coef=0 learns none: use intrinsic_schedule=constant"
        )
    if settings.curiosity != "count" and settings.count_per_episode:
        raise ConfigError(f"count_per_episode applies to curiosity=count, not {settings.curiosity}")
    if settings.curiosity != "icm" and settings.curiosity_encoder is not None:
        raise ConfigError(
            f"curiosity_encoder is ICM's phi; curiosity={settings.curiosity} takes none (count "
            "counts states; RND's target is a fixed random network of normalised observations)"
        )


# ================================================================================================
# The modules
# ================================================================================================


def make_curiosity_encoder(
    obs_space: gym.Space, hidden_sizes: tuple[int, ...], out_dim: int
) -> nn.Module:
    """Observation -> features ``(B, out_dim)``: a CNN for images, an MLP for vectors.

    Images take float frames ``(B, H, W, C)`` (raw 0..255 or normalised, see RND), vectors any
    float batch. The MLP's last layer is linear (features, not an activation's output).
    """
    if is_image_space(obs_space):
        return ImageFeatures(obs_space, out_dim)
    if not isinstance(obs_space, gym.spaces.Box):
        raise UnsupportedSpaceError(f"curiosity takes Box observations, not {obs_space}")
    sizes = [int(np.prod(obs_space.shape)), *hidden_sizes]
    layers: list[nn.Module] = [nn.Flatten()]
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [layer_init(nn.Linear(n_in, n_out)), nn.ReLU()]
    layers.append(layer_init(nn.Linear(sizes[-1], out_dim), gain=1.0))
    return nn.Sequential(*layers)


class ImageFeatures(nn.Module):
    """The policy's CNN (``nets.image_encoder``: 4-pixel cells, or one pixel a cell for small
    views such as MiniGrid's 7x7) on float HWC frames, then linear to ``out_dim``."""

    def __init__(self, obs_space: gym.Space, out_dim: int) -> None:
        super().__init__()
        self.cnn = image_encoder(obs_space)
        self.linear = layer_init(nn.Linear(self.cnn.out_dim, out_dim), gain=1.0)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        # uint8 frames are scaled to [0, 1]; RND's normalised floats are taken as they are.
        scale = 1 / 255 if frames.dtype == torch.uint8 else 1.0
        pixels = frames.float().permute(0, 3, 1, 2)  # (B, C, H, W)
        return self.linear(self.cnn.forward_chw(pixels, scale))  # (B, out_dim)


def action_input(actions: torch.Tensor, action_space: gym.Space) -> torch.Tensor:
    """Actions as a model input: one-hot for Discrete ``(B, n)``, flattened for Box."""
    if isinstance(action_space, gym.spaces.Discrete):
        return F.one_hot(actions.long(), int(action_space.n)).float()
    return actions.float().flatten(1)


class NumpyMLP:
    """A module made only of Flatten, Linear and ReLU layers (nested Sequentials too), run in
    numpy on views of its weights, for computing rewards: as the policy acts in numpy
    (nets.py), because at A2C's 40-transition rollouts each torch call costs more than its
    arithmetic. Optimisers and ``load_state_dict`` write the weights in place, so the views
    stay current."""

    def __init__(self, module: nn.Module) -> None:
        self.layers = [m for m in module.modules() if not isinstance(m, nn.Sequential)]
        self.linears = [(m.weight, m.bias) for m in self.layers if isinstance(m, nn.Linear)]
        self._cache: dict = {}

    @staticmethod
    def supports(module: nn.Module) -> bool:
        """Only Flatten/Linear/ReLU layers, on the CPU."""
        layers = [m for m in module.modules() if not isinstance(m, nn.Sequential)]
        kinds = all(isinstance(m, (nn.Flatten, nn.Linear, nn.ReLU)) for m in layers)
        return kinds and all(p.is_cpu for p in module.parameters())

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward_keep(x)[0]

    def forward_keep(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        """(output, tape): the tape keeps each Linear's input and weight and each ReLU's
        output, which is what ``backward`` needs."""
        weights = iter(numpy_views(self.linears, self._cache))
        x = x.reshape(len(x), -1).astype(np.float32, copy=False)  # (B, features)
        tape = []
        for layer in self.layers:
            if isinstance(layer, nn.Linear):
                weight, bias = next(weights)  # nn.Linear layout: (out, in)
                tape.append((x, weight))
                x = x @ weight.T + bias
            elif isinstance(layer, nn.ReLU):
                x = np.maximum(x, 0.0)
                tape.append((x, None))
        return x, tape

    @staticmethod
    def backward(
        tape: list, d_output: np.ndarray, input_gradient: bool = True
    ) -> tuple[list[np.ndarray], np.ndarray | None]:
        """The chain rule, top layer first: (the gradients of every Linear's weight and bias, in
        the module's parameter order; d loss / d input, or None without ``input_gradient``). A
        ReLU passes ``d`` where its output is positive; a Linear ``y = x W^T + b`` gives
        ``dW = d^T x``, ``db = sum(d)``, ``dx = d W``.
        """
        grads: list[np.ndarray] = []
        d = d_output
        for index in reversed(range(len(tape))):
            saved, weight = tape[index]
            if weight is None:  # ReLU (saved: its output)
                d = d * (saved > 0)
            else:  # Linear (saved: its input)
                grads[:0] = [d.T @ saved, d.sum(axis=0)]
                if index == 0 and not input_gradient:
                    return grads, None  # the first layer's dx: wanted only to go further
                d = d @ weight
        return grads, d


def one_hot_numpy(actions: np.ndarray, action_space: gym.Space) -> np.ndarray:
    """``action_input`` in numpy."""
    if isinstance(action_space, gym.spaces.Discrete):
        return np.eye(int(action_space.n), dtype=np.float32)[actions]
    return actions.reshape(len(actions), -1).astype(np.float32)


class ICM(nn.Module):
    """Pathak et al.'s Intrinsic Curiosity Module: encoder phi, inverse and forward models."""

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        settings: CuriositySettings,
        encoder: nn.Module | None = None,
    ) -> None:
        super().__init__()
        features, width = settings.curiosity_features, max(settings.curiosity_hidden_sizes)
        self.action_space = action_space
        self.eta, self.beta = settings.icm_eta, settings.icm_beta
        self.phi = encoder or make_curiosity_encoder(
            obs_space, settings.curiosity_hidden_sizes, features
        )
        discrete = isinstance(action_space, gym.spaces.Discrete)
        n_actions = int(action_space.n) if discrete else int(np.prod(action_space.shape))
        # Inverse model: (phi(s), phi(s')) -> a (logits for Discrete, the action for Box).
        self.inverse_model = nn.Sequential(
            layer_init(nn.Linear(2 * features, width)), nn.ReLU(), nn.Linear(width, n_actions)
        )
        # Forward model: (phi(s), a) -> phi(s').
        self.forward_model = nn.Sequential(
            layer_init(nn.Linear(features + n_actions, width)),
            nn.ReLU(),
            nn.Linear(width, features),
        )

    def forward_error(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(``||f(phi(s), a) - phi(s')||^2 / 2`` per transition, phi(s), phi(s')).

        The forward model sees phi detached: its error must not train the encoder (else phi
        would collapse to a constant, which is perfectly predictable).
        """
        # (B, features) each, from one pass of the encoder over both (half the calls)
        phi, next_phi = self.phi(torch.cat([obs, next_obs])).split(len(obs))
        predicted = self.forward_model(
            torch.cat([phi.detach(), action_input(actions, self.action_space)], dim=1)
        )
        error = 0.5 * (predicted - next_phi.detach()).pow(2).sum(dim=1)  # (B,)
        return error, phi, next_phi

    def intrinsic_reward(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> torch.Tensor:
        """``eta / 2 * ||f(phi(s), a) - phi(s')||^2`` per transition, (B,)."""
        return self.eta * self.forward_error(obs, actions, next_obs)[0]

    def intrinsic_reward_numpy(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray
    ) -> np.ndarray:
        """``intrinsic_reward`` in numpy (an MLP encoder on the CPU: ``numpy_ready``)."""
        phi_numpy, forward_numpy, _ = self.numpy_models()
        phi, next_phi = phi_numpy(obs), phi_numpy(next_obs)
        inputs = np.concatenate([phi, one_hot_numpy(actions, self.action_space)], axis=1)
        error = forward_numpy(inputs) - next_phi
        return self.eta * 0.5 * (error * error).sum(axis=1)

    def numpy_models(self) -> tuple[NumpyMLP, NumpyMLP, NumpyMLP]:
        """phi, the forward model and the inverse model in numpy (views of their weights)."""
        if not hasattr(self, "_numpy_models"):
            models = (self.phi, self.forward_model, self.inverse_model)
            self._numpy_models = tuple(NumpyMLP(model) for model in models)
        return self._numpy_models

    def numpy_ready(self) -> bool:
        return NumpyMLP.supports(self.phi) and NumpyMLP.supports(self.forward_model)

    def numpy_gradient_ready(self) -> bool:
        """``gradient_numpy`` can serve: MLPs on the CPU (``numpy_ready``), Discrete actions."""
        discrete = isinstance(self.action_space, gym.spaces.Discrete)
        return discrete and self.numpy_ready() and NumpyMLP.supports(self.inverse_model)

    def gradient_numpy(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray
    ) -> tuple[list[np.ndarray], dict[str, float]]:
        """``loss``'s gradient by the chain rule in numpy, as ``common/backprop.py`` does for
        A2C: (one gradient per parameter, in ``parameters()`` order; the two losses).

        Each Adam step of ICM trains three small MLPs on a minibatch of a few hundred
        transitions, where torch's autograd costs more in per-operation bookkeeping than the
        arithmetic (``tests/agents/test_curiosity.py`` checks this against autograd).
        """
        phi_numpy, forward_numpy, inverse_numpy = self.numpy_models()
        n = len(obs)
        # Forward passes: phi over s and s' at once, then f and g (the inverse model).
        features, phi_tape = phi_numpy.forward_keep(np.concatenate([obs, next_obs]))
        phi, next_phi = features[:n], features[n:]
        inputs = np.concatenate([phi, one_hot_numpy(actions, self.action_space)], axis=1)
        predicted, forward_tape = forward_numpy.forward_keep(inputs)
        logits, inverse_tape = inverse_numpy.forward_keep(np.concatenate([phi, next_phi], 1))
        # The losses and their gradients at the models' outputs.
        error = predicted - next_phi  # phi(s') is the forward model's target, held fixed
        forward_loss = 0.5 * float((error * error).sum()) / n
        log_pi = log_softmax(logits)
        rows = np.arange(n)
        inverse_loss = -float(log_pi[rows, actions].mean())
        d_logits = np.exp(log_pi)  # d cross-entropy / d logits = (softmax - onehot(a)) / n
        d_logits[rows, actions] -= 1.0
        # Backward passes. f's input holds phi detached: its gradient stops there. phi learns
        # through g alone, from both halves of g's input (phi(s) and phi(s')).
        forward_grads, _ = NumpyMLP.backward(
            forward_tape, (self.beta / n) * error, input_gradient=False
        )
        inverse_grads, d_pair = NumpyMLP.backward(inverse_tape, ((1 - self.beta) / n) * d_logits)
        width = phi.shape[1]
        d_features = np.concatenate([d_pair[:, :width], d_pair[:, width:]])
        phi_grads, _ = NumpyMLP.backward(phi_tape, d_features, input_gradient=False)
        losses = {tags.FORWARD_LOSS: forward_loss, tags.INVERSE_LOSS: inverse_loss}
        return phi_grads + inverse_grads + forward_grads, losses

    def loss(
        self, obs: torch.Tensor, actions: torch.Tensor, next_obs: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(1 - beta) * inverse loss + beta * forward loss`` (Pathak et al. eq. 7)."""
        forward_error, phi, next_phi = self.forward_error(obs, actions, next_obs)
        forward_loss = forward_error.mean()
        predicted_action = self.inverse_model(torch.cat([phi, next_phi], dim=1))
        if isinstance(self.action_space, gym.spaces.Discrete):
            inverse_loss = F.cross_entropy(predicted_action, actions.long())
        else:
            inverse_loss = F.mse_loss(predicted_action, actions.float().flatten(1))
        loss = (1 - self.beta) * inverse_loss + self.beta * forward_loss
        return loss, {tags.FORWARD_LOSS: forward_loss, tags.INVERSE_LOSS: inverse_loss}


class RND(nn.Module):
    """Burda et al.'s Random Network Distillation: a fixed random target, a trained predictor."""

    def __init__(self, obs_space: gym.Space, settings: CuriositySettings) -> None:
        super().__init__()
        features, hidden = settings.curiosity_features, settings.curiosity_hidden_sizes
        # The target is never trained: its random features are what the predictor must learn.
        self.target = make_curiosity_encoder(obs_space, hidden, features)
        self.target.requires_grad_(False)
        # The predictor is a little deeper than the target (as in the paper), so that it can
        # match it where it has seen data.
        self.predictor = nn.Sequential(
            make_curiosity_encoder(obs_space, hidden, features),
            nn.ReLU(),
            layer_init(nn.Linear(features, features)),
            nn.ReLU(),
            layer_init(nn.Linear(features, features), gain=1.0),
        )

    def prediction_error(self, obs: torch.Tensor) -> torch.Tensor:
        """``mean_k (g_hat(s)_k - g(s)_k)^2`` per observation, (B,): r_I and the loss."""
        with torch.no_grad():
            target = self.target(obs)
        return (self.predictor(obs) - target).pow(2).mean(dim=1)

    def intrinsic_reward(self, next_obs: torch.Tensor) -> torch.Tensor:
        return self.prediction_error(next_obs)

    def intrinsic_reward_numpy(self, next_obs: np.ndarray) -> np.ndarray:
        """``intrinsic_reward`` in numpy (MLP networks on the CPU: ``numpy_ready``)."""
        target, predictor = self.numpy_models()
        error = predictor(next_obs) - target(next_obs)
        return (error * error).mean(axis=1)

    def numpy_models(self) -> tuple[NumpyMLP, NumpyMLP]:
        """The target and the predictor in numpy (views of their weights)."""
        if not hasattr(self, "_numpy_models"):
            self._numpy_models = (NumpyMLP(self.target), NumpyMLP(self.predictor))
        return self._numpy_models

    def numpy_ready(self) -> bool:
        return NumpyMLP.supports(self.target) and NumpyMLP.supports(self.predictor)

    def numpy_gradient_ready(self) -> bool:
        """``gradient_numpy`` can serve: MLPs on the CPU."""
        return self.numpy_ready()

    def gradient_numpy(self, next_obs: np.ndarray) -> tuple[list[np.ndarray], dict[str, float]]:
        """``loss``'s gradient in numpy: (one per predictor parameter, in order; the loss).

        ``loss = mean over the batch and the k features of (g_hat(s)_k - g(s)_k)^2``, so
        ``d loss / d g_hat(s) = 2 (g_hat(s) - g(s)) / (B k)``; the target is fixed.
        """
        target, predictor = self.numpy_models()
        predicted, tape = predictor.forward_keep(next_obs)
        error = predicted - target(next_obs)
        grads, _ = NumpyMLP.backward(tape, (2.0 / error.size) * error, input_gradient=False)
        return grads, {tags.PREDICTOR_LOSS: float((error * error).mean())}

    def loss(self, next_obs: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        predictor_loss = self.prediction_error(next_obs).mean()
        return predictor_loss, {tags.PREDICTOR_LOSS: predictor_loss}


class StateCounter:
    """N(s) over discretised, hashed states, for the count bonus ``1 / sqrt(N(s))``.

    A state is rounded to multiples of ``resolution`` and hashed to 64 bits by a fixed random
    linear map (integer arithmetic wraps around, so it is a universal hash); collisions between
    the states of one game are then about as likely as between random 64-bit numbers.
    """

    def __init__(self, obs_shape: tuple[int, ...], resolution: float) -> None:
        self.resolution = resolution
        size = int(np.prod(obs_shape))
        # Fixed (not drawn from the agent's streams): the same state hashes alike in every run.
        self.multipliers = np.random.default_rng(2017).integers(1, 2**63, size=size, dtype=np.int64)
        self.counts: dict[int, int] = {}

    def hash(self, states: np.ndarray) -> np.ndarray:
        """``(B, *obs_shape)`` -> ``(B,)`` int64 keys."""
        cells = np.round(states.reshape(len(states), -1) / self.resolution).astype(np.int64)
        with np.errstate(over="ignore"):
            return (cells * self.multipliers).sum(axis=1)

    def visit(self, states: np.ndarray) -> np.ndarray:
        """Count each state once more, in order; return each one's count after its visit."""
        result = np.empty(len(states), dtype=np.int64)
        for i, key in enumerate(self.hash(states).tolist()):
            result[i] = self.counts[key] = self.counts.get(key, 0) + 1
        return result

    def state_dict(self) -> dict[str, Any]:
        keys = np.fromiter(self.counts.keys(), dtype=np.int64, count=len(self.counts))
        values = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
        return {"keys": torch.from_numpy(keys), "counts": torch.from_numpy(values)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        keys, counts = state["keys"].tolist(), state["counts"].tolist()
        self.counts = dict(zip(keys, counts, strict=True))


class EpisodeStateCounter(StateCounter):
    """N(s) within each env's current episode (``count_per_episode``): every env has its own
    counts, emptied when its episode ends. It counts a rollout in time order, since where an
    episode ends matters (``visit_rollout``); ``visit``, which knows no episodes, is refused."""

    def __init__(self, obs_shape: tuple[int, ...], resolution: float, n_envs: int) -> None:
        super().__init__(obs_shape, resolution)
        self.episode_counts: list[dict[int, int]] = [{} for _ in range(n_envs)]

    def visit(self, states: np.ndarray) -> np.ndarray:
        raise TypeError("per-episode counts need the episodes: use visit_rollout")

    def visit_rollout(self, next_states: np.ndarray, valid: np.ndarray, ends: np.ndarray):
        """Count each env's next states ``(T, N, ...)`` in time order (``valid`` transitions
        only), emptying its counts after a transition that ended its episode (``ends``); return
        each one's count after its visit, ``(T, N)`` (1 where not valid)."""
        T, N = valid.shape
        keys = self.hash(next_states.reshape(T * N, *next_states.shape[2:])).reshape(T, N)
        result = np.ones((T, N), dtype=np.int64)
        for n, counts in enumerate(self.episode_counts):
            for t in np.flatnonzero(valid[:, n]):
                key = int(keys[t, n])
                result[t, n] = counts[key] = counts.get(key, 0) + 1
                if ends[t, n]:
                    counts.clear()
        return result

    def state_dict(self) -> dict[str, Any]:
        envs = [n for n, counts in enumerate(self.episode_counts) for _ in counts]
        keys = [key for counts in self.episode_counts for key in counts]
        values = [value for counts in self.episode_counts for value in counts.values()]
        as_tensor = lambda x: torch.tensor(x, dtype=torch.int64)  # noqa: E731
        return {"envs": as_tensor(envs), "keys": as_tensor(keys), "counts": as_tensor(values)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The saved tables of this agent's envs (an agent loaded to evaluate with fewer envs,
        which learns nothing, drops the others)."""
        self.episode_counts = [{} for _ in self.episode_counts]
        for n, key, count in zip(
            *(state[k].tolist() for k in ("envs", "keys", "counts")), strict=True
        ):
            if n < len(self.episode_counts):
                self.episode_counts[n][key] = count


# ================================================================================================
# Where the agent goes: the state-visitation heatmap of grid games
# ================================================================================================


def grid_positions(envs: gym.vector.VectorEnv) -> tuple[tuple[int, int], Any] | None:
    """((height, width), a function envs -> (x, y) arrays) for grid games, else None.

    rlsuite's grid games (KeyDoor, Maze) keep ``agent_x``/``agent_y`` in their state, natively
    batched or one game per sub-env; MiniGrid's envs have ``agent_pos`` and ``width``/``height``.
    Subprocess (async) vector envs are left out: reading their state every step would cost a
    message to every process.
    """
    if isinstance(getattr(envs, "state", None), dict) and "agent_x" in envs.state:
        size = int(envs.game.size)
        return (size, size), lambda e: (e.state["agent_x"], e.state["agent_y"])
    if not isinstance(envs, gym.vector.SyncVectorEnv):
        return None
    first = envs.envs[0].unwrapped
    if isinstance(getattr(first, "state", None), dict) and "agent_x" in first.state:
        size = int(first.game.size)

        def game_positions(e: gym.vector.SyncVectorEnv) -> tuple[np.ndarray, np.ndarray]:
            states = [env.unwrapped.state for env in e.envs]
            return (
                np.array([s["agent_x"][0] for s in states]),
                np.array([s["agent_y"][0] for s in states]),
            )

        return (size, size), game_positions
    if hasattr(first, "agent_pos") and hasattr(first, "width"):

        def minigrid_positions(e: gym.vector.SyncVectorEnv) -> tuple[np.ndarray, np.ndarray]:
            positions = np.array([env.unwrapped.agent_pos for env in e.envs])
            return positions[:, 0], positions[:, 1]

        return (int(first.height), int(first.width)), minigrid_positions
    return None


class VisitCounter:
    """Visits of each grid cell by the training envs since the last heatmap was taken."""

    def __init__(self, shape: tuple[int, int], read_positions: Any) -> None:
        self.shape = shape
        self.read_positions = read_positions
        self._counts = np.zeros(shape, dtype=np.int64)  # (height, width), up to `_cells`
        self._cells: list[np.ndarray] = []  # cell indices of the steps not yet counted

    @property
    def counts(self) -> np.ndarray:
        """Visits per cell ``(height, width)`` since the last heatmap."""
        if self._cells:  # counted in one bincount, not one per step
            cells = np.concatenate(self._cells)
            self._counts += np.bincount(cells, minlength=self._counts.size).reshape(self.shape)
            self._cells = []
        return self._counts

    @classmethod
    def for_env(cls, envs: gym.vector.VectorEnv) -> VisitCounter | None:
        found = grid_positions(envs)
        return None if found is None else cls(*found)

    def __call__(self, envs: gym.vector.VectorEnv) -> None:
        """Count the cell each sub-env's agent stands on now."""
        x, y = self.read_positions(envs)
        self._cells.append(np.asarray(y) * self.shape[1] + np.asarray(x))

    def take_heatmap(self, cell_pixels: int = 8) -> np.ndarray:
        """The counts as an ``(H, W, 3)`` uint8 image (black: never; dark red to yellow to white:
        rarely to most, on a square-root scale), then zeroed for the next period."""
        counts = self.counts
        level = np.sqrt(counts / max(counts.max(), 1))  # 0..1
        # A "hot" colour map: red rises first, then green, then blue.
        image = np.stack([np.clip(3 * level - k, 0, 1) for k in range(3)], axis=-1)
        image = (255 * image).astype(np.uint8).repeat(cell_pixels, 0).repeat(cell_pixels, 1)
        counts[:] = 0
        return image

    def state_dict(self) -> dict[str, Any]:
        return {"counts": torch.from_numpy(self.counts.copy())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._counts, self._cells = state["counts"].numpy().copy(), []


# ================================================================================================
# What the agent holds
# ================================================================================================


def load_pretrained_encoder(path: str, obs_space: gym.Space, out_dim: int) -> nn.Module:
    """ICM's phi from a pretrained encoder (``rlsuite pretrain`` or a self-supervised
    ``rlsuite fit`` run): observation -> ``(B, out_dim)`` features, a linear layer added when
    the encoder's own width differs. It goes on learning through the inverse model."""
    from rlsuite.supervised.encoders import load_encoder

    encoder = load_encoder(path)
    if tuple(encoder.obs_shape) != tuple(obs_space.shape):
        raise ConfigError(
            f"curiosity_encoder={path} takes observations of shape {tuple(encoder.obs_shape)}, "
            f"the env gives {tuple(obs_space.shape)}"
        )
    if encoder.out_dim == out_dim:
        return encoder
    return nn.Sequential(encoder, layer_init(nn.Linear(encoder.out_dim, out_dim), gain=1.0))


class Curiosity:
    """An agent's curiosity: the module giving r_I, its optimiser, its normalisers, its counts.

    Built by ``Agent`` when ``config.curiosity`` is set; everything in it is in the agent's
    ``state_dict`` (so resume is exact).
    """

    def __init__(self, agent: Agent) -> None:
        c: CuriositySettings = agent.config
        self.settings, self.kind = c, c.curiosity
        envs, self.device = agent.envs, agent.device
        obs_space, action_space = envs.single_observation_space, envs.single_action_space
        encoder = None
        if c.curiosity_encoder is not None:
            encoder = load_pretrained_encoder(c.curiosity_encoder, obs_space, c.curiosity_features)
        self.module: ICM | RND | None = None
        self.counter: StateCounter | None = None
        if self.kind == "icm":
            self.module = ICM(obs_space, action_space, c, encoder)
        elif self.kind == "rnd":
            self.module = RND(obs_space, c)
        elif c.count_per_episode:
            self.counter = EpisodeStateCounter(obs_space.shape, c.count_resolution, envs.num_envs)
        else:
            self.counter = StateCounter(obs_space.shape, c.count_resolution)
        self.optimizer = None
        self.numpy_rewards = False  # r_I computed in numpy (MLP modules on the CPU)
        if self.module is not None:
            self.module.to(self.device)
            self.numpy_rewards = self.module.numpy_ready()
            # One flat vector theta, as the agents have: Adam is then one update of one tensor
            # per step instead of one per weight and bias (a pretrained encoder kept frozen is
            # left out).
            trainable = [p for p in self.module.parameters() if p.requires_grad]
            self.theta = flatten_parameters(trainable)
            self.optimizer = torch.optim.Adam([self.theta], lr=c.curiosity_learning_rate)
        # Modules of MLPs on the CPU compute their gradient in numpy (see ``learn``).
        self.numpy_gradient = (
            self.module is not None
            and encoder is None  # a pretrained encoder, frozen or not, learns by autograd
            and self.module.numpy_gradient_ready()
        )
        # RND's observation statistics, per feature (per pixel for images), clipped to +-5.
        self.obs_normalizer = None
        if self.kind == "rnd":
            self.obs_normalizer = ObservationNormalizer(obs_space.shape, clip=RND_OBS_CLIP)
        # Never reset at episode ends (done=False always): the intrinsic return runs on.
        self.reward_scaler = None
        if c.normalize_intrinsic:
            self.reward_scaler = RewardScaler(envs.num_envs, c.intrinsic_gamma)
        self.warmed_up = self.obs_normalizer is None or c.rnd_warmup_steps == 0
        self.visits = VisitCounter.for_env(envs)
        self.metrics: dict[str, list[float]] = {}  # the module's losses in this update
        # Transitions not yet learned from (fewer than a minibatch): (obs, actions, next_obs)
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def attach(self, collector: RolloutCollector) -> None:
        """Ask the collector for s_{t+1} and, on grid games, to count where the agent goes."""
        collector.keep_next_obs = True
        collector.after_step = self.visits

    # -- RND's observation statistics before training ---------------------------------------
    def warm_up(self, collector: RolloutCollector, rng: np.random.Generator) -> int:
        """Step the envs with uniformly random actions to start RND's observation statistics
        (Burda et al. A.3), then restart the episodes; returns the env steps taken."""
        envs = collector.envs
        if collector.obs is None:
            collector.reset()
        space = envs.single_action_space
        for _ in range(self.settings.rnd_warmup_steps):
            if isinstance(space, gym.spaces.Discrete):
                actions = rng.integers(int(space.n), size=envs.num_envs)
            else:
                draw = rng.standard_normal((envs.num_envs, *space.shape), dtype=np.float32)
                actions = np.clip(draw, space.low, space.high)
            obs, *_ = envs.step(actions)
            self.obs_normalizer.stats.update(collector.policy_input(obs, update=False))
        collector.reset()  # the warm-up's episodes are not learned from or logged
        self.warmed_up = True
        return self.settings.rnd_warmup_steps * envs.num_envs

    # -- intrinsic rewards ------------------------------------------------------------------
    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(x, device=self.device)

    def _module_input(self, obs: np.ndarray) -> np.ndarray:
        """What the module sees: RND's normalised, clipped observations; the policy's for ICM."""
        return obs if self.obs_normalizer is None else self.obs_normalizer.normalize(obs)

    def intrinsic_rewards(
        self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray
    ) -> np.ndarray:
        """r_I of a batch of transitions ``(B, ...)`` -> ``(B,)``, before normalisation.

        The count bonus counts the batch's next states first (Tang et al.: N after the visit).
        """
        if self.counter is not None:
            return 1.0 / np.sqrt(self.counter.visit(next_obs))
        if self.numpy_rewards and len(obs) <= NUMPY_MAX_ROWS:  # small MLP batches: numpy
            if isinstance(self.module, ICM):
                reward = self.module.intrinsic_reward_numpy(obs, actions, next_obs)
            else:
                reward = self.module.intrinsic_reward_numpy(self._module_input(next_obs))
            return reward.astype(np.float64)
        with torch.no_grad():
            if isinstance(self.module, ICM):
                reward = self.module.intrinsic_reward(
                    self._tensor(obs), self._tensor(actions), self._tensor(next_obs)
                )
            else:
                reward = self.module.intrinsic_reward(self._tensor(self._module_input(next_obs)))
        return reward.cpu().numpy().astype(np.float64)

    def learn(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray, rng) -> None:
        """Train the module on transitions: ``curiosity_epochs`` passes (by default the kind's
        own, ``EPOCHS``) of shuffled minibatches of ``curiosity_batch_size``, Adam.

        Rollouts smaller than a minibatch (A2C's 40 transitions) are pooled until there are
        enough: a gradient step on 40 transitions costs nearly what one on 256 does.
        """
        if self.module is None:
            return
        self.pending.append((obs, actions, next_obs))
        if sum(len(part[0]) for part in self.pending) < self.settings.curiosity_batch_size:
            return
        obs, actions, next_obs = (np.concatenate(x) for x in zip(*self.pending, strict=True))
        self.pending = []
        if self.obs_normalizer is not None:  # RND's statistics take what it learns from
            self.obs_normalizer.stats.update(next_obs)
        # What the module learns from: ICM (s, a, s'), RND its normalised s'.
        inputs = (
            (obs, actions, next_obs)
            if isinstance(self.module, ICM)
            else (self._module_input(next_obs),)
        )
        tensors = None if self.numpy_gradient else tuple(map(self._tensor, inputs))
        c = self.settings
        # Minibatches of about curiosity_batch_size: a short tail joins the others.
        n_minibatches = max(1, round(len(obs) / c.curiosity_batch_size))
        epochs = kinds_own(c.curiosity_epochs, EPOCHS, self.kind)
        for _ in range(epochs):
            order = rng.permutation(len(obs))
            for rows in np.array_split(order, n_minibatches):
                if self.numpy_gradient:  # MLPs: the chain rule in numpy (no autograd)
                    grads, metrics = self.module.gradient_numpy(*(x[rows] for x in inputs))
                    # theta.grad holds the trained parameters' gradients end to end, in order
                    self.theta.grad.numpy()[:] = np.concatenate([g.ravel() for g in grads])
                else:
                    metrics = self.autograd_gradient(tensors, rows)
                self.optimizer.step()
                for tag, value in metrics.items():
                    self.metrics.setdefault(tag, []).append(value)

    def autograd_gradient(self, inputs: tuple[torch.Tensor, ...], rows: np.ndarray) -> dict:
        """The module's loss on these rows of its inputs, backpropagated into ``theta.grad``;
        its losses as floats."""
        rows = torch.from_numpy(rows).to(self.device)
        loss, metrics = self.module.loss(*(x[rows] for x in inputs))
        self.theta.grad.zero_()  # in place: each weight's .grad is a view into it
        loss.backward()
        return {tag: value.item() for tag, value in metrics.items()}

    # -- advantages -------------------------------------------------------------------------
    def train_batch(
        self, agent: Agent, batch: RolloutBatch, gamma: float, lam: float
    ) -> tuple[TrainBatch, dict[str, float]]:
        """The rollout's TrainBatch with curiosity: r_I, both critics' GAE, the mixed advantage.

        Values and returns in the TrainBatch are ``(B, 2)``: V_E, V_I and their targets.
        Returns what to log too.
        """
        c = self.settings
        self.metrics = {}
        valid = batch.valid
        T, N = valid.shape
        flat = lambda x: x.reshape(T * N, *x.shape[2:])  # noqa: E731  (T, N, ...) -> (T*N, ...)
        obs, actions, next_obs = flat(batch.obs), flat(batch.actions), flat(batch.next_obs)
        keep = flat(valid)
        # 1. r_I of every valid transition (a NEXT_STEP reset step is none: 0), then normalised.
        if isinstance(self.counter, EpisodeStateCounter):  # counted episode by episode
            ends = batch.terminated | batch.truncated
            raw = valid / np.sqrt(self.counter.visit_rollout(batch.next_obs, valid, ends))
        else:
            raw = np.zeros(T * N)
            raw[keep] = self.intrinsic_rewards(obs[keep], actions[keep], next_obs[keep])
            raw = raw.reshape(T, N)
        intrinsic = raw if self.reward_scaler is None else self.normalized(raw, valid)
        # 2. Train the module on this rollout (after its rewards were computed with the module
        #    that had not seen it yet).
        self.learn(obs[keep], actions[keep], next_obs[keep], agent.np_random)
        # 3. V_I of every state of the rollout and of the state after it.
        last = agent.collector.policy_input(agent.collector.obs, update=False)
        values_int = self.intrinsic_values(agent, np.concatenate([obs, last])).reshape(T + 1, N)
        # 4. Two GAEs. The extrinsic one ends at terminations and bootstraps truncations
        #    (returns.gae); the intrinsic one runs on across episode ends: it is cut only before
        #    a NEXT_STEP reset step, which is no transition (its own r_I and advantage are unused).
        extrinsic = batch.rewards if c.extrinsic_coef > 0 else np.zeros_like(batch.rewards)
        adv_ext, ret_ext = gae(
            extrinsic, batch.values, batch.next_values, batch.terminated, batch.truncated,
            gamma, lam,
        )  # fmt: skip
        cut = np.zeros((T, N), dtype=bool)
        cut[:-1] = ~valid[1:]
        adv_int, ret_int = gae(
            intrinsic, values_int[:-1], values_int[1:], np.zeros_like(cut), cut,
            c.intrinsic_gamma, lam,
        )  # fmt: skip
        weight = self.intrinsic_weight(agent.progress_remaining)
        advantages = c.extrinsic_coef * adv_ext + weight * adv_int
        both_values = np.stack([batch.values, values_int[:-1]], axis=-1).astype(np.float32)
        returns = np.stack([ret_ext, ret_int], axis=-1)
        data = to_train_batch(batch._replace(values=both_values), advantages, returns)
        logged = {tag: float(np.mean(values)) for tag, values in self.metrics.items()}
        logged[tags.INTRINSIC_REWARD_MEAN] = float(raw[valid].mean()) if valid.any() else 0.0
        logged[tags.INTRINSIC_COEF] = weight
        return data, logged

    def intrinsic_weight(self, progress_remaining: float) -> float:
        """The weight of A_I: ``intrinsic_coef`` (the kind's own when none), times the share of
        the budget left under the linear schedule."""
        c = self.settings
        weight = kinds_own(c.intrinsic_coef, INTRINSIC_COEF, self.kind)
        schedule = c.intrinsic_schedule
        if schedule is None:
            schedule = INTRINSIC_SCHEDULE[self.kind] if c.extrinsic_coef > 0 else "constant"
        return weight * progress_remaining if schedule == "linear" else weight

    def normalized(self, raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """``(T, N)`` r_I divided by the running std of the discounted intrinsic return.

        As RND does it (Burda et al. sec. 2.4): each env's return ``R <- gamma_I R + r_I`` runs
        on, never reset; the statistics take the whole rollout's returns (valid steps), then
        every reward of the rollout is divided by the updated std.
        """
        scaler = self.reward_scaler
        returns = np.empty_like(raw)
        running = scaler.returns
        for t in range(len(raw)):
            running = scaler.gamma * running + raw[t]
            returns[t] = running
        scaler.returns = running
        scaler.stats.update(returns[valid])
        return scaler.scale(raw).astype(np.float64)

    def intrinsic_values(self, agent: Agent, obs: np.ndarray) -> np.ndarray:
        """V_I(s) of a batch of observations (as the policy sees them), as float64."""
        if len(obs) <= NUMPY_MAX_ROWS:  # columns V_E, V_I
            return agent.policy.values_numpy(obs)[:, 1].astype(np.float64)
        with torch.inference_mode():
            values = agent.policy.value(self._tensor(obs))
        return values[:, 1].cpu().numpy().astype(np.float64)

    def take_heatmap(self) -> np.ndarray | None:
        """The state-visitation image since the last one (grid games), else None."""
        return None if self.visits is None else self.visits.take_heatmap()

    # -- checkpoints ------------------------------------------------------------------------
    def _parts(self) -> dict[str, Any]:
        """What a checkpoint holds, by name (None where this kind has no such part)."""
        return {
            "module": self.module,
            "optimizer": self.optimizer,
            "obs_normalizer": self.obs_normalizer,
            "reward_scaler": self.reward_scaler,
            "counter": self.counter,
            "visits": self.visits,
        }

    def state_dict(self) -> dict[str, Any]:
        state = {k: None if p is None else p.state_dict() for k, p in self._parts().items()}
        pending = [
            [torch.from_numpy(np.array(x)) for x in transitions] for transitions in self.pending
        ]
        return {**state, "warmed_up": self.warmed_up, "pending": pending}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("optimizer") is not None:
            state = {**state, "optimizer": flat_adam_state(state["optimizer"])}
        for key, part in self._parts().items():
            if part is not None and state.get(key) is not None:
                part.load_state_dict(state[key])
        self.warmed_up = bool(state["warmed_up"])
        self.pending = [tuple(x.numpy() for x in part) for part in state.get("pending", [])]


def flat_adam_state(saved: dict[str, Any]) -> dict[str, Any]:
    """An Adam state of the module's weights one by one (checkpoints written before theta) as
    the state of the one flat vector theta: each running mean laid end to end, in the order
    ``flatten_parameters`` lays the weights. A flat state is returned as it is."""
    (group,) = saved["param_groups"]
    if len(group["params"]) == 1:
        return saved
    per_weight = [saved["state"][i] for i in group["params"] if i in saved["state"]]
    state = {}
    if per_weight:  # no state before the first step
        state[0] = {
            key: (per_weight[0][key].clone() if key == "step" else
                  torch.cat([w[key].reshape(-1) for w in per_weight]))
            for key in per_weight[0]
        }  # fmt: skip
    return {"state": state, "param_groups": [{**group, "params": [0]}]}
