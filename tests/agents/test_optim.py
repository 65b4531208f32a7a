"""The numpy RMSprop (common/optim.py) in its TensorFlow form equals Stable-Baselines3's
RMSpropTFLike, and A2C uses it when asked."""

from __future__ import annotations

import pytest
import torch
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

from rlsuite.agents import make_agent
from rlsuite.agents.common.optim import RMSprop, flatten_parameters


def run_steps(ours: RMSprop, theta, reference, theirs, steps: int = 20) -> None:
    for _ in range(steps):
        gradient = torch.randn(50) * 0.1
        theta.grad.copy_(gradient)  # in place: the optimizer holds a view of theta.grad
        theirs.grad = gradient.clone()
        ours.step()
        reference.step()


def test_tf_like_rmsprop_matches_sb3():
    torch.manual_seed(0)
    theta = flatten_parameters([torch.nn.Parameter(torch.randn(50))])
    start = theta.detach().clone()
    theirs = torch.nn.Parameter(start.clone())
    ours = RMSprop(theta, lr=1e-2, alpha=0.99, eps=1e-5, tf_like=True)
    run_steps(ours, theta, RMSpropTFLike([theirs], lr=1e-2, alpha=0.99, eps=1e-5), theirs)
    assert not torch.equal(theta.detach(), start)
    torch.testing.assert_close(theta.detach(), theirs.detach(), rtol=1e-5, atol=1e-6)


def test_first_step_sizes_torch_and_tf_style():
    # Torch's v starts at 0: the first step is lr g / (0.1 |g| + eps), about 10 lr for every
    # weight. TensorFlow's starts at 1: the first step is lr g / sqrt(1 - 0.01 + 0.01 g^2 + eps),
    # about lr g for small g.
    gradient = torch.tensor([1e-3, 1e-1, 1.0])
    moved = {}
    for tf_like in (False, True):
        theta = flatten_parameters([torch.nn.Parameter(torch.zeros(3))])
        theta.grad.copy_(gradient)
        RMSprop(theta, lr=1.0, alpha=0.99, eps=1e-8, tf_like=tf_like).step()
        moved[tf_like] = -theta.detach()
    torch.testing.assert_close(moved[False], torch.full((3,), 10.0), rtol=1e-4, atol=0)
    expected = gradient / (0.99 + 0.01 * gradient**2 + 1e-8).sqrt()
    torch.testing.assert_close(moved[True], expected)


@pytest.mark.parametrize("tf_like", [False, True])
def test_a2c_checkpoint_restores_the_optimizer(tf_like, toy_envs):
    def build():
        return make_agent("a2c", toy_envs.cartpole(2), {"n_steps": 8, "rms_tf_like": tf_like})

    agent = build()
    assert agent.optimizer.tf_like is tf_like
    agent.learn(64)
    restored = build()
    restored.load_state_dict(agent.state_dict())
    torch.testing.assert_close(restored.optimizer.square_avg, agent.optimizer.square_avg)
