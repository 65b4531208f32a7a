"""Small environments for the agent tests: real gymnasium envs, tiny so tests stay fast.

Tests get them through the `toy_envs` fixture (pytest runs with --import-mode=importlib, so
test modules cannot import this file by name)."""

from __future__ import annotations

import types

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode


class CountEnv(gym.Env):
    """obs = [steps taken]; reward 1 per step; terminates at `terminate_at` (success) if set.

    Wrapped in a TimeLimit it gives a known final observation at truncation.
    """

    observation_space = gym.spaces.Box(0.0, 100.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminate_at: int | None = None):
        self.terminate_at = terminate_at
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        info = {"is_success": True} if terminated else {}
        return np.array([self.t], np.float32), 1.0, terminated, False, info


def count_envs(n: int, mode: AutoresetMode, limit: int = 3, terminate_at: int | None = None):
    def make():
        return gym.wrappers.TimeLimit(CountEnv(terminate_at), max_episode_steps=limit)

    return gym.vector.SyncVectorEnv([make] * n, autoreset_mode=mode)


class TinyImageEnv(gym.Env):
    """64x64x3 uint8 frames; reward 1 when the action matches the frame's brightness class."""

    observation_space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)

    def __init__(self, continuous: bool = False):
        if continuous:
            self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        else:
            self.action_space = gym.spaces.Discrete(3)
        self.t, self.level = 0, 0

    def _obs(self):
        return np.full((64, 64, 3), self.level * 100, dtype=np.uint8)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.level = 0, int(self.np_random.integers(3))
        return self._obs(), {}

    def step(self, action):
        if isinstance(self.action_space, gym.spaces.Discrete):
            reward = float(int(action) == self.level)
        else:
            reward = -float(np.abs(np.asarray(action) - (self.level - 1)).sum())
        self.t += 1
        self.level = int(self.np_random.integers(3))
        return self._obs(), reward, False, self.t >= 8, {}


class MultiDiscreteEnv(CountEnv):
    action_space = gym.spaces.MultiDiscrete([2, 2])


def cartpole(n: int = 4) -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", n, vectorization_mode="vector_entry_point")


def pendulum(n: int = 2) -> gym.vector.VectorEnv:
    return gym.make_vec("Pendulum-v1", n, vectorization_mode="sync")


def images(n: int = 2, continuous: bool = False) -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv([lambda: TinyImageEnv(continuous)] * n)


def nan_reward_cartpole(n: int = 2) -> gym.vector.VectorEnv:
    def make():
        return gym.wrappers.TransformReward(gym.make("CartPole-v1"), lambda r: float("nan"))

    return gym.vector.SyncVectorEnv([make] * n)


def multidiscrete(n: int = 2) -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv([MultiDiscreteEnv] * n)


@pytest.fixture(autouse=True)
def one_thread():
    """The machine has two cores; tests and the other engineers' jobs share them."""
    torch.set_num_threads(1)


@pytest.fixture
def toy_envs() -> types.SimpleNamespace:
    """The vector-env factories above."""
    return types.SimpleNamespace(
        count_envs=count_envs,
        cartpole=cartpole,
        pendulum=pendulum,
        images=images,
        nan_reward_cartpole=nan_reward_cartpole,
        multidiscrete=multidiscrete,
    )
