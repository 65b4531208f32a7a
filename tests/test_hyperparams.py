"""Per-task hyperparameters (rlsuite/hyperparams/<agent>.yaml): found, applied, overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlsuite import hyperparams
from rlsuite.config import resolve_config
from rlsuite.envs import game_ids
from rlsuite.errors import ConfigError


def test_an_entry_is_applied_and_named() -> None:
    config = resolve_config("Pendulum-v1", "ppo")
    entry = hyperparams.lookup("ppo", "Pendulum-v1")
    assert entry is not None and entry.steps == config.steps
    assert config.n_envs == entry.settings["n_envs"]
    assert config.agent_config["gamma"] == entry.settings["gamma"]
    assert config.hyperparams == "rlsuite/hyperparams/ppo.yaml [Pendulum-v1]"


def test_command_line_settings_override_the_entry() -> None:
    config = resolve_config(
        "Pendulum-v1", "ppo", steps=4096, n_envs=2, settings=["gamma=0.95", "n_steps=64"]
    )
    assert (config.steps, config.n_envs) == (4096, 2)
    assert config.agent_config["gamma"] == 0.95 and config.agent_config["n_steps"] == 64


def test_an_id_without_entry_uses_the_agents_defaults() -> None:
    config = resolve_config("MountainCar-v0", "ppo")
    assert config.hyperparams == ""
    assert config.agent_config == resolve_config("MountainCar-v0", "PPO").agent_config


def test_defaults_skip_the_entry() -> None:
    # `rlsuite train Pendulum-v1 --defaults`: what an id without an entry would get.
    config = resolve_config("Pendulum-v1", "ppo", per_task=False)
    assert config.hyperparams == ""
    assert config.agent_config == resolve_config("MountainCar-v0", "ppo").agent_config
    assert config.agent_config != resolve_config("Pendulum-v1", "ppo").agent_config


@pytest.mark.parametrize("agent", ["ppo", "a2c"])
@pytest.mark.parametrize("obs_mode", ["symbolic", "pixels"])
def test_every_game_has_an_entry_in_both_observation_modes(agent: str, obs_mode: str) -> None:
    for env_id in game_ids():
        config = resolve_config(env_id, agent, env_kwargs=[f"obs_mode={obs_mode}"])
        assert config.hyperparams.startswith(f"rlsuite/hyperparams/{agent}.yaml [{env_id}")
        assert config.env_kwargs["obs_mode"] == obs_mode


def test_obs_mode_overrides_apply_to_their_mode_only(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ppo.yaml").write_text(
        "Game-v0:\n  n_steps: 64\n  env_kwargs: {reward_mode: shaped}\n"
        "  pixels:\n    n_steps: 32\n    env_kwargs: {frame_stack: 4}\n"
    )
    monkeypatch.setattr(hyperparams, "HYPERPARAMS_DIR", tmp_path)
    symbolic = hyperparams.lookup("ppo", "Game-v0", "symbolic")
    pixels = hyperparams.lookup("ppo", "Game-v0", "pixels")
    assert symbolic.settings == {"n_steps": 64} and symbolic.env_kwargs == {"reward_mode": "shaped"}
    assert pixels.settings == {"n_steps": 32}
    assert pixels.env_kwargs == {"reward_mode": "shaped", "frame_stack": 4}
    assert pixels.describe().endswith("[Game-v0, pixels]")


def test_a_malformed_file_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ppo.yaml").write_text("CartPole-v1: [1, 2\n")
    monkeypatch.setattr(hyperparams, "HYPERPARAMS_DIR", tmp_path)
    with pytest.raises(ConfigError, match="ppo.yaml is not valid YAML"):
        resolve_config("CartPole-v1", "ppo")


def test_shaping_uses_the_agents_discount() -> None:
    config = resolve_config(
        "rlsuite/KeyDoor-5x5-v0", "ppo", settings=["gamma=0.97"], env_kwargs=["obs_mode=symbolic"]
    )
    assert config.env_kwargs["shaping_gamma"] == 0.97
    with pytest.raises(ConfigError, match="shaping_gamma=0.9 differs from the agent's gamma"):
        resolve_config("rlsuite/KeyDoor-5x5-v0", "ppo", env_kwargs=["shaping_gamma=0.9"])
    with pytest.raises(ConfigError, match="shaping_gamma must be a number from 0 to 1, not 'abc'"):
        resolve_config("rlsuite/KeyDoor-5x5-v0", "ppo", env_kwargs=["shaping_gamma=abc"])


def test_a_bad_budget_in_an_entry_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ppo.yaml").write_text("CartPole-v1:\n  n_timesteps: lots\n")
    monkeypatch.setattr(hyperparams, "HYPERPARAMS_DIR", tmp_path)
    with pytest.raises(ConfigError, match="steps must be a positive integer, not 'lots'"):
        resolve_config("CartPole-v1", "ppo")
