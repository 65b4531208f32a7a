"""PPO's loss on numbers worked out by hand, and its minibatches never degenerate.

The network is a real ActorCriticNet whose heads are set so that its outputs are known exactly:
policy head zero (uniform over two actions, log pi = log 0.5), value head zero weights and bias 1
(V(s) = 1 everywhere). The old log-probs, old values and returns are then chosen to put each sample
where the test wants it (ratio inside or outside the clip, value change inside or outside its clip).
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlsuite import logger as tags
from rlsuite.agents import make_agent
from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.rollout import TrainBatch
from rlsuite.agents.ppo import CLIP_FRACTION, minibatch_bounds, ppo_loss

CLIP = 0.2


def known_net() -> ActorCriticNet:
    """pi(a|s) = 0.5 for both actions and V(s) = 1, whatever s."""
    net = ActorCriticNet(
        gym.spaces.Box(-1.0, 1.0, (3,), np.float32), gym.spaces.Discrete(2), (8,), "tanh"
    )
    with torch.no_grad():
        net.policy_head.weight.zero_()
        net.policy_head.bias.zero_()
        net.value_head.weight.zero_()
        net.value_head.bias.fill_(1.0)
    return net


def batch(ratios, advantages, old_values, returns) -> TrainBatch:
    """A minibatch in which pi(a|s) / pi_old(a|s) equals ``ratios`` for the known net."""
    ratios = torch.tensor(ratios, dtype=torch.float32)
    n = len(ratios)
    return TrainBatch(
        obs=torch.linspace(-1, 1, n * 3).reshape(n, 3),
        actions=torch.tensor([0, 1] * (n // 2) + [0] * (n % 2)),
        log_probs=math.log(0.5) - ratios.log(),  # log pi_old = log pi - log ratio
        values=torch.tensor(old_values, dtype=torch.float32),
        advantages=torch.tensor(advantages, dtype=torch.float32),
        returns=torch.tensor(returns, dtype=torch.float32),
    )


def test_clipped_surrogate_and_clip_fraction_by_hand():
    # ratio, advantage -> min(r A, clip(r, 0.8, 1.2) A):
    #   0.5, +1 -> min(0.5, 0.8)   =  0.5   ratio fell with A > 0: unclipped (pessimistic bound)
    #   1.1, -1 -> min(-1.1, -1.1) = -1.1   inside the clip
    #   1.5, +1 -> min(1.5, 1.2)   =  1.2   ratio rose past 1.2 with A > 0: clipped
    #   0.7, -2 -> min(-1.4, -1.6) = -1.6   ratio fell past 0.8 with A < 0: clipped
    # policy_loss = -mean = -(0.5 - 1.1 + 1.2 - 1.6) / 4 = 0.25; |r - 1| > 0.2 for 3 of 4.
    b = batch([0.5, 1.1, 1.5, 0.7], [1.0, -1.0, 1.0, -2.0], [1.0] * 4, [1.0] * 4)
    loss, metrics = ppo_loss(known_net(), b, CLIP, None, 0.5, 0.0, normalize_adv=False)
    assert metrics[tags.POLICY_LOSS].item() == pytest.approx(0.25, abs=1e-6)
    assert metrics[CLIP_FRACTION].item() == pytest.approx(0.75)
    assert metrics[tags.VALUE_LOSS].item() == pytest.approx(0.0, abs=1e-12)  # V = returns = 1
    assert metrics[tags.ENTROPY_LOSS].item() == pytest.approx(-math.log(2), abs=1e-6)
    assert loss.item() == pytest.approx(0.25, abs=1e-6)  # ent_coef 0, value loss 0


def test_clipped_samples_give_no_policy_gradient_and_unclipped_ones_do():
    net = known_net()
    # Both clipped the way their advantage pushes: the objective is flat in theta there.
    clipped = batch([1.5, 0.7], [1.0, -2.0], [1.0] * 2, [1.0] * 2)
    loss, _ = ppo_loss(net, clipped, CLIP, None, 0.5, 0.0, normalize_adv=False)
    loss.backward()
    assert net.policy_head.weight.grad.abs().max().item() == 0.0
    net.zero_grad()
    inside = batch([1.1, 0.9], [1.0, -2.0], [1.0] * 2, [1.0] * 2)
    loss, _ = ppo_loss(net, inside, CLIP, None, 0.5, 0.0, normalize_adv=False)
    loss.backward()
    assert net.policy_head.weight.grad.abs().max().item() > 0.0


def test_value_clipping_by_hand():
    # V(s) = 1 now. Old values 0.5, 1.1, 3.0, 1.0: V moved by +0.5, -0.1, -2.0, 0.0, which
    # clip_range_vf = 0.2 limits to +0.2, -0.1, -0.2, 0.0: clipped V = 0.7, 1.0, 2.8, 1.0.
    # Returns 2.0, 0.0, 3.0, 1.5: errors 1.3, -1.0, 0.2, 0.5; squared 1.69, 1, 0.04, 0.25.
    b = batch([1.0] * 4, [0.0] * 4, [0.5, 1.1, 3.0, 1.0], [2.0, 0.0, 3.0, 1.5])
    loss, metrics = ppo_loss(known_net(), b, CLIP, 0.2, 0.5, 0.0, normalize_adv=False)
    assert metrics[tags.VALUE_LOSS].item() == pytest.approx((1.69 + 1 + 0.04 + 0.25) / 4)
    assert loss.item() == pytest.approx(0.5 * 0.745, abs=1e-6)  # policy loss 0 (A = 0)
    # Without value clipping: (R - 1)^2 = 1, 1, 4, 0.25.
    _, metrics = ppo_loss(known_net(), b, CLIP, None, 0.5, 0.0, normalize_adv=False)
    assert metrics[tags.VALUE_LOSS].item() == pytest.approx((1 + 1 + 4 + 0.25) / 4)


def test_normalised_advantages_by_hand():
    # A = 1, 3 -> mean 2, sample std sqrt(2) -> -1/sqrt2, +1/sqrt2; ratios 1: loss = -mean = 0.
    # With ratios 1.1 and 1.1: -(1.1 * -0.7071 + 1.1 * 0.7071) / 2 = 0 too; use 1.0 and 1.1:
    # -(1.0 * -0.70711 + 1.1 * 0.70711) / 2 = -0.035355.
    b = batch([1.0, 1.1], [1.0, 3.0], [1.0] * 2, [1.0] * 2)
    _, metrics = ppo_loss(known_net(), b, CLIP, None, 0.5, 0.0, normalize_adv=True)
    assert metrics[tags.POLICY_LOSS].item() == pytest.approx(-0.1 / math.sqrt(2) / 2, abs=1e-6)
    # One sample has no spread: its normalised advantage is 0, not NaN.
    one = batch([1.1], [5.0], [1.0], [1.0])
    loss, metrics = ppo_loss(known_net(), one, CLIP, None, 0.5, 0.0, normalize_adv=True)
    assert torch.isfinite(loss) and metrics[tags.POLICY_LOSS].item() == 0.0


@pytest.mark.parametrize("batch_size", [1, 2, 3, 64, 256])
def test_minibatches_use_every_sample_once_and_none_is_ragged(batch_size):
    for n in [*range(1, 300), 980, 1000, 1024]:
        bounds = minibatch_bounds(n, batch_size)
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(end == start for (_, end), (start, _) in zip(bounds, bounds[1:], strict=False))
        sizes = [end - start for start, end in bounds]
        if n >= batch_size:  # no minibatch below half a batch, none above one and a half
            assert batch_size / 2 <= min(sizes) and max(sizes) < 1.5 * batch_size
        else:
            assert sizes == [n]
    # The case: 980 samples in batches of 64 leave 20, which join the last full batch.
    assert minibatch_bounds(980, 64)[-1] == (896, 980)


def test_ppo_update_with_one_sample_left_over_stays_finite(toy_envs):
    # One env, episodes of 3 steps; the NEXT_STEP reset step after each is no transition. 5 steps
    # -> 4 valid samples; batch_size 3 used to leave a minibatch of 1, whose normalised advantage
    # was NaN (NonFiniteLossError).
    envs = toy_envs.count_envs(1, gym.vector.AutoresetMode.NEXT_STEP, limit=3)
    config = {"n_steps": 5, "batch_size": 3, "n_epochs": 2}
    agent = make_agent("ppo", envs, config, seed=0)
    agent.learn(20)
    assert agent.num_updates == 4
    assert all(torch.isfinite(p).all() for p in agent.policy.parameters())
