"""Collect experience from a vector env with the current policy into a typed, time-major batch.

Gymnasium vector envs reset a finished sub-env automatically, in one of two ways
(``envs.metadata["autoreset_mode"]``), and a learner must know which:

- ``NEXT_STEP`` (SyncVectorEnv, AsyncVectorEnv, CartPole's native vector env): the step that ends
  an episode returns that episode's true final observation; the *next* call to ``step`` ignores
  the action, resets that sub-env and returns the first observation with reward 0. That reset step
  is not a transition of any episode, so it is marked ``valid=False`` and never learned from.
- ``SAME_STEP`` (rlsuite's games): the step that ends an episode already returns the next
  episode's first observation; the true final observation is in ``info["final_obs"][i]`` (mask
  ``info["_final_obs"]``) and the final step's infos in ``info["final_info"]``.

Either way, ``next_values[t]`` is V of the state that step t really reached, so a truncated
episode bootstraps from its own final observation, never from the next episode's reset. Which
steps are reset steps, and each episode's return, length and success, come from the one episode
tracker (``rlsuite.episodes``) that evaluation, ``rlsuite watch`` and the experts use too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.normalize import ObservationNormalizer, RewardScaler
from rlsuite.episodes import Episode, EpisodeTracker
from rlsuite.logger import Logger


class RolloutBatch(NamedTuple):
    """T steps of N envs; every array is time-major ``(T, N, ...)``."""

    obs: np.ndarray  # (T, N, *obs_shape) observation the action was taken in (as the policy saw it)
    actions: np.ndarray  # (T, N) int64 for Discrete, (T, N, act_dim) float32 unclipped for Box
    log_probs: np.ndarray  # (T, N) log pi_old(a_t|s_t) when collected
    values: np.ndarray  # (T, N) V(s_t) when collected (0 without a critic)
    rewards: np.ndarray  # (T, N) float32 (scaled when the agent normalises rewards)
    terminated: np.ndarray  # (T, N) bool: the episode really ended here, V(s_{t+1}) = 0
    truncated: np.ndarray  # (T, N) bool: cut by a time limit, bootstrap from V(s_final)
    next_values: np.ndarray  # (T, N) V(s_{t+1}): final obs at a truncation, 0 at a termination
    valid: np.ndarray  # (T, N) bool: False on NEXT_STEP reset steps, which are no transition
    # (T, N, *obs_shape) s_{t+1}, the state step t reached (an episode's true final observation
    # where it ended), as the policy sees it; kept only when the collector is asked to
    # (``keep_next_obs``: curiosity's intrinsic rewards and adversarial imitation's
    # discriminator are about s_{t+1}), else None
    next_obs: np.ndarray | None = None
    # (T, N, out_dim) a frozen encoder's features of obs, computed when acting, so that the
    # update does not run the encoder again (its features cannot change); else None
    features: np.ndarray | None = None


class RolloutCollector:
    """Steps a vector env with a policy; owns the current observations and running episodes.

    Its episode tracker counts returns and lengths from the rewards (no RecordEpisodeStatistics
    wrapper needed); each finished episode goes to the logger.

    With an ``obs_normalizer`` the policy sees, and the batch holds, normalised observations
    (``self.obs`` stays the env's raw one); with a ``reward_scaler`` the batch holds scaled
    rewards. Episode returns are always the env's raw rewards (common/normalize.py).
    """

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        policy: ActorCriticNet,
        rng: np.random.Generator,
        logger: Logger | None = None,
        obs_normalizer: ObservationNormalizer | None = None,
        reward_scaler: RewardScaler | None = None,
    ):
        self.envs, self.policy, self.rng, self.logger = envs, policy, rng, logger
        self.obs_normalizer, self.reward_scaler = obs_normalizer, reward_scaler
        self.episodes = EpisodeTracker.for_env(envs)
        self.same_step = self.episodes.same_step
        self.obs: np.ndarray | None = None
        self.num_episodes = 0
        self.keep_next_obs = False  # fill RolloutBatch.next_obs (curiosity, gail/airl set it)
        # Called with the vector env after every step (curiosity's state-visitation counts).
        self.after_step: Callable[[gym.vector.VectorEnv], None] | None = None

    def reset(self, seed: int | None = None) -> None:
        """Start fresh episodes in every sub-env (running episodes are dropped, not logged)."""
        self.obs, _ = self.envs.reset(seed=seed)
        self.episodes.reset()
        if self.reward_scaler is not None:
            self.reward_scaler.reset()

    def policy_input(self, obs: np.ndarray, update: bool = True) -> np.ndarray:
        """``obs`` as the policy sees it: normalised (counted in the statistics when ``update``)."""
        if self.obs_normalizer is None:
            return obs
        return self.obs_normalizer(obs) if update else self.obs_normalizer.normalize(obs)

    def collect(self, n_steps: int) -> RolloutBatch:
        """Run the current policy for ``n_steps`` steps in each of the N envs."""
        policy, n = self.policy, self.envs.num_envs
        obs_dtype = self.obs.dtype if self.obs_normalizer is None else np.float32
        obs = np.zeros((n_steps, *self.obs.shape), dtype=obs_dtype)
        rewards = np.zeros((n_steps, n), dtype=np.float32)
        terminated = np.zeros((n_steps, n), dtype=bool)
        truncated = np.zeros((n_steps, n), dtype=bool)
        valid = np.ones((n_steps, n), dtype=bool)
        values = np.zeros((n_steps, n), dtype=np.float32)
        log_probs = np.zeros((n_steps, n), dtype=np.float32)
        actions = None  # allocated at the first step, when the action's shape is known
        next_obs = np.zeros_like(obs) if self.keep_next_obs else None
        features = None
        if policy.frozen_encoder:
            features = np.zeros((n_steps, n, policy.encoder.out_dim), dtype=np.float32)
        final_values: dict[tuple[int, int], float] = {}  # SAME_STEP truncations: V(final obs)
        final_obs: dict[tuple[int, int], np.ndarray] = {}  # SAME_STEP episode ends: s_final
        for t in range(n_steps):
            obs[t] = self.policy_input(self.obs)
            if features is None:
                action, log_probs[t], values[t] = policy.step(obs[t], self.rng)
            else:  # a frozen encoder: its features, once, for acting now and learning later
                features[t] = policy.encode_numpy(obs[t])
                action, log_probs[t], values[t] = policy.step(features[t], self.rng, encoded=True)
            if actions is None:
                actions = np.zeros((n_steps, *action.shape), dtype=action.dtype)
            actions[t] = action
            self.obs, reward, term, trunc, info = self.envs.step(policy.to_env(action))
            finished = self.episodes.step(reward, term, trunc, info)  # the env's own reward
            if not self.episodes.valid.all():
                # The reset step's action was ignored: not a transition, learn nothing from it.
                valid[t] = self.episodes.valid
                reward, term, trunc = reward * valid[t], term & valid[t], trunc & valid[t]
            rewards[t], terminated[t], truncated[t] = reward, term, trunc
            if next_obs is not None:
                next_obs[t] = self.policy_input(self.obs, update=False)
            if self.reward_scaler is not None:
                rewards[t] = self.reward_scaler(reward, term | trunc, valid[t])
            if self.after_step is not None:
                self.after_step(self.envs)
            for episode in finished:
                i = episode.env_index
                if self.same_step and (trunc[i] or self.keep_next_obs):
                    last = self.policy_input(np.asarray(info["final_obs"][i])[None], False)
                    final_obs[(t, i)] = last[0]
                    if trunc[i]:
                        final_values[(t, i)] = float(policy.heads_numpy(last)[1][0])
                self._end_episode(episode)
        next_values = np.empty_like(values)
        next_values[:-1] = values[1:]  # NEXT_STEP: after a done, values[t+1] is V(final obs)
        # V(s_T): the n-step bootstrap (s_T is counted in the statistics when the next rollout
        # acts in it)
        last_obs = self.policy_input(self.obs, update=False)
        next_values[-1] = policy.heads_numpy(last_obs)[1]
        for (t, i), v in final_values.items():
            next_values[t, i] = v
        next_values[terminated] = 0.0
        next_obs = None
        if self.keep_next_obs:  # NEXT_STEP: after a done, obs[t+1] is the final obs already
            next_obs = np.concatenate([obs[1:], last_obs[None].astype(obs.dtype, copy=False)])
            for (t, i), last in final_obs.items():
                next_obs[t, i] = last
        return RolloutBatch(
            obs=obs,
            actions=actions,
            log_probs=log_probs,
            values=values,
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            next_values=next_values,
            valid=valid,
            next_obs=next_obs,
            features=features,
        )

    def _end_episode(self, episode: Episode) -> None:
        self.num_episodes += 1
        if self.logger is not None:
            self.logger.record_episode(
                episode.episode_return, episode.length, episode.success, episode.task_return
            )

    # Checkpoints: made of tensors and python scalars only (torch.load(weights_only=True)).
    def state_dict(self) -> dict[str, Any]:
        running = {k: torch.from_numpy(v) for k, v in self.episodes.state_dict().items()}
        return {
            "obs": None if self.obs is None else torch.from_numpy(np.array(self.obs)),
            **running,
            "num_episodes": self.num_episodes,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.obs = None if state["obs"] is None else state["obs"].numpy().copy()
        self.episodes.load_state_dict(
            {k: v.numpy() for k, v in state.items() if k in EpisodeTracker.STATE_KEYS}
        )
        self.num_episodes = int(state["num_episodes"])


class TrainBatch(NamedTuple):
    """The valid transitions of a rollout, flattened to ``(B, ...)`` tensors, with targets."""

    obs: torch.Tensor  # (B, *obs_shape)
    actions: torch.Tensor  # (B,) or (B, act_dim)
    log_probs: torch.Tensor  # (B,) log pi_old(a|s), for PPO's ratio
    values: torch.Tensor  # (B,) V_old(s), for PPO's value clipping
    advantages: torch.Tensor  # (B,) how much better a_t was than expected
    returns: torch.Tensor  # (B,) the critic's regression target


def to_train_batch(batch: RolloutBatch, advantages: np.ndarray, returns: np.ndarray) -> TrainBatch:
    """Flatten ``(T, N)`` to ``(T*N,)`` and drop the steps that are no transition (``valid``).

    With a frozen encoder the TrainBatch's ``obs`` are its features from the rollout
    (``RolloutBatch.features``): the losses pass ``encoded=policy.frozen_encoder``."""
    keep = batch.valid.reshape(-1)
    everything = bool(keep.all())

    def flat(x: np.ndarray, dtype: type | None = None) -> torch.Tensor:
        x = x.reshape(-1, *x.shape[2:])  # (T, N, ...) -> (T*N, ...)
        x = x if everything else x[keep]
        # Cast in numpy: one call there is cheaper than a torch .to() at these sizes.
        return torch.from_numpy(x if dtype is None else x.astype(dtype, copy=False))

    return TrainBatch(
        obs=flat(batch.obs if batch.features is None else batch.features),
        actions=flat(batch.actions),
        log_probs=flat(batch.log_probs),
        values=flat(batch.values),
        advantages=flat(advantages, np.float32),
        returns=flat(returns, np.float32),
    )


def to_device(batch: TrainBatch, device: torch.device) -> TrainBatch:
    """`batch` on `device`, where the network is (the same batch, not a copy, on the CPU)."""
    if device.type == "cpu":
        return batch
    return TrainBatch(*(x.to(device) for x in batch))


def first_episodes(chunks: list[RolloutBatch]) -> RolloutBatch:
    """Join rollout chunks along time and keep, per env, only its first episode (``valid``).

    Used by the Monte-Carlo agents, which learn from whole episodes: every env has finished at
    least one episode in ``chunks``; the steps after it (the start of the next episode, which
    would be finished by a newer policy) are marked invalid.
    """
    batch = RolloutBatch(
        *(
            None if arrays[0] is None else np.concatenate(arrays)
            for arrays in zip(*chunks, strict=True)
        )
    )
    done = batch.terminated | batch.truncated  # (T, N)
    first_end = done.argmax(axis=0)  # (N,) index of each env's first episode end
    in_first = np.arange(len(done))[:, None] <= first_end[None, :]  # (T, N)
    return batch._replace(valid=batch.valid & in_first)
