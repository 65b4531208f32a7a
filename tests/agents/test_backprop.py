"""The hand-written backward pass (common/backprop.py) and the numpy RMSprop (common/optim.py)
give what torch's autograd and torch.optim.RMSprop give, and A2C/actor-critic train the same with
either gradient."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlsuite.agents import make_agent, make_config
from rlsuite.agents.actor_critic import actor_critic_loss
from rlsuite.agents.common import backprop
from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.optim import RMSprop, flatten_parameters
from rlsuite.agents.common.rollout import TrainBatch

OBS_SPACE = gym.spaces.Box(-1.0, 1.0, (3, 2), np.float32)  # flattened by the MLP
DISCRETE = gym.spaces.Discrete(3)
BOX = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


def random_batch(action_space: gym.Space, n: int = 40, seed: int = 0) -> TrainBatch:
    rng = np.random.default_rng(seed)
    if isinstance(action_space, gym.spaces.Discrete):
        actions = rng.integers(0, action_space.n, n)
    else:
        actions = rng.standard_normal((n, *action_space.shape)).astype(np.float32)
    obs = rng.standard_normal((n, *OBS_SPACE.shape)).astype(np.float32)
    advantages = rng.standard_normal(n).astype(np.float32)
    returns = (5.0 * rng.standard_normal(n)).astype(np.float32)
    arrays = (obs, actions, advantages, advantages, advantages, returns)
    return TrainBatch(*(torch.from_numpy(x) for x in arrays))


@pytest.mark.parametrize("action_space", [DISCRETE, BOX], ids=["discrete", "box"])
@pytest.mark.parametrize("shared_trunk", [True, False], ids=["shared", "two-trunks"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("ent_coef", [0.0, 0.05])
def test_gradient_and_loss_match_autograd(action_space, shared_trunk, activation, ent_coef):
    torch.manual_seed(0)
    net = ActorCriticNet(OBS_SPACE, action_space, (16, 8), activation, shared_trunk)
    batch = random_batch(action_space)
    vf_coef = 0.5
    losses, gradients = backprop.actor_critic_gradient(
        net,
        batch.obs.numpy(),
        batch.actions.numpy(),
        batch.advantages.numpy(),
        batch.returns.numpy(),
        vf_coef,
        ent_coef,
    )
    loss, parts = actor_critic_loss(net, batch, vf_coef, ent_coef)
    net.zero_grad()
    loss.backward()
    named = dict(net.named_parameters())
    assert set(gradients) == set(named)  # every parameter gets its gradient, no more
    for name, parameter in named.items():
        assert gradients[name].shape == parameter.shape, name
        np.testing.assert_allclose(gradients[name], parameter.grad.numpy(), atol=1e-6, err_msg=name)
    assert losses["policy_loss"] == pytest.approx(parts["train/policy_loss"].item(), abs=1e-6)
    assert losses["value_loss"] == pytest.approx(parts["train/value_loss"].item(), rel=1e-6)
    assert -losses["entropy"] == pytest.approx(parts["train/entropy_loss"].item(), rel=1e-6)


def test_only_mlp_nets_with_a_critic_are_supported():
    image_space = gym.spaces.Box(0, 255, (36, 36, 3), np.uint8)
    assert backprop.supports(ActorCriticNet(OBS_SPACE, DISCRETE))
    assert not backprop.supports(ActorCriticNet(image_space, DISCRETE))  # CNN: autograd
    assert not backprop.supports(ActorCriticNet(OBS_SPACE, DISCRETE, with_critic=False))


def test_two_value_heads_match_autograd():
    """Curiosity's critic, V_E and V_I (values and returns (B, 2)): the same gradient."""
    torch.manual_seed(0)
    net = ActorCriticNet(OBS_SPACE, DISCRETE, (16, 8), "tanh", False, n_values=2)
    batch = random_batch(DISCRETE)
    returns = torch.stack([batch.returns, -0.5 * batch.returns], dim=1)  # (B, 2)
    batch = batch._replace(returns=returns, values=returns)
    arrays = (batch.obs, batch.actions, batch.advantages, batch.returns)
    losses, gradients = backprop.actor_critic_gradient(net, *(x.numpy() for x in arrays), 0.5, 0.01)
    loss, parts = actor_critic_loss(net, batch, 0.5, 0.01)
    net.zero_grad()
    loss.backward()
    for name, parameter in net.named_parameters():
        np.testing.assert_allclose(gradients[name], parameter.grad.numpy(), atol=1e-6, err_msg=name)
    assert losses["value_loss"] == pytest.approx(parts["train/value_loss"].item(), rel=1e-6)


def test_rmsprop_matches_torch():
    torch.manual_seed(0)
    ours = flatten_parameters([torch.nn.Parameter(torch.randn(50))])
    theirs = torch.nn.Parameter(ours.detach().clone())
    optimizer = RMSprop(ours, lr=1e-2, alpha=0.99, eps=1e-5)
    reference = torch.optim.RMSprop([theirs], lr=1e-2, alpha=0.99, eps=1e-5)
    for _ in range(20):
        gradient = torch.randn(50)
        ours.grad.copy_(gradient)  # in place: the optimizer holds a view of theta.grad
        theirs.grad = gradient.clone()
        optimizer.step()
        reference.step()
    assert not torch.equal(ours.detach(), theirs.detach().clone().zero_())
    torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["a2c", "actor-critic"])
@pytest.mark.parametrize("space", ["discrete", "box"])
def test_numpy_and_autograd_backprop_train_alike(name, space, toy_envs):
    runs = {}
    for how in ("numpy", "autograd"):
        envs = toy_envs.cartpole(2) if space == "discrete" else toy_envs.pendulum(2)
        overrides = {"backprop": how, **({"n_steps": 8} if name == "a2c" else {})}
        agent = make_agent(name, envs, overrides, seed=0)
        before = torch.cat([p.detach().flatten().clone() for p in agent.policy.parameters()])
        agent.learn(200 if name == "a2c" else 1200)  # actor-critic: whole episodes per update
        after = torch.cat([p.detach().flatten() for p in agent.policy.parameters()])
        runs[how] = (before, after, agent.num_updates)
    numpy_before, numpy_after, updates = runs["numpy"]
    assert updates >= 3 and not torch.equal(numpy_before, numpy_after)
    torch.testing.assert_close(numpy_after, runs["autograd"][1], rtol=1e-4, atol=1e-5)


def test_backprop_setting_is_checked():
    assert make_config("a2c", {"backprop": "autograd"}).backprop == "autograd"
    with pytest.raises(ValueError, match="backprop must be one of numpy, autograd"):
        make_config("a2c", {"backprop": "jax"})
    with pytest.raises(ValueError, match="backprop"):
        make_config("actor-critic", {"backprop": "by-hand"})
