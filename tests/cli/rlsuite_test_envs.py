"""Small envs the CLI tests register with `--import rlsuite_test_envs`.

- ``RlsuiteTest/MultiDiscrete-v0``: an action space no agent handles.
- ``RlsuiteTest/NaNReward-v0``: rewards turn NaN after each env instance's 100th step, so the
  losses become NaN a few updates into training.
- ``RlsuiteTest/Crash-v0``: raises RuntimeError at each env instance's 300th step (a bug in
  an env, e.g. inside a ``vec=async`` worker process).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class MultiDiscreteEnv(gym.Env):
    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.MultiDiscrete([2, 2])

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.zeros(2, np.float32), 0.0, True, False, {}


class NaNRewardEnv(gym.Env):
    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Discrete(2)
    NAN_AFTER = 100  # steps of this instance

    def __init__(self):
        self.total_steps = 0
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.uniform(-1, 1, 2).astype(np.float32), {}

    def step(self, action):
        self.total_steps += 1
        self.t += 1
        reward = float("nan") if self.total_steps > self.NAN_AFTER else 1.0
        obs = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return obs, reward, self.t >= 20, False, {}


class CrashEnv(NaNRewardEnv):
    CRASH_AFTER = 300  # steps of this instance

    def step(self, action):
        if self.total_steps >= self.CRASH_AFTER:
            raise RuntimeError("the env's physics broke")
        obs, _, terminated, truncated, info = super().step(action)
        return obs, 1.0, terminated, truncated, info


for _id, _cls in [
    ("RlsuiteTest/MultiDiscrete-v0", MultiDiscreteEnv),
    ("RlsuiteTest/NaNReward-v0", NaNRewardEnv),
    ("RlsuiteTest/Crash-v0", CrashEnv),
]:
    if _id not in gym.registry:
        gym.register(_id, entry_point=_cls)
