"""One encoder interface; pretrained encoders inside agents: frozen, saved, loaded, resumed."""

from __future__ import annotations

import shutil

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlsuite
from rlsuite.agents import make_agent
from rlsuite.cli import main
from rlsuite.errors import RlsuiteError
from rlsuite.supervised.encoders import (
    build_encoder,
    cell_spec,
    default_spec,
    keypoint_spec,
    load_encoder,
    read_encoder,
    save_encoder,
    standardize,
)
from rlsuite.vector import make_vector_env

GAME = "rlsuite/KeyDoor-5x5-v0"


def run_rlsuite(capsys, *args: str) -> tuple[int, str]:
    """`rlsuite ARGS` in this process (no torch import to wait for); exit code and stderr."""
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("shape", [(8, 8, 1), (64, 64, 3), (64, 64, 6)])
def test_every_encoder_takes_observations_and_gives_features_of_its_size(shape):
    encoder = build_encoder(default_spec(shape))
    frames = torch.randint(0, 256, (5, *shape), dtype=torch.uint8)
    features = encoder(frames)
    assert features.shape == (5, encoder.out_dim)
    assert tuple(encoder.obs_shape) == shape
    torch.testing.assert_close(encoder(frames.float()), features)  # uint8 or float, same units


def test_the_cell_map_encoder_gives_each_grid_cell_its_own_features():
    # KeyDoor-8x8's 64x64 frames, 2 stacked: cells of 8 pixels -> an 8x8 map of 16 features.
    encoder = build_encoder(cell_spec((64, 64, 6), cell=8))
    assert encoder.out_dim == 8 * 8 * 16
    frames = torch.randint(0, 256, (2, 64, 64, 6), dtype=torch.uint8)
    changed = frames.clone()
    changed[:, 16:24, 40:48] = 255 - changed[:, 16:24, 40:48]  # the pixels of cell (2, 5) only
    difference = (encoder(changed) - encoder(frames)).view(2, 8, 8, 16).abs().sum(dim=(0, 3))
    assert difference[2, 5] > 0
    difference[2, 5] = 0
    assert difference.sum() == 0  # every other cell's features are untouched: where is kept


def test_a_cell_that_does_not_divide_the_frame_is_one_clear_error():
    with pytest.raises(RlsuiteError, match="cell=7 must divide the 64x64 frames"):
        build_encoder(cell_spec((64, 64, 3), cell=7))


def test_a_saved_encoder_round_trips_through_a_weights_only_file(tmp_path):
    encoder = build_encoder(default_spec((64, 64, 3)))
    path = save_encoder(encoder, tmp_path / "encoder.pt", {"method": "ae"})
    torch.load(path, weights_only=True)  # nothing in it can run code
    loaded = load_encoder(tmp_path)  # the run folder, or the file
    frames = torch.randint(0, 256, (4, 64, 64, 3), dtype=torch.uint8)
    torch.testing.assert_close(loaded(frames), encoder(frames))
    assert read_encoder(path)["source"] == {"method": "ae"}


def test_a_standardised_encoder_keeps_its_statistics_through_its_file(tmp_path):
    torch.manual_seed(0)
    frames = torch.randint(0, 256, (64, 64, 64, 3), dtype=torch.uint8).numpy()
    encoder = standardize(build_encoder(keypoint_spec((64, 64, 3), cell=8, keypoints=4)), frames)
    save_encoder(encoder, tmp_path / "encoder.pt", {"method": "ae"})
    loaded = load_encoder(tmp_path)
    assert loaded.spec == encoder.spec and loaded.spec["standardize"] is True
    batch = torch.as_tensor(frames[:8])
    torch.testing.assert_close(loaded(batch), encoder(batch))
    # Without its statistics the same weights give other (unscaled) features.
    assert not torch.allclose(loaded.encoder(batch), loaded(batch))


def test_bad_encoder_files_are_one_clear_error(tmp_path):
    (tmp_path / "encoder.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RlsuiteError, match="cannot read encoder .* not an rlsuite encoder; give"):
        load_encoder(tmp_path)
    torch.save({"format": "something else"}, tmp_path / "encoder.pt")
    with pytest.raises(RlsuiteError, match="not an rlsuite encoder"):
        load_encoder(tmp_path)
    with pytest.raises(RlsuiteError, match="no such encoder"):
        load_encoder(tmp_path / "missing")


def pixel_envs(n: int = 4) -> gym.vector.VectorEnv:
    return make_vector_env(GAME, n, obs_mode="pixels")


def encoder_for(envs) -> torch.nn.Module:
    return build_encoder(default_spec(envs.single_observation_space.shape))


@pytest.mark.parametrize("agent_name", ["ppo", "a2c"])
def test_a_frozen_encoder_is_unchanged_by_training_and_gets_no_gradient(agent_name):
    envs = pixel_envs()
    encoder = encoder_for(envs)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    overrides = {"n_steps": 32, "batch_size": 64} if agent_name == "ppo" else {}
    agent = make_agent(agent_name, envs, overrides, encoder=encoder, freeze_encoder=True)
    trunk_before = [p.clone() for p in agent.policy.feature_trunk.parameters()]
    agent.learn(256)
    for name, value in agent.policy.encoder.state_dict().items():
        torch.testing.assert_close(value, before[name], rtol=0, atol=0)
    # ... while the MLP and heads on its features did learn.
    changed = [
        not torch.equal(a, b)
        for a, b in zip(trunk_before, agent.policy.feature_trunk.parameters(), strict=True)
    ]
    assert any(changed)
    n_encoder = sum(p.numel() for p in encoder.parameters())
    n_all = sum(p.numel() for p in agent.policy.parameters())
    assert agent.theta.numel() == n_all - n_encoder  # no optimizer state for frozen weights
    obs = torch.as_tensor(envs.reset(seed=0)[0])
    assert not agent.policy.encoded(obs).requires_grad
    envs.close()


def test_an_unfrozen_encoder_is_fine_tuned():
    envs = pixel_envs()
    encoder = encoder_for(envs)
    before = [p.clone() for p in encoder.parameters()]
    agent = make_agent("ppo", envs, {"n_steps": 32, "batch_size": 64}, encoder=encoder)
    agent.learn(128)
    assert any(not torch.equal(a, b) for a, b in zip(before, encoder.parameters(), strict=True))
    envs.close()


@pytest.mark.parametrize("agent_name", ["ppo", "a2c"])
def test_a_frozen_encoder_sees_each_frame_once_when_acting_and_never_in_the_update(
    agent_name, monkeypatch
):
    """Its features cannot change, so the rollout keeps those it acted on and the update
    (every epoch and minibatch of PPO, A2C's one step) learns from them."""
    envs = pixel_envs(4)
    encoder = encoder_for(envs)
    overrides = {"n_steps": 16}
    overrides |= {"n_epochs": 4, "batch_size": 16} if agent_name == "ppo" else {}
    agent = make_agent(agent_name, envs, overrides, encoder=encoder, freeze_encoder=True)
    calls = []
    original = encoder.forward
    monkeypatch.setattr(encoder, "forward", lambda obs: calls.append(len(obs)) or original(obs))
    agent.collector.reset(seed=0)
    batch = agent.collect()  # 16 steps x 4 envs
    assert batch.features.shape == (16, 4, encoder.out_dim)
    frames = torch.as_tensor(batch.obs.reshape(64, *batch.obs.shape[2:]))
    torch.testing.assert_close(torch.from_numpy(batch.features.reshape(64, -1)), original(frames))
    calls.clear()
    agent.update(batch)
    assert calls == []  # the update never runs the encoder
    envs.close()


def test_an_agent_with_an_encoder_saves_and_loads_without_the_encoder_folder(tmp_path):
    envs = pixel_envs()
    folder = tmp_path / "pretrained"
    folder.mkdir()
    save_encoder(encoder_for(envs), folder / "encoder.pt", {"method": "ae"})
    agent = make_agent(
        "ppo", envs, {"n_steps": 16}, encoder=load_encoder(folder), freeze_encoder=True
    )
    agent.learn(128)
    agent.save(tmp_path / "agent.pt")
    shutil.rmtree(folder)  # the agent's file holds the encoder's spec and weights
    loaded = rlsuite.load(tmp_path / "agent.pt")
    obs = envs.reset(seed=1)[0]
    np.testing.assert_array_equal(
        loaded.predict(obs, deterministic=True), agent.predict(obs, deterministic=True)
    )
    assert loaded.policy.frozen_encoder
    envs.close()


def test_train_eval_and_resume_with_a_frozen_encoder_from_the_command_line(tmp_path, capsys):
    envs = pixel_envs(1)
    save_encoder(encoder_for(envs), tmp_path / "encoder.pt", {"method": "ae"})
    envs.close()
    run = tmp_path / "run"
    common = ["--env-kwargs", "obs_mode=pixels", "frame_stack=1", "--set", "n_steps=16"]
    code, err = run_rlsuite(
        capsys,
        "train",
        GAME,
        *common,
        "--steps",
        "128",
        "--run-dir",
        str(run),
        "--encoder",
        str(tmp_path / "encoder.pt"),
        "--freeze-encoder",
        "--eval-every",
        "0",
    )
    assert code == 0, err
    (tmp_path / "encoder.pt").unlink()  # eval and resume need only the run's checkpoint
    assert run_rlsuite(capsys, "eval", str(run), "--episodes", "2")[0] == 0
    code, err = run_rlsuite(capsys, "train", "--resume", str(run), "--steps", "256")
    assert code == 0, err
    assert rlsuite.load(run).num_steps == 256


def test_encoder_mistakes_are_one_line_and_leave_no_run_folder(tmp_path, capsys):
    save_encoder(build_encoder(default_spec((8, 8, 1))), tmp_path / "encoder.pt", {})
    run = tmp_path / "run"
    code, err = run_rlsuite(
        capsys,
        "train",
        GAME,
        "--env-kwargs",
        "obs_mode=pixels",
        "--steps",
        "64",
        "--run-dir",
        str(run),
        "--encoder",
        str(tmp_path),
    )
    assert code == 2 and "the encoder takes observations of shape (8, 8, 1)" in err
    assert len(err.strip().splitlines()) == 1 and not run.exists()
    code, err = run_rlsuite(capsys, "train", GAME, "--freeze-encoder", "--run-dir", str(run))
    assert code == 2 and "freeze_encoder needs an encoder" in err
    code, err = run_rlsuite(
        capsys, "train", GAME, "--encoder", str(tmp_path / "nope"), "--run-dir", str(run)
    )
    assert code == 2 and "no such encoder" in err
    assert not run.exists()
