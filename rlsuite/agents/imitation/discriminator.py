"""The discriminators of adversarial imitation: networks that tell expert transitions from the
actor's, and whose output is the reward the actor is trained on.

Both give the logit of D = P(expert | s, a, s'):

- GAIL (Ho & Ermon 2016): ``logit = D_phi(s, a)``, an MLP of the state and the action (one-hot
  for Discrete actions);
- AIRL (Fu, Luo & Levine 2018, eq. 4 and sec. 5): ``D = exp(f) / (exp(f) + pi(a|s))``, so
  ``logit = f(s, a, s') - log pi(a|s)`` with ``f = g(s) + gamma * h(s') - h(s)``. ``g`` is a
  state-only reward and ``h`` a potential, so ``gamma h(s') - h(s)`` is a shaping term that the
  optimal policy ignores; at the optimum ``g`` recovers the true reward up to a constant, and it
  can be optimised again by a fresh agent (``recovered_reward``). After a termination there is
  no next state: ``h(s') = 0``, as for the games' own shaping.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rlsuite.agents.common.nets import ACTIVATIONS


def mlp(in_dim: int, hidden_sizes: tuple[int, ...], activation: str) -> nn.Sequential:
    """in_dim -> hidden layers -> one output, as a Sequential of Linear and activation modules."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(in_dim, size), act()]
        in_dim = size
    layers.append(nn.Linear(in_dim, 1))
    return nn.Sequential(*layers)


def flat_obs(obs: torch.Tensor) -> torch.Tensor:
    """(B, ...) observations as (B, features) floats; uint8 images scaled to [0, 1]."""
    x = obs.reshape(obs.shape[0], -1)
    return x.float() / 255.0 if x.dtype == torch.uint8 else x.float()


class GAILDiscriminator(nn.Module):
    """logit of D(s, a) = P(the transition is the expert's)."""

    def __init__(
        self,
        obs_space: gym.Space,
        action_space: gym.Space,
        hidden_sizes: tuple[int, ...],
        activation: str,
    ) -> None:
        super().__init__()
        assert activation in ACTIVATIONS
        self.n_actions = int(action_space.n) if isinstance(action_space, gym.spaces.Discrete) else 0
        act_dim = self.n_actions or int(np.prod(action_space.shape))
        self.net = mlp(int(np.prod(obs_space.shape)) + act_dim, hidden_sizes, activation)

    def action_features(self, actions: torch.Tensor) -> torch.Tensor:
        if self.n_actions:
            return F.one_hot(actions.long(), self.n_actions).float()
        return actions.reshape(actions.shape[0], -1).float()

    def forward(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        next_obs: torch.Tensor,
        dones: torch.Tensor,
        log_pi: torch.Tensor,
    ) -> torch.Tensor:
        x = torch.cat([flat_obs(obs), self.action_features(actions)], dim=1)
        return self.net(x).squeeze(-1)  # (B,)


class AIRLDiscriminator(nn.Module):
    """logit = f(s, a, s') - log pi(a|s), f = g(s) + gamma h(s') - h(s)."""

    def __init__(
        self, obs_space: gym.Space, hidden_sizes: tuple[int, ...], activation: str, gamma: float
    ) -> None:
        super().__init__()
        obs_dim = int(np.prod(obs_space.shape))
        self.g = mlp(obs_dim, hidden_sizes, activation)  # the reward, of the state alone
        self.h = mlp(obs_dim, hidden_sizes, activation)  # the shaping potential
        self.gamma = gamma

    def reward(self, obs: torch.Tensor) -> torch.Tensor:
        """g(s): the recovered reward, (B,)."""
        return self.g(flat_obs(obs)).squeeze(-1)

    def f(self, obs: torch.Tensor, next_obs: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        future = (1.0 - dones.float()) * self.h(flat_obs(next_obs)).squeeze(-1)
        return self.reward(obs) + self.gamma * future - self.h(flat_obs(obs)).squeeze(-1)

    def forward(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        next_obs: torch.Tensor,
        dones: torch.Tensor,
        log_pi: torch.Tensor,
    ) -> torch.Tensor:
        return self.f(obs, next_obs, dones) - log_pi


def discriminator_loss(
    expert_logits: torch.Tensor, agent_logits: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """Binary cross-entropy with the expert labelled 1 and the actor 0; and the accuracies.

    ``-log D(expert) - log(1 - D(agent))``, written with softplus for stability:
    ``-log sigmoid(x) = softplus(-x)`` and ``-log(1 - sigmoid(x)) = softplus(x)``.
    """
    loss = 0.5 * (F.softplus(-expert_logits).mean() + F.softplus(agent_logits).mean())
    with torch.no_grad():
        acc_expert = (expert_logits > 0).float().mean().item()
        acc_agent = (agent_logits < 0).float().mean().item()
    return loss, {"acc_expert": acc_expert, "acc_agent": acc_agent}


def policy_reward(logits: torch.Tensor, form: str) -> torch.Tensor:
    """The reward the actor is trained on, from the discriminator's logits.

    ``"logit"``: ``log D - log(1 - D)`` (AIRL's, and the imitation library's for both): positive
    where the transition looks like the expert's, negative where it does not, so ending an
    episode early is neither paid nor punished by itself. ``"positive"``: ``-log(1 - D)`` (GAIL's
    paper), always positive: a survival bonus, right for tasks where the expert survives
    (CartPole), wrong for reaching a goal.
    """
    return logits if form == "logit" else F.softplus(logits)
