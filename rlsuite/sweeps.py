"""Sweeps: many settings times many seeds, each trial an ordinary rlsuite run, run by Ray Tune.

A sweep file (YAML, read as data) names the env, the agent, the budget, the seeds and a search
space over any ``--set`` key (``rlsuite sweep --example`` prints a complete one)::

    sweeps/<name>/
        sweep.yaml                  the resolved sweep (what --resume checks it continues)
        runs/<configuration>__s<seed>/   one ordinary run folder per trial (config.yaml, tb/, ...)
        tune/                       Ray Tune's own bookkeeping of the trials
        results.csv, results.json   mean and std over seeds per configuration, and the best

How it runs: the sweep is expanded here, in the driver, into its list of trials (the grid,
crossed with `num_samples` draws of the random dimensions made with Tune's samplers from
`sample_seed`, crossed with the seeds), and every trial's config is resolved and checked before
anything is written. Ray Tune then schedules the trials on a local Ray (or a cluster with
``--address``), one CPU each. A trial trains with :func:`rlsuite.runs.train` into its own run
folder, so `tensorboard --logdir sweeps/<name>/runs` shows every trial and `rlsuite plot`
compares them.

Resuming reads the run folders, not Ray's pickled experiment state (nothing here unpickles a
file): the same sweep file expands to the same trials and folders, a finished trial is reported
from its ``summary.json`` without training again, and an unfinished one continues from its
``checkpoints/last.pt`` with :func:`rlsuite.runs.resume`.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rlsuite import config
from rlsuite.errors import RlsuiteError, one_line

RAY_HINT = 'rlsuite sweep needs Ray Tune: pip install "rlsuite[ray]"'

# What a trial reports (from its summary.json), and so what a sweep can rank configurations by.
METRICS = (
    "eval/mean_reward",  # the last evaluation's return (the task's, for rlsuite's games)
    "eval/success_rate",
    "rollout/ep_rew_mean",  # the last 100 training episodes
    "rollout/ep_task_rew_mean",
    "rollout/success_rate",
)
SEARCH_KINDS = ("grid", "choice", "uniform", "loguniform")
SWEEP_KEYS = (
    "env_id",
    "agent",
    "steps",
    "seeds",
    "sweep_dir",
    "metric",
    "mode",
    "num_samples",
    "sample_seed",
    "cpus_per_trial",
    "set",
    "env_kwargs",
    "imports",
    "search",
)

EXAMPLE = """\
# An rlsuite sweep file: `rlsuite sweep sweep.yaml` trains every configuration of the search
# space on every seed, each trial an ordinary rlsuite run folder, scheduled by Ray Tune on a
# local Ray (one CPU per trial; --address auto joins a running Ray cluster instead).
# This one: 2 learning rates x 2 seeds of A2C on KeyDoor-5x5, 4 runs, about a minute on 2 cores.

env_id: rlsuite/KeyDoor-5x5-v0   # any id `rlsuite train` accepts
agent: a2c                       # `rlsuite agents` lists them
steps: 50000                     # budget of each trial, in env steps
seeds: [0, 1]                    # every configuration trains once per seed
sweep_dir: sweeps/keydoor-a2c    # default: sweeps/<this file's name>

# What ranks the configurations (mean over seeds): eval/mean_reward (the last evaluation's task
# return), eval/success_rate, rollout/ep_rew_mean, rollout/ep_task_rew_mean, rollout/success_rate.
metric: eval/mean_reward
mode: max

# Settings every trial shares, as `rlsuite train --set key=value` (agent or run settings);
# the per-task entry of rlsuite/hyperparams/ applies first, as in `rlsuite train`.
set:
  eval_every: 10000
  eval_episodes: 10
env_kwargs: {reward_mode: shaped}

# The search space: any --set key, each with one of
#   grid: [a, b, ...]          every value (crossed with the other grid keys)
#   choice: [a, b, ...]        one value drawn per sample
#   uniform: [low, high]       a number drawn uniformly per sample
#   loguniform: [low, high]    a number drawn uniformly in log space per sample
# Random keys are drawn num_samples times (--num-samples overrides), with sample_seed, and each
# draw is crossed with the grid and the seeds, so every seed of a configuration shares it.
search:
  learning_rate: {grid: [0.0007, 0.003]}
  # ent_coef: {loguniform: [0.0001, 0.01]}
  # gamma: {uniform: [0.95, 0.995]}
  # hidden_sizes: {choice: ["64,64", "128"]}
num_samples: 1
sample_seed: 0
cpus_per_trial: 1
"""


# ================================================================================================
# The sweep file
# ================================================================================================


@dataclass(frozen=True)
class Dimension:
    """One key of the search space: a grid of values, or a distribution to draw from."""

    key: str
    kind: str  # one of SEARCH_KINDS
    values: tuple[Any, ...]  # grid/choice: the values; uniform/loguniform: (low, high)

    @property
    def random(self) -> bool:
        return self.kind != "grid"


@dataclass(frozen=True)
class Sweep:
    """A checked sweep file; `expand` turns it into its trials."""

    env_id: str
    agent: str
    steps: int | None
    seeds: tuple[int, ...]
    sweep_dir: Path
    metric: str = "eval/mean_reward"
    mode: str = "max"
    num_samples: int = 1
    sample_seed: int = 0
    cpus_per_trial: float = 1.0
    settings: dict[str, Any] = field(default_factory=dict)  # the file's `set:`
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    imports: tuple[str, ...] = ()
    search: tuple[Dimension, ...] = ()
    source: str = "sweep"  # where it was read from, for error messages

    def to_dict(self) -> dict[str, Any]:
        """The resolved sweep as plain data (saved as SWEEP_DIR/sweep.yaml)."""
        return {
            "env_id": self.env_id,
            "agent": self.agent,
            "steps": self.steps,
            "seeds": list(self.seeds),
            "sweep_dir": str(self.sweep_dir),
            "metric": self.metric,
            "mode": self.mode,
            "num_samples": self.num_samples,
            "sample_seed": self.sample_seed,
            "cpus_per_trial": self.cpus_per_trial,
            "set": dict(self.settings),
            "env_kwargs": dict(self.env_kwargs),
            "imports": list(self.imports),
            "search": {d.key: {d.kind: list(d.values)} for d in self.search},
        }


def read_sweep(path: str | Path, num_samples: int | None = None) -> Sweep:
    """The sweep file at `path`, checked; `num_samples` (--num-samples) overrides the file's."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise RlsuiteError(f"cannot read sweep file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0]
        raise RlsuiteError(f"sweep file {path} is not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        raise RlsuiteError(f"sweep file {path} must hold a mapping (rlsuite sweep --example)")
    try:
        sweep = parse_sweep(data, default_dir=Path("sweeps") / path.stem, num_samples=num_samples)
        return dataclasses.replace(sweep, source=f"sweep file {path}")
    except RlsuiteError as exc:
        raise RlsuiteError(f"sweep file {path}: {exc}") from None


def parse_sweep(data: dict[str, Any], default_dir: Path, num_samples: int | None = None) -> Sweep:
    """Check a sweep file's mapping (keys, kinds, ranges) and build the Sweep."""
    unknown = [key for key in data if key not in SWEEP_KEYS]
    if unknown:
        raise RlsuiteError(f"unknown key {unknown[0]!r}; valid: {', '.join(SWEEP_KEYS)}")
    for key in ("env_id", "agent"):
        if not isinstance(data.get(key), str):
            raise RlsuiteError(f"{key} is required (a string)")
    seeds = data.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(seeds))  # `seeds: 4` means 0, 1, 2, 3
    seeds = config.coerce("seeds", seeds, config.Kind(tuple, "a list of seeds", item=int))
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise RlsuiteError(f"seeds must be distinct integers >= 0, not {list(seeds)}")
    metric = data.get("metric", "eval/mean_reward")
    if metric not in METRICS:
        raise RlsuiteError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    mode = data.get("mode", "max")
    if mode not in ("max", "min"):
        raise RlsuiteError(f"mode must be max or min, not {mode!r}")
    for key in ("set", "env_kwargs", "search"):
        if not isinstance(data.get(key) or {}, dict):
            raise RlsuiteError(f"{key} must be a mapping")
    search = tuple(_dimension(key, spec) for key, spec in (data.get("search") or {}).items())
    if "seed" in {d.key for d in search}:
        raise RlsuiteError("search over seeds with `seeds:`, not with a search key")
    samples = num_samples if num_samples is not None else data.get("num_samples", 1)
    samples = config.coerce("num_samples", samples, config.POSITIVE_INT)
    if samples > 1 and not any(d.random for d in search):
        raise RlsuiteError(
            f"num_samples={samples} needs a random key (choice, uniform or loguniform) to draw; "
            "a grid is run once per seed"
        )
    steps = data.get("steps")
    return Sweep(
        env_id=data["env_id"],
        agent=data["agent"],
        steps=None if steps is None else config.coerce("steps", steps, config.POSITIVE_INT),
        seeds=seeds,
        sweep_dir=Path(data.get("sweep_dir") or default_dir),
        metric=metric,
        mode=mode,
        num_samples=samples,
        sample_seed=config.coerce(
            "sample_seed", data.get("sample_seed", 0), config.NON_NEGATIVE_INT
        ),
        cpus_per_trial=config.coerce(
            "cpus_per_trial", data.get("cpus_per_trial", 1), config.POSITIVE
        ),
        settings=dict(data.get("set") or {}),
        env_kwargs=dict(data.get("env_kwargs") or {}),
        imports=config.coerce("imports", data.get("imports", ()), config.NAMES),
        search=search,
    )


def _dimension(key: str, spec: Any) -> Dimension:
    """One search key: {grid: [...]}, {choice: [...]}, {uniform: [lo, hi]}, {loguniform: [...]}."""
    where = f"search key {key!r}"
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SEARCH_KINDS:
        raise RlsuiteError(f"{where} needs exactly one of {', '.join(SEARCH_KINDS)}: [...]")
    kind, values = next(iter(spec.items()))
    if not isinstance(values, list) or not values:
        raise RlsuiteError(f"{where}: {kind} needs a non-empty list")
    if kind in ("uniform", "loguniform"):
        if len(values) != 2:
            raise RlsuiteError(f"{where}: {kind} needs [low, high]")
        low, high = (config.coerce(key, v, config.REAL) for v in values)
        if not low < high or (kind == "loguniform" and low <= 0):
            smallest = "0 < " if kind == "loguniform" else ""
            raise RlsuiteError(f"{where}: {kind} needs {smallest}low < high, not {values}")
        values = [low, high]
    return Dimension(key, kind, tuple(values))


# ================================================================================================
# Trials: the sweep expanded, every config resolved and checked
# ================================================================================================


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: a configuration (its search values) on one seed."""

    configuration: str  # its name, e.g. "learning_rate=0.0007" (the plots' legend)
    values: dict[str, Any]  # the search keys' values
    seed: int
    run_dir: Path
    run_config: config.RunConfig


def configurations(sweep: Sweep) -> list[dict[str, Any]]:
    """Every configuration of the search space, in order, without repeats.

    The grid keys are crossed; the random keys are drawn `num_samples` times with Ray Tune's own
    samplers from one generator seeded `sample_seed`, each draw crossed with the whole grid (as
    Tune's ``constant_grid_search``), so the same file always gives the same configurations.
    """
    from ray import tune

    domains = {"choice": tune.choice, "uniform": tune.uniform, "loguniform": tune.loguniform}
    rng = np.random.default_rng(sweep.sample_seed)
    grid = [d for d in sweep.search if not d.random]
    grid_points = list(itertools.product(*(d.values for d in grid)))
    found: dict[str, dict[str, Any]] = {}
    for _ in range(sweep.num_samples):
        draw = {}
        for d in sweep.search:
            if d.random:
                args = (list(d.values),) if d.kind == "choice" else d.values  # choice takes a list
                draw[d.key] = _plain_value(domains[d.kind](*args).sample(random_state=rng))
        for point in grid_points:
            values = {**dict(zip([d.key for d in grid], point, strict=True)), **draw}
            ordered = {d.key: values[d.key] for d in sweep.search}
            found.setdefault(configuration_name(ordered, sweep.agent), ordered)  # repeats once
    return list(found.values())


def _plain_value(value: Any) -> Any:
    """numpy scalars from a sampler as Python numbers (for YAML, JSON and folder names)."""
    return value.item() if isinstance(value, np.generic) else value


def configuration_name(values: dict[str, Any], agent: str) -> str:
    """A configuration's folder name and legend: "learning_rate=0.0007,gamma=0.99" (or the agent
    name when the sweep searches nothing)."""
    if not values:
        return agent
    return ",".join(f"{key}={_show(value)}" for key, value in values.items())


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "x".join(_show(v) for v in value)
    return str(value).replace("/", "-").replace(" ", "")


def _as_set_text(value: Any) -> str:
    """A value as `--set key=VALUE` text that config.coerce reads back exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_as_set_text(v) for v in value)
    if value is None:
        return "none"
    return repr(value) if isinstance(value, float) else str(value)


def trials(sweep: Sweep) -> list[Trial]:
    """Every trial of the sweep, its RunConfig resolved and checked as `rlsuite train` would
    (unknown keys, bad values, unknown ids all fail here, before anything is written)."""
    try:
        return _trials(sweep)
    except RlsuiteError as exc:
        raise RlsuiteError(f"{sweep.source}: {exc}") from None


def _trials(sweep: Sweep) -> list[Trial]:
    from rlsuite.runs import check_buildable

    config.import_modules(sweep.imports)
    result = []
    for values in configurations(sweep):
        name = configuration_name(values, sweep.agent)
        settings = {**sweep.settings, **values}
        for seed in sweep.seeds:
            run_config = config.resolve_config(
                sweep.env_id,
                sweep.agent,
                steps=sweep.steps,
                seed=seed,
                settings=[f"{k}={_as_set_text(v)}" for k, v in settings.items()],
                env_kwargs=[f"{k}={json.dumps(v)}" for k, v in sweep.env_kwargs.items()],
                imports=sweep.imports,
            )
            run_dir = sweep.sweep_dir / "runs" / f"{name}__s{seed}"
            result.append(Trial(name, values, seed, run_dir, run_config))
        # Envs and agent built once per configuration (seeds do not change what is built): a bad
        # env kwarg fails here, in one line, not in every Ray worker with a traceback.
        check_buildable(result[-1].run_config)
    return result


# ================================================================================================
# One trial, in a Ray worker
# ================================================================================================


def train_trial(run_dir: Path, run_config: config.RunConfig) -> dict[str, float]:
    """Train one trial into `run_dir` and return its metrics; what is done is not done again.

    A run whose summary.json says it finished its budget is only read; one with a
    ``checkpoints/last.pt`` (an interrupted sweep) continues from it; anything else starts over.
    """
    from rlsuite import runs

    summary = read_summary(run_dir)
    if summary is None or summary.get("num_steps", 0) < run_config.steps:
        if (run_dir / "checkpoints" / "last.pt").is_file():
            runs.resume(run_dir, steps=run_config.steps)
        else:  # never started, or stopped before its first checkpoint
            runs.train(run_config, run_dir, force=True)
        summary = read_summary(run_dir)
    if summary is None:
        raise RuntimeError(f"{run_dir} wrote no summary.json")
    return trial_metrics(summary)


def _tune_trainable(param: dict[str, Any], trials_by_run: dict[str, dict[str, Any]]) -> None:
    """Ray Tune's function trainable: one rlsuite run, its final metrics reported to Tune.

    Tune's search space is only the run names (what its progress table shows); the resolved
    configs travel beside it in Ray's object store (``tune.with_parameters``).
    """
    from ray import tune

    trial = trials_by_run[param["run"]]
    run_config = config.RunConfig.from_dict(trial["run_config"])
    config.import_modules(run_config.imports)  # a fresh worker has only rlsuite's own ids
    tune.report(train_trial(Path(trial["run_dir"]), run_config))


def prepare_worker() -> None:
    """Ray's setup hook for the sweep's worker processes: import what a trial needs."""
    import rlsuite.runs  # noqa: F401  (torch, the agents, the games)


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """A run folder's summary.json, or None when it has none (yet)."""
    try:
        return json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None


def trial_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The METRICS a finished run's summary.json holds (those it has)."""
    from rlsuite.runs import judged_return

    metrics: dict[str, float] = {"num_steps": float(summary["num_steps"])}
    last = summary.get("last_eval")
    if last:
        metrics["eval/mean_reward"] = judged_return(last)
        if last.get("success_rate") is not None:
            metrics["eval/success_rate"] = float(last["success_rate"])
    for name, value in (summary.get("rollout") or {}).items():
        metrics[f"rollout/{name}"] = float(value)
    return metrics


# ================================================================================================
# Running a sweep
# ================================================================================================


@dataclass
class SweepResult:
    """What `run_sweep` reports: the table's rows, the best configuration, failed trials."""

    sweep: Sweep
    rows: list[dict[str, Any]]  # one per configuration, in the sweep's order
    best: dict[str, Any] | None
    failed: list[tuple[str, str]]  # (run folder, one-line error)
    interrupted: bool = False  # trials left unfinished without an error (Ctrl-C)

    @property
    def exit_code(self) -> int:
        """0: every trial finished; 1: a trial failed; 130: stopped with trials unfinished."""
        return 1 if self.failed else (130 if self.interrupted else 0)


def run_sweep(
    sweep: Sweep,
    *,
    address: str | None = None,
    max_concurrent: int | None = None,
    resume: bool = False,
    force: bool = False,
) -> SweepResult:
    """Run every trial of `sweep` with Ray Tune and write results.csv / results.json.

    `address` joins a Ray cluster ("auto", "HOST:PORT"); without it a local Ray is started
    (or the one this process already started is used). With `resume`, a sweep folder made by
    the same sweep file continues: finished trials are read, not trained again.
    """
    if max_concurrent is not None and max_concurrent <= 0:
        raise RlsuiteError(f"--max-concurrent must be positive, not {max_concurrent}")
    try:
        import ray
    except ImportError:
        raise RlsuiteError(RAY_HINT) from None
    _check_sweep_dir(sweep, resume, force)
    all_trials = _check_trials_while_ray_starts(sweep, ray, address)
    from ray import tune  # imported while Ray started

    _prepare_sweep_dir(sweep, resume, force)  # the first thing written
    # Tune's own TensorBoard/CSV/JSON copies of each result would sit beside the run folders'
    # real curves; the run folders are the record.
    # (Tune keeps its JSON and CSV records of the results, which its own tools read.)
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    trials_by_run = {t.run_dir.name: _trial_param(t) for t in all_trials}
    trainable = tune.with_parameters(_tune_trainable, trials_by_run=trials_by_run)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": sweep.cpus_per_trial}),
        param_space={"run": tune.grid_search(list(trials_by_run))},
        tune_config=tune.TuneConfig(
            max_concurrent_trials=max_concurrent,
            trial_name_creator=_run_name,
            trial_dirname_creator=_run_name,
            reuse_actors=True,  # one worker process trains trial after trial: torch loads once
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(sweep.sweep_dir.resolve()),
            verbose=1,
            failure_config=tune.FailureConfig(max_failures=0),
            callbacks=[JsonLoggerCallback(), CSVLoggerCallback()],
        ),
    )
    try:
        grid = tuner.fit()  # Ctrl-C: Tune stops the trials and returns
        failed = [
            (trials_by_run[r.config["run"]]["run_dir"], one_line(r.error))
            for r in grid
            if r.error is not None
        ]
    except KeyboardInterrupt:  # a second Ctrl-C
        failed = []
    result = summarize(sweep, all_trials, failed)
    write_results(result, all_trials)
    return result


def _check_trials_while_ray_starts(sweep: Sweep, ray: Any, address: str | None) -> list[Trial]:
    """Every trial checked (as `trials`) while Ray starts; a failed check stops the Ray it started.

    Checking imports torch and the agents, and Tune is imported after it (seconds of work for
    this process); starting Ray is mostly waiting for its own processes to come up: side by
    side they take about the longer of the two. A bad --address fails here too; nothing is
    written either way.
    """
    had_ray = ray.is_initialized()
    with ThreadPoolExecutor(max_workers=1) as pool:
        checking = pool.submit(_trials_and_tune, sweep)
        try:
            _start_ray(ray, address)  # in the main thread: Ray sets signal handlers
        except RlsuiteError:
            checking.result()  # a mistake in the sweep file is reported first
            raise
        try:
            return checking.result()
        except BaseException:
            if not had_ray:
                ray.shutdown()
            raise


def _trials_and_tune(sweep: Sweep) -> list[Trial]:
    """`trials`, then Ray Tune's import (about 1 s), both while Ray starts."""
    checked = trials(sweep)
    import ray.tune  # noqa: F401

    return checked


def _run_name(trial: Any) -> str:
    """Tune's name for a trial: its run folder's name."""
    return trial.config["run"]


def _trial_param(trial: Trial) -> dict[str, Any]:
    return {"run_dir": str(trial.run_dir.resolve()), "run_config": trial.run_config.to_dict()}


def _check_sweep_dir(sweep: Sweep, resume: bool, force: bool) -> None:
    """Refuse a sweep folder that --resume cannot continue, or that is in the way."""
    saved = sweep.sweep_dir / "sweep.yaml"
    if resume:
        if not saved.is_file():
            raise RlsuiteError(f"--resume: {sweep.sweep_dir} holds no sweep to continue")
        if yaml.safe_load(saved.read_text()) != sweep.to_dict():
            raise RlsuiteError(
                f"--resume: {saved} was made by a different sweep (file or --num-samples); "
                "run the same one, or start over with --force"
            )
    elif sweep.sweep_dir.exists() and any(sweep.sweep_dir.iterdir()):
        if not saved.is_file():
            raise RlsuiteError(f"{sweep.sweep_dir} is not a sweep folder; choose another")
        if not force:
            raise RlsuiteError(
                f"sweep folder {sweep.sweep_dir} exists; continue it with --resume "
                "or start it over with --force"
            )


def _prepare_sweep_dir(sweep: Sweep, resume: bool, force: bool) -> None:
    """Make the sweep folder and its sweep.yaml (--force: after deleting the old one)."""
    if resume:
        return
    saved = sweep.sweep_dir / "sweep.yaml"
    if force and saved.is_file():
        shutil.rmtree(sweep.sweep_dir)
    resolved = sweep.to_dict()
    sweep.sweep_dir.mkdir(parents=True, exist_ok=True)
    header = "# the resolved sweep; `rlsuite sweep --resume` checks that it continues this one\n"
    saved.write_text(header + yaml.safe_dump(resolved, sort_keys=False))


def _start_ray(ray: Any, address: str | None) -> None:
    """Join the cluster at `address`, or start a local Ray (unless this process has one)."""
    import logging

    if ray.is_initialized():
        return
    if address not in (None, "auto", "local"):
        _check_reachable(address)
    # Ray starts its workers at niceness 15, below every other process of the user's: on a
    # busy machine a sweep's trials would then wait behind anything else that runs, where the
    # same runs started by `rlsuite train` would not. Trials run at the user's own priority
    # (an explicit RAY_worker_niceness is kept).
    os.environ.setdefault("RAY_worker_niceness", "0")
    # Ray prestarts a worker per CPU for the first driver, but Tune gives its trial actors a
    # runtime env of their own (environment variables), so none of those workers ever runs a
    # trial: they only import torch (the setup hook below) beside the trials' own workers,
    # on the same cores, and are then stopped. Without them the first trials start about 1-2 s
    # sooner here.
    os.environ.setdefault("RAY_prestart_worker_first_driver", "0")
    # A new local Ray turns token authentication on by itself and logs a timestamped warning
    # saying so, before the sweep's own output or its one-line error: that notice is dropped
    # (the mode is kept; Ray's other warnings, a disabled authentication's included, are not).
    logging.getLogger(RAY_AUTH_LOGGER).addFilter(_not_auth_enabled_notice)
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            # Each worker imports torch and the agents as it starts, while Tune is still
            # setting up, instead of when its first trial begins (about 1.5 s sooner).
            runtime_env={"worker_process_setup_hook": "rlsuite.sweeps.prepare_worker"},
            logging_level=logging.WARNING,
            log_to_driver=True,
        )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or "a local Ray"
        raise RlsuiteError(f"cannot start or reach Ray at {where}: {one_line(exc)}") from None


RAY_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"


def _not_auth_enabled_notice(record: Any) -> bool:
    """A logging filter: False for Ray's "Token authentication is enabled" notice."""
    return not record.getMessage().startswith("Token authentication is enabled for this")


def _check_reachable(address: str) -> None:
    """Refuse at once a HOST:PORT where nothing listens: Ray itself retries for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RlsuiteError(f"--address {address}: expected auto or HOST:PORT, e.g. 10.0.0.5:6379")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()  # [IPv6]
    except OSError as exc:
        raise RlsuiteError(
            f"cannot reach Ray at {address} ({exc.strerror or exc}); start a cluster with "
            "`ray start --head` there, or leave out --address for a local Ray"
        ) from None


# ================================================================================================
# The results table
# ================================================================================================


def summarize(
    sweep: Sweep, all_trials: Sequence[Trial], failed: list[tuple[str, str]]
) -> SweepResult:
    """Mean and std over seeds of each configuration's metrics, from its runs' summary.json."""
    rows = []
    for name in dict.fromkeys(t.configuration for t in all_trials):
        runs = [t for t in all_trials if t.configuration == name]
        finished = []
        for t in runs:
            summary = read_summary(t.run_dir)
            if summary is not None and summary.get("num_steps", 0) >= t.run_config.steps:
                finished.append((t, trial_metrics(summary)))
        row: dict[str, Any] = {
            "configuration": name,
            **runs[0].values,
            "seeds": [t.seed for t, _ in finished],
            "runs": len(runs),
            "finished": len(finished),
        }
        for metric in METRICS:
            numbers = [m[metric] for _, m in finished if metric in m]
            if numbers:  # std over seeds: numpy's (population) std, as SB3's evaluations
                row[f"{metric}_mean"] = float(np.mean(numbers))
                row[f"{metric}_std"] = float(np.std(numbers))
        row["per_seed"] = {str(t.seed): m for t, m in finished}
        rows.append(row)
    ranked = [r for r in rows if f"{sweep.metric}_mean" in r]
    best = None
    if ranked:
        sign = 1 if sweep.mode == "max" else -1
        best = max(ranked, key=lambda r: sign * r[f"{sweep.metric}_mean"])
    unfinished = any(row["finished"] < row["runs"] for row in rows)
    return SweepResult(sweep, rows, best, failed, interrupted=unfinished and not failed)


def write_results(result: SweepResult, all_trials: Sequence[Trial]) -> None:
    """results.json (everything, per seed too) and results.csv (one row per configuration)."""
    sweep = result.sweep
    keys = [d.key for d in sweep.search]
    document = {
        "env_id": sweep.env_id,
        "agent": sweep.agent,
        "metric": sweep.metric,
        "mode": sweep.mode,
        "seeds": list(sweep.seeds),
        "configurations": result.rows,
        "best": None if result.best is None else result.best["configuration"],
        "failed": [{"run_dir": run, "error": error} for run, error in result.failed],
        "run_dirs": [str(t.run_dir) for t in all_trials],
    }
    (sweep.sweep_dir / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    columns = ["configuration", *keys, "runs", "finished"]
    columns += [f"{m}_{s}" for m in METRICS for s in ("mean", "std")]
    with open(sweep.sweep_dir / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*columns, "best"], extrasaction="ignore")
        writer.writeheader()
        for row in result.rows:
            writer.writerow({**row, "best": row is result.best})


def format_results(result: SweepResult, sweep_file: str = "SWEEP_FILE") -> str:
    """The table `rlsuite sweep` prints: mean ± std over seeds per configuration, and the best."""
    sweep = result.sweep
    shown = [sweep.metric]
    if sweep.metric != "eval/success_rate" and any(
        "eval/success_rate_mean" in r for r in result.rows
    ):
        shown.append("eval/success_rate")
    header = ["configuration", "seeds", *shown]
    table = [header]
    for row in result.rows:
        cells = [row["configuration"], f"{row['finished']}/{row['runs']}"]
        for metric in shown:
            mean = row.get(f"{metric}_mean")
            cells.append("-" if mean is None else f"{mean:.3f} ± {row[f'{metric}_std']:.3f}")
        if row is result.best:
            cells[0] += "  (best)"
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    d = sweep.sweep_dir
    if result.best is not None:
        best = result.best
        lines.append(
            f"best ({sweep.mode} {sweep.metric}): {best['configuration']}  "
            f"{best[f'{sweep.metric}_mean']:.3f} ± {best[f'{sweep.metric}_std']:.3f} "
            f"over {best['finished']} seed(s)"
        )
    for run_dir, error in result.failed:
        lines.append(f"failed: {run_dir}: {error}")
    if any(r["finished"] < r["runs"] for r in result.rows):
        lines.append(f"unfinished trials: continue with  rlsuite sweep {sweep_file} --resume")
    lines += [
        f"results:      {d / 'results.csv'}, {d / 'results.json'}",
        f"TensorBoard:  tensorboard --logdir {d / 'runs'}",
        f"plot:         rlsuite plot {d} -o {d / 'curves.png'}",
    ]
    return "\n".join(lines)
