"""Run folders: the resolved config, checkpoints (atomic, safe to load), training and resume.

What ``rlsuite train`` leaves on disk::

    runs/<env>__<agent>__s<seed>__<YYYYmmdd-HHMMSS>/
        config.yaml      the full resolved config (``--config`` reads this format back)
        tb/              TensorBoard event files, on the environment-step axis
        checkpoints/     step_<N>.pt every `checkpoint_every` steps, last.pt, best.pt
        summary.json     written when training stops: steps, status, evaluations

A checkpoint is one ``torch.save`` of tensors and python builtins only, so it loads with
``torch.load(path, weights_only=True)``: nothing in the file can execute code. It holds the agent's
``state_dict()`` (weights, optimizer, counters, RNG states, logger window), the vector env's own
state (captured generically, see :mod:`rlsuite.envstate`), the resolved config and a format
version. It is written to a temporary file in the same folder and renamed over the old one, so a
crash never leaves a half-written ``last.pt``.

Every user mistake becomes one :class:`RlsuiteError` with a one-line message; the CLI prints it
as ``rlsuite: error: ...`` and exits with status 2.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import io
import json
import os
import pickle
import shlex
import shutil
import signal
import sys
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
import yaml

from rlsuite import __version__
from rlsuite import logger as tags
from rlsuite.envstate import capture_env_state, restore_env_state
from rlsuite.logger import Logger

CHECKPOINT_FORMAT = "rlsuite-checkpoint"
CHECKPOINT_VERSION = 1
EVAL_SEED_OFFSET = 10_000  # evaluation episodes are seeded apart from the training ones
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # the shell's 128 + signal number


class RlsuiteError(Exception):
    """A mistake in the user's input or files: shown as one line, never as a traceback."""


# ================================================================================================
# The resolved config
# ================================================================================================

VecMode = Literal["auto", "sync", "async", "vector_entry_point"]

# Run-level settings that `--set key=value` accepts besides the agent Config's fields.
RUN_SETTINGS: dict[str, Any] = {
    "seed": int,
    "steps": int | None,
    "vec": VecMode,
    "eval_every": int | None,
    "eval_episodes": int,
    "checkpoint_every": int | None,
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; saved as the run folder's ``config.yaml``."""

    env_id: str
    agent: str
    seed: int = 0
    steps: int = 0  # total training budget in environment steps (all sub-envs together)
    vec: str = "sync"  # gymnasium.make_vec mode: sync, async or vector_entry_point
    env_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to the env constructor
    wrappers: tuple[str, ...] = ()  # "module:Class" Gymnasium wrappers, applied in order
    imports: tuple[str, ...] = ()  # modules imported first (they register more env ids)
    eval_every: int = 0  # evaluate every this many env steps (0: never)
    eval_episodes: int = 10  # episodes per evaluation
    checkpoint_every: int = 0  # write step_<N>.pt every this many env steps (0: only last.pt)
    agent_config: dict[str, Any] = field(default_factory=dict)  # the agent Config's fields

    @property
    def n_envs(self) -> int:
        return int(self.agent_config["n_envs"])

    def to_dict(self) -> dict[str, Any]:
        """Plain lists/dicts/scalars: what config.yaml and checkpoints hold."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """The inverse of `to_dict` (e.g. from a checkpoint)."""
        _check_keys(data, CONFIG_KEYS, "config")
        values = dict(data)
        values["wrappers"] = tuple(values.get("wrappers", ()))
        values["imports"] = tuple(values.get("imports", ()))
        return cls(**values)


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(RunConfig))


def resolve_config(
    env_id: str | None = None,
    agent: str | None = None,
    *,
    steps: int | None = None,
    n_envs: int | None = None,
    seed: int | None = None,
    eval_every: int | None = None,
    config_file: str | Path | None = None,
    settings: Sequence[str] = (),
    env_kwargs: Sequence[str] = (),
    wrappers: Sequence[str] = (),
    imports: Sequence[str] = (),
    default_env_id: str = "CartPole-v1",
    default_agent: str = "ppo",
) -> RunConfig:
    """Merge defaults < ``--config`` file < command-line options < ``--set`` into a RunConfig.

    `settings` and `env_kwargs` are "key=value" strings. Everything is validated here, before any
    folder is made: unknown keys, values of the wrong type, unknown env ids or agents, wrappers
    and imports that do not load.
    """
    from rlsuite.agents import AGENTS, make_config

    data = read_config_file(config_file) if config_file is not None else {}
    all_imports = tuple(dict.fromkeys([*data.get("imports", ()), *imports]))
    import_modules(all_imports)

    env_id = env_id or data.get("env_id") or default_env_id
    check_env_id(env_id)
    agent = agent or data.get("agent") or default_agent
    if agent not in AGENTS:
        raise RlsuiteError(f"unknown agent {agent!r}; agents: {', '.join(AGENTS)}")

    # Run-level values: file, then the dedicated options, then --set.
    run: dict[str, Any] = {"seed": 0, "steps": None, "vec": "auto", "eval_every": None}
    run.update({"eval_episodes": 10, "checkpoint_every": None})
    for key in RUN_SETTINGS:
        if key in data:
            run[key] = coerce(data[key], RUN_SETTINGS[key], key)
    cli = {"steps": steps, "seed": seed, "eval_every": eval_every}
    run.update({k: v for k, v in cli.items() if v is not None})

    agent_values = dict(data.get("agent_config") or {})
    if n_envs is not None:
        agent_values["n_envs"] = n_envs
    agent_fields = [f.name for f in dataclasses.fields(AGENTS[agent].Config)]
    for key, value in parse_pairs(settings, "--set", parse_values=False).items():
        if key in RUN_SETTINGS:
            run[key] = coerce(value, RUN_SETTINGS[key], key)
        elif key in agent_fields:
            agent_values[key] = value
        else:
            valid = ", ".join([*RUN_SETTINGS, *agent_fields])
            raise RlsuiteError(f"unknown setting {key!r} for agent {agent}; valid: {valid}")
    try:
        agent_config = make_config(agent, agent_values)
    except ValueError as exc:
        raise RlsuiteError(str(exc)) from None

    wrapper_paths = tuple(wrappers) if wrappers else tuple(data.get("wrappers", ()))
    for path in wrapper_paths:
        load_wrapper(path)  # fail now, not after the run folder exists
    total = run["steps"] if run["steps"] is not None else agent_config.default_steps
    config = RunConfig(
        env_id=env_id,
        agent=agent,
        seed=run["seed"],
        steps=total,
        vec=_resolve_vec(run["vec"], env_id, wrapper_paths),
        env_kwargs={**(data.get("env_kwargs") or {}), **parse_pairs(env_kwargs, "--env-kwargs")},
        wrappers=wrapper_paths,
        imports=all_imports,
        eval_every=_every(run["eval_every"], total),
        eval_episodes=run["eval_episodes"],
        checkpoint_every=_every(run["checkpoint_every"], total),
        agent_config=dataclasses.asdict(agent_config),
    )
    _check_positive(config)
    return config


def _every(value: int | None, total: int) -> int:
    """None means "ten times per run"; 0 means never."""
    return max(total // 10, 1) if value is None else value


def _check_positive(config: RunConfig) -> None:
    if config.steps <= 0:
        raise RlsuiteError(f"steps must be positive, got {config.steps}")
    if config.n_envs <= 0:
        raise RlsuiteError(f"n_envs must be positive, got {config.n_envs}")
    for key in ("eval_every", "checkpoint_every"):
        if getattr(config, key) < 0:
            raise RlsuiteError(f"{key} must be 0 (never) or positive, got {getattr(config, key)}")
    if config.eval_episodes <= 0:
        raise RlsuiteError(f"eval_episodes must be positive, got {config.eval_episodes}")


def _resolve_vec(mode: str, env_id: str, wrappers: Sequence[str]) -> str:
    """Mode "auto": the native batched VectorEnv when the env has one and no wrappers are given."""
    native = gym.spec(env_id).vector_entry_point is not None
    if mode == "auto":
        return "vector_entry_point" if native and not wrappers else "sync"
    if mode == "vector_entry_point" and not native:
        raise RlsuiteError(f"{env_id} registers no vector_entry_point; use vec=sync or vec=async")
    if mode == "vector_entry_point" and wrappers:
        raise RlsuiteError("--wrapper needs vec=sync or vec=async (a native vector env takes none)")
    return mode


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping with the keys of config.yaml (read as data, never executed)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise RlsuiteError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)  # JSON is YAML, so one reader serves both
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0]
        raise RlsuiteError(f"config file {path} is not valid YAML/JSON: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RlsuiteError(f"config file {path} must hold a mapping of settings")
    _check_keys(data, CONFIG_KEYS, f"config file {path}")
    for key in ("env_kwargs", "agent_config"):
        if not isinstance(data.get(key) or {}, dict):
            raise RlsuiteError(f"{key} in config file {path} must be a mapping")
    return data


def _check_keys(data: dict[str, Any], valid: Sequence[str], where: str) -> None:
    unknown = [key for key in data if key not in valid]
    if unknown:
        raise RlsuiteError(f"unknown key {unknown[0]!r} in {where}; valid: {', '.join(valid)}")


def parse_pairs(pairs: Sequence[str], option: str, parse_values: bool = True) -> dict[str, Any]:
    """["a=1", "b=x"] -> {"a": 1, "b": "x"}; values read as YAML scalars when `parse_values`."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            hint = " (give ENV_ID before the options)" if not sep else ""
            raise RlsuiteError(f"{option} expects key=value, got {pair!r}{hint}")
        if parse_values:
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass  # keep the raw string
        result[key.strip()] = value
    return result


def coerce(value: Any, annotation: Any, key: str) -> Any:
    """Convert a command-line string or a YAML value to `annotation` (int, int | None, Literal)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        if value is None or str(value).lower() in ("none", "null"):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return coerce(value, inner[0], key)
    if typing.get_origin(annotation) is Literal:
        if value in args:
            return value
        raise RlsuiteError(f"bad value for {key}: {value!r} (expected one of {', '.join(args)})")
    if annotation is int:
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, bool) or float(number) != int(number):
                raise ValueError
            return int(number)
        except (TypeError, ValueError, OverflowError):
            raise RlsuiteError(f"bad value for {key}: {value!r} (expected an integer)") from None
    return value


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively, so yaml.safe_dump can write the value."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ================================================================================================
# Environments
# ================================================================================================


def import_modules(names: Sequence[str]) -> None:
    """Import modules named by ``--import`` (they register env ids with Gymnasium)."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise RlsuiteError(f"bad --import {name!r}: {_one_line(exc)}") from None


def check_env_id(env_id: str) -> None:
    """Raise with close matches when `env_id` is not registered."""
    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`rlsuite envs` lists them"
    raise RlsuiteError(f"unknown environment id {env_id!r}; {hint}")


def load_wrapper(path: str) -> Callable[[gym.Env], gym.Env]:
    """The wrapper class named "module:Class" (e.g. gymnasium.wrappers:ClipReward)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise RlsuiteError(f"bad --wrapper {path!r}: expected module:Class")
    try:
        wrapper = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        raise RlsuiteError(f"bad --wrapper {path!r}: {_one_line(exc)}") from None
    if isinstance(wrapper, type) and issubclass(wrapper, gym.vector.VectorWrapper):
        raise RlsuiteError(f"bad --wrapper {path!r}: it wraps vector envs; give a gym.Wrapper")
    if not callable(wrapper):
        raise RlsuiteError(f"bad --wrapper {path!r}: not a class")
    return wrapper


def make_vector_env(config: RunConfig, num_envs: int) -> gym.vector.VectorEnv:
    """The run's vector env: ``gym.make_vec`` in the config's mode, with its wrappers."""
    wrappers = [load_wrapper(path) for path in config.wrappers]
    try:
        return gym.make_vec(
            config.env_id,
            num_envs=num_envs,
            vectorization_mode=config.vec,
            wrappers=wrappers or None,
            **config.env_kwargs,
        )
    except Exception as exc:
        raise RlsuiteError(f"cannot make environment {config.env_id}: {_one_line(exc)}") from None


def make_render_env(config: RunConfig) -> gym.Env:
    """One env of the run, drawing ``render_mode="rgb_array"`` frames (for watch/record)."""
    try:
        env = gym.make(config.env_id, render_mode="rgb_array", **config.env_kwargs)
        for path in config.wrappers:
            env = load_wrapper(path)(env)
    except RlsuiteError:
        raise
    except Exception as exc:
        raise RlsuiteError(f"cannot make environment {config.env_id}: {_one_line(exc)}") from None
    return env


# ================================================================================================
# Checkpoints
# ================================================================================================


def save_checkpoint(payload: dict[str, Any], *paths: Path) -> None:
    """Write `payload` to each path atomically: a temporary file in the same folder, then rename."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    for path in paths:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; missing or corrupt files raise RlsuiteError."""
    path = Path(path)
    if not path.is_file():
        raise RlsuiteError(f"checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):  # garbage bytes, not a forbidden class
            # torch's own message suggests weights_only=False, which is exactly what not to do.
            raise RlsuiteError(
                f"cannot read checkpoint {path}: the file is corrupt or not a checkpoint; "
                "use a run's checkpoints/last.pt or best.pt"
            ) from None
        raise RlsuiteError(
            f"refusing to load {path}: it holds objects other than tensors and plain data "
            "(rlsuite never runs code from a checkpoint)"
        ) from None
    except Exception as exc:
        reason = _one_line(exc).split(". ")[0]  # torch's first sentence; the rest is advice
        raise RlsuiteError(
            f"cannot read checkpoint {path}: the file is corrupt or truncated ({reason}); "
            "use a run's checkpoints/last.pt or best.pt"
        ) from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise RlsuiteError(f"{path} is not an rlsuite checkpoint")
    if data.get("format_version", 0) > CHECKPOINT_VERSION:
        raise RlsuiteError(
            f"{path} was written by a newer rlsuite (format "
            f"{data['format_version']}); upgrade rlsuite to read it"
        )
    return data


def find_checkpoint(target: str | Path, prefer: Sequence[str] = ("best", "last")) -> Path:
    """A checkpoint file as given, or the first of `prefer` found in a run folder."""
    target = Path(target)
    if target.is_file():
        return target
    if not target.is_dir():
        raise RlsuiteError(f"no such run folder or checkpoint: {target}")
    for name in prefer:
        candidate = target / "checkpoints" / f"{name}.pt"
        if candidate.is_file():
            return candidate
    wanted = " or ".join(f"checkpoints/{name}.pt" for name in prefer)
    raise RlsuiteError(f"{target} holds no {wanted}; is it a run folder?")


# ================================================================================================
# Run folders
# ================================================================================================


def default_run_dir(config: RunConfig, root: str | Path = "runs") -> Path:
    """runs/<env>__<agent>__s<seed>__<YYYYmmdd-HHMMSS> (the env id's "/" becomes "-")."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{config.env_id.replace('/', '-')}__{config.agent}__s{config.seed}__{stamp}"
    return Path(root) / name


def _check_run_dir_free(run_dir: Path, force: bool) -> None:
    if not run_dir.exists() or (run_dir.is_dir() and not any(run_dir.iterdir())):
        return
    if not force:
        raise RlsuiteError(
            f"run folder {run_dir} exists; continue it with --resume {shlex.quote(str(run_dir))} "
            "or start it over with --force"
        )
    if run_dir.is_dir() and any(run_dir.iterdir()) and not (run_dir / "config.yaml").exists():
        raise RlsuiteError(f"--force will not delete {run_dir}: it is not a run folder")


def _create_run_dir(run_dir: Path, force: bool) -> None:
    if force and run_dir.exists():
        if run_dir.is_dir():
            shutil.rmtree(run_dir)
        else:
            run_dir.unlink()
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)


def write_config(run_dir: Path, config: RunConfig) -> None:
    """config.yaml: the resolved config, readable, and valid input for ``--config``."""
    header = f"# rlsuite {__version__} run config; `rlsuite train --config` reads this file\n"
    body = yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=False)
    (run_dir / "config.yaml").write_text(header + body)


# ================================================================================================
# Training
# ================================================================================================


@dataclass
class TrainResult:
    """What `train` reports back: where things are and how training stopped."""

    run_dir: Path
    config: RunConfig
    num_steps: int
    status: str  # "finished", "interrupted" or "already finished"
    exit_code: int  # 0, or 130 / 143 after SIGINT / SIGTERM
    last_eval: dict[str, Any] | None = None
    best_mean_return: float | None = None


@dataclass
class _Session:
    """The live objects of one training run and the bookkeeping that checkpoints carry."""

    config: RunConfig
    run_dir: Path
    envs: gym.vector.VectorEnv
    eval_envs: gym.vector.VectorEnv | None
    agent: Any
    logger: Logger
    last_eval_step: int = 0
    last_checkpoint_step: int = 0
    best_mean_return: float | None = None
    last_eval: dict[str, Any] | None = None

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"

    def run_state(self) -> dict[str, Any]:
        return {
            "last_eval_step": self.last_eval_step,
            "last_checkpoint_step": self.last_checkpoint_step,
            "best_mean_return": self.best_mean_return,
            "last_eval": self.last_eval,
        }

    def load_run_state(self, state: dict[str, Any]) -> None:
        self.last_eval_step = int(state["last_eval_step"])
        self.last_checkpoint_step = int(state["last_checkpoint_step"])
        self.best_mean_return = state["best_mean_return"]
        self.last_eval = state["last_eval"]


def train(
    config: RunConfig,
    run_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> TrainResult:
    """Start a new run in `run_dir` (default: `default_run_dir`) and train to ``config.steps``."""
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    _check_run_dir_free(run_dir, force)
    session = _open_session(config, run_dir, purge_step=None)
    _create_run_dir(run_dir, force)
    write_config(run_dir, config)
    return _train_loop(session, progress)


def resume(run_dir: str | Path, *, steps: int | None = None, progress: bool = False) -> TrainResult:
    """Continue a run from its ``checkpoints/last.pt`` to `steps` total (default: its own target).

    The agent and the vector env continue exactly where they stopped (except for ``vec=async``
    envs, whose episodes restart), and TensorBoard curves continue in the same folder.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RlsuiteError(f"no such run folder: {run_dir}")
    checkpoint = load_checkpoint(find_checkpoint(run_dir, prefer=("last",)))
    config = RunConfig.from_dict(checkpoint["config"])
    import_modules(config.imports)
    if steps is not None:
        config = dataclasses.replace(config, steps=steps)
    num_steps = int(checkpoint["num_steps"])
    # Events after the checkpoint (from a crash) are hidden by TensorBoard's purge_step.
    session = _open_session(config, run_dir, purge_step=num_steps + 1)
    session.agent.load_state_dict(checkpoint["agent"])
    session.load_run_state(checkpoint["run_state"])
    _restore_envs(session, checkpoint.get("env_state"))
    write_config(run_dir, config)
    if num_steps >= config.steps:
        session.logger.close()
        return TrainResult(
            run_dir,
            config,
            num_steps,
            "already finished",
            0,
            session.last_eval,
            session.best_mean_return,
        )
    return _train_loop(session, progress)


def _open_session(config: RunConfig, run_dir: Path, purge_step: int | None) -> _Session:
    """Build the envs, the eval envs, the logger and the agent of `config`."""
    envs = make_vector_env(config, config.n_envs)
    eval_envs = None
    if config.eval_every > 0:
        eval_envs = make_vector_env(config, min(config.n_envs, config.eval_episodes))
    logger = Logger(run_dir / "tb", purge_step=purge_step)
    agent = build_agent(config, envs, logger)
    return _Session(config, run_dir, envs, eval_envs, agent, logger)


def build_agent(config: RunConfig, envs: gym.vector.VectorEnv, logger: Logger | None = None):
    """The config's agent on `envs`; an action space it cannot handle raises RlsuiteError."""
    from rlsuite.agents import make_agent

    try:
        return make_agent(config.agent, envs, config.agent_config, seed=config.seed, logger=logger)
    except ValueError as exc:  # UnsupportedSpaceError, bad settings
        raise RlsuiteError(f"{config.agent} cannot train on {config.env_id}: {exc}") from None


def _restore_envs(session: _Session, env_state: list[dict[str, Any]] | None) -> None:
    """Put the vector env back in the checkpoint's state (or restart episodes for async envs)."""
    envs, agent, config = session.envs, session.agent, session.config
    if env_state is None:
        seed = config.seed + agent.num_steps
        _warn(f"vec={config.vec} env state cannot be restored: episodes restart (seed {seed})")
        agent.collector.reset(seed=seed)
        return
    envs.reset(seed=config.seed)
    failed = restore_env_state(envs, env_state)
    if failed:
        _warn(f"could not restore env attributes {', '.join(failed[:5])}; resume may differ")


def _train_loop(s: _Session, progress: bool) -> TrainResult:
    """agent.learn with a callback that evaluates, checkpoints and stops on SIGINT/SIGTERM."""
    from tqdm import tqdm

    from rlsuite.agents import NonFiniteLossError

    bar = tqdm(
        total=s.config.steps,
        initial=s.agent.num_steps,
        unit="step",
        disable=not progress,
        file=sys.stderr,
    )
    stop = _StopFlag()

    def callback(agent) -> bool:
        _after_update(s, bar)
        return stop.signum is None

    try:
        with stop.installed():
            try:
                s.agent.learn(s.config.steps, callback=callback)
            except NonFiniteLossError as exc:
                _write_summary(s, "stopped: non-finite loss")
                last = s.checkpoints / "last.pt"
                kept = f"{last} is the last good checkpoint" if last.exists() else "no checkpoint"
                raise RlsuiteError(f"training stopped: {exc} ({kept})") from None
            if stop.signum is None:
                status, exit_code = "finished", 0
                if s.eval_envs is not None and s.last_eval_step != s.agent.num_steps:
                    _evaluate_and_log(s)
            else:
                status = "interrupted"
                exit_code = EXIT_SIGINT if stop.signum == signal.SIGINT else EXIT_SIGTERM
            s.logger.dump(s.agent.num_steps, force=True)  # what was recorded since the last write
            save_checkpoint(_checkpoint_payload(s), s.checkpoints / "last.pt")
            _write_summary(s, status)
            s.logger.log_hparams(_flat_hparams(s.config), _hparam_metrics(s))
    finally:
        bar.close()
        s.logger.close()
        s.envs.close()
        if s.eval_envs is not None:
            s.eval_envs.close()
    return TrainResult(
        s.run_dir, s.config, s.agent.num_steps, status, exit_code, s.last_eval, s.best_mean_return
    )


def _after_update(s: _Session, bar) -> None:
    """After every update: evaluate and checkpoint when a period is crossed; show progress."""
    steps, config = s.agent.num_steps, s.config
    if config.eval_every and steps // config.eval_every > s.last_eval_step // config.eval_every:
        _evaluate_and_log(s)
    every = config.checkpoint_every
    if every and steps // every > s.last_checkpoint_step // every:
        s.last_checkpoint_step = steps
        payload = _checkpoint_payload(s)
        save_checkpoint(payload, s.checkpoints / f"step_{steps}.pt", s.checkpoints / "last.pt")
    bar.update(min(steps, bar.total) - bar.n)
    postfix = {}
    if tags.FPS in s.logger.latest:
        postfix["fps"] = f"{s.logger.latest[tags.FPS]:.0f}"
    if tags.EP_REW_MEAN in s.logger.latest:
        postfix["ep_rew_mean"] = f"{s.logger.latest[tags.EP_REW_MEAN]:.2f}"
    bar.set_postfix(postfix, refresh=False)


def _evaluate_and_log(s: _Session) -> None:
    """Evaluate on the eval envs, write eval/* at the current env step, keep best.pt."""
    from rlsuite.agents import evaluate

    steps = s.agent.num_steps
    # Deterministic actions and a fixed seed: comparable numbers, no draw from training streams.
    result = evaluate(
        s.agent,
        s.eval_envs,
        episodes=s.config.eval_episodes,
        deterministic=True,
        seed=s.config.seed + EVAL_SEED_OFFSET,
    )
    s.logger.write_now(tags.EVAL_MEAN_REWARD, result["mean_return"], steps)
    s.logger.write_now(tags.EVAL_MEAN_EP_LENGTH, result["mean_length"], steps)
    if result.get("success_rate") is not None:
        s.logger.write_now(tags.EVAL_SUCCESS_RATE, result["success_rate"], steps)
    s.logger.flush()
    s.last_eval_step = steps
    s.last_eval = {"step": steps, **_plain_numbers(result)}
    if s.best_mean_return is None or result["mean_return"] > s.best_mean_return:
        s.best_mean_return = float(result["mean_return"])
        save_checkpoint(_checkpoint_payload(s), s.checkpoints / "best.pt")


def _checkpoint_payload(s: _Session) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "rlsuite_version": __version__,
        "config": s.config.to_dict(),
        "num_steps": s.agent.num_steps,
        "agent": s.agent.state_dict(),
        "env_state": capture_env_state(s.envs),
        "run_state": s.run_state(),
    }


def _write_summary(s: _Session, status: str) -> None:
    summary = {
        "status": status,
        "env_id": s.config.env_id,
        "agent": s.config.agent,
        "seed": s.config.seed,
        "num_steps": s.agent.num_steps,
        "target_steps": s.config.steps,
        "last_eval": s.last_eval,
        "best_eval_mean_return": s.best_mean_return,
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "rlsuite_version": __version__,
    }
    (s.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def _flat_hparams(config: RunConfig) -> dict[str, Any]:
    flat = {k: v for k, v in config.to_dict().items() if k != "agent_config"}
    flat.update(config.agent_config)
    return flat


def _hparam_metrics(s: _Session) -> dict[str, float]:
    # Own tags: reusing eval/mean_reward would add a stray point to that curve.
    if s.best_mean_return is None:
        return {}
    return {"hparams/best_eval_mean_reward": s.best_mean_return}


def _plain_numbers(result: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (float(v) if isinstance(v, (np.floating, np.integer)) else v) for k, v in result.items()
    }


class _StopFlag:
    """SIGINT/SIGTERM set a flag; training stops after the current update and saves last.pt.

    A second Ctrl-C raises KeyboardInterrupt at once (the files on disk stay whole: every write
    is atomic).
    """

    def __init__(self) -> None:
        self.signum: int | None = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        sys.stderr.write(
            f"\n{signal.Signals(signum).name}: stopping after this update, "
            "saving checkpoints/last.pt (Ctrl-C again to quit now)\n"
        )

    @contextmanager
    def installed(self) -> Iterator[None]:
        try:
            previous = {
                sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)
            }
        except ValueError:  # not the main thread: signals stay as they are
            previous = {}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def describe_run(result: TrainResult) -> str:
    """The closing message of `rlsuite train`: where everything is and what to run next."""
    run = shlex.quote(str(result.run_dir))
    tb = shlex.quote(str(result.run_dir / "tb"))
    lines = [
        f"{result.status} at {result.num_steps} steps "
        f"({result.config.agent} on {result.config.env_id}, seed {result.config.seed})",
    ]
    if result.last_eval is not None:
        lines.append(
            f"last evaluation: mean return {result.last_eval['mean_return']:.2f} "
            f"at step {result.last_eval['step']}"
        )
    lines += [
        f"run folder:   {result.run_dir}  (config.yaml, summary.json)",
        f"TensorBoard:  {result.run_dir / 'tb'}  ->  tensorboard --logdir {tb}",
        f"checkpoints:  {result.run_dir / 'checkpoints'}  (last.pt, best.pt, step_<N>.pt)",
        f"watch it:     rlsuite watch {run}",
        f"evaluate it:  rlsuite eval {run} --episodes 20",
    ]
    if result.num_steps < result.config.steps:
        lines.append(f"continue it:  rlsuite train --resume {run}")
    else:
        lines.append(f"train longer: rlsuite train --resume {run} --steps {2 * result.num_steps}")
    return "\n".join(lines)


# ================================================================================================
# Small helpers
# ================================================================================================


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_warned: set[str] = set()


def _warn(message: str) -> None:
    """Print a warning to stderr once per message."""
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"rlsuite: warning: {message}\n")
