"""Returns and advantages against numbers worked out by hand.

One (T=4, N=2) rollout with gamma = 0.5 holds every case that matters:

- env 0: an episode truncated by a time limit at t=1 (V(s_final) = 10), then a new episode that is
  still running when the rollout is cut after t=3 (bootstrap V(s_4) = 8);
- env 1: an episode terminated at t=2 (its next_value 99 must never be used), then a new episode
  cut after t=3 (bootstrap 6).
"""

import numpy as np
import pytest
import torch

from rlsuite.agents.common.returns import (
    discounted_return,
    discounted_returns,
    explained_variance,
    gae,
    n_step_returns,
    normalize,
    reward_to_go,
)

GAMMA = 0.5
REWARDS = np.array([[1, 1], [2, 1], [3, 1], [4, 1]], dtype=np.float32)
VALUES = np.array([[1, 2], [2, 1], [3, 3], [4, 2]], dtype=np.float32)
NEXT_VALUES = np.array([[2, 1], [10, 3], [4, 99], [8, 6]], dtype=np.float32)
TERMINATED = np.array([[0, 0], [0, 0], [0, 1], [0, 0]], dtype=bool)
TRUNCATED = np.array([[0, 0], [1, 0], [0, 0], [0, 0]], dtype=bool)


def test_single_episode_returns():
    # v1: 1 + 0.5*2 + 0.25*3 = 2.75 for every step; v2: reward-to-go.
    assert discounted_return(np.array([1.0, 2.0, 3.0]), GAMMA) == pytest.approx(2.75)
    np.testing.assert_allclose(reward_to_go(np.array([1.0, 2.0, 3.0]), GAMMA), [2.75, 3.5, 3.0])


def test_monte_carlo_returns_bootstrap_at_truncation_and_cut_only():
    returns = discounted_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA)
    # env 0: G1 = 2 + .5*10 = 7 (truncation), G0 = 1 + .5*7; G3 = 4 + .5*8, G2 = 3 + .5*8
    np.testing.assert_allclose(returns[:, 0], [4.5, 7.0, 7.0, 8.0])
    # env 1: G2 = 1 (terminated: no 99), G1 = 1.5, G0 = 1.75; G3 = 1 + .5*6 (new episode)
    np.testing.assert_allclose(returns[:, 1], [1.75, 1.5, 1.0, 4.0])


def test_n_step_returns():
    two_step = n_step_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA, n=2)
    np.testing.assert_allclose(two_step[:, 0], [4.5, 7.0, 7.0, 8.0])
    # env 1, t0: 1 + .5*1 + .25*V(s_2)=3; t1: 1 + .5*1 (then terminated)
    np.testing.assert_allclose(two_step[:, 1], [2.25, 1.5, 1.0, 4.0])
    one_step = n_step_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA, n=1)
    np.testing.assert_allclose(one_step, [[2, 1.5], [7, 2.5], [5, 1], [8, 4]])
    # n=None (A2C) runs to the end of the rollout: the Monte-Carlo return with bootstrap.
    to_cut = n_step_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA)
    mc = discounted_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA)
    np.testing.assert_allclose(to_cut, mc)


def test_gae_by_hand():
    advantages, returns = gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA, lam=0.5)
    # env 0 deltas [1, 5, 2, 4]; A3 = 4, A2 = 2 + .25*4, A1 = 5 (episode end), A0 = 1 + .25*5
    np.testing.assert_allclose(advantages[:, 0], [2.25, 5.0, 3.0, 4.0])
    # env 1 deltas [-0.5, 1.5, -2, 2]; A2 = -2 (terminated), A1 = 1.5 + .25*-2, A0 = -.5 + .25*1
    np.testing.assert_allclose(advantages[:, 1], [-0.25, 1.0, -2.0, 2.0])
    np.testing.assert_allclose(returns, advantages + VALUES)


def test_gae_extremes_are_td_and_monte_carlo():
    td, _ = gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA, lam=0.0)
    one_step = n_step_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA, n=1)
    np.testing.assert_allclose(td, one_step - VALUES)
    _, lam1_returns = gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA, lam=1.0)
    mc = discounted_returns(REWARDS, NEXT_VALUES, TERMINATED, TRUNCATED, GAMMA)
    np.testing.assert_allclose(lam1_returns, mc)


def test_normalize_and_explained_variance():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert normalize(x).mean() == pytest.approx(0.0)
    assert normalize(x).std(ddof=1) == pytest.approx(1.0, rel=1e-6)
    # The sample std (n - 1) for numpy arrays and torch tensors alike.
    np.testing.assert_allclose(normalize(torch.from_numpy(x)).numpy(), normalize(x))
    assert explained_variance(x, x) == pytest.approx(1.0)
    assert explained_variance(np.full(4, x.mean()), x) == pytest.approx(0.0)
