"""Behavior cloning and DAgger: learning the expert's actions, through the CLI like any agent
(train, eval, resume, rlsuite.load), with the TensorBoard tags a user reads."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rlsuite
from rlsuite.agents import make_agent
from rlsuite.cli import main
from rlsuite.config import resolve_config
from rlsuite.demos import Demonstrations, load_demos
from rlsuite.vector import make_vector_env

KEYDOOR = "rlsuite/KeyDoor-5x5-v0"
RACER = "rlsuite/Racer-v0"


def _synthetic_demos(n: int = 48) -> Demonstrations:
    """CartPole-shaped states labelled by a rule the policy must learn exactly."""
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    actions = (obs[:, 0] + obs[:, 2] > 0).astype(np.int64)  # a rule, learnable without error
    return Demonstrations(
        env_id="CartPole-v1",
        observations=obs,
        actions=actions,
        rewards=np.ones(n),
        episode_starts=np.array([0]),
        final_observations=np.zeros((1, 4), np.float32),
        terminated=np.array([True]),
        successes=np.array([False]),
        seeds=np.array([-1]),
    )


def test_bc_reaches_zero_training_error_on_a_tiny_synthetic_set():
    demos = _synthetic_demos()
    envs = make_vector_env("CartPole-v1", 1)
    agent = make_agent("bc", envs, {"validation_fraction": 0.0, "learning_rate": 3e-3}, demos=demos)
    agent.learn(400 * len(demos.actions))  # 400 epochs
    predicted = agent.predict(demos.observations, deterministic=True)
    np.testing.assert_array_equal(predicted, demos.actions)
    envs.close()


def test_bc_without_demos_is_a_one_line_error(tmp_path, capsys):
    code = main(["train", KEYDOOR, "--agent", "bc", "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--demos" in err
    assert not (tmp_path / "run").exists()


def test_demos_for_another_env_are_refused_before_any_folder(keydoor_demos, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        ["train", "CartPole-v1", "--agent", "bc", "--demos", str(keydoor_demos)]
        + ["--run-dir", str(run)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "recorded in rlsuite/KeyDoor-5x5-v0, not CartPole-v1" in err
    assert not run.exists()


def test_dagger_without_a_scripted_expert_says_how_to_give_one(tmp_path, capsys):
    """CartPole has no scripted expert: the error names the setting that gives a run instead."""
    run, teacher = tmp_path / "run", tmp_path / "teacher"
    assert (
        main(
            ["train", "CartPole-v1", "--agent", "a2c", "--steps", "200", "--run-dir", str(teacher)]
        )
        == 0
    )
    args = ["demos", "CartPole-v1", "--expert", str(teacher), "--episodes", "2"]
    assert main([*args, "-o", str(tmp_path / "d.npz")]) == 0
    capsys.readouterr()
    code = main(
        ["train", "CartPole-v1", "--agent", "dagger", "--demos", str(tmp_path / "d.npz")]
        + ["--run-dir", str(run)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--set expert=RUN_DIR" in err and not run.exists()


def test_demos_of_another_observation_say_which_env_kwargs_differ(keydoor_demos, tmp_path, capsys):
    """Recorded on symbolic observations, trained on pixels: the error names the env kwarg to
    change, not only two shapes."""
    run = tmp_path / "run"
    code = main(
        ["train", KEYDOOR, "--agent", "bc", "--demos", str(keydoor_demos), "--run-dir", str(run)]
        + ["--env-kwargs", "obs_mode=pixels"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and not run.exists()
    assert "recorded with obs_mode unset; this run has obs_mode=pixels" in err


def test_a_truncated_demo_file_is_a_one_line_error(keydoor_demos, tmp_path, capsys):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(keydoor_demos.read_bytes()[:500])
    code = main(
        ["train", KEYDOOR, "--agent", "bc", "--demos", str(broken)]
        + ["--run-dir", str(tmp_path / "run")]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("rlsuite: error: --demos") and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_bc_trains_evaluates_and_logs_like_any_run(keydoor_demos, tmp_path, capsys):
    run = tmp_path / "bc"
    args = ["train", KEYDOOR, "--agent", "bc", "--demos", str(keydoor_demos), "--steps", "30000"]
    assert main([*args, "--run-dir", str(run), "--no-progress"]) == 0
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    for tag in ("imitation/bc_loss", "imitation/bc_accuracy", "imitation/val_loss"):
        assert tag in scalars
    losses = [e.value for e in events.Scalars("imitation/bc_loss")]
    assert losses[-1] < losses[0] / 2
    assert events.Scalars("eval/success_rate")[-1].value == 1.0  # the task, evaluated
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["success_rate"] == 1.0
    # rlsuite.load gives an agent that repeats the expert's actions on the expert's states.
    agent = rlsuite.load(run)
    demos = load_demos(keydoor_demos)
    agreement = (agent.predict(demos.observations, deterministic=True) == demos.actions).mean()
    assert agreement > 0.9


def test_bc_resumes_exactly(keydoor_demos, tmp_path):
    common = ["--agent", "bc", "--demos", str(keydoor_demos), "--no-progress"]
    common += ["--set", "validation_fraction=0.2", "--device", "cpu"]  # exact on the CPU
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(["train", KEYDOOR, *common, "--steps", "2000", "--run-dir", str(straight)]) == 0
    assert main(["train", KEYDOOR, *common, "--steps", "1000", "--run-dir", str(split)]) == 0
    assert main(["train", "--resume", str(split), "--steps", "2000", "--no-progress"]) == 0
    a = rlsuite.load(straight / "checkpoints" / "last.pt").policy.state_dict()
    b = rlsuite.load(split / "checkpoints" / "last.pt").policy.state_dict()
    for name in a:
        np.testing.assert_array_equal(a[name].cpu().numpy(), b[name].cpu().numpy())


def test_dagger_labels_the_learners_states_and_reports_how_many(keydoor_demos, tmp_path):
    run = tmp_path / "dagger"
    args = ["train", KEYDOOR, "--agent", "dagger", "--demos", str(keydoor_demos)]
    args += ["--steps", "2048", "--set", "n_steps=32", "initial_epochs=5", "--no-progress"]
    assert main([*args, "--run-dir", str(run)]) == 0
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    labels = [e.value for e in events.Scalars("imitation/expert_labels")]
    n_demo = len(load_demos(keydoor_demos).actions)
    # Each iteration adds the states visited in 8 envs x 32 steps, all labelled by the expert.
    assert labels[0] == n_demo + 8 * 32 and labels[-1] == n_demo + 2048
    assert json.loads((run / "summary.json").read_text())["last_eval"]["success_rate"] == 1.0
    agent = rlsuite.load(run)
    env = gym.make(KEYDOOR)
    obs, _ = env.reset(seed=3)
    assert env.action_space.contains(int(agent.predict(obs, deterministic=True)))


@pytest.mark.parametrize("agent", ["bc", "dagger"])
def test_racer_gets_the_shipped_per_task_network(agent, tmp_path):
    """`rlsuite train rlsuite/Racer-v0 --agent bc|dagger` applies the Racer entry (a wider relu
    trunk: the default cannot fit the expert); the pixel mode keeps the defaults."""
    path = tmp_path / "racer.npz"
    assert main(["demos", RACER, "--expert", "scripted", "--episodes", "1", "-o", str(path)]) == 0
    config = resolve_config(RACER, agent, demos=str(path))
    assert config.hyperparams == f"rlsuite/hyperparams/{agent}.yaml [{RACER}, symbolic]"
    assert config.agent_config["hidden_sizes"] == (256, 256)
    assert config.agent_config["activation"] == "relu"
    pixels = resolve_config(RACER, agent, demos=str(path), env_kwargs=["obs_mode=pixels"])
    assert (
        pixels.agent_config
        == resolve_config(RACER, agent, demos=str(path), per_task=False).agent_config
    )


def test_demos_from_a_trained_run_record_its_own_actions(tmp_path, capsys):
    run = tmp_path / "expert"
    args = ["train", "CartPole-v1", "--agent", "a2c", "--steps", "2000", "--no-progress"]
    assert main([*args, "--run-dir", str(run)]) == 0
    path = tmp_path / "cartpole.npz"
    assert (
        main(
            ["demos", "CartPole-v1", "--expert", str(run), "--episodes", "3"]
            + ["-o", str(path), "--seed", "5"]
        )
        == 0
    )
    demos = load_demos(path)
    assert demos.env_id == "CartPole-v1" and demos.n_episodes == 3
    assert demos.source == "run:expert" and list(demos.seeds) == [5, 6, 7]
    # Deterministic by default: the file holds exactly what the run's policy does.
    expert = rlsuite.load(run)
    np.testing.assert_array_equal(
        expert.predict(demos.observations, deterministic=True), demos.actions
    )
    capsys.readouterr()
    code = main(["demos", KEYDOOR, "--expert", str(run), "-o", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "trained on CartPole-v1, not rlsuite/KeyDoor-5x5-v0" in err


def test_bc_fits_box_actions_by_gaussian_likelihood():
    """Pendulum's Box(-2, 2, (1,)) actions: the Gaussian's mean learns the expert's action."""
    rng = np.random.default_rng(1)
    obs = rng.uniform(-1, 1, size=(64, 3)).astype(np.float32)
    actions = np.clip(1.5 * obs[:, :1] - obs[:, 1:2], -2, 2).astype(np.float32)  # (64, 1)
    demos = Demonstrations(
        env_id="Pendulum-v1",
        observations=obs,
        actions=actions,
        rewards=np.zeros(64),
        episode_starts=np.array([0]),
        final_observations=np.zeros((1, 3), np.float32),
        terminated=np.array([False]),
        successes=np.array([False]),
        seeds=np.array([-1]),
    )
    envs = make_vector_env("Pendulum-v1", 1)
    agent = make_agent("bc", envs, {"validation_fraction": 0.0}, demos=demos)
    before = agent.policy.log_std.item()
    agent.learn(300 * 64)
    predicted = agent.predict(obs, deterministic=True)
    assert predicted.shape == (64, 1) and np.abs(predicted - actions).max() < 0.15
    assert agent.policy.log_std.item() < before - 0.2  # the likelihood narrows the Gaussian
    envs.close()
