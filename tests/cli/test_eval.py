"""Curves, evaluations and summaries that show the task: task returns beside the env's reward,
best.pt and `rlsuite eval` judged by the task, deterministic evaluation by default."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlsuite.cli import main


@pytest.fixture(scope="module")
def shaped_run(tmp_path_factory) -> tuple[Path, str]:
    """PPO on KeyDoor-5x5 with shaped rewards, evaluated 4 times; (run folder, closing text)."""
    run = tmp_path_factory.mktemp("runs") / "keydoor_shaped"
    args = ["train", "rlsuite/KeyDoor-5x5-v0", "--agent", "ppo", "--steps", "4096"]
    args += ["--env-kwargs", "reward_mode=shaped", "--eval-every", "1024"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*args, "--run-dir", str(run), "--no-progress"]) == 0
    return run, out.getvalue()


def scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_curves_show_the_task_return_beside_the_shaped_one(shaped_run):
    run, _ = shaped_run
    last = json.loads((run / "summary.json").read_text())["last_eval"]
    # eval/mean_reward judges by the task (KeyDoor: 1 per success), the shaped return beside it.
    assert scalars(run, "eval/mean_reward")[-1] == (
        last["step"],
        pytest.approx(last["mean_task_return"]),
    )
    assert scalars(run, "eval/mean_env_reward")[-1][1] == pytest.approx(last["mean_return"])
    assert last["mean_task_return"] == pytest.approx(last["success_rate"])
    # Training curves: SB3's ep_rew_mean is the shaped reward the agent trains on; the task's
    # return is its own curve, and on KeyDoor it is the success rate of the same episodes.
    task = dict(scalars(run, "rollout/ep_task_rew_mean"))
    success = dict(scalars(run, "rollout/success_rate"))
    shaped = dict(scalars(run, "rollout/ep_rew_mean"))
    assert task and task.keys() == success.keys() == shaped.keys()
    assert all(task[step] == pytest.approx(success[step]) for step in task)
    assert any(task[step] != pytest.approx(shaped[step]) for step in task)


def test_an_env_without_task_rewards_gets_no_task_curves(trained_run):
    events = EventAccumulator(str(trained_run / "tb"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert "eval/mean_reward" in scalars  # CartPole: the env's return, SB3's meaning
    assert "eval/mean_env_reward" not in scalars and "rollout/ep_task_rew_mean" not in scalars


def test_best_checkpoint_is_the_best_evaluation_by_task_return_then_success(shaped_run):
    run, _ = shaped_run
    judged = scalars(run, "eval/mean_reward")
    success = dict(scalars(run, "eval/success_rate"))
    assert len(judged) == 4
    best_step = max(judged, key=lambda point: (point[1], success[point[0]], -point[0]))[0]
    best = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert best["num_steps"] == best_step
    summary = json.loads((run / "summary.json").read_text())
    assert summary["best_eval"]["step"] == best_step


def test_the_closing_summary_gives_the_task_return_and_success_rate(shaped_run):
    run, text = shaped_run
    last = json.loads((run / "summary.json").read_text())["last_eval"]
    line = next(line for line in text.splitlines() if line.startswith("last evaluation:"))
    assert f"task return {last['mean_task_return']:.2f}" in line
    assert f"success rate {last['success_rate']:.2f}" in line
    rollout = json.loads((run / "summary.json").read_text())["rollout"]
    assert {"ep_rew_mean", "ep_task_rew_mean", "success_rate"} <= rollout.keys()


def test_training_success_rate_is_summarised_when_no_evaluation_ran(tmp_path, capsys):
    args = ["train", "rlsuite/KeyDoor-5x5-v0", "--agent", "a2c", "--steps", "400"]
    args += ["--eval-every", "0", "--run-dir", str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 0
    assert "training episodes: success rate" in capsys.readouterr().out


def evaluation(run: Path, *flags: str, capsys) -> dict:
    assert main(["eval", str(run), "--episodes", "6", "--json", *flags]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_is_deterministic_by_default_and_says_so(shaped_run, capsys):
    run, _ = shaped_run
    default = evaluation(run, capsys=capsys)
    assert default["deterministic"] is True
    assert default == evaluation(run, "--deterministic", capsys=capsys)
    assert evaluation(run, "--stochastic", capsys=capsys)["deterministic"] is False
    # eval's mean_reward is the run's eval/mean_reward: the task's return.
    assert default["mean_reward"] == default["mean_task_return"]
    assert main(["eval", str(run), "--episodes", "2", "--stochastic"]) == 0
    out = capsys.readouterr().out
    assert "stochastic actions" in out and "mean env return:" in out


def test_eval_of_the_runs_checkpoint_repeats_the_runs_last_evaluation(shaped_run, capsys):
    run, _ = shaped_run
    last = json.loads((run / "summary.json").read_text())["last_eval"]
    checkpoint = run / "checkpoints" / "last.pt"
    assert main(["eval", str(checkpoint), "--episodes", str(last["episodes"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mean_task_return"] == last["mean_task_return"]
    assert result["mean_return"] == last["mean_return"]


@pytest.mark.parametrize("flags, mode", [([], "deterministic"), (["--stochastic"], "stochastic")])
def test_watch_says_which_actions_it_takes(shaped_run, tmp_path, capsys, flags, mode):
    run, _ = shaped_run
    gif = tmp_path / "keydoor.gif"
    assert main(["watch", str(run), "--episodes", "1", "--record", str(gif), *flags]) == 0
    out = capsys.readouterr().out
    assert f"{mode} actions" in out
    assert "task return" in out and "success" in out  # KeyDoor reports both per episode
