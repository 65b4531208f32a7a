"""PPO: collect data once, update many times (Schulman et al. 2017, "Proximal Policy Optimization").

A2C throws its rollout away after one gradient step. PPO reuses it for ``n_epochs`` passes of
minibatch updates. The data was collected by pi_old, so the policy gradient is importance-weighted
by ``ratio = pi(a|s) / pi_old(a|s)``, and the ratio is clipped to ``[1 - eps, 1 + eps]`` so that the
new policy cannot move far from the one that collected the data (paper eq. 7).

Each update: rollout of ``n_steps`` x ``n_envs`` -> GAE(lambda) advantages (paper eq. 11) ->
``n_epochs`` x shuffled minibatches of ``batch_size`` -> clipped surrogate + value loss - entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings
from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.returns import explained_variance, normalize
from rlsuite.agents.common.rollout import RolloutBatch, TrainBatch, to_device
from rlsuite.agents.curiosity import CuriositySettings
from rlsuite.config import (
    FLAG,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    optional,
    setting,
)

APPROX_KL = "train/approx_kl"  # SB3's tag names for PPO's own diagnostics
CLIP_FRACTION = "train/clip_fraction"


@dataclass(frozen=True)
class PPOConfig(CuriositySettings, PolicyNetworkSettings):
    """PPO's settings (CleanRL's / SB3's defaults unless a comment says why not)."""

    # Steps per env per rollout: 1024 transitions per update
    n_steps: int = setting(128, POSITIVE_INT)
    batch_size: int = setting(256, POSITIVE_INT)  # minibatch size: 4 minibatches per epoch
    n_epochs: int = setting(10, POSITIVE_INT)  # passes over each rollout ("update many times")
    gamma: float = setting(0.99, PROBABILITY)  # discount
    gae_lambda: float = setting(0.95, PROBABILITY)  # GAE's lambda (bias/variance of the advantage)
    # Adam step size. Tuned on CartPole (SB3/CleanRL: 3e-4 / 2.5e-4, which left 1 seed in 3 at
    # 315 after 200k steps); it decays linearly to 0, which keeps the late updates small.
    learning_rate: float = setting(1e-3, POSITIVE)
    # "constant" or "linear" (decays to 0 at the learn() total)
    lr_schedule: str = setting("linear", LR_SCHEDULE)
    clip_range: float = setting(0.2, POSITIVE)  # eps of the clipped ratio
    # Clip V's change per update too (None: off)
    clip_range_vf: float | None = setting(None, optional(POSITIVE))
    ent_coef: float = setting(0.0, NON_NEGATIVE)  # weight of the entropy bonus
    vf_coef: float = setting(0.5, NON_NEGATIVE)  # weight of the critic's loss
    max_grad_norm: float = setting(0.5, POSITIVE)  # clip the gradient's global norm
    # Per minibatch, as in the reference implementation
    normalize_advantage: bool = setting(True, FLAG)
    # Stop the epochs early once approx KL exceeds 1.5x this
    target_kl: float | None = setting(None, optional(POSITIVE))
    # Vectors: two trunks of the same shape (as SB3 and CleanRL): with many epochs on one batch,
    # the value loss's large gradients would otherwise reshape the policy's features. Images: one
    # shared CNN (as SB3's CnnPolicy), half the cost. None picks by observation; true/false force.
    shared_trunk: bool | None = setting(None, optional(FLAG))
    # Running mean/std normalisation as SB3's VecNormalize (common/normalize.py): observations to
    # mean 0, std 1 (not for images), rewards divided by the std of the discounted return.
    normalize_obs: bool = setting(False, FLAG)
    normalize_reward: bool = setting(False, FLAG)


def minibatch_bounds(n_samples: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each minibatch when ``n_samples`` shuffled samples are cut into
    minibatches of ``batch_size``.

    The rollout's valid samples rarely divide evenly (NEXT_STEP reset steps are dropped: about 980
    of 1024), and a ragged tail of a few samples would take a full-size gradient step on a noisy
    estimate (of 1 sample: a NaN normalised advantage). A tail shorter than half a batch joins the
    minibatch before it; a longer one is a minibatch of its own. Every sample is used once.
    """
    starts = list(range(0, n_samples, batch_size))
    if len(starts) > 1 and n_samples - starts[-1] < batch_size / 2:
        starts.pop()  # the short tail joins the previous minibatch
    return list(zip(starts, [*starts[1:], n_samples], strict=True))


def ppo_loss(
    policy: ActorCriticNet,
    batch: TrainBatch,
    clip_range: float,
    clip_range_vf: float | None,
    vf_coef: float,
    ent_coef: float,
    normalize_adv: bool,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Clipped surrogate (PPO eq. 7) + value loss - entropy bonus, on one minibatch.

    With a frozen encoder ``batch.obs`` holds its features from the rollout (to_train_batch).
    """
    log_prob, entropy, value = policy.evaluate_actions(
        batch.obs, batch.actions, encoded=policy.frozen_encoder
    )
    advantages = normalize(batch.advantages) if normalize_adv else batch.advantages
    log_ratio = log_prob - batch.log_probs
    ratio = log_ratio.exp()  # pi(a|s) / pi_old(a|s): importance weight
    # Pessimistic bound: take the smaller of the clipped and unclipped objectives.
    surrogate = torch.min(
        ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages
    )
    policy_loss = -surrogate.mean()
    if clip_range_vf is not None:  # keep V(s) within clip_range_vf of its value at collection
        value = batch.values + (value - batch.values).clamp(-clip_range_vf, clip_range_vf)
    # With two value heads (curiosity: V_E, V_I; values and returns (B, 2)) each head's mean
    value_loss = (batch.returns - value).pow(2).mean(0).sum()
    entropy_loss = -entropy.mean()
    loss = policy_loss + vf_coef * value_loss
    if ent_coef != 0.0:  # a zero-weight term would still cost its backward pass
        loss = loss + ent_coef * entropy_loss
    with torch.no_grad():
        # Schulman's low-variance KL estimator, E[(r - 1) - log r] (http://joschu.net/blog/kl-approx.html)
        approx_kl = ((ratio - 1) - log_ratio).mean()
        clip_fraction = ((ratio - 1).abs() > clip_range).float().mean()
    metrics = {
        tags.POLICY_LOSS: policy_loss,
        tags.VALUE_LOSS: value_loss,
        tags.ENTROPY_LOSS: entropy_loss,
        APPROX_KL: approx_kl,
        CLIP_FRACTION: clip_fraction,
    }
    return loss, metrics


class PPO(Agent):
    """Proximal Policy Optimization with the clipped objective and GAE."""

    name = "ppo"
    description = "PPO: clipped surrogate + GAE; collect data once, update many times"
    Config = PPOConfig
    default_steps = 200_000

    def steps_per_update(self) -> int:
        return self.config.n_steps * self.envs.num_envs

    def collect(self) -> RolloutBatch:
        return self.rollout(self.config.n_steps)

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        c = self.config
        # Advantages once per rollout, with the critic that collected it (paper eq. 11); with
        # curiosity, the intrinsic reward's too (base.train_batch, curiosity.py).
        data = to_device(self.train_batch(batch, c.gae_lambda), self.device)
        history: dict[str, list[float]] = {}
        stop = False
        for _epoch in range(c.n_epochs):
            order = torch.from_numpy(self.np_random.permutation(len(data.obs))).to(self.device)
            for start, end in minibatch_bounds(len(order), c.batch_size):
                # index_select, not x[indices]: at 256 frames it is over ten times faster.
                minibatch = TrainBatch(*(x.index_select(0, order[start:end]) for x in data))
                loss, metrics = ppo_loss(
                    self.policy,
                    minibatch,
                    c.clip_range,
                    c.clip_range_vf,
                    c.vf_coef,
                    c.ent_coef,
                    c.normalize_advantage,
                )
                # Early stop: the policy has already moved as far as we trust this data.
                stop = c.target_kl is not None and float(metrics[APPROX_KL]) > 1.5 * c.target_kl
                if stop:
                    break
                self.gradient_step(loss, metrics)
                for tag, value in metrics.items():
                    history.setdefault(tag, []).append(value.item())
            if stop:
                break
        values = {tag: float(np.mean(v)) for tag, v in history.items()}
        values[tags.EXPLAINED_VARIANCE] = explained_variance(data.values, data.returns)
        return values
