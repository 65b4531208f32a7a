"""Evaluate a policy: run whole episodes in a vector env and report mean return and success.

Used by the benchmarks, by the runner's periodic evaluation and by ``rlsuite eval``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from rlsuite.episodes import EpisodeTracker
from rlsuite.vector import make_vector_env

PredictFn = Callable[[np.ndarray, bool], np.ndarray]


class HasPredict(Protocol):
    def predict(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray: ...


def evaluate(
    policy: PredictFn | HasPredict,
    envs: gym.vector.VectorEnv | str,
    episodes: int = 10,
    deterministic: bool = True,
    seed: int | None = 0,
) -> dict[str, Any]:
    """Run ``episodes`` whole episodes; returns mean/std return, mean length, success rate.

    ``policy`` is an agent or its ``predict(obs, deterministic)``. ``envs`` is a vector env (reset
    here with ``seed``) or an env id (a vector env of up to 8 copies is made and closed). Each
    sub-env i contributes a fixed quota of ``(episodes + i) // N`` episodes, so short episodes are
    not over-counted (the same scheme as SB3's evaluate_policy). ``success_rate`` is None when the
    env does not report ``info["is_success"]``, ``mean_task_return`` when it does not report
    ``info["task_reward"]`` (rlsuite's games report their sparse task reward there).
    """
    predict = policy.predict if hasattr(policy, "predict") else policy
    owned = isinstance(envs, str)
    if owned:
        envs = make_vector_env(envs, min(episodes, 8))
    n = envs.num_envs
    quota = np.array([(episodes + i) // n for i in range(n)])
    counts = np.zeros(n, dtype=int)
    tracker = EpisodeTracker.for_env(envs)
    finished = []
    obs, _ = envs.reset(seed=seed)
    while (counts < quota).any():
        actions = predict(obs, deterministic)
        obs, reward, terminated, truncated, info = envs.step(actions)
        for episode in tracker.step(reward, terminated, truncated, info):
            if counts[episode.env_index] < quota[episode.env_index]:
                finished.append(episode)
                counts[episode.env_index] += 1
    if owned:
        envs.close()
    returns = [e.episode_return for e in finished]
    task_returns = [e.task_return for e in finished if e.task_return is not None]
    successes = [e.success for e in finished if e.success is not None]
    return {
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "mean_task_return": float(np.mean(task_returns)) if task_returns else None,
        "success_rate": float(np.mean(successes)) if successes else None,
        "mean_length": float(np.mean([e.length for e in finished])),
        "episodes": len(returns),
    }
