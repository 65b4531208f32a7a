"""Every bad input gives one `rlsuite: error: ...` line and a non-zero exit, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from cli_helpers import STEPS, rlsuite_process, run_rlsuite

from rlsuite.cli import main

A2C = ["--agent", "a2c", "--no-progress"]


def assert_one_line_error(capsys, code: int, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rlsuite"), err
    assert ": error: " in lines[0], err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "CartPole-v9", *A2C], ["unknown environment id", "did you mean CartPole-v1"]),
        (["train", "CartPole-v1", "--agent", "dqn"], ["unknown agent 'dqn'", "a2c", "ppo"]),
        (
            ["train", "CartPole-v1", *A2C, "--set", "lr=1"],
            ["unknown setting 'lr'", "learning_rate"],
        ),
        (
            ["train", "CartPole-v1", *A2C, "--set", "learning_rate=fast"],
            ["learning_rate must be a positive number, not 'fast'"],
        ),
        (["train", "CartPole-v1", *A2C, "--set", "checkpoint_every=often"], ["integer"]),
        (["train", "CartPole-v1", *A2C, "--set", "vec=threads"], ["vec", "sync"]),
        (["train", "CartPole-v1", *A2C, "--set", "learning_rate"], ["key=value"]),
        (["train", "CartPole-v1", *A2C, "--wrapper", "no_such_module:Wrap"], ["bad --wrapper"]),
        (["train", "CartPole-v1", *A2C, "--wrapper", "gymnasium.wrappers"], ["module:Class"]),
        (["train", "CartPole-v1", *A2C, "--import", "no_such_module_xyz"], ["bad --import"]),
        (["train", "CartPole-v1", *A2C, "--env-kwargs", "bogus=1"], ["cannot make environment"]),
        (
            ["train", *A2C, "--import", "rlsuite_test_envs", "RlsuiteTest/MultiDiscrete-v0"],
            ["a2c cannot train on", "MultiDiscrete"],
        ),
        (["train", "--resume", "no/such/run"], ["no such run folder"]),
        (["train", "--resume", "no/such/run", "--agent", "a2c"], ["drop --agent"]),
        (["eval", "no/such/run"], ["no such run folder or checkpoint"]),
        (["watch", "no/such/run.pt"], ["no such run folder or checkpoint"]),
        (["train", "CartPole-v1", "--steps", "many"], ["--steps"]),
        # A wrapper's bare assert (grayscale wants 3 channels; the entry stacks 2 frames: 6):
        # the line is where it failed and the failed code, not the word AssertionError alone.
        (
            ["train", "rlsuite/KeyDoor-5x5-v0", "--env-kwargs", "obs_mode=pixels"]
            + ["--wrapper", "gymnasium.wrappers:GrayscaleObservation"],
            ["AssertionError at gymnasium/wrappers/", "shape"],
        ),
        # An option the command does not have: its own --help is named, not rlsuite's.
        (["train", "CartPole-v1", "--bogus"], ["unrecognized arguments: --bogus", "train --help"]),
        (["plot", "runs", "--csv", "x.csv"], ["unrecognized arguments", "rlsuite plot --help"]),
        (["--bogus"], ["unrecognized arguments: --bogus", "(see rlsuite --help)"]),
    ],
)
def test_bad_input_is_one_line(args, fragments, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written, and nothing is
    try:
        code = main(args)
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    assert_one_line_error(capsys, code, *fragments)
    assert not Path("runs").exists()


# One case per kind of setting (positive integer, integer-ness, range, choice, layer sizes, flag,
# optional number) and per run setting: `rlsuite: error: <message>`, exit 2, no run folder.
BAD_SETTINGS = [
    (["--set", "n_steps=0"], "n_steps must be a positive integer, not 0"),
    (["--set", "n_steps=-5"], "n_steps must be a positive integer, not -5"),
    (["--set", "n_steps=1.5"], "n_steps must be a positive integer, not 1.5"),
    (["--set", "gamma=1.5"], "gamma must be a number from 0 to 1, not 1.5"),
    (["--set", "ent_coef=-1"], "ent_coef must be a number >= 0, not -1"),
    (["--set", "lr_schedule=cosine"], "lr_schedule must be one of constant, linear, not 'cosine'"),
    (["--set", "activation=gelu"], "activation must be one of tanh, relu, not 'gelu'"),
    (["--set", "hidden_sizes=0"], "hidden_sizes must be one or more positive integers"),
    (["--set", "hidden_sizes=64,-1"], "hidden_sizes must be one or more positive integers"),
    (["--set", "shared_trunk=maybe"], "shared_trunk must be true or false or none, not 'maybe'"),
    (["--agent", "ppo", "--set", "n_epochs=0"], "n_epochs must be a positive integer, not 0"),
    (["--agent", "ppo", "--set", "target_kl=-0.1"], "target_kl must be a positive number or none"),
    (
        ["--agent", "ppo", "--set", "batch_size=2.5"],
        "batch_size must be a positive integer, not 2.5",
    ),
    (["--n-envs", "0"], "n_envs must be a positive integer, not 0"),
    (["--steps", "0"], "steps must be a positive integer, not 0"),
    (["--seed", "-1"], "seed must be 0 or a positive integer, not -1"),
    (["--set", "eval_episodes=0"], "eval_episodes must be a positive integer, not 0"),
    (
        ["--curiosity", "rnd", "--set", "count_per_episode=true"],
        "count_per_episode applies to curiosity=count, not rnd",
    ),
]


@pytest.mark.parametrize("args, message", BAD_SETTINGS, ids=[" ".join(a) for a, _ in BAD_SETTINGS])
def test_bad_setting_is_one_line_and_leaves_no_run_folder(args, message, capsys, tmp_path):
    run = tmp_path / "runs" / "bad"
    code = main(["train", "CartPole-v1", *A2C, *args, "--run-dir", str(run)])
    assert code == 2
    line = assert_one_line_error(capsys, code)
    assert line.startswith(f"rlsuite: error: {message}"), line
    assert not (tmp_path / "runs").exists()


def test_failure_before_the_first_checkpoint_leaves_no_run_folder(tmp_path, capsys):
    """NaN rewards stop training before any checkpoint: nothing to resume, so no folder, and
    running again starts afresh instead of asking for --resume or --force."""
    run = tmp_path / "runs" / "nan"
    args = ["train", "RlsuiteTest/NaNReward-v0", *A2C, "--import", "rlsuite_test_envs"]
    args += ["--n-envs", "2", "--steps", "100000", "--set", "checkpoint_every=0"]
    args += ["--eval-every", "0", "--run-dir", str(run)]
    for _ in range(2):
        line = assert_one_line_error(capsys, main(args), "training stopped", "no run folder kept")
        assert "--resume" not in line and "--force" not in line
        assert not (tmp_path / "runs").exists()


def test_agent_names_ignore_case(tmp_path):
    run = tmp_path / "run"
    args = ["train", "CartPole-v1", "--agent", "A2C", "--steps", "80", "--eval-every", "0"]
    assert main([*args, "--run-dir", str(run), "--no-progress"]) == 0
    assert "agent: a2c" in (run / "config.yaml").read_text()


def test_existing_run_folder_is_refused_with_hints(trained_run, capsys):
    before = sorted(p.name for p in (trained_run / "checkpoints").iterdir())
    code = main(["train", "CartPole-v1", *A2C, "--steps", "40", "--run-dir", str(trained_run)])
    assert_one_line_error(capsys, code, "exists", "--resume", "--force")
    assert sorted(p.name for p in (trained_run / "checkpoints").iterdir()) == before


def test_force_starts_an_existing_run_over(tmp_path, capsys):
    run = tmp_path / "run"
    for _ in range(2):
        assert (
            main(["train", "CartPole-v1", *A2C, "--steps", "80", "--run-dir", str(run), "--force"])
            == 0
        )
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["num_steps"] == 80


def test_bad_config_file(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("agent: a2c\nlearning_rate: 0.1\n")
    code = main(["train", "--config", str(config), "--run-dir", str(tmp_path / "run")])
    assert_one_line_error(
        capsys, code, "unknown key 'learning_rate'", "settings go under agent_config"
    )
    config.write_text("agent: [a2c\n")
    code = main(["train", "--config", str(config), "--run-dir", str(tmp_path / "run")])
    assert_one_line_error(capsys, code, "not valid YAML/JSON")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "pickled code"])
def test_corrupt_checkpoint(damage, trained_run, tmp_path, capsys):
    path = tmp_path / "last.pt"
    if damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif damage == "truncated":
        data = (trained_run / "checkpoints" / "last.pt").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:  # a pickle that would run code when loaded without weights_only
        torch.save({"format": "rlsuite-checkpoint", "hook": print}, path)
    expected = "refusing to load" if damage == "pickled code" else "corrupt"
    line = assert_one_line_error(capsys, main(["eval", str(path)]), str(path), expected)
    assert "weights_only" not in line  # never pass on torch's advice to load unsafely


def test_corrupt_last_checkpoint_on_resume(trained_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "checkpoints" / "last.pt").write_bytes(b"\x00" * 100)
    code = main(["train", "--resume", str(run), "--steps", "4000", "--no-progress"])
    newest = run / "checkpoints" / f"step_{STEPS}.pt"  # the run's own last save, intact
    assert_one_line_error(capsys, code, "cannot read checkpoint", "last.pt", f"cp {newest} ")
    shutil.copy(newest, run / "checkpoints" / "last.pt")  # the advice works
    assert main(["train", "--resume", str(run), "--steps", "4000", "--no-progress"]) == 0


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "nan"
    args = ["train", "RlsuiteTest/NaNReward-v0", *A2C, "--import", "rlsuite_test_envs"]
    args += [
        "--n-envs",
        "2",
        "--steps",
        "100000",
        "--set",
        "checkpoint_every=10",
        "--eval-every",
        "0",
        "--run-dir",
        str(run),
    ]
    result = run_rlsuite(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rlsuite: error: training stopped:")
    assert "last good checkpoint" in lines[0]
    checkpoint = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    # Each env instance returns NaN from its 101st step on (2 envs, plus the autoreset steps).
    assert 0 < checkpoint["num_steps"] < 300
    assert all(torch.isfinite(p).all() for p in checkpoint["agent"]["policy"].values())


def test_console_errors_carry_no_traceback(tmp_path):
    result = run_rlsuite("train", "CartPole-v9", "--agent", "a2c", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert result.stderr.startswith("rlsuite: error: unknown environment id 'CartPole-v9'")
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()


def test_a_reader_that_goes_away_ends_the_listing_quietly():
    """`rlsuite envs | head -1`: once the reader has gone, no BrokenPipeError traceback, and
    the exit status of a Unix tool stopped by SIGPIPE."""
    process = rlsuite_process("envs")
    process.stdout.close()  # before the listing's first line: every write finds no reader
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert stderr == ""


def test_bad_env_kwargs_print_no_cleanup_traceback(tmp_path):
    """Gymnasium's CartPoleVectorEnv fails in __init__ on an unknown keyword, and the half-built
    env's __del__ then fails too (close() reads an attribute __init__ never set): the user
    still sees one line, not Python's "Exception ignored in ..." traceback."""
    run = tmp_path / "r"
    args = ["train", "CartPole-v1", *A2C, "--env-kwargs", "bogus=1", "--run-dir", str(run)]
    result = run_rlsuite(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rlsuite: error: cannot make environment CartPole-v1")
    assert not run.exists()
