"""`rlsuite.wrappers.OneHotObservation`: tabular tasks (Discrete states) for the agents."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlsuite
from rlsuite.cli import main
from rlsuite.wrappers import OneHotObservation

WRAPPER = ["--wrapper", "rlsuite.wrappers:OneHotObservation"]


def test_a_state_number_becomes_a_one_hot_vector():
    env = OneHotObservation(gym.make("FrozenLake-v1"))
    assert env.observation_space == gym.spaces.Box(0, 1, (16,), np.float32)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, np.eye(16, dtype=np.float32)[0])  # the start cell
    obs, *_ = env.step(2)  # right (slippery: wherever it slid)
    assert obs.sum() == 1.0 and obs[env.unwrapped.s] == 1.0
    assert env.observation_space.contains(obs)
    remade = gym.make(env.spec)  # the spec records the wrapper, as for Gymnasium's own
    assert isinstance(remade, OneHotObservation)
    np.testing.assert_array_equal(remade.reset(seed=0)[0], env.reset(seed=0)[0])
    with pytest.raises(ValueError, match="takes Discrete observations"):
        OneHotObservation(gym.make("CartPole-v1"))


def test_frozen_lake_is_learned_through_the_wrapper_and_predict_takes_its_vectors(tmp_path, capsys):
    run = tmp_path / "lake"
    lake = ["FrozenLake-v1", "--env-kwargs", "is_slippery=false", *WRAPPER]
    assert main(["train", *lake, "--steps", "15000", "--run-dir", str(run), "--no-progress"]) == 0
    assert main(["eval", str(run), "--episodes", "10"]) == 0
    assert "mean return:         1.000" in capsys.readouterr().out  # the goal, every time
    agent = rlsuite.load(run)
    assert agent.predict(np.eye(16, dtype=np.float32)[0], deterministic=True) in (1, 2)


def test_without_the_wrapper_the_error_names_it(tmp_path, capsys):
    assert main(["train", "Taxi-v3", "--run-dir", str(tmp_path / "taxi")]) == 2
    err = capsys.readouterr().err
    assert "Discrete(500) is not supported" in err and "rlsuite.wrappers:OneHotObservation" in err
    assert not (tmp_path / "taxi").exists()
