"""REINFORCE: Monte-Carlo policy gradient (Williams 1992), the lecture's versions 1 to 3.

    grad J ~ 1/N sum_n sum_t  A_t^n  grad log pi(a_t^n | s_t^n)

with the weight ``A_t`` chosen by the Config:

- v1 ``return_type="total"``: the whole episode's (discounted) return, the same for every step;
- v2 ``return_type="reward_to_go"``: only the rewards after step t, discounted by distance;
- v3 ``baseline="normalize"``: subtract the batch mean and divide by the std, so that some
  actions are pushed down, not all pushed up by different amounts.

Each update collects one whole episode per env with the current policy, then takes one gradient
step and throws the data away (``Agent.rollout_episodes`` explains the reset at each update).

Truncation caveat: without a critic there is nothing to bootstrap from, so a time-limited episode
(CartPole's 500 steps) is treated as if the world ended there; its last steps look worse than they
are. The actor-critic agents fix this with V(s_final).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings
from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.returns import discounted_returns, normalize
from rlsuite.agents.common.rollout import RolloutBatch, TrainBatch, to_device, to_train_batch
from rlsuite.config import (
    FLAG,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    choice,
    setting,
)


@dataclass(frozen=True)
class ReinforceConfig(PolicyNetworkSettings):
    """REINFORCE's settings."""

    # "total" (v1) or "reward_to_go" (v2)
    return_type: str = setting("reward_to_go", choice("total", "reward_to_go"))
    # "none" or "normalize" (v3: mean 0, std 1 over the batch)
    baseline: str = setting("normalize", choice("none", "normalize"))
    gamma: float = setting(0.99, PROBABILITY)  # discount
    # Adam step size (3e-3 left 1 CartPole seed in 3 at 424)
    learning_rate: float = setting(5e-3, POSITIVE)
    # "constant" or "linear" (decays to 0 at the learn() total)
    lr_schedule: str = setting("constant", LR_SCHEDULE)
    ent_coef: float = setting(0.0, NON_NEGATIVE)  # weight of the entropy bonus
    max_grad_norm: float = setting(1.0, POSITIVE)  # clip the gradient's global norm
    # MLP layer widths (vector observations)
    # Running mean/std normalisation as SB3's VecNormalize (common/normalize.py): observations to
    # mean 0, std 1 (not for images), rewards divided by the std of the discounted return.
    normalize_obs: bool = setting(False, FLAG)
    normalize_reward: bool = setting(False, FLAG)


def reinforce_loss(
    policy: ActorCriticNet, batch: TrainBatch, ent_coef: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """-(weight * log pi(a|s)) averaged over all steps of all episodes, minus an entropy bonus."""
    log_prob, entropy, _ = policy.evaluate_actions(
        batch.obs, batch.actions, encoded=policy.frozen_encoder
    )
    policy_loss = -(batch.advantages * log_prob).mean()
    entropy_loss = -entropy.mean()
    loss = policy_loss + ent_coef * entropy_loss
    return loss, {tags.POLICY_LOSS: policy_loss, tags.ENTROPY_LOSS: entropy_loss}


class Reinforce(Agent):
    """Monte-Carlo policy gradient on whole episodes; no critic."""

    name = "reinforce"
    description = "REINFORCE: Monte-Carlo policy gradient, total/reward-to-go, normalised (v1-v3)"
    Config = ReinforceConfig
    default_steps = 300_000
    uses_critic = False

    def collect(self) -> RolloutBatch:
        return self.rollout_episodes()

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        c = self.config
        # G_t = r_t + gamma G_{t+1} to the end of each episode; zeros: no critic to bootstrap.
        no_bootstrap = np.zeros_like(batch.rewards)
        weights = discounted_returns(
            batch.rewards, no_bootstrap, batch.terminated, batch.truncated, c.gamma
        )  # (T, N); each env's episode starts at t = 0
        if c.return_type == "total":
            weights = np.broadcast_to(weights[0], weights.shape)  # every step gets G_0
        train_batch = to_train_batch(batch, weights, weights)  # only the episodes' own steps
        train_batch = to_device(train_batch, self.device)
        if c.baseline == "normalize":
            train_batch = train_batch._replace(advantages=normalize(train_batch.advantages))
        loss, metrics = reinforce_loss(self.policy, train_batch, c.ent_coef)
        self.gradient_step(loss, metrics)
        return {tag: value.item() for tag, value in metrics.items()}
