"""Helpers of the CLI tests: the shared step count and running `python -m rlsuite.cli`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent.parent
STEPS = 2000  # a2c on CartPole: 8 envs x 5 steps = 40 steps per update, 50 updates


def rlsuite_process(*args: str, **kwargs) -> subprocess.Popen:
    """Start `python -m rlsuite.cli ARGS` with this folder importable (for --import tests)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "rlsuite.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def run_rlsuite(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m rlsuite.cli ARGS` to the end; returns code, stdout and stderr."""
    process = rlsuite_process(*args)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def listed_settings(out: str) -> dict[str, str]:
    """`rlsuite agents NAME` / `models NAME`: setting -> default, from the indented table."""
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line[:2] == "  "]
    # rows[0] is the header; `""` is how a shell passes nothing
    return {row[0]: row[1].replace('""', "") for row in rows[1:]}
