"""Wall time of 4 seeds through `rlsuite sweep` (Ray Tune) beside the same 4 runs one after
another with `rlsuite train`.

The runs: A2C on rlsuite/KeyDoor-5x5-v0 with its per-task settings, seeds 0-3, `--steps`
env steps each (default 300,000). The yardstick is what a user does without a sweep: four
`rlsuite train` commands in a row. The sweep is one `rlsuite sweep` command, Ray's start-up
included, with one CPU per trial. Both are timed as whole commands; each repeat runs both, in
alternating order, so that the load of a shared machine falls on both alike. Target: the sweep
takes <= 0.6x the sequential time on 2 cores (median over repeats).

    python benchmarks/sweep_speedup.py                   # 3 repeats, 300k steps per run
    python benchmarks/sweep_speedup.py --repeats 1 --steps 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ENV_ID, AGENT, SEEDS = "rlsuite/KeyDoor-5x5-v0", "a2c", (0, 1, 2, 3)
TARGET = 0.6


def rlsuite(*args: str) -> None:
    """Run `python -m rlsuite.cli ARGS`; stop the benchmark if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "rlsuite.cli", *args], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"rlsuite {' '.join(args)} failed:\n{result.stderr[-2000:]}")


def sequential(folder: Path, steps: int) -> float:
    """Seconds for the four runs one after another."""
    start = time.perf_counter()
    for seed in SEEDS:
        run_dir = folder / f"seq__s{seed}"
        rlsuite("train", ENV_ID, "--agent", AGENT, "--steps", str(steps), "--seed", str(seed),
                "--run-dir", str(run_dir), "--no-progress")  # fmt: skip
    return time.perf_counter() - start


def sweep(folder: Path, steps: int) -> float:
    """Seconds for the same four runs as one sweep on a local Ray."""
    sweep_file = folder / "sweep.yaml"
    spec = {"env_id": ENV_ID, "agent": AGENT, "steps": steps, "seeds": list(SEEDS)}
    sweep_file.write_text(yaml.safe_dump({**spec, "sweep_dir": str(folder / "sweep")}))
    start = time.perf_counter()
    rlsuite("sweep", str(sweep_file))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300_000, help="env steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{len(SEEDS)} seeds of {AGENT} on {ENV_ID}, {args.steps} steps each, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    times: dict[str, list[float]] = {"sequential": [], "sweep": []}
    for repeat in range(args.repeats):
        order = ("sequential", "sweep") if repeat % 2 == 0 else ("sweep", "sequential")
        for kind in order:
            with tempfile.TemporaryDirectory() as folder:
                measure = sequential if kind == "sequential" else sweep
                times[kind].append(measure(Path(folder), args.steps))
        print(f"repeat {repeat}: sequential {times['sequential'][-1]:.1f} s, "
              f"sweep {times['sweep'][-1]:.1f} s, "
              f"ratio {times['sweep'][-1] / times['sequential'][-1]:.2f}, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    ours, yardstick = statistics.median(times["sweep"]), statistics.median(times["sequential"])
    ratio = ours / yardstick
    print()
    print("| what | wall time (median) |")
    print("| --- | --- |")
    print(f"| rlsuite sweep, 4 seeds on Ray Tune (ours) | {ours:.1f} s |")
    print(f"| 4 x rlsuite train, one after another (yardstick) | {yardstick:.1f} s |")
    verdict = "met" if ratio <= TARGET else "not met"
    print(f"| ratio (target <= {TARGET}) | {ratio:.2f} ({verdict}) |")


if __name__ == "__main__":
    main()
