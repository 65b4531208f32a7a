"""`rlsuite eval`, `watch --record`, `envs`, `agents [NAME]` and `--version`."""

from __future__ import annotations

import dataclasses
import json
import re

import imageio.v2 as imageio
import imageio.v3 as iio
import pytest
from cli_helpers import listed_settings

from rlsuite import __version__
from rlsuite.agents import AGENTS, make_config
from rlsuite.cli import COMMANDS, build_parser, main


def test_eval_json_prints_one_object(trained_run, capsys):
    assert main(["eval", str(trained_run), "--episodes", "4", "--deterministic", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)  # fails unless stdout is exactly one JSON value
    assert {"mean_return", "std_return", "success_rate", "mean_length"} <= result.keys()
    assert result["episodes"] == 4 and result["success_rate"] is None  # CartPole reports none
    assert result["checkpoint"].endswith("best.pt")


def test_eval_of_a_checkpoint_file_prints_a_readable_report(trained_run, capsys):
    assert main(["eval", str(trained_run / "checkpoints" / "last.pt"), "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "mean return:" in out and "mean episode length:" in out and "step 2000" in out


def watched_lengths(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"length (\d+)", out)]


def test_watch_record_gif_holds_one_frame_per_step_plus_resets(trained_run, tmp_path, capsys):
    gif = tmp_path / "out.gif"
    args = ["watch", str(trained_run), "--episodes", "2", "--record", str(gif), "--fps", "20"]
    assert main(args) == 0
    lengths = watched_lengths(capsys.readouterr().out)
    assert len(lengths) == 2
    frames = iio.imread(gif, index=None)
    assert frames.ndim == 4 and frames.shape[-1] in (3, 4)
    # Every frame carries the heads-up line (episode, step, return), as the window shows it.
    assert frames.shape[0] == sum(length + 1 for length in lengths)
    assert frames.shape[1] > frames.shape[2] * 400 // 600  # the HUD bar under CartPole's picture
    assert iio.immeta(gif, index=0)["duration"] == 50  # 20 fps


def test_watch_record_mp4_holds_one_frame_per_step_plus_resets(trained_run, tmp_path, capsys):
    mp4 = tmp_path / "out.mp4"
    assert main(["watch", str(trained_run), "--episodes", "1", "--record", str(mp4)]) == 0
    (length,) = watched_lengths(capsys.readouterr().out)
    with imageio.get_reader(mp4) as reader:
        assert reader.count_frames() == length + 1


def test_watch_opens_a_window_under_the_dummy_video_driver(trained_run, capsys):
    assert main(["watch", str(trained_run), "--episodes", "1", "--fps", "1000"]) == 0
    assert "episode 1: return" in capsys.readouterr().out


def test_envs_lists_ids_with_spaces(capsys):
    assert main(["envs", "CartPole"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "CartPole-v1 | Box(" in "\n".join(lines)
    assert any(line.startswith("CartPole-v1 |") and "Discrete(2) | -" in line for line in lines)


def test_agents_lists_names_and_descriptions(capsys):
    assert main(["agents"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"reinforce", "actor-critic", "a2c", "ppo"} <= set(names)


@pytest.mark.parametrize("name", list(AGENTS))
def test_agents_name_lists_settings_whose_defaults_set_takes_back(name, capsys):
    assert main(["agents", name.upper()]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: ") and "run settings, also --set: seed, steps" in out
    defaults = listed_settings(out)
    assert list(defaults) == [f.name for f in dataclasses.fields(AGENTS[name].Config)]
    # Each default as printed, given back to --set, is the Config's own default.
    assert make_config(name, defaults) == make_config(name)


def test_agents_name_shows_ppos_defaults_and_its_per_task_file(capsys):
    assert main(["agents", "ppo"]) == 0
    out = capsys.readouterr().out
    defaults = listed_settings(out)
    assert (defaults["n_steps"], defaults["hidden_sizes"], defaults["target_kl"]) == (
        "128",
        "64,64",
        "none",
    )
    assert "rlsuite/hyperparams/ppo.yaml sets some per env id" in out


def test_agents_name_unknown_is_one_line_listing_the_agents(capsys):
    assert main(["agents", "dqn"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown agent 'dqn'; agents: reinforce" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and __version__ in capsys.readouterr().out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_is_explained_in_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    subcommands = next(a for a in build_parser()._actions if a.choices)
    for action in subcommands.choices[command]._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
