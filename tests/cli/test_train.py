"""`rlsuite train`: run folder, TensorBoard curves, checkpoints, resume, Ctrl-C."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import STEPS, rlsuite_process
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlsuite.cli import main

SB3_TAGS = [
    "rollout/ep_rew_mean",
    "rollout/ep_len_mean",
    "time/fps",
    "train/policy_loss",
    "train/value_loss",
    "train/entropy_loss",
    "train/explained_variance",
    "train/learning_rate",
    "eval/mean_reward",
]


def load(path: Path) -> dict:
    return torch.load(path, weights_only=True)


# Resuming to a *larger* total is exact with a constant learning rate; a linear schedule decays
# toward the total of each session (docs/decisions.md).
CONSTANT_LR = ["--set", "lr_schedule=constant"]


def same_parameters(a: Path, b: Path) -> bool:
    pa, pb = load(a)["agent"]["policy"], load(b)["agent"]["policy"]
    return pa.keys() == pb.keys() and all(torch.equal(pa[k], pb[k]) for k in pa)


def test_run_folder_holds_config_checkpoints_and_summary(trained_run):
    assert (trained_run / "config.yaml").read_text().count("agent: a2c") == 1
    names = {p.name for p in (trained_run / "checkpoints").iterdir()}
    assert {"last.pt", "best.pt", f"step_{STEPS}.pt"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    summary = json.loads((trained_run / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["num_steps"] == STEPS
    checkpoint = load(trained_run / "checkpoints" / "last.pt")  # loads with weights_only
    assert checkpoint["num_steps"] == STEPS and checkpoint["config"]["env_id"] == "CartPole-v1"


def test_tensorboard_has_sb3_tags_on_the_env_step_axis(trained_run):
    events = EventAccumulator(str(trained_run / "tb"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    for tag in SB3_TAGS:
        assert tag in scalars, tag
        steps = [event.step for event in events.Scalars(tag)]
        assert steps == sorted(steps) and len(set(steps)) == len(steps), tag
        assert 0 < steps[0] and steps[-1] <= STEPS, tag
    assert [e.step for e in events.Scalars("train/policy_loss")][-1] == STEPS
    assert events.PluginTagToContent("hparams")  # the HPARAMS tab has the run's settings


def test_resume_gives_the_same_parameters_as_one_run(trained_run, tmp_path):
    run = tmp_path / "resumed"
    args = ["train", "CartPole-v1", "--agent", "a2c", "--no-progress", *CONSTANT_LR]
    assert main([*args, "--steps", str(STEPS // 2), "--run-dir", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--steps", str(STEPS), "--no-progress"]) == 0
    assert load(run / "checkpoints" / "last.pt")["num_steps"] == STEPS
    assert same_parameters(run / "checkpoints" / "last.pt", trained_run / "checkpoints" / "last.pt")
    # The resumed curves continue in the same event folder, past the first part's steps.
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    steps = [e.step for e in events.Scalars("train/value_loss")]
    # Two event files (one per session); TensorBoard may read them in either order.
    assert len(set(steps)) == len(steps) and max(steps) == STEPS and STEPS // 2 in steps


def wait_for_training(run_dir: Path, timeout: float = 60) -> None:
    """Until the first update has written its TensorBoard events."""
    deadline = time.monotonic() + timeout
    while not list((run_dir / "tb").glob("events.out.tfevents.*")):
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.1)
    time.sleep(0.5)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly_and_resume_is_exact(tmp_path, signum, code):
    run = tmp_path / "stopped"
    args = [
        "train",
        "CartPole-v1",
        "--agent",
        "a2c",
        "--steps",
        "1e7",
        "--no-progress",
        *CONSTANT_LR,
    ]
    process = rlsuite_process(*args, "--run-dir", str(run), "--eval-every", "0")
    wait_for_training(run)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and "interrupted" in stdout
    stopped_at = load(run / "checkpoints" / "last.pt")["num_steps"]
    assert 0 < stopped_at < 10_000_000
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"

    # Continue to a total a little further on, and compare with one uninterrupted run.
    total = str(stopped_at + 400)
    assert main(["train", "--resume", str(run), "--steps", total, "--no-progress"]) == 0
    one_go = tmp_path / "one_go"
    args = ["train", "CartPole-v1", "--agent", "a2c", "--steps", total, "--eval-every", "0"]
    args += CONSTANT_LR
    assert main([*args, "--run-dir", str(one_go), "--no-progress"]) == 0
    assert same_parameters(run / "checkpoints" / "last.pt", one_go / "checkpoints" / "last.pt")


def test_progress_bar_ends_at_the_real_total(tmp_path, capsys):
    """A2C's updates are 8 envs x 5 steps: asked for 1010 steps, training stops at 1040."""
    args = ["train", "CartPole-v1", "--agent", "a2c", "--steps", "1010", "--eval-every", "0"]
    assert main([*args, "--run-dir", str(tmp_path / "run"), "--progress"]) == 0
    out, err = capsys.readouterr()
    assert "1040/1040" in err and "/1010" not in err
    assert "\nfinished at 1040 steps" in out and "1010 asked for" in out
