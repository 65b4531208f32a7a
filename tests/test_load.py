"""`rlsuite.load`: a trained agent on its own, acting as the run's evaluation did; `agent.save`."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlsuite
from rlsuite.agents import A2C, PPO, evaluate, make_agent
from rlsuite.checkpoints import load_checkpoint
from rlsuite.cli import main
from rlsuite.config import RunConfig
from rlsuite.errors import RlsuiteError
from rlsuite.playback import load_run
from rlsuite.runs import EVAL_SEED_OFFSET, run_envs
from rlsuite.vector import make_vector_env


def train(run_dir: Path, *args: str) -> Path:
    assert main(["train", *args, "--run-dir", str(run_dir), "--no-progress"]) == 0
    return run_dir


@pytest.fixture(scope="module")
def vector_run(tmp_path_factory) -> Path:
    """CartPole with observation normalisation: predict must apply the saved statistics."""
    args = ["CartPole-v1", "--agent", "a2c", "--steps", "2000", "--eval-every", "1000"]
    args += ["--set", "normalize_obs=true", "eval_episodes=4"]
    return train(tmp_path_factory.mktemp("runs") / "cartpole", *args)


@pytest.fixture(scope="module")
def pixel_run(tmp_path_factory) -> Path:
    """KeyDoor frames with a stack of two (64x64x6 observations), PPO's shared CNN trunk."""
    args = ["rlsuite/KeyDoor-5x5-v0", "--agent", "ppo", "--steps", "256", "--n-envs", "4"]
    args += ["--env-kwargs", "obs_mode=pixels", "frame_stack=2", "reward_mode=shaped"]
    args += ["--set", "n_steps=32", "batch_size=64", "n_epochs=1", "eval_episodes=4"]
    return train(tmp_path_factory.mktemp("runs") / "keydoor_pixels", *args, "--eval-every", "128")


class Recorder:
    """A policy for `evaluate` that records every batch of observations it is shown."""

    def __init__(self, agent) -> None:
        self.agent, self.batches = agent, []

    def __call__(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        self.batches.append(np.array(obs))
        return self.agent.predict(obs, deterministic)


@pytest.mark.parametrize("run", ["vector_run", "pixel_run"])
def test_loaded_agent_acts_as_the_runs_own_evaluation(run, request):
    run_dir = request.getfixturevalue(run)
    last = run_dir / "checkpoints" / "last.pt"
    agent = rlsuite.load(last)
    assert not hasattr(agent.envs, "envs")  # no vector env of copies behind it
    # Replay the run's final evaluation (same envs, seed and episodes) with the loaded agent:
    # the same actions give exactly the numbers the run logged.
    config = RunConfig.from_dict(load_checkpoint(last)["config"])
    summary = json.loads((run_dir / "summary.json").read_text())["last_eval"]
    assert summary["step"] == agent.num_steps
    envs = run_envs(config, min(config.n_envs, config.eval_episodes))
    recorder = Recorder(agent)
    seed = config.seed + EVAL_SEED_OFFSET
    replay = evaluate(recorder, envs, config.eval_episodes, deterministic=True, seed=seed)
    envs.close()
    for key in ("mean_return", "std_return", "mean_task_return", "success_rate", "mean_length"):
        assert replay[key] == summary[key], key
    # Action by action, against the agent `rlsuite eval` rebuilds on a vector env (the agent
    # resuming would continue with), for a batch and for one observation at a time.
    full_agent, full_envs, _, _ = load_run(last)
    full_envs.close()
    for obs in recorder.batches[:50]:
        expected = full_agent.predict(obs, deterministic=True)
        np.testing.assert_array_equal(agent.predict(obs, deterministic=True), expected)
        one = agent.predict(obs[0], deterministic=True)
        assert np.shape(one) == () and one == expected[0]  # one action for one observation


def test_pixel_observations_keep_their_frame_stack(pixel_run):
    agent = rlsuite.load(pixel_run)  # a run folder: its best.pt
    assert agent.envs.single_observation_space.shape == (64, 64, 6)
    env = gym.make("rlsuite/KeyDoor-5x5-v0", obs_mode="pixels", frame_stack=2)
    obs, _ = env.reset(seed=0)
    assert env.action_space.contains(agent.predict(obs, deterministic=True))
    with pytest.raises(ValueError, match=r"one observation of shape \(64, 64, 6\)"):
        agent.predict(obs[..., :3])  # a single frame: not what the run's env gives
    env.close()


def test_save_writes_a_weights_only_file_that_load_reads_back(tmp_path):
    # Box actions and observation statistics: the Gaussian's mean and the normalisation return.
    envs = make_vector_env("Pendulum-v1", 2)
    settings = {"n_steps": 64, "batch_size": 64, "normalize_obs": True}
    agent = make_agent("ppo", envs, settings, device="cpu")  # exact on the CPU
    agent.learn(256)
    envs.close()
    path = tmp_path / "pendulum.pt"
    agent.save(path)
    assert torch.load(path, weights_only=True)["agent"] == "ppo"
    loaded = rlsuite.load(path, device="cpu")
    assert isinstance(loaded, PPO) and loaded.num_steps == 256
    assert PPO.load(path).num_steps == 256  # as SB3's PPO.load
    obs = np.random.default_rng(0).uniform(-1, 1, size=(5, 3)).astype(np.float32)
    batch = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(batch, agent.predict(obs, deterministic=True))
    assert batch.shape == (5, 1) and loaded.predict(obs[0], deterministic=True).shape == (1,)
    # Saved again from the loaded agent, it still gives the same policy.
    loaded.save(tmp_path / "again.pt")
    again = rlsuite.load(tmp_path / "again.pt", device="cpu")
    np.testing.assert_array_equal(again.predict(obs, True), batch)


def test_a_single_env_trains_as_in_sb3_and_save_makes_its_folder(tmp_path):
    """SB3 users hand over one env (SB3 wraps it in a DummyVecEnv) and save into a new folder."""
    agent = make_agent("ppo", gym.make("CartPole-v1"), {"n_steps": 64, "batch_size": 32})
    assert agent.envs.num_envs == 1
    agent.learn(256)
    assert agent.num_steps == 256
    path = tmp_path / "new" / "folder" / "cartpole.pt"
    agent.save(path)
    obs = np.zeros(4, dtype=np.float32)
    assert rlsuite.load(path).predict(obs, True) == agent.predict(obs, True)
    # reset's (obs, info) handed over whole, a common slip: said so, not an array-shape error
    with pytest.raises(ValueError, match=r"not the \(observation, info\) pair"):
        agent.predict(gym.make("CartPole-v1").reset(seed=0))


@pytest.mark.parametrize("agent_class", [PPO, A2C])
def test_an_agent_class_takes_a_single_env_as_sb3s_do(agent_class):
    """``PPO(gym.make(ID))``, as SB3's ``PPO("MlpPolicy", env)``: not only through make_agent."""
    agent = agent_class(gym.make("CartPole-v1"))
    assert agent.envs.num_envs == 1
    agent.learn(agent.steps_per_update())
    assert agent.num_steps == agent.steps_per_update() > 0


def test_load_leaves_the_callers_random_generators_alone(vector_run):
    random.seed(5)
    torch.manual_seed(5)
    rlsuite.load(vector_run)
    after = random.random(), torch.rand(1).item()
    random.seed(5)
    torch.manual_seed(5)
    assert after == (random.random(), torch.rand(1).item())


def test_a_loaded_agent_says_it_cannot_train(vector_run):
    agent = rlsuite.load(vector_run)
    with pytest.raises(RuntimeError, match="loaded to act"):
        agent.learn(agent.num_steps + 100)


def test_checkpoints_without_saved_spaces_still_load(vector_run, tmp_path):
    checkpoint = torch.load(vector_run / "checkpoints" / "last.pt", weights_only=True)
    del checkpoint["spaces"]  # as written before the spaces were saved
    old = tmp_path / "old.pt"
    torch.save(checkpoint, old)
    obs = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    expected = rlsuite.load(vector_run / "checkpoints" / "last.pt").predict(obs, True)
    np.testing.assert_array_equal(rlsuite.load(old).predict(obs, True), expected)


def test_load_errors_are_one_line_rlsuite_errors(tmp_path):
    with pytest.raises(RlsuiteError, match="no such run folder or checkpoint"):
        rlsuite.load(tmp_path / "missing")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RlsuiteError, match="corrupt"):
        rlsuite.load(tmp_path / "junk.pt")


def test_import_rlsuite_loads_no_torch():
    code = "import sys, rlsuite; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
