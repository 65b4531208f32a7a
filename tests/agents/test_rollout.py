"""The rollout collector under both autoreset modes: truncation bootstraps from the episode's own
final observation, reset steps are never learned from, episodes are counted right."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.rollout import RolloutCollector, first_episodes
from rlsuite.logger import Logger

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP]


def collector_for(envs, logger=None):
    torch.manual_seed(0)
    net = ActorCriticNet(envs.single_observation_space, envs.single_action_space)
    collector = RolloutCollector(envs, net, np.random.default_rng(0), logger)
    collector.reset(seed=0)
    return net, collector


def value_of(net, count: float) -> float:
    return float(net.heads_numpy(np.array([[count]], np.float32))[1][0])


@pytest.mark.parametrize("mode", MODES)
def test_truncation_bootstraps_from_the_final_observation(mode, toy_envs):
    envs = toy_envs.count_envs(2, mode, limit=3)
    logger = Logger()
    net, collector = collector_for(envs, logger)
    batch = collector.collect(8)
    # Valid transitions only: obs counts 0,1,2 then a new episode. NEXT_STEP wastes one step.
    valid_obs = batch.obs[:, 0, 0][batch.valid[:, 0]]
    expected = [0, 1, 2] * 2 if mode == AutoresetMode.NEXT_STEP else [0, 1, 2] * 2 + [0, 1]
    np.testing.assert_array_equal(valid_obs, expected)
    assert not batch.terminated.any()
    for t in np.flatnonzero(batch.truncated[:, 0]):
        # The true last observation of the episode is count 3, never the reset obs 0.
        assert batch.next_values[t, 0] == pytest.approx(value_of(net, 3.0), abs=1e-5)
    for t in np.flatnonzero(batch.valid[:, 0] & ~batch.truncated[:, 0]):
        expected_value = value_of(net, batch.obs[t, 0, 0] + 1)
        assert batch.next_values[t, 0] == pytest.approx(expected_value, abs=1e-5)
    # Reset steps carry no reward and no episode end.
    assert batch.rewards[~batch.valid].sum() == 0
    assert list(logger.episode_returns) == [3.0] * collector.num_episodes
    assert list(logger.episode_lengths) == [3] * collector.num_episodes
    assert collector.num_episodes == 2 * batch.truncated[:, 0].sum()


@pytest.mark.parametrize("mode", MODES)
def test_termination_does_not_bootstrap_and_reports_success(mode, toy_envs):
    envs = toy_envs.count_envs(2, mode, limit=10, terminate_at=2)
    logger = Logger()
    _, collector = collector_for(envs, logger)
    batch = collector.collect(6)
    assert batch.terminated.any()
    assert np.all(batch.next_values[batch.terminated] == 0.0)
    assert list(logger.episode_lengths) == [2] * collector.num_episodes
    assert list(logger.episode_successes) == [1.0] * collector.num_episodes


@pytest.mark.parametrize("mode", MODES)
def test_first_episodes_keeps_one_whole_episode_per_env(mode, toy_envs):
    envs = toy_envs.count_envs(2, mode, limit=3)
    _, collector = collector_for(envs)
    batch = first_episodes([collector.collect(2), collector.collect(3)])
    assert batch.obs.shape[0] == 5
    np.testing.assert_array_equal(batch.valid.sum(axis=0), [3, 3])
    np.testing.assert_array_equal(batch.obs[:, 0, 0][batch.valid[:, 0]], [0, 1, 2])


def test_collector_state_round_trip(toy_envs):
    envs = toy_envs.count_envs(2, AutoresetMode.NEXT_STEP, limit=3)
    _, collector = collector_for(envs)
    collector.collect(4)
    state = collector.state_dict()
    _, other = collector_for(toy_envs.count_envs(2, AutoresetMode.NEXT_STEP, limit=3))
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.obs, collector.obs)
    for name, array in collector.episodes.state_dict().items():
        np.testing.assert_array_equal(getattr(other.episodes, name), array)
    assert other.num_episodes == collector.num_episodes
    # Both go on to count the same episodes.
    logs = Logger(), Logger()
    collector.logger, other.logger = logs
    collector.collect(5)
    other.collect(5)
    assert list(logs[0].episode_lengths) == list(logs[1].episode_lengths) == [3, 3]
