"""One episode tracker for every loop that plays episodes: rollouts, evaluation, watch, experts.

A vector env resets a finished sub-env by itself, in one of Gymnasium's two ways
(``envs.metadata["autoreset_mode"]``), and the bookkeeping differs:

- ``NEXT_STEP`` (SyncVectorEnv, AsyncVectorEnv, CartPole's native vector env): the step that ends
  an episode reports it; the *next* step ignores the action and only resets that sub-env (reward
  0). That reset step belongs to no episode, so it is not counted (``valid`` is False for it).
- ``SAME_STEP`` (rlsuite's games): the step that ends an episode already starts the next one; the
  ending step's infos are in ``info["final_info"]``, the top-level infos of that sub-env may be
  the new episode's reset infos.

A single ``gymnasium.Env`` is tracked as a batch of one that its caller resets: there is no reset
step, so it counts like ``SAME_STEP``.

Per finished episode the tracker reports its return (sum of the rewards the env gave), its task
return (sum of ``info["task_reward"]`` where the env reports it, as rlsuite's games do: the sparse
task reward, whatever the reward mode), its length and its success (``info["is_success"]``).
numpy only: the games use it too, and they never import torch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode


class Episode(NamedTuple):
    """One finished episode of sub-env ``env_index``."""

    env_index: int
    episode_return: float  # sum of the rewards the env gave
    task_return: float | None  # sum of info["task_reward"]; None when the env does not report it
    length: int  # steps taken in the episode (reset steps excluded)
    success: bool | None  # info["is_success"] at the last step; None when not reported


class EpisodeTracker:
    """Running return, task return and length of each of ``num_envs`` episodes.

    Call ``step(reward, terminated, truncated, info)`` after every env step: it returns the
    episodes that step finished, and leaves in ``valid`` which sub-envs made a real transition
    (False only on a ``NEXT_STEP`` reset step). Call ``reset()`` after resetting the envs yourself.
    """

    # The running episodes, as a checkpoint holds them (the rollout collector's names since
    # before the tracker existed; the task-return ones may be missing from older checkpoints).
    STATE_KEYS = (
        "reset_next",
        "episode_returns",
        "episode_lengths",
        "task_returns",
        "task_reported",
    )

    def __init__(self, num_envs: int, autoreset_mode: AutoresetMode | str) -> None:
        mode = AutoresetMode(autoreset_mode)
        if mode == AutoresetMode.DISABLED:
            raise ValueError("vector envs with autoreset_mode=DISABLED are not supported")
        self.num_envs = num_envs
        self.same_step = mode == AutoresetMode.SAME_STEP
        self.reset_next = np.zeros(num_envs, dtype=bool)  # NEXT_STEP: the coming step resets
        self._every = np.ones(num_envs, dtype=bool)
        self._every.flags.writeable = False  # shared by every step without a reset step
        self.valid = self._every
        self.episode_returns = np.zeros(num_envs, dtype=np.float64)
        self.task_returns = np.zeros(num_envs, dtype=np.float64)
        self.task_reported = np.zeros(num_envs, dtype=bool)  # has info["task_reward"] been seen
        self.episode_lengths = np.zeros(num_envs, dtype=np.int64)

    @classmethod
    def for_env(cls, env: gym.Env | gym.vector.VectorEnv) -> EpisodeTracker:
        """A tracker for a vector env (its autoreset mode) or a single env (a batch of one)."""
        if isinstance(env, gym.vector.VectorEnv):
            mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
            return cls(env.num_envs, mode)
        return cls(1, AutoresetMode.SAME_STEP)

    def reset(self) -> None:
        """Every sub-env starts a fresh episode (the running ones are dropped, not reported)."""
        self.reset_next[:] = False
        self.valid = self._every
        self.episode_returns[:] = 0.0
        self.task_returns[:] = 0.0
        self.task_reported[:] = False
        self.episode_lengths[:] = 0

    def step(self, reward: Any, terminated: Any, truncated: Any, info: dict) -> list[Episode]:
        """Count one step of every sub-env; returns the episodes it finished.

        Takes a vector env's arrays and info, or a single env's scalars and info.
        """
        if np.ndim(terminated) == 0:  # a single env: its info holds scalars
            reward, terminated, truncated = [reward], [terminated], [truncated]
            info = {key: [value] for key, value in info.items()}
        done = np.logical_or(terminated, truncated)
        if self.reset_next.any():  # NEXT_STEP only
            # The reset step's action was ignored: it belongs to no episode.
            self.valid = ~self.reset_next
            done &= self.valid
            self.episode_returns += np.where(self.valid, reward, 0.0)
            self.episode_lengths += self.valid
        else:
            self.valid = self._every
            self.episode_returns += reward
            self.episode_lengths += 1
        if not self.same_step:
            self.reset_next = done
        if "task_reward" in info or "final_info" in info:
            self._add_task_reward(info, done)
        if not done.any():
            return []
        return [self._finish(int(i), info) for i in np.flatnonzero(done)]

    def _add_task_reward(self, info: dict, done: np.ndarray) -> None:
        values, reported = _reported(info, "task_reward", self.num_envs)
        if self.same_step and done.any():
            # A sub-env that just finished: its last step's values are in final_info.
            final_values, final_reported = _reported(
                info.get("final_info", {}), "task_reward", self.num_envs
            )
            use_final = done & final_reported
            values = np.where(use_final, final_values, values)
            reported = reported | use_final
        if self.valid is not self._every:
            reported = reported & self.valid
        np.add(self.task_returns, values, out=self.task_returns, where=reported)
        self.task_reported |= reported

    def _finish(self, i: int, info: dict) -> Episode:
        episode = Episode(
            env_index=i,
            episode_return=float(self.episode_returns[i]),
            task_return=float(self.task_returns[i]) if self.task_reported[i] else None,
            length=int(self.episode_lengths[i]),
            success=_success(info, i),
        )
        self.episode_returns[i] = self.task_returns[i] = 0.0
        self.task_reported[i] = False
        self.episode_lengths[i] = 0
        return episode

    # For checkpoints: plain numpy arrays (the rollout collector stores them as tensors).
    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).copy() for name in self.STATE_KEYS}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``; the task-return entries may be absent (older checkpoints)."""
        for name in self.STATE_KEYS:
            if name in state:
                setattr(self, name, np.array(state[name], dtype=getattr(self, name).dtype))
            else:
                getattr(self, name)[:] = 0


def _reported(info: dict, key: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, which sub-envs reported them) of a vector info entry; nothing reported if absent."""
    if key not in info:
        return np.zeros(n), np.zeros(n, dtype=bool)
    mask = info.get("_" + key)
    reported = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    return np.asarray(info[key], dtype=np.float64), reported


def _success(info: dict, i: int) -> bool | None:
    """``is_success`` of sub-env i's finished episode, or None when the env does not report it."""
    for source in (info.get("final_info"), info):  # SAME_STEP keeps it in final_info
        if isinstance(source, dict) and "is_success" in source:
            mask = source.get("_is_success")
            if mask is None or mask[i]:
                return bool(source["is_success"][i])
    return None
