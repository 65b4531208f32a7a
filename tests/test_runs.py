"""rlsuite.runs: env state capture/restore, config resolution, checkpoint files."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlsuite import envstate, runs
from rlsuite.runs import RlsuiteError


def roundtrip(value):
    """Through torch.save / torch.load(weights_only=True), as a checkpoint goes."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def play(envs: gym.vector.VectorEnv, actions: np.ndarray) -> list:
    """Step through `actions` (T, N); everything the env returned, for exact comparison."""
    out = []
    for action in actions:
        obs, reward, terminated, truncated, _ = envs.step(action)
        out.append((obs.copy(), reward.copy(), terminated.copy(), truncated.copy()))
    return out


VECTOR_ENVS = {
    "native CartPoleVectorEnv": lambda: gym.make_vec("CartPole-v1", 4, "vector_entry_point"),
    "Sync TimeLimit(CartPole)": lambda: gym.make_vec("CartPole-v1", 4, "sync"),
    "Sync with NormalizeObservation": lambda: gym.make_vec(
        "MountainCar-v0", 3, "sync", wrappers=[gym.wrappers.NormalizeObservation]
    ),
    "rlsuite native KeyDoor": lambda: gym.make_vec(
        "rlsuite/KeyDoor-5x5-v0", 4, "vector_entry_point"
    ),
    "rlsuite Sync Invaders": lambda: gym.make_vec("rlsuite/Invaders-v0", 2, "sync"),
}


@pytest.mark.parametrize("make", VECTOR_ENVS.values(), ids=VECTOR_ENVS.keys())
def test_restored_env_continues_exactly(make):
    original = make()
    original.reset(seed=3)
    space = original.action_space
    warmup = np.array([space.sample() for _ in range(300)])  # crosses episode ends
    play(original, warmup)
    state = roundtrip(envstate.capture_env_state(original))

    restored = make()
    restored.reset(seed=12345)  # a different start: everything must come from `state`
    assert envstate.restore_env_state(restored, state) == []
    actions = np.array([space.sample() for _ in range(300)])
    assert all(
        all(np.array_equal(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(play(original, actions), play(restored, actions), strict=True)
    )


def test_async_env_state_is_not_captured():
    envs = gym.make_vec("CartPole-v1", 2, "async")
    try:
        assert envstate.capture_env_state(envs) is None
    finally:
        envs.close()


def test_encode_keeps_dtypes_generators_and_aliases():
    shared = np.arange(3, dtype=np.uint64)
    holder = type("Holder", (), {})()
    holder.a, holder.b = shared, shared
    holder.gen = np.random.default_rng(7)
    holder.scalar = np.float32(1.5)
    holder.nested = {"x": [np.int8(3), (1, "s")], 2: None}
    state = roundtrip(envstate.capture_env_state(holder))
    expected = holder.gen.random(3)
    holder.gen = np.random.default_rng(0)
    holder.a = holder.b = np.zeros(3, dtype=np.uint64)
    holder.scalar, holder.nested = None, None
    assert envstate.restore_env_state(holder, state) == []
    assert holder.a is holder.b and holder.a.dtype == np.uint64 and list(holder.a) == [0, 1, 2]
    assert np.array_equal(holder.gen.random(3), expected)
    assert type(holder.scalar) is np.float32 and holder.nested == {"x": [3, (1, "s")], 2: None}


def test_checkpoint_writes_atomically_and_loads_safely(tmp_path):
    path = tmp_path / "last.pt"
    payload = {"format": runs.CHECKPOINT_FORMAT, "format_version": 1, "w": torch.ones(2)}
    runs.save_checkpoint(payload, path, tmp_path / "step_1.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "step_1.pt"]
    assert torch.equal(runs.load_checkpoint(path)["w"], torch.ones(2))
    with pytest.raises(RlsuiteError, match="newer rlsuite"):
        runs.save_checkpoint({**payload, "format_version": 99}, path)
        runs.load_checkpoint(path)
    torch.save({"w": 1}, path)
    with pytest.raises(RlsuiteError, match="not an rlsuite checkpoint"):
        runs.load_checkpoint(path)


def test_config_precedence_file_then_options_then_set(tmp_path):
    config_file = tmp_path / "c.json"
    config_file.write_text(
        '{"agent": "a2c", "env_id": "Acrobot-v1", "seed": 4, "steps": 1000, '
        '"agent_config": {"learning_rate": 0.1, "n_envs": 3}}'
    )
    config = runs.resolve_config(
        steps=2000, config_file=config_file, settings=["learning_rate=0.2", "steps=1e4"]
    )
    assert (config.env_id, config.agent, config.seed, config.steps) == (
        "Acrobot-v1",
        "a2c",
        4,
        10_000,
    )
    assert config.agent_config["learning_rate"] == 0.2 and config.n_envs == 3
    assert config.vec == "sync"  # Acrobot registers no native vector env
    assert config.eval_every == 1000 and config.checkpoint_every == 1000  # ten per run


def test_config_yaml_is_valid_config_input(tmp_path):
    config = runs.resolve_config("CartPole-v1", "ppo", settings=["hidden_sizes=32,32"])
    runs.write_config(tmp_path, config)
    again = runs.resolve_config(config_file=tmp_path / "config.yaml")
    assert again == config and again.vec == "vector_entry_point"


def test_defaults_come_from_the_agent_config():
    from rlsuite.agents import AGENTS

    config = runs.resolve_config(default_env_id="CartPole-v1", default_agent="a2c")
    assert config.steps == AGENTS["a2c"].Config().default_steps
    assert config.n_envs == AGENTS["a2c"].Config().n_envs
