"""`--set vec=async` (one process per env copy) shuts down cleanly on Ctrl-C and on errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from cli_helpers import rlsuite_process


def processes_in_group(group: int) -> list[str]:
    """The processes still alive in process group `group` (workers left behind)."""
    out = subprocess.run(["ps", "-eo", "pgid=,stat=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if int(line.split()[0]) == group and " Z" not in line]


def test_ctrl_c_saves_last_pt_and_ends_every_worker(tmp_path: Path):
    run_dir = tmp_path / "run"
    # Ctrl-C in a terminal reaches the whole process group: the trainer and its 4 workers.
    process = rlsuite_process(
        "train", "rlsuite/KeyDoor-5x5-v0", "--agent", "a2c", "--steps", "1000000",
        "--n-envs", "4", "--set", "vec=async", "--eval-every", "0", "--run-dir", str(run_dir),
        "--no-progress", start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list((run_dir / "tb").glob("events.*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # training has started (the first events are written)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted at" in stdout and "Traceback" not in stderr and "Worker" not in stderr
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["num_steps"] > 0
    time.sleep(0.5)
    assert processes_in_group(process.pid) == []


def test_an_env_error_in_a_worker_ends_the_run_and_every_worker(tmp_path: Path):
    run_dir = tmp_path / "run"
    process = rlsuite_process(
        "train", "RlsuiteTest/Crash-v0", "--import", "rlsuite_test_envs", "--agent", "a2c",
        "--steps", "100000", "--n-envs", "2", "--set", "vec=async", "checkpoint_every=200",
        "--eval-every", "0", "--run-dir", str(run_dir), "--no-progress", start_new_session=True,
    )  # fmt: skip
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "RuntimeError: the env's physics broke" in stderr
    # The last good checkpoint stays (resumable); no worker process outlives the trainer.
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    time.sleep(0.5)
    assert processes_in_group(process.pid) == []
