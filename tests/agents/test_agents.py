"""Every agent on the behaviours a user relies on: it trains on vectors and images, with discrete
and continuous actions, acts with the right shapes, is reproducible, resumes exactly, and fails
clearly. Real (tiny) training, no mocks."""

from __future__ import annotations

import dataclasses
import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlsuite import logger as tags
from rlsuite.agents import (
    AGENTS,
    NonFiniteLossError,
    UnsupportedSpaceError,
    evaluate,
    make_agent,
    make_config,
)
from rlsuite.logger import Logger

# The RL agents; the imitation agents (they need demonstrations) have tests/agents/imitation.
NAMES = [name for name, cls in AGENTS.items() if not cls.uses_demos]
# Small settings per agent so one learn() of a few hundred steps runs several updates.
SMALL = {
    "reinforce": {},
    "actor-critic": {},
    "a2c": {"n_steps": 8},
    "ppo": {"n_steps": 32, "batch_size": 32, "n_epochs": 2},
}


def parameters(agent) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in agent.policy.parameters()])


def test_registry_names_and_contract():
    assert set(NAMES) == {"reinforce", "actor-critic", "a2c", "ppo"}
    assert set(AGENTS) - set(NAMES) == {"bc", "dagger", "gail", "airl", "maxent-irl"}
    for name, cls in AGENTS.items():
        config = cls.Config()
        assert cls.name == name and "\n" not in cls.description and cls.default_steps > 0
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.gamma = 0.5


def test_agent_names_ignore_case_and_bad_settings_are_value_errors(toy_envs):
    assert type(make_agent("PPO", toy_envs.cartpole(2), SMALL["ppo"])).__name__ == "PPO"
    with pytest.raises(ValueError, match="^n_steps must be a positive integer, not 0$"):
        make_agent("a2c", toy_envs.cartpole(2), {"n_steps": 0})
    with pytest.raises(ValueError, match="n_envs is a run setting"):
        make_agent("a2c", toy_envs.cartpole(2), {"n_envs": 2})


def test_make_config_converts_command_line_strings():
    config = make_config("ppo", {"learning_rate": "1e-3", "n_steps": "64", "target_kl": "0.02"})
    assert config.learning_rate == 1e-3 and config.n_steps == 64 and config.target_kl == 0.02
    config = make_config("a2c", {"hidden_sizes": "32,32", "normalize_advantage": "true"})
    assert config.hidden_sizes == (32, 32) and config.normalize_advantage is True
    assert make_config("actor-critic", {"critic": "mc"}).critic == "mc"
    with pytest.raises(ValueError, match="no setting"):
        make_config("a2c", {"learning_rat": 1e-3})
    with pytest.raises(ValueError, match="critic"):
        make_config("actor-critic", {"critic": "sarsa"})


@pytest.mark.parametrize("name", NAMES)
def test_learns_on_cartpole_and_logs(name, toy_envs):
    logger = Logger()
    agent = make_agent(name, toy_envs.cartpole(2), SMALL[name], seed=0, logger=logger)
    before = parameters(agent)
    calls = []
    agent.learn(600, callback=lambda a: calls.append(a.num_steps) is None)
    assert agent.num_steps >= 600 and agent.num_updates == len(calls) > 1
    assert calls == sorted(calls)  # the callback runs after every update
    assert not torch.equal(before, parameters(agent))
    assert agent.num_episodes > 0 and len(logger.episode_returns) == agent.num_episodes
    assert tags.POLICY_LOSS in logger.latest and tags.LEARNING_RATE in logger.latest
    if agent.uses_critic:
        assert tags.VALUE_LOSS in logger.latest and tags.EXPLAINED_VARIANCE in logger.latest
    actions = agent.predict(np.zeros((3, 4), np.float32), deterministic=True)
    assert actions.shape == (3,) and actions.dtype == np.int64
    assert set(agent.predict(np.zeros((5, 4), np.float32)).tolist()) <= {0, 1}


@pytest.mark.parametrize("name", NAMES)
def test_logs_the_gradient_norm_before_clipping(name, toy_envs):
    """train/grad_norm is the norm the clip saw, so a user can tell how often it bites: with a
    tiny max_grad_norm every step is clipped, and the logged norm stays the unclipped one."""
    logger = Logger()
    settings = {**SMALL[name], "max_grad_norm": 1e-6}
    agent = make_agent(name, toy_envs.cartpole(2), settings, seed=0, logger=logger)
    agent.learn(300)
    assert logger.latest[tags.GRAD_NORM] > 1e-3


def test_callback_returning_false_stops_learning(toy_envs):
    agent = make_agent("a2c", toy_envs.cartpole(2), SMALL["a2c"], seed=0)
    agent.learn(10_000, callback=lambda a: a.num_updates < 3)
    assert agent.num_updates == 3


@pytest.mark.parametrize("name", NAMES)
def test_box_actions_on_pendulum(name, toy_envs):
    envs = toy_envs.pendulum(2)
    agent = make_agent(name, envs, SMALL[name], seed=0)
    agent.learn(400)
    obs, _ = envs.reset(seed=1)
    actions = agent.predict(obs)
    assert actions.shape == (2, 1) and actions.dtype == np.float32
    assert envs.single_action_space.contains(actions[0])  # clipped to [-2, 2]
    wide = agent.predict(obs * 1000.0)  # even for absurd inputs
    assert np.all(np.abs(wide) <= 2.0)


@pytest.mark.parametrize("name", NAMES)
def test_image_observations_use_a_cnn(name, toy_envs):
    envs = toy_envs.images(2)
    fields = {f.name for f in dataclasses.fields(AGENTS[name].Config)}
    overrides = {**SMALL[name], "n_steps": 8, "batch_size": 8}
    overrides = {k: v for k, v in overrides.items() if k in fields}
    agent = make_agent(name, envs, overrides, seed=0)
    assert type(agent.policy.encoder).__name__ == "CNNEncoder"
    agent.learn(48)
    obs, _ = envs.reset(seed=0)
    assert obs.dtype == np.uint8 and agent.predict(obs).shape == (2,)


def test_image_observations_with_box_actions(toy_envs):
    envs = toy_envs.images(2, continuous=True)
    agent = make_agent("ppo", envs, {"n_steps": 8, "batch_size": 8}, seed=0)
    agent.learn(32)
    obs, _ = envs.reset(seed=0)
    assert agent.predict(obs).shape == (2, 2)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_parameters(name, toy_envs):
    runs = []
    for seed in (7, 7, 8):
        agent = make_agent(name, toy_envs.cartpole(2), SMALL[name], seed=seed)
        agent.learn(500)
        runs.append(parameters(agent))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("interrupt", ["learn(N)", "callback"])
def test_resume_is_exact(name, interrupt, toy_envs):
    """A: learn(N+M) in one go. B: learn(N), checkpoint through torch.save/load(weights_only).
    C: a fresh agent on B's env (the runner restores the env's state), learn(N+M). A == C."""
    overrides = dict(SMALL[name])
    if interrupt == "learn(N)":
        overrides["lr_schedule"] = "constant"  # a linear schedule depends on the total given
    n_plus_m = 1200
    a = make_agent(name, toy_envs.cartpole(2), overrides, seed=3, logger=Logger())
    a.learn(n_plus_m)

    env_b = toy_envs.cartpole(2)
    b = make_agent(name, env_b, overrides, seed=3, logger=Logger())
    if interrupt == "learn(N)":
        b.learn(500)
    else:  # as the runner's Ctrl-C: the callback stops after an update
        b.learn(n_plus_m, callback=lambda agent: agent.num_steps < 500)
    assert 500 <= b.num_steps < n_plus_m
    buffer = io.BytesIO()
    torch.save(b.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)

    c = make_agent(name, env_b, overrides, seed=12345, logger=Logger())
    c.load_state_dict(state)
    c.learn(n_plus_m)
    assert c.num_steps == a.num_steps and c.num_updates == a.num_updates
    assert c.num_episodes == a.num_episodes
    assert torch.equal(parameters(a), parameters(c))
    assert list(c.logger.episode_returns) == list(a.logger.episode_returns)


@pytest.mark.parametrize("name", NAMES)
def test_nan_loss_raises_before_the_step(name, toy_envs):
    agent = make_agent(name, toy_envs.nan_reward_cartpole(2), SMALL[name], seed=0)
    before = parameters(agent)
    with pytest.raises(NonFiniteLossError, match="learning_rate"):
        agent.learn(2000)
    assert torch.equal(before, parameters(agent))


def test_huge_learning_rate_leaves_finite_parameters(toy_envs):
    agent = make_agent("a2c", toy_envs.cartpole(2), {**SMALL["a2c"], "learning_rate": 1e30}, seed=0)
    try:
        agent.learn(3000)
    except NonFiniteLossError:
        pass
    assert torch.isfinite(parameters(agent)).all()


@pytest.mark.parametrize("name", NAMES)
def test_unsupported_action_space(name, toy_envs):
    with pytest.raises(UnsupportedSpaceError, match="MultiDiscrete"):
        make_agent(name, toy_envs.multidiscrete(), {}, seed=0)
    with pytest.raises(ValueError, match="MultiDiscrete"):  # what a Python user would catch
        make_agent(name, toy_envs.multidiscrete(), {}, seed=0)


def test_evaluate_runs_whole_episodes(toy_envs):
    agent = make_agent("a2c", toy_envs.cartpole(2), SMALL["a2c"], seed=0)
    result = evaluate(agent, toy_envs.cartpole(3), episodes=7, deterministic=True, seed=0)
    assert result["episodes"] == 7 and result["success_rate"] is None
    assert result["mean_return"] == result["mean_length"] > 0
    again = evaluate(agent.predict, "CartPole-v1", episodes=7, deterministic=True, seed=0)
    assert again["episodes"] == 7


def test_state_dict_is_plain_data(toy_envs):
    agent = make_agent("ppo", toy_envs.cartpole(2), SMALL["ppo"], seed=0, logger=Logger())
    agent.learn(100)
    allowed = (torch.Tensor, int, float, bool, str, type(None))

    def check(tree):
        if isinstance(tree, dict):
            for key, value in tree.items():
                check(key)
                check(value)
        elif isinstance(tree, (list, tuple)):
            for value in tree:
                check(value)
        else:
            assert isinstance(tree, allowed), type(tree)

    check(agent.state_dict())


def test_predict_accepts_single_env_spaces(toy_envs):
    env = gym.make("CartPole-v1")
    agent = make_agent("reinforce", toy_envs.cartpole(2), {}, seed=0)
    obs, _ = env.reset(seed=0)
    action = agent.predict(obs[None], deterministic=True)[0]
    assert env.action_space.contains(action)
    _, reward, *_ = env.step(action)
    assert reward == 1.0  # CartPole's first step is always alive
