"""Behavior cloning: supervised learning of the expert's action in each state it visited.

The lecture's first answer to "no reward, but an expert": treat the demonstrations
``{(s_i, a_i)}`` as a labelled data set and maximise ``sum_i log pi_theta(a_i | s_i)``, which is
cross-entropy for Discrete actions and the Gaussian log-likelihood for Box actions (the policy
network is the same ``ActorCriticNet`` the RL agents act with, without a critic).

Each update is one epoch over the training split in shuffled minibatches; a held-out validation
split (whole episodes) measures generalisation, and training stops early once the validation loss
has not improved for ``patience`` epochs, keeping the best weights (as Keras' EarlyStopping with
``restore_best_weights``). ``num_steps`` counts training samples seen (epochs x training states):
BC takes no environment step, so the run's evaluation and checkpoint periods are in samples too.

BC's weakness is the compounding error of the lecture: a small mistake leads to a state the
expert never visited, where the policy has no data; DAgger (dagger.py) fixes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings
from rlsuite.config import (
    DECAY,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    setting,
)
from rlsuite.demos import Demonstrations
from rlsuite.errors import ConfigError
from rlsuite.logger import Logger


@dataclass(frozen=True)
class BCConfig(PolicyNetworkSettings):
    """Behavior cloning's settings."""

    learning_rate: float = setting(1e-3, POSITIVE)  # Adam step size
    # "constant" or "linear" (decays to 0 at the learn() total)
    lr_schedule: str = setting("constant", LR_SCHEDULE)
    batch_size: int = setting(64, POSITIVE_INT)  # minibatch size of the supervised updates
    # Share of the episodes held out to measure the validation loss (of the states when there
    # is one episode); 0 turns validation and early stopping off.
    validation_fraction: float = setting(0.1, DECAY)
    # Stop after this many epochs without a lower validation loss, keeping the best weights
    patience: int = setting(20, POSITIVE_INT)
    # L2 penalty on the weights (Adam's weight_decay): a little helps on 10 episodes
    weight_decay: float = setting(0.0, NON_NEGATIVE)
    max_grad_norm: float = setting(10.0, POSITIVE)  # clip the gradient's global norm


def expert_data(demos: Demonstrations, action_space: gym.Space) -> tuple[np.ndarray, np.ndarray]:
    """(observations, actions) of the demonstrations as the policy takes them: float32/uint8
    observations, int64 indices (Discrete, shifted by the space's start) or float32 vectors."""
    if isinstance(action_space, gym.spaces.Discrete):
        actions = demos.actions.astype(np.int64) - int(action_space.start)
    else:
        actions = demos.actions.astype(np.float32).reshape(len(demos.actions), -1)
    return demos.observations, actions


def imitation_loss(
    agent: Agent, obs: torch.Tensor, actions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(-mean log pi(a|s), how often the most likely action is the expert's).

    Cross-entropy for Discrete actions; the Gaussian negative log-likelihood for Box actions,
    whose "accuracy" is the share of actions whose mean lies within 0.1 of the expert's.
    """
    policy_features, _ = agent.policy.features(obs)
    log_prob, _ = agent.policy.log_prob_entropy(policy_features, actions, entropy_grad=False)
    with torch.no_grad():
        out = agent.policy.policy_head(policy_features)
        if agent.policy.discrete:
            accuracy = (out.argmax(-1) == actions).float().mean()
        else:
            accuracy = ((out - actions).abs().amax(-1) < 0.1).float().mean()
    return -log_prob.mean(), accuracy


def fit_epoch(
    agent: Agent, obs: np.ndarray, actions: np.ndarray, batch_size: int
) -> dict[str, float]:
    """One pass over (obs, actions) in shuffled minibatches; the mean loss and accuracy."""
    order = agent.np_random.permutation(len(obs))
    losses, accuracies = [], []
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        batch_obs = torch.as_tensor(obs[chosen], device=agent.device)
        batch_actions = torch.as_tensor(actions[chosen], device=agent.device)
        loss, accuracy = imitation_loss(agent, batch_obs, batch_actions)
        agent.gradient_step(loss, {"bc loss": loss})
        losses.append(loss.item())
        accuracies.append(accuracy.item())
    return {tags.BC_LOSS: float(np.mean(losses)), tags.BC_ACCURACY: float(np.mean(accuracies))}


@torch.no_grad()
def score(agent: Agent, obs: np.ndarray, actions: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) of the policy on (obs, actions), without training."""
    loss, accuracy = imitation_loss(
        agent,
        torch.as_tensor(obs, device=agent.device),
        torch.as_tensor(actions, device=agent.device),
    )
    return loss.item(), accuracy.item()


def validation_split(
    demos: Demonstrations, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the (training, validation) states: whole episodes held out, so the validation
    states are not neighbours of training states; with one episode, single states."""
    n = len(demos.actions)
    if fraction == 0 or n < 2:
        return np.arange(n), np.arange(0)
    if demos.n_episodes >= 2:
        held = max(1, round(fraction * demos.n_episodes))
        held = min(held, demos.n_episodes - 1)
        episodes = rng.permutation(demos.n_episodes)[:held]
        episode_of = np.repeat(np.arange(demos.n_episodes), demos.episode_lengths)
        in_validation = np.isin(episode_of, episodes)
    else:
        in_validation = np.zeros(n, dtype=bool)
        in_validation[rng.permutation(n)[: max(1, round(fraction * n))]] = True
    return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)


def missing_demos(agent: type) -> ConfigError:
    return ConfigError(
        f"{agent.name} learns from demonstrations: give --demos FILE.npz (Python: demos=)"
    )


class BC(Agent):
    """Behavior cloning with a validation split and early stopping."""

    name = "bc"
    description = "Behavior cloning: supervised learning of the expert's actions (needs --demos)"
    Config = BCConfig
    default_steps = 2_000_000  # training samples; early stopping usually ends it sooner
    uses_critic = False
    uses_demos = True

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: Any = None,
        *,
        seed: int = 0,
        logger: Logger | None = None,
        device: str | torch.device = "cpu",
        demos: Demonstrations | None = None,
    ) -> None:
        super().__init__(envs, config, seed=seed, logger=logger, device=device)
        self.demos = demos
        self.best_val_loss = float("inf")
        self.epochs_without_progress = 0
        self.stopped_early = False
        self.best_policy: dict[str, torch.Tensor] | None = None
        if demos is not None:  # an agent loaded to act (rlsuite.load) has none
            obs, actions = expert_data(demos, envs.single_action_space)
            # Its own stream, so the split is the same on resume whatever training drew.
            train, validation = validation_split(
                demos, self.config.validation_fraction, np.random.default_rng(seed)
            )
            self.train_obs, self.train_actions = obs[train], actions[train]
            self.val_obs, self.val_actions = obs[validation], actions[validation]

    def make_normalizers(self) -> tuple[None, None]:
        return None, None  # demonstrations are fixed data: nothing runs to normalise

    def make_optimizer(self) -> torch.optim.Optimizer:
        c = self.config
        return torch.optim.Adam([self.theta], lr=c.learning_rate, weight_decay=c.weight_decay)

    def steps_per_update(self) -> int | None:
        return len(self.train_obs) if self.demos is not None else None

    def learn(self, total_steps: int, callback: Callable[[Agent], bool] | None = None) -> Agent:
        """Epochs until ``num_steps >= total_steps`` samples, or until early stopping."""
        if self.demos is None:
            raise missing_demos(type(self))
        if self.stopped_early:
            return self

        def until_converged(agent: Agent) -> bool:
            keep_going = callback is None or callback(agent) is not False
            return keep_going and not self.stopped_early

        return super().learn(total_steps, until_converged)

    def collect(self) -> None:
        return None  # the data set is fixed: nothing to collect

    def update(self, batch: None) -> dict[str, float]:
        c = self.config
        metrics = fit_epoch(self, self.train_obs, self.train_actions, c.batch_size)
        self.num_steps += len(self.train_obs)
        if len(self.val_obs):
            val_loss, val_accuracy = score(self, self.val_obs, self.val_actions)
            metrics[tags.VAL_LOSS], metrics[tags.VAL_ACCURACY] = val_loss, val_accuracy
            self.early_stopping(val_loss)
        return metrics

    def early_stopping(self, val_loss: float) -> None:
        """Keep the weights of the lowest validation loss; stop after `patience` epochs
        without a new low, going back to those weights."""
        if val_loss < self.best_val_loss:
            self.best_val_loss, self.epochs_without_progress = val_loss, 0
            # Copies: the parameters are views of theta, which training keeps changing.
            self.best_policy = {k: v.clone() for k, v in self.policy.state_dict().items()}
            return
        self.epochs_without_progress += 1
        if self.epochs_without_progress >= self.config.patience:
            self.policy.load_state_dict(self.best_policy)
            self.stopped_early = True

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["early_stopping"] = {
            "best_val_loss": self.best_val_loss,
            "epochs_without_progress": self.epochs_without_progress,
            "stopped_early": self.stopped_early,
            "best_policy": self.best_policy,
        }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        stopping = state.get("early_stopping") or {}
        self.best_val_loss = float(stopping.get("best_val_loss", float("inf")))
        self.epochs_without_progress = int(stopping.get("epochs_without_progress", 0))
        self.stopped_early = bool(stopping.get("stopped_early", False))
        self.best_policy = stopping.get("best_policy")
