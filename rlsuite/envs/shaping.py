"""Reward shaping that leaves the optimal policy alone, and ranks policies as the task does.

The lecture's reward shaping ("望梅止渴"): add rewards that guide the agent toward the sparse goal.
Done carelessly, the agent learns to farm the extra reward instead of finishing the task. Ng, Harada
and Russell (1999, "Policy invariance under reward transformations", Theorem 1) show that a bonus of
the form

    F(s, s') = gamma * Phi(s') - Phi(s),   Phi(terminal) = 0,

for any potential Phi over states changes no optimal policy, provided gamma is the agent's own
discount. Every game writes its potential as ``Phi = scale * progress`` with ``progress`` in
[0, 1] (how far the state is along the way to success).

Why potential shaping alone is sometimes not enough. Under the agent's own gamma, shaping changes
no advantage once the critic is accurate: ``Q'(s, a) = Q(s, a) - Phi(s)`` and ``V'(s) = V(s) -
Phi(s)``, so ``A'(s, a) = A(s, a)``. It speeds learning only while the critic is still wrong (it
starts the agent with ``-Phi`` as a guess of the value). When a random policy never meets the
task reward (Forage: nobody survives 300 steps by chance; Racer: nobody drives 1500 px by chance)
the critic soon learns ``V' = -Phi`` and the guidance is gone. Those games add an **event bonus**:
a small reward per named event (``Game.event_bonus``) that points the same way as the task (an
alien shot, road driven, food eaten), chosen so that no episode that fails can collect more of it
than a success does, or (Racer's bonus for driving faster than the time limit needs) so little
more that the potential's margin below still leaves every success ahead; each game's docstring
gives its bound, and the tests check it against the scripted expert.

Why Phi >= 0, and why the scale depends on gamma. The agent maximises the *discounted* sum, where
F telescopes to ``-Phi(s_0)`` (plus ``gamma^T Phi(s_T)`` when a time limit cuts the episode). A user
reads the *undiscounted* episode return, in which F does not telescope::

    sum_t F_t = gamma Phi(s_T) [cut by the time limit] - Phi(s_0) - (1 - gamma) sum_{0<t<T} Phi(s_t)

With Phi <= 0 every step of waiting would earn ``(1 - gamma) |Phi|``: a car that never finishes
out-scored the one that does. With ``0 <= Phi <= scale`` waiting costs instead, and:

- an episode that fails (task reward <= 0) scores at most ``gamma * scale - Phi(s_0)``;
- an episode that succeeds (task reward +1) within ``horizon`` steps scores at least
  ``1 - Phi(s_0) - (1 - gamma) * horizon * scale``.

:func:`potential_scale` picks ``scale = 0.5 / (gamma + (1 - gamma) * horizon)``, so from any start
state every success within ``horizon`` steps beats every failure by at least 0.5 (the games choose
``horizon`` so that their scripted expert's episodes fit, which the tests check).
"""

from __future__ import annotations

import numpy as np


def potential_scale(gamma: float, horizon: int) -> float:
    """The largest Phi (``Phi = scale * progress``) that keeps shaping from ranking a failure
    above a success of at most `horizon` steps (see the module docstring): at gamma = 1 it is
    0.5, and it shrinks as the cost of waiting, ``(1 - gamma) * horizon``, grows."""
    return 0.5 / (gamma + (1.0 - gamma) * horizon)


def event_bonus(events: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray | float:
    """The event bonus ``sum_k weights[k] * events[k]``, batched (0.0 without weights)."""
    return sum((w * events[name] for name, w in weights.items()), 0.0)


def potential_shaping(
    potential: np.ndarray, next_potential: np.ndarray, terminated: np.ndarray, gamma: float
) -> np.ndarray:
    """F = gamma * Phi(s') - Phi(s), batched, with Phi(terminal) = 0.

    Taking the potential of a terminal state as zero makes the discounted sum of F over an
    episode equal to -Phi(s_0) whatever the agent does, which is what keeps the optimal policy
    unchanged in episodic tasks. A time-limit truncation is not terminal: Phi(s') is kept there
    (the sum is then ``gamma^T Phi(s_T) - Phi(s_0)``), as the agent bootstraps from V(s_T).
    """
    next_potential = np.where(terminated, 0.0, next_potential)
    return gamma * next_potential - potential
