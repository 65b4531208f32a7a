"""Observation and reward normalisation (common/normalize.py): the statistics are numpy's, rewards
are scaled as a hand computation says, the agent learns on normalised data while reporting the
env's own returns, and the statistics survive save/load/resume and stay frozen in evaluation."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from rlsuite.agents import evaluate, make_agent
from rlsuite.agents.common.normalize import ObservationNormalizer, RewardScaler, RunningMeanStd
from rlsuite.logger import Logger

NORMALIZE = {"normalize_obs": True, "normalize_reward": True}
SMALL = {
    "a2c": {"n_steps": 8},
    "ppo": {"n_steps": 32, "batch_size": 32, "n_epochs": 2},
    "actor-critic": {},
    "reinforce": {},
}


def round_trip(state: dict) -> dict:
    """Through torch.save and torch.load(weights_only=True), as a checkpoint file goes."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def statistics(agent) -> dict:
    """The agent's normalisation statistics as plain numpy, for comparing."""
    out = {}
    if agent.obs_normalizer is not None:
        stats = agent.obs_normalizer.stats
        out["obs"] = (stats.mean.copy(), stats.var.copy(), stats.count)
    if agent.reward_scaler is not None:
        stats = agent.reward_scaler.stats
        out["reward"] = (stats.mean.copy(), stats.var.copy(), stats.count)
        out["returns"] = agent.reward_scaler.returns.copy()
    return out


def assert_same_statistics(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        parts_a, parts_b = (x if isinstance(x, tuple) else (x,) for x in (a[key], b[key]))
        for x, y in zip(parts_a, parts_b, strict=True):
            np.testing.assert_array_equal(x, y, err_msg=key)


def test_running_statistics_equal_numpy_over_the_same_data():
    rng = np.random.default_rng(0)
    data = rng.normal([5.0, -300.0, 0.0], [2.0, 50.0, 1e-3], size=(1000, 3))
    stats = RunningMeanStd((3,))
    for chunk in np.split(data, [1, 8, 9, 200, 201, 700]):  # uneven batches, one of 1 row
        stats.update(chunk)
    assert stats.count == 1000
    np.testing.assert_allclose(stats.mean, data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.var, data.var(axis=0), rtol=1e-10)


def test_observations_are_standardised_and_clipped():
    data = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]], dtype=np.float32)
    normalizer = ObservationNormalizer((2,))
    out = normalizer(data)  # counts the batch, then normalises it
    # column 0: mean 2, var 8/3; column 1 is constant: var 0, so (x - mean) = 0 whatever eps.
    expected = np.array([[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]) / np.sqrt([8 / 3 + 1e-8, 1.0])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    # An outlier far outside what was seen is clipped to +-10; normalize() changes nothing.
    outlier = normalizer.normalize(np.array([[1000.0, -1000.0]], dtype=np.float32))
    np.testing.assert_array_equal(outlier, [[10.0, -10.0]])
    assert normalizer.stats.count == 3


def test_reward_scaling_matches_a_hand_computation():
    gamma = 0.5
    scaler = RewardScaler(num_envs=2, gamma=gamma)
    # Each env's discounted return R <- gamma R + r, worked out by hand; env 0's episode ends at
    # step 2, so its R restarts at step 3.
    rewards = [[1.0, 2.0], [1.0, 0.0], [4.0, 1.0]]
    done = [[False, False], [True, False], [False, False]]
    returns_by_hand = [[1.0, 2.0], [1.5, 1.0], [4.0, 1.5]]
    seen: list[float] = []
    for reward, ended, returns in zip(rewards, done, returns_by_hand, strict=True):
        scaled = scaler(np.array(reward), np.array(ended))
        seen += returns
        std = np.sqrt(np.var(seen) + 1e-8)  # over every return so far, both envs
        np.testing.assert_allclose(scaled, np.array(reward) / std, rtol=1e-6)
    # e.g. the last step: returns {1, 2, 1.5, 1, 4, 1.5}, var 19/18, r = 4 -> 3.8933
    assert scaled[0] == pytest.approx(4 / np.sqrt(19 / 18), rel=1e-6)
    # A first step with no spread yet would divide by sqrt(eps): the clip keeps it at 10.
    fresh = RewardScaler(num_envs=2, gamma=gamma)
    np.testing.assert_array_equal(fresh(np.array([1.0, 1.0]), np.array([False, False])), [10, 10])


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_collector_scales_rewards_per_episode_and_logs_raw_returns(mode, toy_envs):
    # Episodes of 3 steps cut by a time limit (truncated, not terminated), reward 1 per step.
    gamma = 0.9
    logger = Logger()
    agent = make_agent(
        "a2c",
        toy_envs.count_envs(2, mode, limit=3),
        {"n_steps": 12, "gamma": gamma, "normalize_reward": True},
        seed=0,
        logger=logger,
    )
    agent.collector.reset(seed=0)
    batch = agent.collector.collect(12)
    # By hand: R restarts after every truncation, so each episode's R runs 1, 1.9, 2.71 again.
    one_episode = [1.0, 1 + gamma, 1 + gamma + gamma**2]
    seen: list[float] = []
    k = 0
    for t in range(12):
        if not batch.valid[t, 0]:  # NEXT_STEP reset step: no transition, nothing counted
            assert (batch.rewards[t] == 0).all()
            continue
        seen += [one_episode[k % 3]] * 2  # both envs are in step
        std = np.sqrt(np.var(seen) + 1e-8)
        np.testing.assert_allclose(batch.rewards[t], min(1 / std, 10.0), rtol=1e-6)
        k += 1
    assert batch.truncated.any() and not batch.terminated.any()
    assert set(logger.episode_returns) == {3.0}  # the env's own return, not the scaled one


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_batch_holds_normalised_obs_and_truncation_bootstraps_from_normalised_final_obs(
    mode, toy_envs
):
    agent = make_agent(
        "a2c", toy_envs.count_envs(2, mode, limit=3), {"n_steps": 8, "normalize_obs": True}
    )
    agent.collector.reset(seed=0)
    agent.collector.collect(8)  # statistics of the counts 0..3
    agent.obs_normalizer.training = False  # frozen from here: every number below is exact
    batch = agent.collector.collect(8)
    stats = agent.obs_normalizer.stats
    raw = batch.obs * np.sqrt(stats.var + 1e-8) + stats.mean  # undo the normalisation
    assert set(np.round(raw.reshape(-1), 4)) <= {0.0, 1.0, 2.0, 3.0}
    assert abs(batch.obs.mean()) < 1.0 and batch.obs.dtype == np.float32
    # At a truncation the episode's final observation is [3]; V is taken of it normalised.
    final = np.array([[3.0]], dtype=np.float32)
    value_normalised = agent.policy.heads_numpy(agent.obs_normalizer.normalize(final))[1][0]
    value_raw = agent.policy.heads_numpy(final)[1][0]
    assert abs(value_normalised - value_raw) > 1e-3  # the test can tell them apart
    t, i = np.argwhere(batch.truncated)[0]
    assert batch.next_values[t, i] == pytest.approx(value_normalised, abs=1e-5)


def test_image_observations_are_not_normalised(toy_envs):
    with pytest.raises(ValueError, match="image observations"):
        make_agent("ppo", toy_envs.images(2), {"normalize_obs": True})
    agent = make_agent("ppo", toy_envs.images(2), {"n_steps": 8, "normalize_reward": True})
    agent.learn(32)  # reward scaling alone works on pixels
    assert agent.obs_normalizer is None and agent.reward_scaler.stats.count > 0


@pytest.mark.parametrize("vectorization", ["vector_entry_point", "sync", "async"])
def test_learns_on_every_kind_of_vector_env(vectorization):
    envs = gym.make_vec("CartPole-v1", 2, vectorization_mode=vectorization)
    try:
        agent = make_agent("ppo", envs, {**SMALL["ppo"], **NORMALIZE}, seed=0)
        agent.learn(128)
        # Every observation the policy acted in was counted once: 2 rollouts x 32 steps x 2 envs.
        assert agent.obs_normalizer.stats.count == 128
        assert agent.reward_scaler.stats.count > 0
    finally:
        envs.close()


@pytest.mark.parametrize("name", ["a2c", "ppo", "actor-critic", "reinforce"])
def test_statistics_survive_save_load_and_resume_exactly(name, toy_envs):
    """A: learn(N+M) at once. B: learn(N), state through torch.save/load(weights_only); C: a fresh
    agent on B's env loads it and learns to N+M. C's statistics and weights equal A's."""
    overrides = {**SMALL[name], **NORMALIZE, "lr_schedule": "constant"}
    a = make_agent(name, toy_envs.cartpole(2), overrides, seed=3)
    a.learn(1200)
    env_b = toy_envs.cartpole(2)
    b = make_agent(name, env_b, overrides, seed=3)
    b.learn(500)
    state = round_trip(b.state_dict())
    c = make_agent(name, env_b, overrides, seed=99)
    c.load_state_dict(state)
    assert_same_statistics(statistics(c), statistics(b))
    c.learn(1200)
    assert_same_statistics(statistics(c), statistics(a))
    for p, q in zip(a.policy.parameters(), c.policy.parameters(), strict=True):
        assert torch.equal(p, q)


def test_statistics_stay_frozen_in_evaluation_and_predict_uses_them(toy_envs):
    agent = make_agent("ppo", toy_envs.cartpole(2), {**SMALL["ppo"], **NORMALIZE}, seed=0)
    agent.learn(256)
    before = statistics(agent)
    evaluate(agent, toy_envs.cartpole(2), episodes=4)
    assert_same_statistics(statistics(agent), before)
    # predict acts on normalised observations: the same action as the policy given them.
    obs = np.array([[0.0, 1.5, -0.1, -2.0], [0.1, -1.0, 0.05, 1.0]], dtype=np.float32)
    normalised = agent.obs_normalizer.normalize(obs)
    logits, _ = agent.policy.heads_numpy(normalised)
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True), logits.argmax(axis=1))
    assert_same_statistics(statistics(agent), before)


def test_rlsuite_train_and_resume_keep_the_statistics(tmp_path):
    """`rlsuite train` to 512 steps, `--resume` to 1024: the checkpoint's statistics equal those
    of one uninterrupted run to 1024 (saved, restored, and counted once per env step)."""
    from rlsuite.cli import main

    def statistics_in(run_dir) -> dict:
        checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
        return checkpoint["agent"]["normalization"]

    args = ["train", "CartPole-v1", "--agent", "ppo", "--seed", "1", "--no-progress"]
    args += ["--set", "normalize_obs=true", "--set", "normalize_reward=true"]
    args += ["--set", "lr_schedule=constant", "--set", "n_steps=32"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert main([*args, "--steps", "1024", "--run-dir", str(whole)]) == 0
    assert main([*args, "--steps", "512", "--run-dir", str(resumed)]) == 0
    assert statistics_in(resumed)["obs"]["stats"]["count"] == 512
    assert main(["train", "--resume", str(resumed), "--steps", "1024", "--no-progress"]) == 0
    for part in ("obs", "reward"):
        ours, theirs = statistics_in(resumed)[part]["stats"], statistics_in(whole)[part]["stats"]
        assert ours["count"] == theirs["count"] > 0
        assert torch.equal(ours["mean"], theirs["mean"])
        assert torch.equal(ours["var"], theirs["var"])
