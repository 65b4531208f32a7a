"""Returns and advantages: the numbers policy gradient multiplies log-probabilities by.

Pure numpy, no torch, so the arithmetic can be checked by hand (tests/agents/test_returns.py).

Rollout arrays are time-major, shape ``(T, N)``: T steps of N parallel environments. Two flags end
an episode and they mean different things:

- ``terminated[t]``: the episode really ended (pole fell, goal reached). The state after it has no
  future, so its value is 0 and nothing is bootstrapped.
- ``truncated[t]``: the episode was cut by a time limit. The state after it still has a future, so
  the return is bootstrapped from ``V(s_final)``, the value of the episode's true final observation
  (not the observation of the next episode's reset). Pardo et al. 2018, "Time Limits in
  Reinforcement Learning".

Either way, nothing flows across the boundary: the next episode's rewards never leak into this one.
``next_values[t]`` is V of the state reached by step t (for a truncated step: of its final
observation; for the last step of the rollout: of the current observation, the n-step bootstrap).
"""

from __future__ import annotations

import numpy as np


def discounted_return(rewards: np.ndarray, gamma: float) -> float:
    """Total discounted return of one whole episode, ``sum_t gamma^t r_t`` (lecture's version 1).

    Every step of the episode is weighted by this same number in REINFORCE v1.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    return float(np.sum(rewards * gamma ** np.arange(len(rewards))))


def reward_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """Discounted reward-to-go of one whole episode, ``G_t = r_t + gamma G_{t+1}`` (version 2).

    An action is only credited with the rewards that came after it, discounted by their distance.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    returns = np.zeros_like(rewards)
    future = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


def discounted_returns(
    rewards: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
) -> np.ndarray:
    """Reward-to-go of every step of a ``(T, N)`` rollout, ``G_t = r_t + gamma G_{t+1}``.

    The Monte-Carlo return: the sum runs to the end of the episode. Where the episode does not
    really end inside the rollout (a truncation, or the rollout's last step) the rest is
    bootstrapped, ``G_t = r_t + gamma V(s_{t+1})`` with ``next_values``; pass zeros for no
    bootstrap (REINFORCE, which has no critic). After a termination the future is 0.
    """
    not_terminated = 1.0 - terminated.astype(np.float64)
    episode_end = terminated | truncated
    returns = np.zeros(rewards.shape, dtype=np.float64)
    future = np.asarray(next_values[-1], dtype=np.float64)  # the cut: bootstrap from V(s_T)
    for t in range(rewards.shape[0] - 1, -1, -1):
        future = np.where(episode_end[t], next_values[t], future)  # this episode's own future
        returns[t] = rewards[t] + gamma * not_terminated[t] * future
        future = returns[t]
    return returns


def n_step_returns(
    rewards: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    n: int | None = None,
) -> np.ndarray:
    """n-step bootstrapped returns over a ``(T, N)`` rollout.

    ``G_t = r_t + gamma r_{t+1} + ... + gamma^{k-1} r_{t+k-1} + gamma^k V(s_{t+k})`` where k is n,
    or fewer when the episode or the rollout ends first. ``n=None`` runs to the end of the rollout,
    which is what A2C does (Mnih et al. 2016, Algorithm S3): the first step of a 5-step rollout gets
    a 5-step return, the last a 1-step (TD(0)) return. Bootstraps from ``next_values`` at a
    truncation and at the cut, never at a termination.
    """
    T = rewards.shape[0]
    if n is None or n >= T:
        return discounted_returns(rewards, next_values, terminated, truncated, gamma)
    not_terminated = 1.0 - terminated.astype(np.float64)
    episode_end = terminated | truncated
    returns = np.zeros(rewards.shape, dtype=np.float64)
    for t in range(T):
        # Walk forward from t; `alive` is 1 where the episode (and so the sum) is still going.
        total = np.zeros(rewards.shape[1:], dtype=np.float64)
        discount = np.ones(rewards.shape[1:], dtype=np.float64)
        alive = np.ones(rewards.shape[1:], dtype=np.float64)
        last = min(t + n, T) - 1
        for k in range(t, last + 1):
            total += alive * discount * rewards[k]
            # Bootstrap where this step ends the sum: at the cut, or at a truncation.
            stops = episode_end[k] if k < last else np.ones_like(episode_end[k])
            total += alive * stops * discount * gamma * not_terminated[k] * next_values[k]
            alive = alive * (1.0 - stops)
            discount = discount * gamma
        returns[t] = total
    return returns


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized Advantage Estimation over a ``(T, N)`` rollout -> ``(advantages, returns)``.

    Schulman et al. 2016, "High-Dimensional Continuous Control Using GAE", eq. 16:
    ``delta_t = r_t + gamma V(s_{t+1}) - V(s_t)`` (the lecture's version 4 advantage) and
    ``A_t = delta_t + gamma lam A_{t+1}``. ``lam=0`` is one-step TD, ``lam=1`` is the n-step return
    to the end of the rollout minus ``V(s_t)`` (A2C). ``returns = advantages + values`` is the
    critic's regression target.

    ``V(s_{t+1})`` is 0 after a termination and ``next_values[t]`` otherwise (so a truncation
    bootstraps from ``V(s_final)``); the recursion restarts at every episode end.
    """
    not_terminated = 1.0 - terminated.astype(np.float64)
    continues = 1.0 - (terminated | truncated).astype(np.float64)
    advantages = np.zeros(rewards.shape, dtype=np.float64)
    next_advantage = np.zeros(rewards.shape[1:], dtype=np.float64)
    for t in range(rewards.shape[0] - 1, -1, -1):
        delta = rewards[t] + gamma * not_terminated[t] * next_values[t] - values[t]
        next_advantage = delta + gamma * lam * continues[t] * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


def rollout_gae(batch, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gae` over a rollout batch (anything with rewards, values, next_values,
    terminated and truncated arrays of shape (T, N))."""
    return gae(
        batch.rewards,
        batch.values,
        batch.next_values,
        batch.terminated,
        batch.truncated,
        gamma,
        lam,
    )


def normalize(x, eps: float = 1e-8):
    """Zero mean, unit variance (numpy array or torch tensor): the lecture's version 3 baseline.

    The standard deviation is the sample one (n - 1), torch's default, for either kind of array.
    One sample has no spread to divide by: it is its own mean, so it comes out 0 (not NaN).
    """
    if len(x) < 2:
        return x * 0  # zeros of x's kind, dtype and shape
    centred = x - x.mean()
    std = ((centred * centred).sum() / (len(x) - 1)) ** 0.5
    return centred / (std + eps)


def explained_variance(predicted, target) -> float:
    """``1 - Var(target - predicted) / Var(target)``: 1 is a perfect critic, 0 predicts the mean.

    Works on numpy arrays and torch tensors alike. Of a ``(B, 2)`` pair of value heads
    (curiosity's V_E, V_I), the first: the critic of the env's reward.
    """
    if predicted.ndim == 2:
        predicted, target = predicted[:, 0], target[:, 0]
    var_target = float(target.var())
    if var_target == 0:
        return float("nan")
    return 1.0 - float((target - predicted).var()) / var_target
