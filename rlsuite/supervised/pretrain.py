"""``rlsuite pretrain ENV_ID --method ae|dae|mae|simclr|byol``: an encoder for an agent's eyes.

Collects frames of the game (``frames.py``; the policy plays, no labels are used), then trains
the self-supervised model on them with ``rlsuite fit``'s loop, into a run folder that also
holds ``encoder.pt`` (spec + weights, its features standardised by their mean and variance over
the frames: ``encoders.StandardizedEncoder``) and ``frames.npz``::

    rlsuite pretrain rlsuite/KeyDoor-8x8-v0 --method ae --frames 20000
    rlsuite train rlsuite/KeyDoor-8x8-v0 --env-kwargs obs_mode=pixels \\
        --encoder runs/pretrain__KeyDoor-8x8-v0__ae__s0__<time> --freeze-encoder

The frames are the observations the agent will see: pixels, with the game's per-task
``env_kwargs`` for pixel runs (e.g. ``frame_stack: 2``) unless ``--env-kwargs`` says otherwise,
so the encoder fits the agent's observation space.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlsuite import config as settings_
from rlsuite.errors import RlsuiteError
from rlsuite.supervised.data import Dataset, DataSpec, Split, split_indices
from rlsuite.supervised.encoders import ENCODER_FILE, save_encoder, standardize
from rlsuite.supervised.fit import FitConfig, FitResult, fit, load_model, resolve_fit_config
from rlsuite.supervised.fit import _check_free as check_free
from rlsuite.supervised.frames import POLICIES, Frames, collect_frames
from rlsuite.supervised.selfsup import METHODS

DEFAULT_FRAMES = 20_000
DEFAULT_EPOCHS = 10
FRAMES_FILE = "frames.npz"


@dataclasses.dataclass(frozen=True)
class PretrainRequest:
    """What to collect and how to train, checked before anything is written."""

    env_id: str
    method: str
    frames: int
    policy: str
    seed: int
    env_kwargs: dict[str, Any]
    fit: FitConfig


def resolve_pretrain(
    env_id: str,
    method: str,
    *,
    frames: int = DEFAULT_FRAMES,
    policy: str = "random",
    seed: int = 0,
    epochs: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> PretrainRequest:
    """Check every part of a pretraining request; errors are one RlsuiteError/ConfigError line."""
    settings_.check_env_id(env_id)
    if method not in METHODS:
        raise RlsuiteError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    if frames < 10:
        raise RlsuiteError(f"--frames must be at least 10 (train, validation, test), got {frames}")
    if policy not in POLICIES and not Path(policy).exists():
        raise RlsuiteError(
            f"--policy must be {', '.join(POLICIES)} or a run folder, not {policy!r}"
        )
    fit_config = resolve_fit_config(
        method, "frames", epochs=epochs or DEFAULT_EPOCHS, seed=seed, settings=settings
    )
    env_kwargs = agent_env_kwargs(env_id, env_kwargs)
    check_cell(env_id, env_kwargs, fit_config)
    return PretrainRequest(env_id, method, frames, policy, seed, env_kwargs, fit_config)


def check_cell(env_id: str, env_kwargs: dict[str, Any], fit_config: FitConfig) -> None:
    """A grid encoder's ``cell`` must divide the game's frames: said before minutes of
    collecting, not after."""
    import gymnasium as gym

    from rlsuite.supervised.encoders import cell_spec
    from rlsuite.supervised.registry import make_model_config, model_class

    model_config = make_model_config(model_class(fit_config.model), fit_config.model_config)
    if model_config.cell:
        env = gym.make(env_id, **env_kwargs)
        shape = env.observation_space.shape
        env.close()
        cell_spec(shape, model_config.cell)  # raises the one-line error


def agent_env_kwargs(env_id: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """Pixels, the per-task pixel settings a PPO run of `env_id` uses (frame_stack ...), then
    `given`: the observations the agent trained with the encoder will see."""
    task = settings_.task_settings("ppo", env_id, "pixels")
    task_kwargs = dict(task[1].get("env_kwargs", {})) if task is not None else {}
    observation_keys = ("obs_mode", "frame_stack")  # what shapes the frames, nothing else
    kwargs = {key: value for key, value in task_kwargs.items() if key in observation_keys}
    return {"obs_mode": "pixels", **kwargs, **(given or {})}


def frames_dataset(data: Frames, name: str) -> Dataset:
    """Unlabelled frames with fixed train / validation / test splits, kept as uint8 (B, C, H, W)
    views (a float copy of 20,000 stacked frames would take 2 GB)."""
    x = torch.from_numpy(data.frames).permute(0, 3, 1, 2)  # a view: no copy
    train, val, test = split_indices(len(x), None)
    spec = DataSpec(name, "images", tuple(x.shape[1:]))
    return Dataset(spec, *(Split(x[torch.from_numpy(i)], None) for i in (train, val, test)))


def default_run_dir(request: PretrainRequest, root: str | Path = "runs") -> Path:
    """runs/pretrain__<game>__<method>__s<seed>__<YYYYmmdd-HHMMSS>."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    game = request.env_id.split("/")[-1]
    return Path(root) / f"pretrain__{game}__{request.method}__s{request.seed}__{stamp}"


def pretrain(
    request: PretrainRequest,
    run_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> tuple[FitResult, float]:
    """Collect the frames, train, write ``encoder.pt``; returns the fit's result and the
    seconds spent collecting."""
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(request)
    check_free(run_dir, force)  # before minutes of collecting
    start = time.perf_counter()
    data = collect_frames(
        request.env_id,
        request.frames,
        request.policy,
        seed=request.seed,
        env_kwargs=request.env_kwargs,
    )
    collect_seconds = time.perf_counter() - start
    fit_config = dataclasses.replace(request.fit, data=str(run_dir / FRAMES_FILE))
    dataset = frames_dataset(data, request.env_id)
    result = fit(fit_config, run_dir, force=force, progress=progress, dataset=dataset)
    data.save(run_dir / FRAMES_FILE)
    encoder = load_model(run_dir).encoder  # best.pt: the lowest validation loss
    # Features of order 1 for the agent's network: each one's mean and variance over the frames.
    encoder = standardize(encoder, data.frames)
    source = {
        "method": request.method,
        "env_id": request.env_id,
        "env_kwargs": request.env_kwargs,
        "frames": request.frames,
        "policy": request.policy,
        "run": str(run_dir),
    }
    save_encoder(encoder, run_dir / ENCODER_FILE, source)
    return result, collect_seconds


def describe(result: FitResult, collect_seconds: float, request: PretrainRequest) -> str:
    """The closing message of `rlsuite pretrain`."""
    run = result.run_dir
    loss = result.best_val.get("loss", float("nan"))
    return "\n".join(
        [
            f"{result.status}: {request.method} on {request.frames} frames of {request.env_id} "
            f"({request.policy} policy, {np.round(collect_seconds, 1)} s to collect, "
            f"{result.seconds:.1f} s to train {result.epochs_done} epochs)",
            f"best validation loss {loss:.4f} (epoch {result.best_val.get('epoch')})",
            f"encoder:      {run / ENCODER_FILE}",
            f"run folder:   {run}  (frames.npz, config.yaml, tb/, checkpoints/)",
            f"use it:       rlsuite train {request.env_id} --env-kwargs "
            + " ".join(f"{k}={v}" for k, v in request.env_kwargs.items())
            + f" --encoder {run} --freeze-encoder",
        ]
    )
