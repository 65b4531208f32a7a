"""What every agent shares: seeding, the learn loop, the gradient step, predict, checkpoints.

An agent file (reinforce.py, actor_critic.py, a2c.py, ppo.py) subclasses ``Agent`` once and writes
two methods, ``collect`` and ``update``, so its whole algorithm reads top to bottom in that file:
``learn`` here is only ``collect -> update -> log -> callback``, as the lecture's loop
"collect data with pi_theta, update theta, repeat".
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.common.nets import (
    ACTIVATIONS,
    ActorCriticNet,
    UnsupportedSpaceError,
    check_action_space,
)
from rlsuite.agents.common.normalize import (
    ObservationNormalizer,
    RewardScaler,
    check_obs_normalizable,
)
from rlsuite.agents.common.optim import flatten_parameters
from rlsuite.agents.common.returns import rollout_gae
from rlsuite.agents.common.rollout import (
    RolloutBatch,
    RolloutCollector,
    TrainBatch,
    first_episodes,
    to_train_batch,
)
from rlsuite.agents.curiosity import Curiosity
from rlsuite.config import LAYER_SIZES, NON_NEGATIVE_INT, REAL, Settings, choice, setting
from rlsuite.logger import Logger
from rlsuite.vector import as_vector_env

# The kinds of the settings every Config has and this file interprets (see rlsuite/config.py).
LR_SCHEDULE = choice("constant", "linear")  # see Agent.learning_rate_at
ACTIVATION = choice(*ACTIVATIONS)
CNN_POOL = choice("flatten", "max")  # see nets.CNNEncoder


@dataclasses.dataclass(frozen=True)
class PolicyNetworkSettings(Settings):
    """The settings of the policy network (nets.ActorCriticNet) that every agent's Config shares.

    An agent's Config extends this class, so that each of these is declared once.
    """

    hidden_sizes: tuple[int, ...] = setting((64, 64), LAYER_SIZES)  # MLP trunk layer widths
    activation: str = setting("tanh", ACTIVATION)  # "tanh" or "relu"
    # Images drawn in 4-pixel cells: 3x3 convolutions over the cells before the CNN's stride-2
    # layer, each widening what a cell's features see by one cell (nets.CNNEncoder)
    cnn_context_layers: int = setting(0, NON_NEGATIVE_INT)
    # ... and how its linear layer reads the last map: "flatten" (every position its own
    # weights) or "max" (each channel's maximum over the positions)
    cnn_pool: str = setting("flatten", CNN_POOL)
    log_std_init: float = setting(0.0, REAL)  # initial log std of the Gaussian policy (Box actions)


__all__ = [
    "Agent",
    "NonFiniteLossError",
    "PolicyNetworkSettings",
    "SpacesOnlyEnv",
    "UnsupportedSpaceError",
]


class NonFiniteLossError(ValueError):
    """A loss or gradient became NaN/inf; raised before the optimizer step, parameters untouched."""


class Agent:
    """Base of the on-policy agents. Subclasses set the class variables and write collect/update.

    ``num_steps`` counts environment steps of every sub-env; ``learn(total_steps)`` runs until it
    reaches ``total_steps``, so calling ``learn`` again with a larger total continues training.
    """

    name: ClassVar[str]
    description: ClassVar[str]  # one line, for `rlsuite agents`
    # A frozen rlsuite.config.Settings dataclass: every field has a default, a kind (checked when
    # the Config is built) and a comment. Run settings (n_envs, steps) are not in it.
    Config: ClassVar[type]
    default_steps: ClassVar[int]  # training budget when a run gives none (env steps, all envs)
    uses_critic: ClassVar[bool] = True  # REINFORCE has no V(s)
    # The imitation agents learn from demonstrations: built with demos=, run with --demos.
    uses_demos: ClassVar[bool] = False
    # The intrinsic-reward module (agents/curiosity.py) of a curious A2C or PPO; agents that
    # build themselves without Agent.__init__ (the imitation trainers) have none.
    curiosity: Curiosity | None = None

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: Any = None,
        *,
        seed: int = 0,
        logger: Logger | None = None,
        device: str | torch.device = "cpu",
        encoder: torch.nn.Module | None = None,
        freeze_encoder: bool = False,
    ) -> None:
        self.config = config if config is not None else self.Config()  # checked when built
        envs = as_vector_env(envs)  # one gym.Env: a vector env of one
        check_action_space(envs.single_action_space)
        self.envs, self.seed, self.logger = envs, seed, logger
        # Where the network and its updates run. Acting on a GPU, and learning there, use the
        # torch paths of nets.py, optim.py and backprop.supports: the numpy ones read CPU memory.
        self.device = torch.device(device)
        # Seed everything the agent draws from: weight init (torch global), action sampling and
        # minibatch order (np_random); predict() has its own stream so that evaluating between
        # updates never shifts the training stream.
        random.seed(seed)
        torch.manual_seed(seed)
        self.np_random = np.random.default_rng(seed)
        self.predict_rng = np.random.default_rng(seed + 1)
        c = self.config
        # A2C and PPO take curiosity (their Configs extend CuriositySettings); the others not.
        self.curious = getattr(c, "curiosity", None) is not None
        self.policy = ActorCriticNet(
            envs.single_observation_space,
            envs.single_action_space,
            hidden_sizes=c.hidden_sizes,
            activation=c.activation,
            # Without a critic there is only the policy's trunk (REINFORCE has no such setting).
            shared_trunk=c.shared_trunk if self.uses_critic else True,
            with_critic=self.uses_critic,
            log_std_init=c.log_std_init,
            # Curiosity's second value head, V_I (agents/curiosity.py)
            n_values=2 if self.curious else 1,
            # A pretrained encoder (supervised/encoders.py) instead of a fresh trunk; frozen,
            # its weights stay out of theta and the optimizer.
            encoder=encoder,
            freeze_encoder=freeze_encoder,
            cnn_context_layers=c.cnn_context_layers,
            cnn_pool=c.cnn_pool,
        ).to(self.device)  # before flattening: theta's slices must be where the weights live
        # What rebuilds this agent's encoder from a checkpoint (its weights are in "policy").
        self.encoder_info = None
        if encoder is not None:
            self.encoder_info = {
                "spec": encoder.spec,
                "frozen": bool(freeze_encoder),
                "source": str(getattr(encoder, "source", "")),
            }
        trained = [(n, p) for n, p in self.policy.named_parameters() if p.requires_grad]
        self.parameter_names = [name for name, _ in trained]
        self.parameters = [parameter for _, parameter in trained]
        # theta: all weights as one vector, theta.grad: the whole gradient (common/optim.py).
        self.theta = flatten_parameters(self.parameters)
        self.optimizer = self.make_optimizer()
        self.obs_normalizer, self.reward_scaler = self.make_normalizers()
        self.collector = RolloutCollector(
            envs, self.policy, self.np_random, logger, self.obs_normalizer, self.reward_scaler
        )
        self.curiosity = Curiosity(self) if self.curious else None
        if self.curiosity is not None:
            self.curiosity.attach(self.collector)
        self.num_steps = 0
        self.num_updates = 0
        # The share of this learn() call's budget still ahead, 1 to 0, set before each update:
        # where the linear schedules are (SB3's progress_remaining)
        self.progress_remaining = 1.0
        self.started = False  # envs.reset(seed) happens once, at the first learn()

    @property
    def num_episodes(self) -> int:
        return self.collector.num_episodes

    def make_normalizers(self) -> tuple[ObservationNormalizer | None, RewardScaler | None]:
        """The running observation/reward statistics the config asks for (common/normalize.py)."""
        c, space = self.config, self.envs.single_observation_space
        obs_normalizer = reward_scaler = None
        if c.normalize_obs:
            check_obs_normalizable(space)
            obs_normalizer = ObservationNormalizer(space.shape)
        if c.normalize_reward:
            reward_scaler = RewardScaler(self.envs.num_envs, c.gamma)
        return obs_normalizer, reward_scaler

    def make_optimizer(self) -> torch.optim.Optimizer:
        """Adam with eps=1e-5 (as the PPO/A2C reference code); A2C overrides with RMSprop."""
        return torch.optim.Adam([self.theta], lr=self.config.learning_rate, eps=1e-5)

    # -- what subclasses write ----------------------------------------------------------------
    def collect(self) -> Any:
        """Gather experience with the current policy (and count it in ``num_steps``)."""
        raise NotImplementedError

    def update(self, batch: Any) -> dict[str, float]:
        """Improve the policy from ``batch``; returns logger tags -> values."""
        raise NotImplementedError

    def steps_per_update(self) -> int | None:
        """Env steps one update collects, or None when it varies (whole episodes)."""
        return None

    # -- the loop -----------------------------------------------------------------------------
    def learn(self, total_steps: int, callback: Callable[[Agent], bool] | None = None) -> Agent:
        """Train until ``num_steps >= total_steps``; ``callback(self) is False`` stops early."""
        if isinstance(self.envs, SpacesOnlyEnv):
            raise RuntimeError(SpacesOnlyEnv.CANNOT_TRAIN)
        if not self.started:
            self.collector.reset(seed=self.seed)
            self.started = True
        while self.num_steps < total_steps:
            self.progress_remaining = self.progress_at(total_steps)
            learning_rate = self.learning_rate_at(total_steps)
            for group in self.optimizer.param_groups:
                group["lr"] = learning_rate
            metrics = self.update(self.collect())
            self.num_updates += 1
            if self.logger is not None:
                metrics[tags.LEARNING_RATE] = learning_rate
                for tag, value in metrics.items():
                    self.logger.record(tag, value)
                self.logger.dump(self.num_steps)
            if callback is not None and callback(self) is False:
                break
        return self

    def progress_at(self, total_steps: int) -> float:
        """The share of a budget of ``total_steps`` still ahead, 1 to 0: where the linear
        schedules are. Counted by ``num_steps``, so a resumed run continues the same curve when
        it is given the same total."""
        return max(1.0 - self.num_steps / total_steps, 0.0)

    def learning_rate_at(self, total_steps: int) -> float:
        """``constant``, or ``linear`` decay to 0 at ``total_steps`` of this learn() call."""
        lr = self.config.learning_rate
        if self.config.lr_schedule == "linear":
            return lr * self.progress_at(total_steps)
        return lr

    def rollout(self, n_steps: int) -> RolloutBatch:
        """``n_steps`` steps in every sub-env with the current policy."""
        if self.curiosity is not None and not self.curiosity.warmed_up:
            # RND's observation statistics start from random play (counted: the env did step).
            self.num_steps += self.curiosity.warm_up(self.collector, self.np_random)
        batch = self.collector.collect(n_steps)
        self.num_steps += n_steps * self.envs.num_envs
        return batch

    def train_batch(self, batch: RolloutBatch, gae_lambda: float) -> TrainBatch:
        """A rollout's advantages (GAE) and critic targets, flattened to a TrainBatch.

        With curiosity the advantage mixes the extrinsic and intrinsic ones and the critic has
        two targets (``Curiosity.train_batch``); its metrics go to the logger.
        """
        if self.curiosity is None:
            advantages, returns = rollout_gae(batch, self.config.gamma, gae_lambda)
            return to_train_batch(batch, advantages, returns)
        data, metrics = self.curiosity.train_batch(self, batch, self.config.gamma, gae_lambda)
        if self.logger is not None:
            for tag, value in metrics.items():
                self.logger.record(tag, value)
        return data

    def visitation_heatmap(self) -> np.ndarray | None:
        """Where the agent went since the last call, as an image (curious agents, grid games)."""
        return None if self.curiosity is None else self.curiosity.take_heatmap()

    def rollout_episodes(self, chunk_steps: int = 16) -> RolloutBatch:
        """One whole episode per env, all collected with the current policy.

        Every update starts fresh episodes (``envs.reset()``, continuing the env's random
        stream): an episode begun under the previous policy would mix two policies in one return,
        and the lecture's rule is that data from pi_theta is used for one update of theta only.
        Steps after an env's first episode are marked invalid; they are counted in ``num_steps``
        (the env did take them) but not learned from. Taking only the first episode of each env,
        not every episode that happens to finish, avoids over-sampling short episodes.
        """
        if self.num_updates > 0:
            self.collector.reset()
        chunks: list[RolloutBatch] = []
        finished = np.zeros(self.envs.num_envs, dtype=bool)
        while not finished.all():
            chunks.append(self.rollout(chunk_steps))
            finished |= (chunks[-1].terminated | chunks[-1].truncated).any(axis=0)
        return first_episodes(chunks)

    def gradient_step(self, loss: torch.Tensor, losses: dict[str, torch.Tensor]) -> float:
        """Backprop, clip the gradient norm, step; returns the pre-clip gradient norm.

        ``losses`` names the parts of ``loss``. A non-finite part or gradient raises
        NonFiniteLossError before the optimizer step, so the parameters stay the last good ones.
        """
        if not math.isfinite(loss.item()):  # name the culprit only on failure
            self.raise_if_not_finite({**losses, "total loss": loss})
        self.theta.grad.zero_()  # every parameter's .grad is a slice of this vector
        loss.backward()
        return self.clip_and_step()

    def gradient_step_from(
        self, gradients: dict[str, np.ndarray], losses: dict[str, float]
    ) -> float:
        """``gradient_step`` with a gradient computed by hand (common/backprop.py), given per
        parameter name; ``losses`` are the loss's parts, checked as ``gradient_step`` does."""
        self.raise_if_not_finite(losses)
        # Write the parts into theta.grad (a numpy view of it), in the parameters' order.
        parts = [gradients[name].reshape(-1) for name in self.parameter_names]
        np.concatenate(parts, out=self.theta.grad.numpy())
        return self.clip_and_step()

    def raise_if_not_finite(self, losses: dict[str, Any]) -> None:
        """NonFiniteLossError naming the first NaN/inf loss part (floats or tensors)."""
        for name, part in losses.items():
            value = part.detach().reshape(-1) if isinstance(part, torch.Tensor) else [part]
            bad = [float(v) for v in value if not math.isfinite(float(v))]
            if bad:
                raise NonFiniteLossError(
                    f"{name} is {bad[0]} at step {self.num_steps}; "
                    f"try a lower learning_rate (now {self.config.learning_rate})"
                )

    def clip_and_step(self) -> float:
        """Clip theta.grad's global norm, take the optimizer step; returns the pre-clip norm,
        which also goes to the logger (``train/grad_norm``)."""
        gradient = self.theta.grad
        if gradient.is_cpu:
            gradient = gradient.numpy()  # a view: numpy calls are cheaper than torch's here
        # Clip the global gradient norm (Pascanu et al. 2013), as torch's clip_grad_norm_ does.
        norm = math.sqrt(float(gradient @ gradient))
        if not math.isfinite(norm):
            raise NonFiniteLossError(
                f"gradient norm is {norm} at step {self.num_steps}; "
                f"try a lower learning_rate (now {self.config.learning_rate})"
            )
        if self.logger is not None:
            self.logger.record(tags.GRAD_NORM, norm)
        if norm > self.config.max_grad_norm:
            gradient *= self.config.max_grad_norm / (norm + 1e-6)
        self.optimizer.step()
        return norm

    # -- acting -------------------------------------------------------------------------------
    def predict(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Actions the env accepts: one for one observation, a batch ``(B, ...)`` for a batch.

        As Stable-Baselines3's ``model.predict``, without its recurrent-state tuple. ``obs`` is
        what the run's env gives (a game's ``frame_stack`` is already inside its observation);
        the saved observation statistics are applied, frozen. ``deterministic`` takes the most
        likely action (the Gaussian's mean for Box actions) instead of sampling.
        """
        space = self.envs.single_observation_space
        if isinstance(obs, tuple) and len(obs) == 2 and isinstance(obs[1], dict):
            raise ValueError(
                "predict takes an observation, not the (observation, info) pair that "
                "env.reset() returns: obs, info = env.reset(); agent.predict(obs)"
            )
        obs = np.asarray(obs, dtype=space.dtype)
        single = obs.shape == space.shape
        if single:
            obs = obs[None]  # a batch of one
        elif obs.shape[1:] != space.shape:
            raise ValueError(
                f"predict takes one observation of shape {space.shape} or a batch of shape "
                f"(B, {', '.join(map(str, space.shape))}), not an array of shape {obs.shape}"
            )
        if self.obs_normalizer is not None:  # the training statistics, frozen: no update here
            obs = self.obs_normalizer.normalize(obs)
        actions, _, _ = self.policy.step(obs, self.predict_rng, deterministic)
        actions = self.policy.to_env(actions)
        return actions[0] if single else actions

    @classmethod
    def for_spaces(
        cls,
        observation_space: gym.Space,
        action_space: gym.Space,
        config: Any = None,
        *,
        seed: int = 0,
        device: str | torch.device = "cpu",
        encoder: torch.nn.Module | None = None,
        freeze_encoder: bool = False,
    ) -> Agent:
        """An agent that acts (``predict``) and saves, built from spaces alone: no env is made.

        What ``rlsuite.load`` returns. It cannot ``learn``: it has no env to collect from.
        """
        envs = SpacesOnlyEnv(observation_space, action_space)
        if cls.uses_demos:  # the imitation agents build their own nets (no pretrained encoder)
            return cls(envs, config, seed=seed, device=device)
        return cls(
            envs, config, seed=seed, device=device, encoder=encoder, freeze_encoder=freeze_encoder
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Agent:
        """``rlsuite.load(path)``, checked to be this agent (``PPO.load(path)``, as in SB3)."""
        from rlsuite.playback import load_agent

        agent = load_agent(path, device)
        if not isinstance(agent, cls):
            raise ValueError(f"{path} holds a {agent.name} agent, not {cls.__name__}")
        return agent

    def save(self, path: str | Path) -> None:
        """Write the agent to `path` (tensors and plain data: ``torch.load(weights_only=True)``
        reads it); ``rlsuite.load(path)`` gives it back, ready to ``predict``. Missing parent
        folders are made, as SB3's ``model.save`` makes them."""
        from rlsuite.checkpoints import agent_payload, save_checkpoint

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(agent_payload(self), Path(path))

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything resuming needs; only tensors and python builtins (weights_only loading)."""
        return {
            "name": self.name,
            "config": dataclasses.asdict(self.config),
            "policy": self.policy.state_dict(),
            "encoder": self.encoder_info,  # None, or the given encoder's spec (plain data)
            "optimizer": self.optimizer.state_dict(),
            "num_steps": self.num_steps,
            "num_updates": self.num_updates,
            "started": self.started,
            "rng": {
                "python": random.getstate(),
                "torch": torch.get_rng_state(),
                # PCG64's state holds 128-bit ints; strings keep any unpickler happy.
                "numpy": _stringify_ints(self.np_random.bit_generator.state),
                "predict_numpy": _stringify_ints(self.predict_rng.bit_generator.state),
            },
            "collector": self.collector.state_dict(),
            "logger": self.logger.state_dict() if self.logger is not None else None,
            "normalization": {
                "obs": None if self.obs_normalizer is None else self.obs_normalizer.state_dict(),
                "reward": None if self.reward_scaler is None else self.reward_scaler.state_dict(),
            },
            "curiosity": None if self.curiosity is None else self.curiosity.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``; the vector env's own state is restored by the caller."""
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.num_steps = int(state["num_steps"])
        self.num_updates = int(state["num_updates"])
        self.started = bool(state["started"])
        rng = state["rng"]
        version, internal, gauss = rng["python"]
        random.setstate((version, tuple(internal), gauss))
        torch.set_rng_state(rng["torch"])
        self.np_random.bit_generator.state = _unstringify_ints(rng["numpy"])
        self.predict_rng.bit_generator.state = _unstringify_ints(rng["predict_numpy"])
        self.collector.load_state_dict(state["collector"])
        if self.logger is not None and state.get("logger") is not None:
            self.logger.load_state_dict(state["logger"])
        normalization = state.get("normalization") or {}  # absent in older checkpoints
        for part, key in ((self.obs_normalizer, "obs"), (self.reward_scaler, "reward")):
            if part is not None and normalization.get(key) is not None:
                part.load_state_dict(normalization[key])
        if self.curiosity is not None:
            self.curiosity.load_state_dict(state["curiosity"])


class SpacesOnlyEnv(gym.vector.VectorEnv):
    """A stand-in vector env of one that has only spaces: an agent that acts needs no more.

    ``Agent.for_spaces`` builds agents on it (``rlsuite.load``); stepping it says why it cannot.
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}
    CANNOT_TRAIN = (
        "this agent was loaded to act (rlsuite.load): it has no env to train on; "
        "continue a run with `rlsuite train --resume RUN_DIR`"
    )

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        self.num_envs = 1
        self.single_observation_space = observation_space
        self.single_action_space = action_space
        self.observation_space = gym.vector.utils.batch_space(observation_space, 1)
        self.action_space = gym.vector.utils.batch_space(action_space, 1)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        raise RuntimeError(self.CANNOT_TRAIN)

    def step(self, actions):
        raise RuntimeError(self.CANNOT_TRAIN)


def _stringify_ints(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _stringify_ints(v) for k, v in tree.items()}
    if isinstance(tree, int) and not isinstance(tree, bool):
        return f"int:{tree}"
    return tree


def _unstringify_ints(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _unstringify_ints(v) for k, v in tree.items()}
    if isinstance(tree, str) and tree.startswith("int:"):
        return int(tree[4:])
    return tree
