"""Run folders and the training loop: ``rlsuite train`` and ``rlsuite train --resume``.

What ``rlsuite train`` leaves on disk::

    runs/<env>__<agent>__s<seed>__<YYYYmmdd-HHMMSS>/
        config.yaml      the full resolved config (``--config`` reads this format back)
        tb/              TensorBoard event files, on the environment-step axis
        checkpoints/     step_<N>.pt every `checkpoint_every` steps, last.pt, best.pt
        summary.json     written when training stops: steps, status, evaluations

The config is resolved and checked before this module is called (:mod:`rlsuite.config`), and
the checkpoints' format lives in :mod:`rlsuite.checkpoints`. A run that fails before its first
checkpoint leaves no folder behind: there would be nothing to resume.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import yaml

from rlsuite import __version__
from rlsuite import logger as tags
from rlsuite.checkpoints import (
    checkpoint_payload,
    find_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from rlsuite.config import RunConfig, import_modules
from rlsuite.envstate import restore_env_state
from rlsuite.errors import ConfigError, RlsuiteError, warn
from rlsuite.logger import Logger
from rlsuite.vector import close_vector_env, make_vector_env

__all__ = ["RlsuiteError", "TrainResult", "build_agent", "describe_run", "resume", "train"]

EVAL_SEED_OFFSET = 10_000  # evaluation episodes are seeded apart from the training ones
EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # the shell's 128 + signal number


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
    if run_dir.is_dir() and any(run_dir.iterdir()) and not (run_dir / "config.yaml").exists():
        raise RlsuiteError(f"run folder {run_dir} exists and is not a run folder; choose another")
    if force:
        return
    if not (run_dir / "checkpoints" / "last.pt").is_file():  # nothing to resume from
        raise RlsuiteError(
            f"run folder {run_dir} exists but holds no checkpoint; start it over with --force"
        )
    raise RlsuiteError(
        f"run folder {run_dir} exists; continue it with --resume {shlex.quote(str(run_dir))} "
        "or start it over with --force"
    )


def _create_run_dir(run_dir: Path, force: bool) -> Path | None:
    """Make the run folder; returns the outermost folder this made (None: it existed, empty)."""
    if force and run_dir.exists():
        if run_dir.is_dir():
            shutil.rmtree(run_dir)
        else:
            run_dir.unlink()
    created = None
    for folder in [run_dir, *run_dir.parents]:  # the outermost missing one
        if folder.exists():
            break
        created = folder
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    return created


def _remove_failed_start(run_dir: Path, created: Path | None) -> None:
    """Undo `_create_run_dir` for a run that wrote no checkpoint: nothing could resume it."""
    if (run_dir / "checkpoints" / "last.pt").is_file():
        return
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
    else:  # the folder existed, empty: leave it empty
        for child in run_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


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
    best_eval: dict[str, Any] | None = None  # the evaluation best.pt was saved at
    rollout: dict[str, float] | None = None  # the last training episodes' means (tag -> value)


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
    best_eval: dict[str, Any] | None = None
    last_eval: dict[str, Any] | None = None

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"

    def run_state(self) -> dict[str, Any]:
        return {
            "last_eval_step": self.last_eval_step,
            "last_checkpoint_step": self.last_checkpoint_step,
            "best_eval": self.best_eval,
            "last_eval": self.last_eval,
        }

    def load_run_state(self, state: dict[str, Any]) -> None:
        self.last_eval_step = int(state["last_eval_step"])
        self.last_checkpoint_step = int(state["last_checkpoint_step"])
        self.last_eval = state["last_eval"]
        self.best_eval = state.get("best_eval")
        if self.best_eval is None and state.get("best_mean_return") is not None:
            # Checkpoints before issue 7 kept only the best env return.
            self.best_eval = {"mean_return": state["best_mean_return"]}


def train(
    config: RunConfig,
    run_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> TrainResult:
    """Start a new run in `run_dir` (default: `default_run_dir`) and train to ``config.steps``.

    If training fails before the first checkpoint is written (a bad env, an error or a NaN in
    the first updates), the folder this call made is removed again, so that starting over needs
    no ``--force`` and nothing suggests a ``--resume`` that has nothing to resume from.
    """
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    _check_run_dir_free(run_dir, force)
    # Envs and agent first: bad env kwargs or an action space the agent cannot handle fail here,
    # before any folder exists (the logger makes its folder at its first write).
    session = _open_session(config, run_dir, purge_step=None)
    created = _create_run_dir(run_dir, force)
    try:
        write_config(run_dir, config)
        return _train_loop(session, progress)
    except BaseException:
        _remove_failed_start(run_dir, created)
        raise


def _newest_step_hint(last: Path) -> str:
    """When `last` cannot be read: how to resume from the newest ``step_<N>.pt`` beside it."""
    steps = [p for p in last.parent.glob("step_*.pt") if p.stem[len("step_") :].isdigit()]
    if not steps:
        return ""
    newest = max(steps, key=lambda p: int(p.stem[len("step_") :]))
    return f"; to resume from the newest step checkpoint instead: cp {newest} {last}"


def resume(run_dir: str | Path, *, steps: int | None = None, progress: bool = False) -> TrainResult:
    """Continue a run from its ``checkpoints/last.pt`` to `steps` total (default: its own target).

    The agent and the vector env continue exactly where they stopped (except for ``vec=async``
    envs, whose episodes restart), and TensorBoard curves continue in the same folder.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RlsuiteError(f"no such run folder: {run_dir}")
    last = find_checkpoint(run_dir, prefer=("last",))
    try:
        checkpoint = load_checkpoint(last)
    except RlsuiteError as error:
        raise RlsuiteError(f"{error}{_newest_step_hint(last)}") from None
    config = RunConfig.from_dict(checkpoint["config"])
    import_modules(config.imports)
    if steps is not None:
        config = dataclasses.replace(config, steps=steps)
    num_steps = int(checkpoint["num_steps"])
    # Events after the checkpoint (from a crash) are hidden by TensorBoard's purge_step.
    session = _open_session(config, run_dir, num_steps + 1, saved=checkpoint["agent"])
    session.agent.load_state_dict(checkpoint["agent"])
    session.load_run_state(checkpoint["run_state"])
    _restore_envs(session, checkpoint.get("env_state"))
    write_config(run_dir, config)
    if num_steps >= config.steps:
        session.logger.close()
        for envs in (session.envs, session.eval_envs):
            if envs is not None:
                close_vector_env(envs)
        return TrainResult(
            run_dir, config, num_steps, "already finished", 0, session.last_eval, session.best_eval
        )
    return _train_loop(session, progress)


def _open_session(
    config: RunConfig, run_dir: Path, purge_step: int | None, saved: dict[str, Any] | None = None
) -> _Session:
    """Build the envs, the eval envs, the logger and the agent of `config` (`saved`: the
    agent state about to be loaded, see `build_agent`)."""
    envs = run_envs(config, config.n_envs)
    eval_envs = None
    try:
        if config.eval_every > 0:
            eval_envs = run_envs(config, min(config.n_envs, config.eval_episodes))
        logger = Logger(run_dir / "tb", purge_step=purge_step)
        agent = build_agent(config, envs, logger, saved)
    except BaseException:  # e.g. an action space the agent cannot handle: end vec=async workers
        for built in (envs, eval_envs):
            if built is not None:
                close_vector_env(built)
        raise
    return _Session(config, run_dir, envs, eval_envs, agent, logger)


def check_buildable(config: RunConfig) -> None:
    """Build `config`'s envs and agent once and throw them away: what `train` would refuse
    (bad env kwargs, an action space the agent cannot handle, an unreadable encoder or demo
    file) raises its RlsuiteError here, for callers that start runs elsewhere (sweeps)."""
    envs = run_envs(config, config.n_envs)
    try:
        build_agent(config, envs)
    finally:
        close_vector_env(envs)


def run_envs(config: RunConfig, num_envs: int) -> gym.vector.VectorEnv:
    """`num_envs` copies of the config's env, in its vec mode, with its wrappers and kwargs."""
    return make_vector_env(
        config.env_id, num_envs, config.vec, config.wrappers, **config.env_kwargs
    )


def build_agent(
    config: RunConfig,
    envs: gym.vector.VectorEnv,
    logger: Logger | None = None,
    saved: dict[str, Any] | None = None,
):
    """The config's agent on `envs`; an action space it cannot handle raises RlsuiteError.

    Also sets torch's and numpy's thread counts to the run's `torch_threads` (small nets are
    fastest on one; see `rlsuite.threads`).
    `saved`: the agent's state from a checkpoint about to be loaded; a pretrained encoder is then
    rebuilt from the spec saved in it (its weights come with the state), not read from its folder.
    """
    from rlsuite.agents import make_agent
    from rlsuite.supervised.encoders import agent_encoder
    from rlsuite.threads import use_threads

    use_threads(config.torch_threads)
    device = resolve_device(config.device)
    demos = load_run_demos(config, envs) if config.demos else None
    encoder = agent_encoder(config.encoder, saved, envs.single_observation_space)
    try:
        return make_agent(
            config.agent,
            envs,
            config.agent_config,
            seed=config.seed,
            logger=logger,
            device=device,
            demos=demos,
            encoder=encoder,
            freeze_encoder=config.freeze_encoder,
        )
    except ConfigError:  # a bad saved setting: its own message says which
        raise
    except ValueError as exc:  # UnsupportedSpaceError, bad settings
        raise RlsuiteError(f"{config.agent} cannot train on {config.env_id}: {exc}") from None


def load_run_demos(config: RunConfig, envs: gym.vector.VectorEnv):
    """The run's demonstration file, read and checked against its env (one-line errors)."""
    from rlsuite.demos import DemoFormatError, check_fits, load_demos

    try:
        demos = load_demos(config.demos)
        spaces = (envs.single_observation_space, envs.single_action_space)
        check_fits(demos, config.env_id, *spaces, config.env_kwargs)
    except DemoFormatError as exc:
        raise RlsuiteError(f"--demos {config.demos}: {exc}") from None
    return demos


def resolve_device(device: str) -> str:
    """The torch device for the setting `device`: "auto" takes CUDA when torch sees a GPU;
    "cuda" where there is none is refused with one line."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RlsuiteError(
            "device=cuda, but torch sees no GPU here (a CPU-only torch, or no driver); "
            "use --device cpu or auto"
        )
    return device


def _restore_envs(session: _Session, env_state: list[dict[str, Any]] | None) -> None:
    """Put the vector env back in the checkpoint's state (or restart episodes for async envs)."""
    envs, agent, config = session.envs, session.agent, session.config
    if env_state is None:
        seed = config.seed + agent.num_steps
        warn(f"vec={config.vec} env state cannot be restored: episodes restart (seed {seed})")
        agent.collector.reset(seed=seed)
        return
    envs.reset(seed=config.seed)
    failed = restore_env_state(envs, env_state)
    if failed:
        warn(f"could not restore env attributes {', '.join(failed[:5])}; resume may differ")


def _planned_end(agent: Any, total_steps: int) -> int:
    """The step count training will stop at: `total_steps` rounded up to a whole update.

    Agents whose updates vary in size (whole episodes) report no update size; their bar's total
    grows at the end if the last update passes `total_steps`.
    """
    size = agent.steps_per_update()
    if size is None or agent.num_steps >= total_steps:
        return total_steps
    return agent.num_steps + -(-(total_steps - agent.num_steps) // size) * size  # ceiling


def _train_loop(s: _Session, progress: bool) -> TrainResult:
    """agent.learn with a callback that evaluates, checkpoints and stops on SIGINT/SIGTERM."""
    from tqdm import tqdm

    from rlsuite.agents import NonFiniteLossError

    bar = tqdm(
        total=_planned_end(s.agent, s.config.steps),
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
                last = s.checkpoints / "last.pt"
                if not last.exists():  # train() removes the folder: nothing to resume from
                    raise RlsuiteError(
                        f"training stopped: {exc} (before the first checkpoint; no run folder kept)"
                    ) from None
                _write_summary(s, "stopped: non-finite loss")
                raise RlsuiteError(
                    f"training stopped: {exc} ({last} is the last good checkpoint)"
                ) from None
            if stop.signum is None:
                status, exit_code = "finished", 0
                if s.eval_envs is not None and s.last_eval_step != s.agent.num_steps:
                    _evaluate_and_log(s)
            else:
                status = "interrupted"
                exit_code = EXIT_SIGINT if stop.signum == signal.SIGINT else EXIT_SIGTERM
            s.logger.dump(s.agent.num_steps, force=True)  # what was recorded since the last write
            save_checkpoint(
                checkpoint_payload(s.config, s.agent, s.envs, s.run_state()),
                s.checkpoints / "last.pt",
            )
            _write_summary(s, status)
            s.logger.log_hparams(_flat_hparams(s.config), _hparam_metrics(s))
    finally:
        bar.close()
        s.logger.close()
        close_vector_env(s.envs)  # vec=async: its worker processes end here, error or not
        if s.eval_envs is not None:
            close_vector_env(s.eval_envs)
    return TrainResult(
        s.run_dir,
        s.config,
        s.agent.num_steps,
        status,
        exit_code,
        s.last_eval,
        s.best_eval,
        _rollout_means(s.logger),
    )


def _after_update(s: _Session, bar) -> None:
    """After every update: evaluate and checkpoint when a period is crossed; show progress."""
    steps, config = s.agent.num_steps, s.config
    if config.eval_every and steps // config.eval_every > s.last_eval_step // config.eval_every:
        _evaluate_and_log(s)
    every = config.checkpoint_every
    if every and steps // every > s.last_checkpoint_step // every:
        s.last_checkpoint_step = steps
        payload = checkpoint_payload(s.config, s.agent, s.envs, s.run_state())
        save_checkpoint(payload, s.checkpoints / f"step_{steps}.pt", s.checkpoints / "last.pt")
    if steps > bar.total:  # whole-episode updates end wherever the last episode ends
        bar.total = steps
    bar.update(steps - bar.n)
    postfix = {}
    if tags.FPS in s.logger.latest:
        postfix["fps"] = f"{s.logger.latest[tags.FPS]:.0f}"
    if tags.EP_REW_MEAN in s.logger.latest:
        postfix["ep_rew_mean"] = f"{s.logger.latest[tags.EP_REW_MEAN]:.2f}"
    if tags.SUCCESS_RATE in s.logger.latest:
        postfix["success"] = f"{s.logger.latest[tags.SUCCESS_RATE]:.2f}"
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
    s.logger.write_now(tags.EVAL_MEAN_REWARD, judged_return(result), steps)
    if result.get("mean_task_return") is not None:  # eval/mean_reward is the task's return
        s.logger.write_now(tags.EVAL_MEAN_ENV_REWARD, result["mean_return"], steps)
    s.logger.write_now(tags.EVAL_MEAN_EP_LENGTH, result["mean_length"], steps)
    if result.get("success_rate") is not None:
        s.logger.write_now(tags.EVAL_SUCCESS_RATE, result["success_rate"], steps)
    heatmap = s.agent.visitation_heatmap()  # curious agents on grid games: where training went
    if heatmap is not None:
        s.logger.write_image(tags.VISITATION_HEATMAP, heatmap, steps)
    s.logger.flush()
    s.last_eval_step = steps
    s.last_eval = {"step": steps, **_plain_numbers(result)}
    if s.best_eval is None or _ranking(s.last_eval) > _ranking(s.best_eval):
        s.best_eval = s.last_eval
        save_checkpoint(
            checkpoint_payload(s.config, s.agent, s.envs, s.run_state()), s.checkpoints / "best.pt"
        )


def judged_return(result: dict[str, Any]) -> float:
    """The return an evaluation judges a policy by (eval/mean_reward, best.pt, rlsuite eval).

    The task's own return (``info["task_reward"]``) where the env reports it, so that a sparse
    and a shaped run of one game are judged alike; otherwise the env's return.
    """
    task = result.get("mean_task_return")
    return float(result["mean_return"] if task is None else task)


def _ranking(result: dict[str, Any]) -> tuple[float, float]:
    """Which evaluation is better: the judged return, then the success rate on a tie."""
    success = result.get("success_rate")
    return judged_return(result), -1.0 if success is None else float(success)


def _write_summary(s: _Session, status: str) -> None:
    summary = {
        "status": status,
        "env_id": s.config.env_id,
        "agent": s.config.agent,
        "seed": s.config.seed,
        "num_steps": s.agent.num_steps,
        "target_steps": s.config.steps,
        "last_eval": s.last_eval,
        "best_eval": s.best_eval,
        "rollout": _rollout_means(s.logger),
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
    if s.best_eval is None:
        return {}
    metrics = {"hparams/best_eval_mean_reward": judged_return(s.best_eval)}
    if s.best_eval.get("success_rate") is not None:
        metrics["hparams/best_eval_success_rate"] = float(s.best_eval["success_rate"])
    return metrics


# The training curves' last values that the summary repeats (the last 100 episodes' means).
_ROLLOUT_SUMMARY = {
    tags.EP_REW_MEAN: "ep_rew_mean",
    tags.EP_TASK_REW_MEAN: "ep_task_rew_mean",
    tags.SUCCESS_RATE: "success_rate",
    tags.EP_LEN_MEAN: "ep_len_mean",
}


def _rollout_means(logger: Logger) -> dict[str, float]:
    return {
        name: logger.latest[tag] for tag, name in _ROLLOUT_SUMMARY.items() if tag in logger.latest
    }


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


def describe_evaluation(result: dict[str, Any]) -> str:
    """ "task return 0.90 (env return 1.23), success rate 0.90", or "mean return 500.00"."""
    task, success = result.get("mean_task_return"), result.get("success_rate")
    if task is None:
        text = f"mean return {result['mean_return']:.2f}"
    else:
        text = f"task return {task:.2f} (env return {result['mean_return']:.2f})"
    if success is not None:
        text += f", success rate {success:.2f}"
    return text


def describe_run(result: TrainResult) -> str:
    """The closing message of `rlsuite train`: where everything is and what to run next."""
    run = shlex.quote(str(result.run_dir))
    tb = shlex.quote(str(result.run_dir / "tb"))
    lines = [
        f"{result.status} at {result.num_steps} steps "
        f"({result.config.agent} on {result.config.env_id}, seed {result.config.seed})",
    ]
    if result.num_steps > result.config.steps:
        lines[0] += f"; {result.config.steps} asked for, and training stops after a whole update"
    last, best = result.last_eval, result.best_eval
    if last is not None:
        lines.append(f"last evaluation: {describe_evaluation(last)} at step {last['step']}")
    if best is not None and last is not None and best.get("step") != last["step"]:
        lines.append(f"best evaluation: {describe_evaluation(best)} at step {best.get('step')}")
    if last is None and result.rollout and "success_rate" in result.rollout:
        lines.append(
            f"training episodes: success rate {result.rollout['success_rate']:.2f} "
            "(the last 100; no evaluation ran)"
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
