"""Reward shaping that leaves the optimal policy alone.

The lecture's reward shaping ("望梅止渴"): add rewards that guide the agent toward the sparse goal.
Done carelessly, the agent learns to farm the extra reward instead of finishing the task. Ng, Harada
and Russell (1999, "Policy invariance under reward transformations", Theorem 1) show that a bonus of
the form

    F(s, s') = gamma * Phi(s') - Phi(s)

for any potential Phi over states changes no optimal policy. Our games add it to the sparse task
reward, together with small named event bonuses (the lecture's "picked up supplies +, idle -"),
which are the game designer's domain knowledge and are reported separately so their effect can be
measured against the sparse reward in ``info["task_reward"]``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def potential_shaping(
    potential: np.ndarray, next_potential: np.ndarray, terminated: np.ndarray, gamma: float
) -> np.ndarray:
    """F = gamma * Phi(s') - Phi(s), batched, with Phi(terminal) = 0.

    Taking the potential of a terminal state as zero keeps the sum of F over an episode equal to
    -Phi(s_0) whatever the agent does, which is what makes the optimal policy unchanged in episodic
    tasks (a time-limit truncation is not terminal: Phi(s') is kept there).
    """
    next_potential = np.where(terminated, 0.0, next_potential)
    return gamma * next_potential - potential


def event_bonus(events: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Sum of weight * count over the game's named events (e.g. ``{"food": 1, "idle": 1}``)."""
    total = 0.0
    for name, weight in weights.items():
        if name in events:
            total = total + weight * events[name]
    return np.asarray(total, dtype=np.float64)
