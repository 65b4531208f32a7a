"""`rlsuite plot`: curves from real runs' TensorBoard files, as a PNG and a CSV whose numbers
are the event files' (read back here with TensorBoard's low-level event file loader)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from rlsuite.cli import main

TAG = "rollout/ep_rew_mean"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Three short real runs: two seeds of lr=0.003 and one of lr=0.0007."""
    root = tmp_path_factory.mktemp("runs")
    for name, lr, seed in [("lr=0.003", 0.003, 0), ("lr=0.003", 0.003, 1), ("lr=0.0007", 7e-4, 0)]:
        args = ["train", "rlsuite/KeyDoor-5x5-v0", "--agent", "a2c", "--steps", "3000"]
        args += ["--seed", str(seed), "--set", f"learning_rate={lr}", "--eval-every", "0"]
        assert main([*args, "--run-dir", str(root / f"{name}__s{seed}"), "--no-progress"]) == 0
    return root


def event_file_scalars(run_dir: Path, tag: str) -> dict[int, float]:
    """{step: value} of `tag`, read record by record from the run's event files."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    values = {}
    for path in sorted((run_dir / "tb").glob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.tag == tag:
                    values[event.step] = float(tensor_util.make_ndarray(value.tensor))
    return values


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_two_runs_give_a_png_and_a_csv_of_their_event_files(runs, tmp_path, capsys):
    a, b = runs / "lr=0.003__s0", runs / "lr=0.0007__s0"
    assert main(["plot", str(a), str(b), "-o", str(tmp_path / "curves.png")]) == 0
    assert "lr=0.003: 1 run(s)" in capsys.readouterr().out
    picture = matplotlib.image.imread(tmp_path / "curves.png")
    assert picture.shape[0] > 300 and picture.shape[1] > 500 and picture.std() > 0.05
    rows = read_csv(tmp_path / "curves.csv")
    for run, curve in [(a, "lr=0.003"), (b, "lr=0.0007")]:
        expected = event_file_scalars(run, TAG)
        got = {int(r["step"]): float(r["mean"]) for r in rows if r["curve"] == curve}
        assert len(expected) >= 2 and got.keys() == expected.keys()
        for step, value in expected.items():
            assert got[step] == pytest.approx(value, rel=1e-6)
        assert all(float(r["std"]) == 0 for r in rows if r["curve"] == curve)


def test_seeds_of_one_setting_are_one_curve_with_mean_and_std(runs, tmp_path, capsys):
    out = tmp_path / "all.png"
    assert main(["plot", str(runs), "--tag", TAG, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "lr=0.003: 2 run(s)" in printed and "lr=0.0007: 1 run(s)" in printed
    rows = [r for r in read_csv(tmp_path / "all.csv") if r["curve"] == "lr=0.003"]
    seeds = [event_file_scalars(runs / f"lr=0.003__s{seed}", TAG) for seed in (0, 1)]
    assert seeds[0].keys() == seeds[1].keys() == {int(r["step"]) for r in rows}
    for row in rows:
        both = [s[int(row["step"])] for s in seeds]
        assert float(row["mean"]) == pytest.approx(np.mean(both), rel=1e-6)
        assert float(row["std"]) == pytest.approx(np.std(both), rel=1e-5, abs=1e-7)
        assert row["runs"] == "2"
    assert out.stat().st_size > 10_000


def test_plot_mistakes_are_one_line(runs, tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nothing"), "-o", str(tmp_path / "c.png")]) == 2
    assert capsys.readouterr().err.startswith("rlsuite: error: no such folder")
    run = str(runs / "lr=0.003__s0")
    assert main(["plot", run, "--tag", "eval/nope", "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert "has no scalar 'eval/nope'" in err and "rollout/ep_rew_mean" in err
    assert main(["plot", run, "-o", str(tmp_path / "c.txt")]) == 2
    assert "-o must end in .png" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()
