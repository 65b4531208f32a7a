"""`rlsuite train --curiosity`: the curiosity tags and heatmaps in TensorBoard, exact resume with
the modules and normalisers in the checkpoint, the one-line error for an agent without a critic."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlsuite.cli import main

KEYDOOR = "rlsuite/KeyDoor-8x8-v0"
# Small updates so that a few of them run in a second or two.
SMALL = ["--n-envs", "4", "--env-kwargs", "reward_mode=sparse", "--no-progress"]
SMALL += ["--eval-every", "0"]
SETTINGS = {
    "ppo": ["n_steps=32", "batch_size=64", "n_epochs=2", "lr_schedule=constant"],
    "a2c": ["lr_schedule=constant"],
}


def train(run: Path, agent: str, kind: str, steps: int, *extra: str, settings=()) -> None:
    args = ["train", KEYDOOR, "--agent", agent, "--curiosity", kind, *SMALL, *extra]
    args += ["--steps", str(steps), "--run-dir", str(run), "--set", *SETTINGS[agent], *settings]
    assert main(args) == 0


def last(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)


def assert_same(a, b, where: str = "") -> None:
    """Equal nested checkpoint contents: tensors exactly, everything else by ==."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize(
    "agent, kind, settings",
    [
        ("ppo", "rnd", []),
        # constant, as lr_schedule above: a linear schedule runs over each call's --steps
        ("a2c", "icm", ["intrinsic_schedule=constant"]),
        ("ppo", "count", []),
        ("a2c", "count", ["count_per_episode=true"]),  # episodes running across the resume
    ],
)
def test_resume_is_exact_with_curiosity(agent, kind, settings, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train(whole, agent, kind, 1200, settings=settings)
    train(parts, agent, kind, 600, settings=settings)
    # Evaluated mid-episode (2 envs, training had 4): what it saved loads.
    assert main(["eval", str(parts), "--episodes", "2"]) == 0
    saved = last(parts)["agent"]["curiosity"]
    assert saved["module"] is not None or kind == "count"
    assert main(["train", "--resume", str(parts), "--steps", "1200", "--no-progress"]) == 0
    a, b = last(whole)["agent"], last(parts)["agent"]
    assert a["num_steps"] == b["num_steps"] >= 1200
    for part in ("policy", "optimizer", "curiosity", "normalization"):
        assert_same(a[part], b[part], part)


def test_tensorboard_shows_curiosity_and_where_the_agent_went(tmp_path):
    run = tmp_path / "icm"
    train(run, "ppo", "icm", 1024, "--eval-every", "512", "--set", "eval_episodes=2")
    events = EventAccumulator(str(run / "tb"), size_guidance={"images": 0})
    events.Reload()
    scalars = events.Tags()["scalars"]
    for tag in ("curiosity/intrinsic_reward_mean", "curiosity/forward_loss",
                "curiosity/inverse_loss", "rollout/ep_rew_mean"):  # fmt: skip
        assert tag in scalars, tag
    # ICM's weight of A_I falls linearly from 0.5 to 0 over the budget (intrinsic_schedule)
    weights = [e.value for e in events.Scalars("curiosity/intrinsic_coef")]
    assert len(weights) >= 2 and 0.5 >= weights[0] > weights[-1] > 0
    heatmaps = events.Images("curiosity/visitation_heatmap")
    assert [h.step for h in heatmaps] == [512, 1024]
    assert heatmaps[0].width == heatmaps[0].height == 8 * 8  # 8x8 cells, 8 pixels each


def test_curiosity_with_an_agent_without_a_critic_is_one_line(tmp_path, capsys):
    run = tmp_path / "reinforce"
    code = main(["train", KEYDOOR, "--agent", "reinforce", "--curiosity", "rnd",
                 "--run-dir", str(run)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("rlsuite: error: reinforce cannot learn with curiosity")
    assert "a2c or ppo" in err and not run.exists()
