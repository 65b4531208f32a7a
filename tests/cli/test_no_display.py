"""Where no window can be seen (no DISPLAY, no WAYLAND_DISPLAY, no SDL_VIDEODRIVER), the commands
that open one stop at once with one line that says so and what to do instead. SDL's offscreen
driver chosen on purpose (SDL_VIDEODRIVER=dummy, as the tests do) keeps working."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cli_helpers import REPO

DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")


def rlsuite_without_display(*args: str, timeout: float, **extra_env: str):
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "rlsuite.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,  # subprocess.TimeoutExpired fails the test
    )


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="windows need no variable there")
@pytest.mark.parametrize(
    "command, hint",
    [
        (["play", "rlsuite/KeyDoor-5x5-v0"], "play needs a screen and a keyboard"),
        (["expert", "rlsuite/Racer-v0", "--watch"], "run without --watch"),
        (["watch", "{run}"], "--record FILE.gif"),
    ],
    ids=["play", "expert", "watch"],
)
def test_no_display_stops_within_5_s_with_a_one_line_error(command, hint, trained_run):
    args = [str(trained_run) if a == "{run}" else a for a in command]
    result = rlsuite_without_display(*args, timeout=5)
    assert result.returncode == 2
    assert result.stderr.startswith("rlsuite: error: no display to open a window on")
    assert hint in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and "XDG_RUNTIME_DIR" not in result.stderr


def test_the_offscreen_driver_chosen_on_purpose_still_shows_the_expert():
    result = rlsuite_without_display(
        "expert", "rlsuite/KeyDoor-5x5-v0", "--watch", "--episodes", "1",
        timeout=60, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "success rate 1.00" in result.stdout
