"""`rlsuite sweep` on a real local Ray (2 CPUs, conftest's `ray_address`): the example sweep,
resuming a killed sweep, and its mistakes as one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from rlsuite.cli import main

REPO = Path(__file__).parent.parent


def example(tmp_path: Path, capsys, **changes) -> dict:
    """`rlsuite sweep --example`, as printed, with `changes` (smaller budgets for tests)."""
    assert main(["sweep", "--example"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    data["sweep_dir"] = str(tmp_path / "sweep")
    data.update(changes)
    return data


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_example_sweep_writes_four_runs_and_the_results_table(tmp_path, capsys, ray_address):
    data = example(tmp_path, capsys, steps=3000, set={"eval_every": 1500, "eval_episodes": 4})
    assert data["search"] == {"learning_rate": {"grid": [0.0007, 0.003]}} and data["seeds"] == [
        0,
        1,
    ]
    assert main(["sweep", str(write(tmp_path / "sweep.yaml", data))]) == 0
    printed = capsys.readouterr().out

    sweep_dir = tmp_path / "sweep"
    runs = sorted(p.name for p in (sweep_dir / "runs").iterdir())
    assert runs == [f"learning_rate={lr}__s{seed}" for lr in ("0.0007", "0.003") for seed in (0, 1)]
    means = {}
    for lr in (0.0007, 0.003):
        returns = []
        for seed in (0, 1):
            run = sweep_dir / "runs" / f"learning_rate={lr}__s{seed}"
            saved = yaml.safe_load((run / "config.yaml").read_text())  # an ordinary run folder
            assert saved["agent_config"]["learning_rate"] == lr and saved["seed"] == seed
            assert any((run / "tb").glob("events.out.tfevents.*"))
            summary = json.loads((run / "summary.json").read_text())
            assert summary["status"] == "finished" and summary["num_steps"] >= 3000
            returns.append(summary["last_eval"]["mean_task_return"])
        means[f"learning_rate={lr}"] = (np.mean(returns), np.std(returns))

    results = json.loads((sweep_dir / "results.json").read_text())
    rows = {row["configuration"]: row for row in results["configurations"]}
    assert set(rows) == set(means)
    for name, (mean, std) in means.items():
        assert rows[name]["eval/mean_reward_mean"] == pytest.approx(mean)
        assert rows[name]["eval/mean_reward_std"] == pytest.approx(std)
        assert rows[name]["seeds"] == [0, 1]
    best = max(means, key=lambda name: means[name][0])
    assert results["best"] == best
    csv_lines = (sweep_dir / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith(
        "configuration,learning_rate,runs,finished,eval/mean_reward_mean"
    )
    assert len(csv_lines) == 3 and sum(line.endswith(",True") for line in csv_lines) == 1
    assert f"{best}  (best)" in printed and "± " in printed
    assert f"tensorboard --logdir {sweep_dir / 'runs'}" in printed


def test_a_killed_sweep_resumes_without_redoing_finished_trials(tmp_path, capsys, ray_address):
    seeds = [0, 1, 2]
    data = example(tmp_path, capsys, steps=4000, seeds=seeds)
    data["set"] = {"eval_every": 2000, "eval_episodes": 4, "checkpoint_every": 1000}
    data["search"] = {"learning_rate": {"grid": [0.003]}}
    sweep_file = write(tmp_path / "sweep.yaml", data)
    runs = tmp_path / "sweep" / "runs"

    # One trial at a time on the module's Ray (--address), killed once a trial has finished.
    # A busy machine can delay this poll past a second trial's end (CI saw it once), so the
    # sweep has three trials and the kill only has to come before the last one ends.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "rlsuite.cli", "sweep", str(sweep_file)]
    command += ["--address", ray_address, "--max-concurrent", "1"]
    driver = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    finished: list[Path] = []
    while not finished and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.1)
        finished = [s.parent for s in runs.glob("*/summary.json")] if runs.is_dir() else []
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    assert 1 <= len(finished) < len(seeds), "the kill should come between the first and last trial"
    before = {p: p.stat().st_mtime_ns for done in finished for p in done.rglob("*") if p.is_file()}
    assert not (tmp_path / "sweep" / "results.json").exists()  # killed before the end

    assert main(["sweep", str(sweep_file), "--resume"]) == 0
    printed = capsys.readouterr().out
    after = {p: p.stat().st_mtime_ns for done in finished for p in done.rglob("*") if p.is_file()}
    assert after == before  # not one file of a finished trial was written again
    for seed in seeds:
        summary = json.loads((runs / f"learning_rate=0.003__s{seed}" / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["num_steps"] >= 4000
    results = json.loads((tmp_path / "sweep" / "results.json").read_text())
    assert results["configurations"][0]["seeds"] == seeds
    assert "3/3" in printed


def test_sweep_mistakes_are_one_line_and_write_nothing(tmp_path, capsys):
    data = example(tmp_path, capsys)
    data["search"] = {"learning_rat": {"grid": [0.001]}}
    assert main(["sweep", str(write(tmp_path / "bad.yaml", data))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlsuite: error: sweep file") and "did you mean learning_rate" in err
    assert err.count("\n") == 1 and not (tmp_path / "sweep").exists()

    # A bad env kwarg is found before Ray runs a trial (it failed in every worker, with a
    # traceback, and left a sweep folder).
    data["search"] = {"learning_rate": {"grid": [0.001]}}
    data["env_kwargs"] = {"reward_mode": "spars"}
    assert main(["sweep", str(write(tmp_path / "bad.yaml", data))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlsuite: error: sweep file") and "unknown reward_mode 'spars'" in err
    assert err.count("\n") == 1 and not (tmp_path / "sweep").exists()
    data["env_kwargs"] = {"reward_mode": "shaped"}

    data["search"] = {"learning_rate": {"uniform": [0.01, 0.001]}}
    assert main(["sweep", str(write(tmp_path / "bad.yaml", data))]) == 2
    assert "uniform needs low < high" in capsys.readouterr().err

    data["search"] = {"learning_rate": {"grid": [0.001]}}
    assert main(["sweep", str(write(tmp_path / "good.yaml", data)), "--num-samples", "3"]) == 2
    assert "needs a random key" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "good.yaml"), "--resume"]) == 2
    assert "holds no sweep to continue" in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()


def test_a_mistake_found_while_a_new_local_ray_starts_is_the_only_line(tmp_path, capsys):
    """A fresh process starts its own Ray, which logs a notice of its own (token authentication
    turned on) unless the sweep drops it: the error must still be all that is printed."""
    data = example(tmp_path, capsys, env_kwargs={"reward_mode": "spars"})
    command = [sys.executable, "-m", "rlsuite.cli", "sweep", str(write(tmp_path / "s.yaml", data))]
    process = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert process.returncode == 2 and process.stdout == ""
    assert process.stderr.startswith("rlsuite: error: sweep file") and "spars" in process.stderr
    assert process.stderr.count("\n") == 1 and not (tmp_path / "sweep").exists()


def test_an_address_where_no_ray_listens_is_refused_at_once(tmp_path, capsys):
    """Ray would retry such an address for many minutes; the sweep says so in one line.
    (A fresh process: this one may already hold the module's Ray, which a sweep would use.)"""
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sweep_file = write(tmp_path / "s.yaml", example(tmp_path, capsys))

    def sweep(address: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "rlsuite.cli", "sweep", str(sweep_file)]
        return subprocess.run(
            [*command, "--address", address], capture_output=True, text=True, timeout=120
        )

    start = time.perf_counter()
    process = sweep(f"127.0.0.1:{port}")
    assert process.returncode == 2 and time.perf_counter() - start < 60
    assert process.stderr.startswith(f"rlsuite: error: cannot reach Ray at 127.0.0.1:{port}")
    assert "ray start --head" in process.stderr and process.stderr.count("\n") == 1
    assert not (tmp_path / "sweep").exists()
    process = sweep("my-cluster")
    assert process.returncode == 2 and "expected auto or HOST:PORT" in process.stderr


def test_random_search_draws_the_same_configurations_for_every_seed_and_every_time(tmp_path):
    from rlsuite import sweeps

    data = {
        "env_id": "rlsuite/KeyDoor-5x5-v0",
        "agent": "a2c",
        "seeds": 2,
        "num_samples": 3,
        "search": {
            "learning_rate": {"loguniform": [1e-4, 1e-2]},
            "gamma": {"grid": [0.9, 0.99]},
            "hidden_sizes": {"choice": ["64,64", "32"]},
        },
    }
    sweep = sweeps.parse_sweep(data, default_dir=tmp_path / "s")
    trials = sweeps.trials(sweep)
    assert len(trials) == 3 * 2 * 2  # draws x grid x seeds (no repeated draw here)
    assert trials == sweeps.trials(sweeps.parse_sweep(data, default_dir=tmp_path / "s"))
    for t in trials:
        lr = t.values["learning_rate"]
        assert 1e-4 <= lr <= 1e-2 and t.run_config.agent_config["learning_rate"] == lr
        assert t.run_config.agent_config["gamma"] == t.values["gamma"]
        assert t.run_config.seed == t.seed and t.run_dir.name == f"{t.configuration}__s{t.seed}"
    by_config: dict[str, list[int]] = {}
    for t in trials:
        by_config.setdefault(t.configuration, []).append(t.seed)
    assert all(seeds == [0, 1] for seeds in by_config.values()) and len(by_config) == 6


def test_without_ray_the_sweep_says_how_to_install_it(tmp_path, capsys):
    sweep_file = write(tmp_path / "s.yaml", example(tmp_path, capsys))
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if Ray were not installed
        "from rlsuite.cli import main\n"
        f"sys.exit(main(['sweep', {str(sweep_file)!r}]))\n"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert process.returncode == 2
    assert (
        process.stderr
        == 'rlsuite: error: rlsuite sweep needs Ray Tune: pip install "rlsuite[ray]"\n'
    )
    assert not (tmp_path / "sweep").exists()


# A sweep's local Ray, started as `rlsuite sweep` starts it, in a fresh process: after 3 s
# with nothing asked of it, the Ray worker processes under that process (from /proc), then its
# own niceness and a task's.
LOCAL_RAY_PROBE = """
import os, time, ray
from pathlib import Path
from rlsuite.sweeps import _start_ray

def ray_workers():
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
        except OSError:
            continue
        parents[int(pid)] = int(rest.rsplit(") ", 1)[1].split()[1])
    ours, grew = {os.getpid()}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in ours}
        grew = bool(below - ours)
        ours |= below
    workers = 0
    for pid in ours:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\\0")
        except OSError:
            continue
        starting = len(argv) > 1 and argv[1].endswith("default_worker.py")
        workers += starting or argv[0].startswith("ray::IDLE")
    return workers

_start_ray(ray, None)
time.sleep(3)
print(ray_workers(), os.nice(0), ray.get(ray.remote(lambda: os.nice(0)).remote()))
ray.shutdown()
"""


@pytest.fixture(scope="module")
def local_ray_probe() -> tuple[int, int, int]:
    """(idle Ray workers before any task, the caller's niceness, a task's niceness)."""
    if not Path("/proc/self/stat").is_file():
        pytest.skip("reads the process tree from /proc (Linux)")
    set_by_the_sweep = ("RAY_worker_niceness", "RAY_prestart_worker_first_driver")
    env = {k: v for k, v in os.environ.items() if k not in set_by_the_sweep}
    done = subprocess.run(
        [sys.executable, "-c", LOCAL_RAY_PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    workers, ours, task = map(int, done.stdout.split()[-3:])
    return workers, ours, task


def test_trials_run_at_the_users_own_priority(local_ray_probe):
    """Ray starts its workers at niceness 15; the sweep's local Ray starts them at the caller's,
    so that on a busy machine a sweep's runs do not wait behind what `rlsuite train` would not."""
    _, ours, task = local_ray_probe
    assert task == ours


def test_the_sweeps_ray_starts_no_worker_that_no_trial_would_use(local_ray_probe):
    """Ray would prestart a worker per CPU (each importing torch), which Tune's trial actors,
    with a runtime env of their own, never use: they would only take the first trials' CPU."""
    workers, _, _ = local_ray_probe
    assert workers == 0
