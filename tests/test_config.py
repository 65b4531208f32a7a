"""rlsuite.config: where a run's settings come from, and one check of every setting's kind."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml

from rlsuite.agents import AGENTS, make_agent, make_config
from rlsuite.config import RunConfig, read_config_file, resolve_config
from rlsuite.errors import ConfigError
from rlsuite.runs import write_config


def test_config_precedence_file_then_options_then_set(tmp_path):
    config_file = tmp_path / "c.json"
    config_file.write_text(
        '{"agent": "a2c", "env_id": "Acrobot-v1", "seed": 4, "steps": 1000, "n_envs": 3, '
        '"agent_config": {"learning_rate": 0.1, "n_steps": 7}}'
    )
    config = resolve_config(
        steps=2000, config_file=config_file, settings=["learning_rate=0.2", "steps=1e4"]
    )
    assert (config.env_id, config.agent, config.seed, config.steps) == (
        "Acrobot-v1",
        "a2c",
        4,
        10_000,
    )
    assert config.agent_config["learning_rate"] == 0.2 and config.agent_config["n_steps"] == 7
    assert config.n_envs == 3
    assert config.vec == "sync"  # Acrobot registers no native vector env
    assert config.eval_every == 1000 and config.checkpoint_every == 1000  # ten per run


def test_config_yaml_is_valid_config_input(tmp_path):
    config = resolve_config("CartPole-v1", "ppo", settings=["hidden_sizes=32,32"])
    write_config(tmp_path, config)
    again = resolve_config(config_file=tmp_path / "config.yaml")
    assert again == config and again.vec == "vector_entry_point"
    assert again.agent_config["hidden_sizes"] == (32, 32)


def test_defaults_come_from_the_agent_and_the_run_config():
    # MountainCar-v0 has no per-task entry (rlsuite/hyperparams/): the agent's own defaults.
    config = resolve_config(default_env_id="MountainCar-v0", default_agent="a2c")
    assert config.steps == AGENTS["a2c"].default_steps
    assert config.n_envs == 8 and config.torch_threads == 1
    assert "n_envs" not in config.agent_config  # a run setting, not the algorithm's


def test_agent_names_ignore_case():
    assert resolve_config("CartPole-v1", "PPO").agent == "ppo"
    assert resolve_config("CartPole-v1", "Actor_Critic").agent == "actor-critic"
    assert make_config("A2C").n_steps == AGENTS["a2c"].Config().n_steps


def test_an_older_config_yaml_with_run_settings_in_agent_config_is_read(tmp_path):
    """rlsuite 0.1 kept n_envs, default_steps and torch_threads in agent_config."""
    config = resolve_config("CartPole-v1", "a2c")
    old = config.to_dict()
    del old["n_envs"], old["torch_threads"]
    old["agent_config"].update(n_envs=4, default_steps=500_000, torch_threads=2)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    again = resolve_config(config_file=tmp_path / "config.yaml")
    assert (again.n_envs, again.torch_threads) == (4, 2)
    assert again.agent_config == config.agent_config
    upgraded = RunConfig.from_dict(old)  # as resume and eval read an old checkpoint's config
    assert upgraded.to_dict() == dataclasses.replace(config, n_envs=4, torch_threads=2).to_dict()
    assert read_config_file(tmp_path / "config.yaml")["n_envs"] == 4


@pytest.mark.parametrize("agent", ["a2c", "ppo"])
@pytest.mark.parametrize("key, old_default", [("curiosity_epochs", 1), ("intrinsic_coef", 1.0)])
def test_an_older_config_with_an_old_curiosity_default_is_read(agent, key, old_default):
    """Configs saved before curiosity_epochs and intrinsic_coef defaulted to none hold their old
    defaults: unused without curiosity (dropped on reading), kept with it (resume stays exact)."""
    plain = resolve_config("CartPole-v1", agent).to_dict()
    plain["agent_config"][key] = old_default
    assert key not in RunConfig.from_dict(plain).agent_config
    curious = resolve_config("CartPole-v1", agent, settings=["curiosity=icm"]).to_dict()
    curious["agent_config"][key] = old_default
    assert RunConfig.from_dict(curious).agent_config[key] == old_default


def test_a_curious_config_saved_before_intrinsic_schedule_keeps_a_constant_weight(tmp_path):
    """Runs saved before ICM's weight fell linearly ran with it constant: they resume so; a
    config file written by hand with the same settings gets the kind's own schedule."""
    saved = resolve_config("rlsuite/KeyDoor-8x8-v0", "ppo", settings=["curiosity=icm"]).to_dict()
    del saved["agent_config"]["intrinsic_schedule"]
    assert RunConfig.from_dict(saved).agent_config["intrinsic_schedule"] == "constant"
    by_hand = {"agent": "ppo", "agent_config": {"curiosity": "icm", "intrinsic_coef": 0.5}}
    (tmp_path / "icm.yaml").write_text(yaml.safe_dump(by_hand))
    again = resolve_config("rlsuite/KeyDoor-8x8-v0", config_file=tmp_path / "icm.yaml")
    assert again.agent_config.get("intrinsic_schedule") is None  # ICM's own: linear


def test_every_agent_setting_declares_a_kind():
    for name, cls in AGENTS.items():
        for field in dataclasses.fields(cls.Config):
            assert "kind" in field.metadata, (name, field.name)
        assert cls.default_steps > 0


# One case per kind of setting: (agent, key, value, message).
BAD_SETTINGS = [
    ("a2c", "n_steps", "0", "n_steps must be a positive integer, not 0"),
    ("a2c", "n_steps", "1.5", "n_steps must be a positive integer, not 1.5"),
    ("ppo", "n_epochs", "0", "n_epochs must be a positive integer, not 0"),
    ("ppo", "gamma", "1.5", "gamma must be a number from 0 to 1, not 1.5"),
    ("ppo", "learning_rate", "-1e-3", "learning_rate must be a positive number, not -1e-3"),
    ("ppo", "learning_rate", "nan", "learning_rate must be a positive number, not nan"),
    ("a2c", "ent_coef", "-0.1", "ent_coef must be a number >= 0, not -0.1"),
    ("ppo", "target_kl", "0", "target_kl must be a positive number or none, not 0"),
    ("a2c", "hidden_sizes", "0", "hidden_sizes must be one or more positive integers"),
    ("a2c", "hidden_sizes", "64,x", "hidden_sizes must be one or more positive integers"),
    ("a2c", "hidden_sizes", "[64", "hidden_sizes must be one or more positive integers"),
    ("a2c", "lr_schedule", "cosine", "lr_schedule must be one of constant, linear, not 'cosine'"),
    ("ppo", "activation", "gelu", "activation must be one of tanh, relu, not 'gelu'"),
    ("reinforce", "return_type", "all", "return_type must be one of total, reward_to_go"),
    ("a2c", "normalize_advantage", "2", "normalize_advantage must be true or false, not 2"),
    ("a2c", "rms_alpha", "1", "rms_alpha must be a number from 0 up to (not including) 1"),
]


@pytest.mark.parametrize("agent, key, value, message", BAD_SETTINGS)
def test_a_bad_setting_is_refused_alike_from_text_and_from_python(agent, key, value, message):
    with pytest.raises(ConfigError) as from_text:
        resolve_config("CartPole-v1", agent, settings=[f"{key}={value}"])
    assert str(from_text.value).startswith(message)
    # A Python user gets the same message, as a ValueError, from make_config and from Config().
    python_value = yaml.safe_load(value) if key != "hidden_sizes" else value
    what = "^" + re.escape(message.split(", not")[0])
    with pytest.raises(ValueError, match=what):
        make_config(agent, {key: python_value})
    with pytest.raises(ValueError, match=what):
        AGENTS[agent].Config(**{key: python_value})


def test_python_values_are_checked_without_text():
    with pytest.raises(ValueError, match="n_steps must be a positive integer, not 1.5"):
        AGENTS["a2c"].Config(n_steps=1.5)
    with pytest.raises(
        ValueError, match="shared_trunk must be true or false or none, not 'yes please'"
    ):
        AGENTS["ppo"].Config(shared_trunk="yes please")
    assert AGENTS["ppo"].Config(learning_rate=1).learning_rate == 1.0  # an int is a number
    assert AGENTS["a2c"].Config(hidden_sizes=[32]).hidden_sizes == (32,)
    for text in ("64,64", "64 64", "[64, 64]", "(64,64)"):
        assert AGENTS["a2c"].Config(hidden_sizes=text).hidden_sizes == (64, 64)


@pytest.mark.parametrize(
    "settings, message",
    [
        (["n_envs=0"], "n_envs must be a positive integer, not 0"),
        (["seed=-1"], "seed must be 0 or a positive integer, not -1"),
        (["steps=0"], "steps must be a positive integer, not 0"),
        (["eval_every=-5"], "eval_every must be 0 or a positive integer, not -5"),
        (["eval_episodes=0"], "eval_episodes must be a positive integer, not 0"),
        (["torch_threads=0"], "torch_threads must be a positive integer, not 0"),
        (["vec=threads"], "vec must be one of auto, sync, async, vector_entry_point"),
    ],
)
def test_bad_run_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match="^" + message):
        resolve_config("CartPole-v1", "a2c", settings=settings)


def test_make_agent_refuses_run_settings_with_a_hint():
    with pytest.raises(ValueError, match="n_envs is a run setting"):
        make_config("a2c", {"n_envs": 2})
    with pytest.raises(ValueError, match="unknown agent 'dqn'"):
        make_agent("dqn", None)
