"""``rlsuite plot``: runs' curves side by side, read from their TensorBoard event files.

Each run folder's ``tb/`` is read with TensorBoard's own reader (``EventAccumulator``, every
point kept). Runs that differ only by seed form one curve: the run folder's name without its
``__s<seed>`` (and a default name's ``__<date>-<time>``) names the curve, so
``learning_rate=0.0007__s0`` and ``learning_rate=0.0007__s1`` draw "learning_rate=0.0007".
A curve is the mean over its runs with a band of one standard deviation, on the env-step axis,
unsmoothed (TensorBoard's smoothing 0). The same numbers are written as CSV beside the picture.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rlsuite.errors import RlsuiteError

# "<name>__s<seed>" and runs.default_run_dir's "<env>__<agent>__s<seed>__<YYYYmmdd-HHMMSS>"
_SEED_SUFFIX = re.compile(r"__s\d+(__\d{8}-\d{6})?$")
PICTURE_TYPES = (".png", ".pdf", ".svg")


@dataclass(frozen=True)
class Curve:
    """One configuration's runs on a common env-step axis: mean and std over the runs."""

    name: str
    runs: tuple[str, ...]  # the run folders
    steps: np.ndarray  # (T,) env steps
    values: np.ndarray  # (R, T) each run's value at each step

    @property
    def mean(self) -> np.ndarray:
        return self.values.mean(axis=0)

    @property
    def std(self) -> np.ndarray:  # numpy's (population) std, as the sweep table's
        return self.values.std(axis=0)


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """The run folders (a ``tb/`` beside a ``config.yaml``) at or under each path, in order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise RlsuiteError(f"no such folder: {path}")
        if _is_run(path):
            found.append(path)
            continue
        inside = sorted(p.parent for p in path.rglob("config.yaml") if _is_run(p.parent))
        if not inside:
            raise RlsuiteError(f"{path} holds no run folder (a config.yaml beside a tb/ folder)")
        found += inside
    return list(dict.fromkeys(found))


def _is_run(path: Path) -> bool:
    return (path / "config.yaml").is_file() and (path / "tb").is_dir()


def curve_name(run_dir: Path) -> str:
    """The curve a run belongs to: its folder name less the seed (and time stamp) suffix."""
    return _SEED_SUFFIX.sub("", run_dir.name) or run_dir.name


def read_scalars(run_dir: Path, tag: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of `tag` in a run's event files, by TensorBoard's own reader.

    A resumed run's files overlap where a crash was purged; the reader applies the purge, and
    of two points at one step the later one is kept.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0})
    accumulator.Reload()
    available = accumulator.Tags().get("scalars", [])
    if tag not in available:
        shown = ", ".join(sorted(available)) or "none"
        raise RlsuiteError(f"{run_dir} has no scalar {tag!r}; it has: {shown}")
    by_step = {event.step: event.value for event in accumulator.Scalars(tag)}
    steps = np.array(sorted(by_step), dtype=np.int64)
    return steps, np.array([by_step[s] for s in steps], dtype=np.float64)


def build_curves(run_dirs: Sequence[Path], tag: str) -> list[Curve]:
    """Group runs by curve name and put each group on one env-step axis.

    Runs of one configuration log at the same steps, and then every number is as written.
    Where their steps differ, each run is interpolated linearly onto all their steps within
    the range every run covers (a mean needs every run at every step).
    """
    groups: dict[str, list[Path]] = {}
    for run_dir in run_dirs:
        groups.setdefault(curve_name(run_dir), []).append(run_dir)
    curves = []
    for name, members in groups.items():
        series = [read_scalars(run_dir, tag) for run_dir in members]
        steps = series[0][0]
        if not all(np.array_equal(s, steps) for s, _ in series):
            low = max(s[0] for s, _ in series)
            high = min(s[-1] for s, _ in series)
            steps = np.unique(np.concatenate([s for s, _ in series]))
            steps = steps[(steps >= low) & (steps <= high)]
        if len(steps) == 0:
            raise RlsuiteError(f"the runs of {name} share no range of steps for {tag}")
        values = np.stack([np.interp(steps, s, v) for s, v in series])  # (R, T)
        curves.append(Curve(name, tuple(str(r) for r in members), steps, values))
    return curves


def write_csv(curves: Sequence[Curve], path: Path, tag: str) -> None:
    """One row per curve and step: mean, std and count over its runs, then each run's value."""
    width = max(len(c.runs) for c in curves)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["curve", "tag", "step", "mean", "std", "runs"] + [f"run_{i}" for i in range(width)]
        )
        for curve in curves:
            for t, step in enumerate(curve.steps):
                row = [curve.name, tag, int(step), curve.mean[t], curve.std[t], len(curve.runs)]
                writer.writerow(row + [float(v) for v in curve.values[:, t]])


def draw(curves: Sequence[Curve], path: Path, tag: str, title: str | None = None) -> None:
    """Each curve's mean with a shaded band of one std, on the env-step axis."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for curve in curves:
        label = f"{curve.name} ({len(curve.runs)} runs)" if len(curve.runs) > 1 else curve.name
        (line,) = axes.plot(curve.steps, curve.mean, label=label, linewidth=1.5)
        if len(curve.runs) > 1:
            axes.fill_between(
                curve.steps,
                curve.mean - curve.std,
                curve.mean + curve.std,
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    axes.set_xlabel("environment steps")
    axes.set_ylabel(tag)
    axes.set_title(title or f"{tag} (mean ± std over seeds)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_runs(
    paths: Sequence[str | Path], tag: str, output: str | Path, title: str | None = None
) -> dict[str, object]:
    """Draw the runs at `paths` into `output` and write the numbers to its ``.csv``."""
    output = Path(output)
    if output.suffix.lower() not in PICTURE_TYPES:
        raise RlsuiteError(f"-o must end in {', '.join(PICTURE_TYPES)}, not {output.name!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise RlsuiteError("rlsuite plot needs matplotlib: pip install matplotlib") from None
    curves = build_curves(find_runs(paths), tag)
    if not output.parent.is_dir():
        raise RlsuiteError(f"no such folder for -o: {output.parent}")
    csv_path = output.with_suffix(".csv")
    write_csv(curves, csv_path, tag)
    draw(curves, output, tag, title)
    return {"picture": output, "csv": csv_path, "curves": curves}


def describe(written: dict[str, object]) -> list[str]:
    """What `rlsuite plot` prints: each curve and its runs, and where the files are."""
    lines = []
    for curve in written["curves"]:
        last = f"{curve.mean[-1]:.3f} ± {curve.std[-1]:.3f}" if len(curve.steps) else "-"
        lines.append(
            f"{curve.name}: {len(curve.runs)} run(s), {len(curve.steps)} points, "
            f"last {last} at step {int(curve.steps[-1]) if len(curve.steps) else 0}"
        )
    lines.append(f"picture: {written['picture']}")
    lines.append(f"numbers: {written['csv']}")
    return lines
