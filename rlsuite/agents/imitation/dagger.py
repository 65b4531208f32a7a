"""DAgger: dataset aggregation (Ross, Gordon & Bagnell 2011), behavior cloning without the
compounding error.

Behavior cloning trains on the expert's states only, so once the learner drifts it meets states
with no data. DAgger asks the expert what it would have done *in the learner's states*:

1. start from the demonstrations ``D``; fit pi_1 on ``D`` (behavior cloning);
2. iteration i: roll out the mixture ``beta_i * expert + (1 - beta_i) * pi_i`` for ``n_steps``
   steps in each env (``beta_i = beta ** i``: the expert drives less and less), and ask the expert
   for its action in every state visited;
3. ``D <- D + {(s, expert(s))}``, fit pi_{i+1} on all of ``D`` for ``n_epochs`` epochs; repeat.

The expert is the game's scripted expert (``expert="scripted"``, which reads the game's state)
or a trained run folder. ``imitation/expert_labels`` counts the labelled states (demonstrations
plus queries), the currency in which DAgger is compared with behavior cloning. ``num_steps``
counts environment steps, as for the RL agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings, SpacesOnlyEnv
from rlsuite.agents.imitation.bc import expert_data, fit_epoch, missing_demos
from rlsuite.agents.imitation.experts import SCRIPTED, ExpertFn, make_expert
from rlsuite.config import (
    DECAY,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    TEXT,
    setting,
)
from rlsuite.demos import Demonstrations
from rlsuite.logger import Logger


@dataclass(frozen=True)
class DAggerConfig(PolicyNetworkSettings):
    """DAgger's settings."""

    # Who labels the learner's states: "scripted" (the game's expert) or a trained run folder
    expert: str = setting(SCRIPTED, TEXT)
    n_steps: int = setting(64, POSITIVE_INT)  # steps per env per DAgger iteration
    # beta_i = beta ** i: the chance that the expert's action is executed in iteration i
    # (the labels are always the expert's); 0 rolls out the learner alone from iteration 1
    beta: float = setting(0.5, DECAY)
    initial_epochs: int = setting(50, POSITIVE_INT)  # behavior cloning on D before iteration 1
    n_epochs: int = setting(4, POSITIVE_INT)  # epochs over the aggregate data per iteration
    learning_rate: float = setting(1e-3, POSITIVE)  # Adam step size
    lr_schedule: str = setting("constant", LR_SCHEDULE)
    batch_size: int = setting(64, POSITIVE_INT)  # minibatch size of the supervised updates
    weight_decay: float = setting(0.0, NON_NEGATIVE)  # L2 penalty (Adam's weight_decay)
    max_grad_norm: float = setting(10.0, POSITIVE)  # clip the gradient's global norm


class DAgger(Agent):
    """DAgger: roll out the learner, let the expert label its states, aggregate, retrain."""

    name = "dagger"
    description = "DAgger: the expert labels the learner's states; aggregate and retrain"
    Config = DAggerConfig
    default_steps = 20_000
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
        self.expert: ExpertFn | None = None
        self.dataset_obs: list[np.ndarray] = []  # D: the demonstrations, then each iteration's
        self.dataset_actions: list[np.ndarray] = []
        if demos is not None:
            obs, actions = expert_data(demos, envs.single_action_space)
            self.dataset_obs, self.dataset_actions = [obs], [actions]
        if not isinstance(envs, SpacesOnlyEnv):  # an agent that only acts asks no expert
            spec = getattr(envs, "spec", None)
            env_id = demos.env_id if demos is not None else getattr(spec, "id", "")
            self.expert = make_expert(self.config.expert, envs, env_id)

    def make_normalizers(self) -> tuple[None, None]:
        return None, None

    def make_optimizer(self) -> torch.optim.Optimizer:
        c = self.config
        return torch.optim.Adam([self.theta], lr=c.learning_rate, weight_decay=c.weight_decay)

    def steps_per_update(self) -> int:
        return self.config.n_steps * self.envs.num_envs

    @property
    def expert_labels(self) -> int:
        return sum(len(a) for a in self.dataset_actions)

    def learn(self, total_steps: int, callback=None) -> Agent:
        if self.demos is None:
            raise missing_demos(type(self))
        if self.num_updates == 0:  # pi_1: behavior cloning on the demonstrations
            obs, actions = self.aggregate()
            for _ in range(self.config.initial_epochs):
                fit_epoch(self, obs, actions, self.config.batch_size)
        return super().learn(total_steps, callback)

    def aggregate(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.dataset_obs), np.concatenate(self.dataset_actions)

    def collect(self) -> tuple[np.ndarray, np.ndarray]:
        """Roll out the beta-mixture; returns the visited states and the expert's labels."""
        collector, n = self.collector, self.envs.num_envs
        beta = self.config.beta ** (self.num_updates + 1)
        states, labels = [], []
        for _ in range(self.config.n_steps):
            obs = collector.obs
            expert_actions = np.asarray(self.expert(obs)).reshape(n, *self.label_shape())
            learner_actions, _, _ = self.policy.step(obs, self.np_random)
            learner_actions = self.policy.to_env(learner_actions)
            use_expert = self.np_random.random(n) < beta
            actions = np.where(
                use_expert.reshape(-1, *[1] * (expert_actions.ndim - 1)),
                expert_actions,
                learner_actions,
            )
            next_obs, reward, terminated, truncated, info = self.envs.step(actions)
            finished = collector.episodes.step(reward, terminated, truncated, info)
            valid = collector.episodes.valid  # a NEXT_STEP reset step is no state of a game
            states.append(obs[valid])
            labels.append(expert_actions[valid])
            for episode in finished:
                collector._end_episode(episode)
            collector.obs = next_obs
        self.num_steps += self.steps_per_update()
        return np.concatenate(states), np.concatenate(labels)

    def label_shape(self) -> tuple[int, ...]:
        space = self.envs.single_action_space
        return () if isinstance(space, gym.spaces.Discrete) else space.shape

    def update(self, batch: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
        states, labels = batch
        obs, actions = expert_data(_Labelled(states, labels), self.envs.single_action_space)
        self.dataset_obs.append(obs)
        self.dataset_actions.append(actions)
        all_obs, all_actions = self.aggregate()
        metrics: dict[str, float] = {}
        for _ in range(self.config.n_epochs):
            metrics = fit_epoch(self, all_obs, all_actions, self.config.batch_size)
        if self.logger is not None:  # a count, written as it is (dump would average it)
            self.logger.write_now(tags.EXPERT_LABELS, self.expert_labels, self.num_steps)
        return metrics

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        # The queries so far (the demonstrations are read from --demos again on resume).
        state["dataset"] = {
            "obs": [torch.from_numpy(np.ascontiguousarray(o)) for o in self.dataset_obs[1:]],
            "actions": [
                torch.from_numpy(np.ascontiguousarray(a)) for a in self.dataset_actions[1:]
            ],
        }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        dataset = state.get("dataset")
        if dataset is not None and self.demos is not None:
            self.dataset_obs = self.dataset_obs[:1] + [o.numpy() for o in dataset["obs"]]
            self.dataset_actions = self.dataset_actions[:1] + [
                a.numpy() for a in dataset["actions"]
            ]


class _Labelled:
    """States and the expert's actions, shaped as demonstrations for ``expert_data``."""

    def __init__(self, observations: np.ndarray, actions: np.ndarray) -> None:
        self.observations, self.actions = observations, actions
