"""`rlsuite play`, `rlsuite expert` and training on rlsuite's own games, through the command."""

from __future__ import annotations

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlsuite.cli import main
from rlsuite.demos import load_demos


def test_expert_records_demonstrations_that_load(tmp_path, capsys):
    path = tmp_path / "expert.npz"
    args = ["expert", "rlsuite/KeyDoor-8x8-v0", "--episodes", "5", "--seed", "3"]
    assert main([*args, "--record", str(path)]) == 0
    assert "success rate 1.00" in capsys.readouterr().out
    demos = load_demos(path)
    assert demos.n_episodes == 5 and demos.successes.all() and list(demos.seeds) == [3, 4, 5, 6, 7]


def test_play_a_real_time_game_in_a_window_and_record_it(tmp_path, capsys):
    # Nobody presses a key: Invaders' cannon idles until it loses, which is still an episode.
    path = tmp_path / "human.npz"
    args = ["play", "rlsuite/Invaders-v0", "--episodes", "1", "--fps", "5000"]
    assert main([*args, "--record", str(path)]) == 0
    assert "demonstrations saved" in capsys.readouterr().out
    demos = load_demos(path)
    assert demos.n_episodes == 1 and demos.source == "human"
    assert (demos.actions == 0).all()  # the idle action while no key is held


@pytest.mark.parametrize(
    "args, message",
    [
        (["play", "rlsuite/KeyDor-8x8-v0"], "did you mean rlsuite/KeyDoor-8x8-v0"),
        (["play", "CartPole-v1"], "not an rlsuite game"),
        (["play", "rlsuite/Racer-v0", "--record", "demo.gif"], "writes a .npz"),
        (["expert", "rlsuite/Racer-v0", "--env-kwargs", "n_lanes=9"], "n_lanes must be one of"),
        (["expert", "rlsuite/Maze-2Rooms-v0", "--episodes", "0"], "must be positive"),
        (["expert", "rlsuite/Forage-v0", "--env-kwargs", "reward_mode=dense"], "sparse, shaped"),
    ],
)
def test_bad_game_requests_give_one_line_errors(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_train_and_eval_on_an_rlsuite_game_with_its_native_vector_env(tmp_path, capsys):
    run = tmp_path / "keydoor"
    args = ["train", "rlsuite/KeyDoor-5x5-v0", "--agent", "ppo", "--steps", "2048"]
    assert main([*args, "--env-kwargs", "reward_mode=shaped", "--run-dir", str(run)]) == 0
    config = (run / "config.yaml").read_text()
    assert "vector_entry_point" in config and "reward_mode: shaped" in config
    # Games report is_success, so the success curves are there too, on the env-step axis.
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    for tag in ("rollout/success_rate", "eval/success_rate"):
        steps = [e.step for e in events.Scalars(tag)]
        assert steps and steps == sorted(steps) and steps[-1] <= 2048
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.0 <= result["success_rate"] <= 1.0
    # Trained on shaped rewards, judged on the task: KeyDoor's task reward is 1 for a success.
    assert result["mean_task_return"] == pytest.approx(result["success_rate"])
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "4"]) == 0
    assert f"mean task return:    {result['mean_task_return']:.3f}" in capsys.readouterr().out
