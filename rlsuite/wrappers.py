"""Gymnasium wrappers for envs whose observations the agents cannot read as they are.

The agents read Box observations (vectors, images). Tabular tasks such as ``FrozenLake-v1`` and
``Taxi-v3`` observe a ``Discrete(n)`` state number; Stable-Baselines3 one-hot encodes it inside its
policies. Here the encoding is a wrapper the user asks for, so the run's saved spaces, ``eval``
and ``predict`` all see the same vectors::

    rlsuite train Taxi-v3 --wrapper rlsuite.wrappers:OneHotObservation
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class OneHotObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """``Discrete(n)`` state ``s`` -> ``Box(0, 1, (n,))`` vector with a 1 at index ``s - start``.

    Records its (no) arguments, as Gymnasium's own wrappers do, so ``env.spec`` can remake the
    wrapped env.
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(f"OneHotObservation takes Discrete observations, not {space}")
        self.n, self.start = int(space.n), int(space.start)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.n,), dtype=np.float32)

    def observation(self, observation: int) -> np.ndarray:
        one_hot = np.zeros(self.n, dtype=np.float32)
        one_hot[int(observation) - self.start] = 1.0
        return one_hot
