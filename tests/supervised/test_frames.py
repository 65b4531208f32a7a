"""`rlsuite dataset`: game frames whose labels agree with the picture, and whole trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from rlsuite.cli import main
from rlsuite.supervised.frames import load_frames, sequences

GAME = "rlsuite/KeyDoor-8x8-v0"  # a 64 x 64 frame of 8 x 8 cells: 8 pixels a cell
TILE = 8


@pytest.fixture(scope="module")
def expert_frames(tmp_path_factory):
    path = tmp_path_factory.mktemp("frames") / "frames.npz"
    assert main(["dataset", GAME, "--frames", "400", "--policy", "expert", "-o", str(path)]) == 0
    return load_frames(path)


def cell(frame: np.ndarray, x: int, y: int) -> np.ndarray:
    return frame[y * TILE : (y + 1) * TILE, x * TILE : (x + 1) * TILE]


def test_the_file_is_plain_arrays_with_labels_from_the_game_state(expert_frames, tmp_path):
    data = expert_frames
    assert data.frames.shape == (400, 64, 64, 3) and data.frames.dtype == np.uint8
    for name in ("has_key", "door_open", "agent_x", "agent_y", "agent_cell"):
        assert data.labels[name].shape == (400,)
    # The expert picks the key up and opens the door: both labels take both values.
    assert set(data.labels["has_key"].tolist()) == {0, 1}
    assert set(data.labels["door_open"].tolist()) == {0, 1}
    assert data.terminated.any()  # and reaches the goal


def test_labels_agree_with_the_pictures(expert_frames):
    data = expert_frames
    agent_x, agent_y = data.labels["agent_x"], data.labels["agent_y"]
    agent_tiles = [cell(f, x, y) for f, x, y in zip(data.frames, agent_x, agent_y, strict=True)]
    assert all(np.array_equal(tile, agent_tiles[0]) for tile in agent_tiles)  # the agent is there
    key_x, key_y, held = data.labels["key_x"], data.labels["key_y"], data.labels["has_key"]
    on_floor = [i for i in range(len(data)) if not held[i]]
    key_tile = cell(data.frames[on_floor[0]], key_x[on_floor[0]], key_y[on_floor[0]])
    for i in range(len(data)):
        shows_key = np.array_equal(cell(data.frames[i], key_x[i], key_y[i]), key_tile)
        assert shows_key == (not held[i])  # the key is drawn exactly while it lies on the floor


def test_sequences_are_consecutive_frames_of_one_episode(expert_frames):
    data = expert_frames
    windows = sequences(data, 4)
    assert windows.shape[1] == 4 and len(windows) > 100
    for window in windows:
        assert len(set(data.episode[window].tolist())) == 1
        assert np.array_equal(np.diff(data.step[window]), [1, 1, 1])
        # One move per step: the agent's cell changes by at most one.
        moves = np.abs(np.diff(data.labels["agent_x"][window])) + np.abs(
            np.diff(data.labels["agent_y"][window])
        )
        assert (moves <= 1).all()


def test_a_random_policy_and_a_frame_stack(tmp_path):
    path = tmp_path / "stacked.npz"
    args = ["dataset", GAME, "--frames", "50", "-o", str(path), "--env-kwargs", "frame_stack=2"]
    assert main(args) == 0
    data = load_frames(path)
    assert data.frames.shape == (50, 64, 64, 6) and data.policy == "random"


def test_dataset_mistakes_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "f.npz")
    assert main(["dataset", GAME, "--policy", "clever", "-o", out]) == 2
    assert "--policy must be random, expert or a run folder" in capsys.readouterr().err
    assert main(["dataset", GAME, "-o", str(tmp_path / "f.txt")]) == 2
    assert "-o writes a .npz file" in capsys.readouterr().err
    assert main(["dataset", "rlsuite/KeyDoor-9x9-v0", "-o", out]) == 2
    assert "unknown environment id" in capsys.readouterr().err
    assert main(["dataset", "CartPole-v1", "--frames", "10", "-o", out]) == 2
    assert "not an rlsuite game" in capsys.readouterr().err
    assert not (tmp_path / "f.npz").exists()


def test_a_trained_run_collects_its_own_game_and_refuses_another(tmp_path, capsys):
    """--policy RUN_DIR: the run's agent plays in the run's own env settings (the shipped pixel
    entry stacks 2 frames); a run of another env, or of symbolic observations, is refused by
    name, not by a shape that says nothing of why."""
    pixel_run, cartpole_run = tmp_path / "pixels", tmp_path / "cartpole"
    symbolic_run = tmp_path / "symbolic"
    common = ["--agent", "a2c", "--steps", "200", "--set", "eval_every=0"]
    pixels = ["--env-kwargs", "obs_mode=pixels"]
    assert main(["train", GAME, *common, *pixels, "--run-dir", str(pixel_run)]) == 0
    assert main(["train", "CartPole-v1", *common, "--run-dir", str(cartpole_run)]) == 0
    assert main(["train", GAME, *common, "--run-dir", str(symbolic_run)]) == 0
    capsys.readouterr()
    out = tmp_path / "f.npz"
    collect = ["dataset", GAME, "--frames", "20", "-o", str(out)]
    assert main([*collect, "--policy", str(pixel_run)]) == 0
    assert load_frames(out).frames.shape == (20, 64, 64, 6)
    out.unlink()
    assert main(["dataset", GAME, "--policy", str(cartpole_run), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"was trained on CartPole-v1, not {GAME}" in err and err.count("\n") == 1
    assert main(["dataset", GAME, "--policy", str(symbolic_run), "-o", str(out)]) == 2
    assert "sees symbolic observations" in capsys.readouterr().err
    assert not out.exists()
