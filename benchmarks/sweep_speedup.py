"""Wall time of 4 seeds through `rlsuite sweep` (Ray Tune) beside the same 4 runs one after
another with `rlsuite train`.

The runs: A2C on rlsuite/KeyDoor-5x5-v0 with its per-task settings, seeds 0-3, `--steps`
env steps each (default 300,000). The yardstick is what a user does without a sweep: four
`rlsuite train` commands in a row. The sweep is one `rlsuite sweep` command, Ray's start-up
included, with one CPU per trial. Both are timed as whole commands; each repeat runs both, in
alternating order, so that the load of a shared machine falls on both alike. Target: the sweep
takes <= 0.6x the sequential time on 2 cores (median over repeats). Beside them, for reference,
the same runs as two plain `rlsuite train` processes at a time without Ray (two pairs): what the
two cores allow, so that the gap between it and the sweep is Ray's and Tune's own cost.

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


def start(*args: str) -> subprocess.Popen:
    """Start `python -m rlsuite.cli ARGS`."""
    command = [sys.executable, "-m", "rlsuite.cli", *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(*processes: subprocess.Popen) -> None:
    """Wait for the processes; stop the benchmark if one failed."""
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            sys.exit(f"{' '.join(map(str, process.args[3:]))} failed:\n{err[-2000:]}")


def train(folder: Path, steps: int, seed: int) -> subprocess.Popen:
    """Start one of the four runs as `rlsuite train`."""
    return start("train", ENV_ID, "--agent", AGENT, "--steps", str(steps), "--seed", str(seed),
                 "--run-dir", str(folder / f"run__s{seed}"), "--no-progress")  # fmt: skip


def sequential(folder: Path, steps: int) -> float:
    """Seconds for the four runs one after another."""
    begin = time.perf_counter()
    for seed in SEEDS:
        finish(train(folder, steps, seed))
    return time.perf_counter() - begin


def in_pairs(folder: Path, steps: int) -> float:
    """Seconds for the four runs two at a time, plain processes without Ray."""
    begin = time.perf_counter()
    for pair in (SEEDS[:2], SEEDS[2:]):
        finish(*(train(folder, steps, seed) for seed in pair))
    return time.perf_counter() - begin


def sweep(folder: Path, steps: int) -> float:
    """Seconds for the same four runs as one sweep on a local Ray."""
    sweep_file = folder / "sweep.yaml"
    spec = {"env_id": ENV_ID, "agent": AGENT, "steps": steps, "seeds": list(SEEDS)}
    sweep_file.write_text(yaml.safe_dump({**spec, "sweep_dir": str(folder / "sweep")}))
    begin = time.perf_counter()
    finish(start("sweep", str(sweep_file)))
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300_000, help="env steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-pairs", dest="pairs", action="store_false", help="skip the two-at-a-time reference"
    )
    args = parser.parse_args()
    print(f"{len(SEEDS)} seeds of {AGENT} on {ENV_ID}, {args.steps} steps each, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    times: dict[str, list[float]] = {"sequential": [], "sweep": [], "pairs": []}
    measures = {"sequential": sequential, "sweep": sweep, "pairs": in_pairs}
    for repeat in range(args.repeats):
        order = ("sequential", "sweep") if repeat % 2 == 0 else ("sweep", "sequential")
        for kind in (*order, "pairs") if args.pairs else order:
            with tempfile.TemporaryDirectory() as folder:
                times[kind].append(measures[kind](Path(folder), args.steps))
        pairs = f", two plain processes at a time {times['pairs'][-1]:.1f} s" if args.pairs else ""
        print(f"repeat {repeat}: sequential {times['sequential'][-1]:.1f} s, "
              f"sweep {times['sweep'][-1]:.1f} s{pairs}, "
              f"ratio {times['sweep'][-1] / times['sequential'][-1]:.2f}, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    ours, yardstick = statistics.median(times["sweep"]), statistics.median(times["sequential"])
    ratio = ours / yardstick
    print()
    print("| what | wall time (median) | / sequential |")
    print("| --- | --- | --- |")
    print(f"| rlsuite sweep, 4 seeds on Ray Tune (ours) | {ours:.1f} s | {ratio:.2f} |")
    print(f"| 4 x rlsuite train, one after another (yardstick) | {yardstick:.1f} s | 1.00 |")
    if args.pairs:
        pairs = statistics.median(times["pairs"])
        print(f"| 4 x rlsuite train, two at a time, no Ray (reference) | {pairs:.1f} s "
              f"| {pairs / yardstick:.2f} |")  # fmt: skip
    verdict = "met" if ratio <= TARGET else "not met"
    print(f"| ratio sweep / sequential (target <= {TARGET}) | {ratio:.2f} ({verdict}) | |")


if __name__ == "__main__":
    main()
