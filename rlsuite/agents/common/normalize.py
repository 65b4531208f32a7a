"""Observation and reward normalisation, as Stable-Baselines3's ``VecNormalize`` does it.

Neural networks learn best when their inputs are about mean 0, std 1, and policy-gradient losses
behave best when rewards (and so returns and advantages) are of order 1. Many tasks give neither:
a velocity in the hundreds, a reward of -1000 per step. Normalising by running statistics fixes
both without knowing the task in advance:

- observations: ``clip((obs - mean) / sqrt(var + eps), -10, 10)`` with the running mean and
  variance of every observation seen so far (per feature);
- rewards: ``clip(reward / sqrt(Var[R] + eps), -10, 10)``, where R is the running discounted
  return ``R <- gamma R + reward`` of each env (reset at every episode end), so that the *returns*
  the critic regresses on come out of order 1. The reward is only divided, never shifted: shifting
  would change which policy is optimal (a constant per step rewards living longer or shorter).

The statistics live in the agent, not in an env wrapper, so they work with every vector env
(native, Gymnasium's sync and async ones), are saved in the agent's checkpoints, and are frozen
(``training = False``, or ``normalize``/``scale`` without update) when the policy is evaluated.

Image observations (uint8 frames) are not normalised: the CNN already scales them to [0, 1], as
SB3's ``CnnPolicy`` does, and per-pixel statistics would turn each frame into floats four times its
size. (SB3's ``VecNormalize`` would normalise frames only with that scaling switched off,
``normalize_images=False``; rl-zoo's Atari settings leave it off.) ``normalize_obs`` on an image
space is refused with a clear error (:func:`check_obs_normalizable`); ``normalize_reward`` works.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

__all__ = [
    "ObservationNormalizer",
    "RewardScaler",
    "RunningMeanStd",
    "check_obs_normalizable",
]


class RunningMeanStd:
    """Running mean and (population) variance of a stream of batches, per feature.

    Each batch is merged with Chan, Golub & LeVeque's (1979) parallel update, which combines the
    two groups' means and sums of squared deviations exactly, with no catastrophic cancellation
    (unlike keeping sums of x and x^2). Before any data: mean 0, var 1, so normalising is the
    identity. SB3 starts from a pseudo-count of 1e-4 instead of 0; ours starts from 0, so that the
    statistics are exactly numpy's ``mean``/``var`` over everything seen.
    """

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = 0

    def update(self, batch: np.ndarray) -> None:
        """Merge a batch ``(B, *shape)`` into the statistics."""
        batch = np.asarray(batch, dtype=np.float64)
        if len(batch) == 0:
            return
        self.update_from_moments(batch.mean(axis=0), batch.var(axis=0), len(batch))

    def update_from_moments(self, batch_mean: np.ndarray, batch_var: np.ndarray, n: int) -> None:
        """Chan et al.'s merge of (count, mean, var) with a group (n, batch_mean, batch_var)."""
        total = self.count + n
        delta = batch_mean - self.mean
        # Sum of squared deviations of the union = each group's own + the spread of the means.
        m2 = self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        # asarray: a scalar stream's 0-d arrays would otherwise decay to numpy floats.
        self.mean = np.asarray(self.mean + delta * n / total)
        self.var = np.asarray(m2 / total)
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {
            "mean": torch.from_numpy(self.mean.copy()),
            "var": torch.from_numpy(self.var.copy()),
            "count": int(self.count),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = state["mean"].numpy().astype(np.float64)
        self.var = state["var"].numpy().astype(np.float64)
        self.count = int(state["count"])


def check_obs_normalizable(space: gym.Space) -> None:
    """ValueError unless ``space`` is a float-valued Box that running statistics apply to."""
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"normalize_obs needs a Box observation space, not {space}")
    if space.dtype == np.uint8:
        raise ValueError(
            "normalize_obs does not apply to image observations: the CNN already scales "
            "uint8 frames to [0, 1]; set normalize_obs=false"
        )


class ObservationNormalizer:
    """``clip((obs - mean) / sqrt(var + eps), -clip, clip)`` with running statistics.

    Calling it (``normalizer(obs)``) first adds ``obs`` to the statistics when ``training`` is
    on; ``normalize(obs)`` never does (evaluation, bootstrap values of observations already seen).
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, eps: float = 1e-8) -> None:
        self.stats = RunningMeanStd(shape)
        self.clip, self.eps = clip, eps
        self.training = True

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Update the statistics with the batch ``obs`` (when training), then normalise it."""
        if self.training:
            self.stats.update(obs)
        return self.normalize(obs)

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """The batch ``obs`` normalised with the current statistics, as float32."""
        scaled = (np.asarray(obs, dtype=np.float64) - self.stats.mean) / np.sqrt(
            self.stats.var + self.eps
        )
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {"stats": self.stats.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats.load_state_dict(state["stats"])


class RewardScaler:
    """Rewards divided by the running std of the discounted return, clipped to ``+-clip``.

    Keeps one discounted return ``R`` per env, ``R <- gamma R + reward``, and the running variance
    of R over all envs and steps; ``R`` restarts at every episode end (terminated or truncated).
    """

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0, eps: float = 1e-8) -> None:
        self.stats = RunningMeanStd(())
        self.returns = np.zeros(num_envs, dtype=np.float64)  # R of each env's running episode
        self.gamma, self.clip, self.eps = gamma, clip, eps
        self.training = True

    def __call__(
        self, reward: np.ndarray, done: np.ndarray, valid: np.ndarray | None = None
    ) -> np.ndarray:
        """Scale one step's rewards ``(N,)``; ``done`` ends those envs' returns after this step.

        ``valid`` (default all) marks the envs whose step is a transition: a NEXT_STEP reset step
        (rollout.py) adds nothing to the statistics.
        """
        if self.training:
            self.returns = self.returns * self.gamma + reward
            self.stats.update(self.returns if valid is None else self.returns[valid])
        scaled = self.scale(reward)
        self.returns[done] = 0.0
        return scaled

    def scale(self, reward: np.ndarray) -> np.ndarray:
        """``reward / sqrt(Var[R] + eps)``, clipped, as float32; the statistics are unchanged."""
        scaled = np.asarray(reward, dtype=np.float64) / np.sqrt(self.stats.var + self.eps)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def reset(self) -> None:
        """Every env starts a new episode: forget the running returns (not the statistics)."""
        self.returns[:] = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {"stats": self.stats.state_dict(), "returns": torch.from_numpy(self.returns.copy())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats.load_state_dict(state["stats"])
        self.returns = state["returns"].numpy().astype(np.float64)
