"""Actor-critic: REINFORCE whose baseline is a learned V(s) (the lecture's versions 3.5 and 4).

The critic V(s) estimates the return expected from s under the current policy, so the advantage
"how much better was a_t than usual in s_t" is

- ``critic="mc"`` (v3.5): ``A_t = G_t - V(s_t)``, the Monte-Carlo return minus the baseline; the
  critic regresses on G_t (unbiased, high variance);
- ``critic="td"`` (v4): ``A_t = r_t + gamma V(s_{t+1}) - V(s_t)``, the TD error; the critic
  regresses on the TD(0) target ``r_t + gamma V(s_{t+1})`` (biased by V, low variance).

One loss trains actor and critic (two trunks by default, one with ``shared_trunk=True``).
Data is collected as REINFORCE does (one whole episode per env, fresh for each update), so the
two agents differ only in the weight of ``grad log pi``. At a time-limit truncation both targets
bootstrap from V(s_final); at a termination the future is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings
from rlsuite.agents.common import backprop
from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.returns import discounted_returns, explained_variance, normalize
from rlsuite.agents.common.rollout import RolloutBatch, TrainBatch, to_device, to_train_batch
from rlsuite.config import (
    FLAG,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    choice,
    optional,
    setting,
)

# How the loss is differentiated (see actor_critic_step); A2C's Config has the same setting.
BACKPROP = choice("numpy", "autograd")


@dataclass(frozen=True)
class ActorCriticConfig(PolicyNetworkSettings):
    """Actor-critic's settings."""

    # "mc": A = G - V(s); "td": A = r + gamma V(s') - V(s). MC is the default: with one gradient
    # step per batch of 8 episodes the critic stays too rough for TD's bootstrapped target (CartPole
    # after 300k steps: mc 500/500/500 on 3 seeds, td 50-200).
    critic: str = setting("mc", choice("mc", "td"))
    gamma: float = setting(0.99, PROBABILITY)  # discount
    learning_rate: float = setting(3e-3, POSITIVE)  # Adam step size
    # "constant" or "linear" (decays to 0 at the learn() total)
    lr_schedule: str = setting("constant", LR_SCHEDULE)
    ent_coef: float = setting(0.0, NON_NEGATIVE)  # weight of the entropy bonus
    # Weight of the critic's loss in the actor-critic loss
    vf_coef: float = setting(0.5, NON_NEGATIVE)
    max_grad_norm: float = setting(1.0, POSITIVE)  # clip the gradient's global norm
    # Rescale advantages to mean 0, std 1 per update
    normalize_advantage: bool = setting(True, FLAG)
    # Vectors: two trunks: the critic's regression on returns of up to 100 would otherwise swamp
    # the policy's features (shared: 120-380 on CartPole; two trunks: 500 on 3 seeds of 3).
    # Images: one shared CNN (as SB3's CnnPolicy). None picks by observation; true/false force.
    shared_trunk: bool | None = setting(None, optional(FLAG))
    # How the loss is differentiated: "numpy" (backpropagation written out, common/backprop.py;
    # MLP nets only, others use autograd) or "autograd" (torch's). The same gradient.
    backprop: str = setting("numpy", BACKPROP)
    # Running mean/std normalisation as SB3's VecNormalize (common/normalize.py): observations to
    # mean 0, std 1 (not for images), rewards divided by the std of the discounted return.
    normalize_obs: bool = setting(False, FLAG)
    normalize_reward: bool = setting(False, FLAG)


def actor_critic_loss(
    policy: ActorCriticNet, batch: TrainBatch, vf_coef: float, ent_coef: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Actor loss + vf_coef * critic loss - ent_coef * entropy, on one batch of transitions."""
    # With ent_coef 0 the entropy is only logged: no gradient for it.
    # (With a frozen encoder batch.obs holds its features from the rollout: to_train_batch.)
    log_prob, entropy, value = policy.evaluate_actions(
        batch.obs, batch.actions, entropy_grad=ent_coef != 0.0, encoded=policy.frozen_encoder
    )
    # Actor: raise log pi(a|s) in proportion to how much better a was than expected.
    policy_loss = -(batch.advantages * log_prob).mean()
    # Critic: regress V(s) on its target (G_t, or r + gamma V(s'), held fixed).
    # mean of (G - V(s))^2; with two value heads (curiosity) the sum of each head's mean
    value_loss = (value - batch.returns).pow(2).mean(0).sum()
    entropy_loss = -entropy.mean()
    loss = policy_loss + vf_coef * value_loss
    if ent_coef != 0.0:  # a zero-weight term would still cost its backward pass
        loss = loss + ent_coef * entropy_loss
    metrics = {
        tags.POLICY_LOSS: policy_loss,
        tags.VALUE_LOSS: value_loss,
        tags.ENTROPY_LOSS: entropy_loss,
    }
    return loss, metrics


def actor_critic_step(agent: Agent, batch: TrainBatch) -> dict[str, float]:
    """One gradient step on the actor-critic loss (shared with A2C); returns what to log.

    The gradient comes from torch's autograd, or, with ``backprop="numpy"`` on an MLP net, from
    the same loss differentiated by hand (common/backprop.py), several times cheaper at A2C's
    40-sample batches.
    """
    c = agent.config
    # In numpy an overflow warns and gives inf/NaN, which gradient_step(_from) reports as a
    # NonFiniteLossError; the warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        if c.normalize_advantage:  # in numpy (zero-copy views): cheaper than torch here
            advantages = normalize(batch.advantages.numpy())
            batch = batch._replace(advantages=torch.from_numpy(advantages))
        if c.backprop == "numpy" and backprop.supports(agent.policy):
            losses, gradients = backprop.actor_critic_gradient(
                agent.policy,
                batch.obs.numpy(),
                batch.actions.numpy(),
                batch.advantages.numpy(),
                batch.returns.numpy(),
                c.vf_coef,
                c.ent_coef,
            )
            values = {
                tags.POLICY_LOSS: losses["policy_loss"],
                tags.VALUE_LOSS: losses["value_loss"],
                tags.ENTROPY_LOSS: -losses["entropy"],
            }
            agent.gradient_step_from(gradients, values)
        else:
            on_device = to_device(batch, agent.device)
            loss, metrics = actor_critic_loss(agent.policy, on_device, c.vf_coef, c.ent_coef)
            agent.gradient_step(loss, metrics)
            values = {tag: value.item() for tag, value in metrics.items()}
    # In numpy (zero-copy views): cheaper than torch's var at these sizes.
    values[tags.EXPLAINED_VARIANCE] = explained_variance(
        batch.values.numpy(), batch.returns.numpy()
    )
    return values


class ActorCritic(Agent):
    """Policy gradient with a learned state-value baseline, critic trained by MC or TD."""

    name = "actor-critic"
    description = "Actor-critic: V(s) baseline, advantage G-V(s) (mc) or r+gV(s')-V(s) (td)"
    Config = ActorCriticConfig
    default_steps = 300_000

    def collect(self) -> RolloutBatch:
        return self.rollout_episodes()

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        c = self.config
        if c.critic == "mc":
            # G_t to the end of the episode; a truncated one ends in gamma V(s_final).
            targets = discounted_returns(
                batch.rewards, batch.next_values, batch.terminated, batch.truncated, c.gamma
            )
        else:
            # TD(0); next_values is V(s_final) at a truncation and 0 after a termination.
            targets = batch.rewards + c.gamma * batch.next_values
        advantages = targets - batch.values
        return actor_critic_step(self, to_train_batch(batch, advantages, targets))
