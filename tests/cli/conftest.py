"""Fixtures of the CLI tests: one short training run shared by the tests that only read it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # cli_helpers and the --import test envs

from cli_helpers import STEPS  # noqa: E402

from rlsuite.cli import main  # noqa: E402


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """`rlsuite train CartPole-v1 --agent a2c --steps 2000` (constant lr), run once for all."""
    run_dir = tmp_path_factory.mktemp("runs") / "cartpole"
    args = ["train", "CartPole-v1", "--agent", "a2c", "--steps", str(STEPS)]
    args += ["--set", "lr_schedule=constant"]  # so resumed runs can be compared with it
    assert main([*args, "--run-dir", str(run_dir), "--no-progress"]) == 0
    return run_dir
