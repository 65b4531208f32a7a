"""Evaluate a policy: run whole episodes in a vector env and report mean return and success.

Used by the benchmarks, by the runner's periodic evaluation and by ``rlsuite eval``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from rlsuite.agents.common.rollout import episode_success

PredictFn = Callable[[np.ndarray, bool], np.ndarray]


class HasPredict(Protocol):
    def predict(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray: ...


def make_vec_env(env_id: str, n_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    """``gym.make_vec`` with the game's native vector env when it registers one, else Sync."""
    spec = gym.spec(env_id)
    mode = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    return gym.make_vec(env_id, num_envs=n_envs, vectorization_mode=mode, **kwargs)


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
    env does not report ``info["is_success"]``.
    """
    predict = policy.predict if hasattr(policy, "predict") else policy
    owned = isinstance(envs, str)
    if owned:
        envs = make_vec_env(envs, min(episodes, 8))
    n = envs.num_envs
    mode = AutoresetMode(envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
    same_step = mode == AutoresetMode.SAME_STEP
    quota = np.array([(episodes + i) // n for i in range(n)])
    counts = np.zeros(n, dtype=int)
    running_return = np.zeros(n)
    running_length = np.zeros(n, dtype=int)
    reset_next = np.zeros(n, dtype=bool)
    returns: list[float] = []
    lengths: list[int] = []
    successes: list[bool] = []
    obs, _ = envs.reset(seed=seed)
    while (counts < quota).any():
        actions = predict(obs, deterministic)
        obs, reward, terminated, truncated, info = envs.step(actions)
        live = ~reset_next  # NEXT_STEP: a reset step belongs to no episode
        running_return += np.where(live, reward, 0.0)
        running_length += live
        done = (terminated | truncated) & live
        for i in np.flatnonzero(done):
            if counts[i] < quota[i]:
                returns.append(float(running_return[i]))
                lengths.append(int(running_length[i]))
                success = episode_success(info, i)
                if success is not None:
                    successes.append(success)
                counts[i] += 1
            running_return[i], running_length[i] = 0.0, 0
        if not same_step:
            reset_next = done
    if owned:
        envs.close()
    return {
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "success_rate": float(np.mean(successes)) if successes else None,
        "mean_length": float(np.mean(lengths)),
        "episodes": len(returns),
    }
