"""GAIL and AIRL: inverse RL as a GAN, in one adversarial trainer (the lecture's loop).

The reward is unknown, so it is learned: a discriminator (the "reward function" of the lecture)
is trained to score the expert's transitions higher than the actor's, and the actor, which is
rlsuite's own A2C or PPO (``actor="a2c" | "ppo"``, its update reused as it is), is trained to
score high under it. Each update:

1. the actor collects a rollout with its current policy (the env's reward is recorded for the
   learning curves only: ``rollout/ep_rew_mean``; it is never learned from);
2. the discriminator takes ``disc_epochs`` passes of minibatch steps on the binary
   cross-entropy "expert = 1, actor = 0", each actor minibatch beside as many expert
   transitions drawn from the demonstrations;
3. the rollout's rewards are replaced by the discriminator's (``policy_reward``), and the actor
   takes its own update (advantages, critic, clipped surrogate: a2c.py / ppo.py) on them.

GAIL and AIRL differ only in the discriminator (discriminator.py): GAIL's is an MLP of (s, a);
AIRL's is ``g(s) + gamma h(s') - h(s) - log pi(a|s)``, whose ``g`` is a reward a fresh agent can
optimise again (``AIRL.recovered_reward``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlsuite import logger as tags
from rlsuite.agents.a2c import A2C
from rlsuite.agents.base import ACTIVATION, Agent, _stringify_ints, _unstringify_ints
from rlsuite.agents.common.rollout import RolloutBatch
from rlsuite.agents.imitation.bc import expert_data, missing_demos
from rlsuite.agents.imitation.discriminator import (
    AIRLDiscriminator,
    GAILDiscriminator,
    discriminator_loss,
    policy_reward,
)
from rlsuite.agents.ppo import PPO
from rlsuite.config import (
    LAYER_SIZES,
    MAPPING,
    POSITIVE,
    POSITIVE_INT,
    Settings,
    choice,
    setting,
)
from rlsuite.demos import Demonstrations
from rlsuite.errors import ConfigError
from rlsuite.logger import Logger

ACTORS: dict[str, type[Agent]] = {"ppo": PPO, "a2c": A2C}


@dataclass(frozen=True)
class AdversarialConfig(Settings):
    """GAIL's and AIRL's settings: the discriminator's, and which actor with which settings."""

    actor: str = setting("ppo", choice(*ACTORS))  # the RL agent trained on the learned reward
    # The actor's own settings (any field of PPOConfig / A2CConfig), e.g. {n_steps: 256}
    actor_settings: dict[str, Any] = setting({}, MAPPING)
    # "logit": log D - log(1 - D); "positive": -log(1 - D) (see discriminator.policy_reward)
    policy_reward: str = setting("logit", choice("logit", "positive"))
    disc_hidden_sizes: tuple[int, ...] = setting((64, 64), LAYER_SIZES)  # discriminator widths
    disc_activation: str = setting("tanh", ACTIVATION)
    disc_learning_rate: float = setting(1e-3, POSITIVE)  # Adam step size of the discriminator
    disc_epochs: int = setting(4, POSITIVE_INT)  # passes over each rollout per actor update
    disc_batch_size: int = setting(256, POSITIVE_INT)  # actor transitions per discriminator step

    def __post_init__(self) -> None:
        super().__post_init__()
        self.actor_config()  # a bad actor setting fails now, with its own message

    def actor_config(self) -> Any:
        """The actor's Config: its defaults with ``actor_settings`` applied."""
        cls = ACTORS[self.actor]
        fields = {f.name for f in dataclasses.fields(cls.Config)}
        unknown = sorted(set(self.actor_settings) - fields)
        if unknown:
            raise ConfigError(
                f"actor_settings: {cls.name} has no setting {unknown[0]!r}; "
                f"settings: {', '.join(sorted(fields))}"
            )
        config = cls.Config(**self.actor_settings)
        for name in ("normalize_reward", "normalize_obs"):
            if getattr(config, name):
                raise ConfigError(
                    f"actor_settings: {name} is not available here (the discriminator reads the "
                    "same raw observations from the expert and the actor)"
                )
        return config


class Adversarial(Agent):
    """The adversarial trainer: subclasses choose the discriminator (``make_discriminator``)."""

    Config = AdversarialConfig
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
        # No Agent.__init__: the actor is the agent that acts; what Agent's loop, predict and
        # saving read (policy, optimizer, collector, random streams) are the actor's own.
        self.config = config if config is not None else self.Config()
        actor_cls = ACTORS[self.config.actor]
        self.actor = actor_cls(
            envs, self.config.actor_config(), seed=seed, logger=logger, device=device
        )
        self.envs, self.seed, self.logger, self.device = envs, seed, logger, self.actor.device
        self.policy, self.obs_normalizer = self.actor.policy, None
        self.optimizer, self.collector = self.actor.optimizer, self.actor.collector
        self.np_random, self.predict_rng = self.actor.np_random, self.actor.predict_rng
        self.collector.keep_next_obs = True  # the discriminator reads (s, a, s')
        self.num_updates, self.started = 0, False
        self.gamma = self.actor.config.gamma
        torch.manual_seed(seed + 1)  # the discriminator's initial weights
        self.discriminator = self.make_discriminator().to(self.device)
        self.disc_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=self.config.disc_learning_rate
        )
        self.disc_rng = np.random.default_rng(seed + 2)  # which expert transitions each step
        self.demos = demos
        if demos is not None:
            obs, actions = expert_data(demos, envs.single_action_space)
            self.expert = {
                "obs": torch.as_tensor(obs, device=self.device),
                "actions": torch.as_tensor(actions, device=self.device),
                "next_obs": torch.as_tensor(demos.next_observations, device=self.device),
                "dones": torch.as_tensor(demos.dones, device=self.device),
            }

    def make_discriminator(self) -> nn.Module:
        raise NotImplementedError

    # The actor counts the steps (its rollout does); the trainer reads and writes its count.
    @property
    def num_steps(self) -> int:
        return self.actor.num_steps

    @num_steps.setter
    def num_steps(self, value: int) -> None:
        self.actor.num_steps = value

    def learning_rate_at(self, total_steps: int) -> float:
        return self.actor.learning_rate_at(total_steps)

    def steps_per_update(self) -> int | None:
        return self.actor.steps_per_update()

    def learn(self, total_steps: int, callback=None) -> Agent:
        if self.demos is None:
            raise missing_demos(type(self))
        return super().learn(total_steps, callback)

    # -- one update -----------------------------------------------------------------------------
    def collect(self) -> RolloutBatch:
        return self.actor.collect()

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        agent = self.agent_transitions(batch)
        metrics = self.train_discriminator(agent)
        # The env's rewards are replaced by the learned ones before the actor sees the batch.
        rewards = np.zeros_like(batch.rewards)
        rewards[batch.valid] = self.learned_reward(agent).cpu().numpy()
        metrics[tags.LEARNED_REWARD] = float(rewards[batch.valid].mean())
        metrics.update(self.actor.update(batch._replace(rewards=rewards)))
        return metrics

    def agent_transitions(self, batch: RolloutBatch) -> dict[str, torch.Tensor]:
        """The rollout's valid transitions, flattened, as tensors on the device."""
        keep = batch.valid

        def flat(x: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(x[keep], device=self.device)

        return {
            "obs": flat(batch.obs),
            "actions": flat(batch.actions),
            "next_obs": flat(batch.next_obs),
            "dones": flat(batch.terminated),
        }

    def logits(self, data: dict[str, torch.Tensor], index: torch.Tensor | None = None):
        """The discriminator's logits on (a subset of) transitions; log pi from the actor."""
        if index is not None:
            data = {key: value[index] for key, value in data.items()}
        with torch.no_grad():  # the policy is the actor's to train, not the discriminator's
            log_pi, _, _ = self.policy.evaluate_actions(data["obs"], data["actions"])
        return self.discriminator(
            data["obs"], data["actions"], data["next_obs"], data["dones"], log_pi
        )

    def train_discriminator(self, agent: dict[str, torch.Tensor]) -> dict[str, float]:
        """``disc_epochs`` passes over the actor's transitions, each minibatch against as many
        expert transitions drawn at random; returns the mean loss and accuracies."""
        c, n = self.config, len(agent["obs"])
        history: dict[str, list[float]] = {"loss": [], "acc_expert": [], "acc_agent": []}
        for _ in range(c.disc_epochs):
            order = self.disc_rng.permutation(n)
            for start in range(0, n, c.disc_batch_size):
                chosen = torch.as_tensor(order[start : start + c.disc_batch_size])
                drawn = self.disc_rng.integers(len(self.expert["obs"]), size=len(chosen))
                expert_logits = self.logits(self.expert, torch.as_tensor(drawn))
                agent_logits = self.logits(agent, chosen.to(self.device))
                loss, accuracy = discriminator_loss(expert_logits, agent_logits)
                self.disc_optimizer.zero_grad()
                loss.backward()
                self.disc_optimizer.step()
                history["loss"].append(loss.item())
                for key, value in accuracy.items():
                    history[key].append(value)
        return {
            tags.DISC_LOSS: float(np.mean(history["loss"])),
            tags.DISC_ACC_EXPERT: float(np.mean(history["acc_expert"])),
            tags.DISC_ACC_AGENT: float(np.mean(history["acc_agent"])),
        }

    @torch.no_grad()
    def learned_reward(self, agent: dict[str, torch.Tensor]) -> torch.Tensor:
        """The reward the actor is trained on, for each of the actor's transitions."""
        return policy_reward(self.logits(agent), self.config.policy_reward)

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "config": dataclasses.asdict(self.config),
            "actor": self.actor.state_dict(),  # weights, optimizer, RNGs, env bookkeeping
            "discriminator": self.discriminator.state_dict(),
            "disc_optimizer": self.disc_optimizer.state_dict(),
            "disc_rng": _stringify_ints(self.disc_rng.bit_generator.state),
            "num_updates": self.num_updates,
            "started": self.started,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.actor.load_state_dict(state["actor"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.disc_optimizer.load_state_dict(state["disc_optimizer"])
        self.disc_rng.bit_generator.state = _unstringify_ints(state["disc_rng"])
        self.num_updates, self.started = int(state["num_updates"]), bool(state["started"])


class GAIL(Adversarial):
    """Generative adversarial imitation learning (Ho & Ermon 2016)."""

    name = "gail"
    description = "GAIL: a discriminator D(s,a) is the reward of an a2c/ppo actor (needs --demos)"
    default_steps = 300_000

    def make_discriminator(self) -> nn.Module:
        c = self.config
        space = self.envs.single_observation_space
        return GAILDiscriminator(
            space, self.envs.single_action_space, c.disc_hidden_sizes, c.disc_activation
        )


class AIRL(Adversarial):
    """Adversarial inverse RL (Fu et al. 2018): the reward g(s) is recovered, reusable."""

    name = "airl"
    description = "AIRL: reward g(s) + gamma h(s') - h(s) learned adversarially (needs --demos)"
    default_steps = 300_000

    def make_discriminator(self) -> nn.Module:
        c = self.config
        space = self.envs.single_observation_space
        return AIRLDiscriminator(space, c.disc_hidden_sizes, c.disc_activation, self.gamma)

    @torch.no_grad()
    def recovered_reward(self, obs: np.ndarray) -> np.ndarray:
        """g(s) for a batch of observations ``(B, ...)``: the reward AIRL recovered."""
        tensor = torch.as_tensor(np.asarray(obs), device=self.device)
        return self.discriminator.reward(tensor).cpu().numpy().astype(np.float64)

    @torch.no_grad()
    def shaped_reward(self, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray):
        """f(s, a, s') = g(s) + gamma h(s') - h(s) for batches (no h(s') after a termination)."""
        f = self.discriminator.f(
            torch.as_tensor(np.asarray(obs), device=self.device),
            torch.as_tensor(np.asarray(next_obs), device=self.device),
            torch.as_tensor(np.asarray(dones), device=self.device),
        )
        return f.cpu().numpy().astype(np.float64)


class RecoveredReward(gym.vector.VectorWrapper):
    """A vector env whose reward is the one AIRL recovered, instead of the env's own: to train a
    fresh agent on it (AIRL's transfer test).

    ``form="g"``: ``g(s)`` of the state acted in, the disentangled reward; ``form="f"``:
    ``g(s) + gamma h(s') - h(s)``, the same reward with AIRL's learned shaping (the same optimal
    policy, Ng et al. 1999, and a denser signal). ``info["task_reward"]`` and
    ``info["is_success"]`` pass through, so curves and evaluations still report the task.
    """

    def __init__(self, envs: gym.vector.VectorEnv, airl: AIRL, form: str = "g") -> None:
        super().__init__(envs)
        if form not in ("g", "f"):
            raise ConfigError(f"form must be g or f, not {form!r}")
        self.airl, self.form = airl, form
        self._obs: np.ndarray | None = None

    def reset(self, **kwargs):
        self._obs, info = self.env.reset(**kwargs)
        return self._obs, info

    def step(self, actions):
        obs = self._obs
        self._obs, _, terminated, truncated, info = self.env.step(actions)
        if self.form == "g":
            return self._obs, self.airl.recovered_reward(obs), terminated, truncated, info
        next_obs = np.array(self._obs)
        if "final_obs" in info:  # SAME_STEP autoreset: s' of a finished game is its final obs
            for i in np.flatnonzero(info["_final_obs"]):
                next_obs[i] = info["final_obs"][i]
        reward = self.airl.shaped_reward(obs, next_obs, terminated)
        return self._obs, reward, terminated, truncated, info


__all__ = ["AIRL", "GAIL", "AdversarialConfig", "RecoveredReward"]
