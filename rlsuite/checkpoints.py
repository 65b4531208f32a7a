"""Checkpoint files: what they hold, written atomically, read without running code.

A checkpoint is one ``torch.save`` of tensors and python builtins only, so it loads with
``torch.load(path, weights_only=True)``: nothing in the file can execute code. It holds (see
:func:`checkpoint_payload`) the agent's ``state_dict()`` (weights, optimizer, counters, RNG states,
logger window), the vector env's own state (captured generically, see :mod:`rlsuite.envstate`),
the run's bookkeeping, the resolved config and a format version. It is written to a temporary
file in the same folder and renamed over the old one, so a crash never leaves a half-written
``last.pt``.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from rlsuite import __version__
from rlsuite.config import RunConfig
from rlsuite.envstate import capture_env_state
from rlsuite.errors import RlsuiteError, one_line

CHECKPOINT_FORMAT = "rlsuite-checkpoint"
CHECKPOINT_VERSION = 1


def checkpoint_payload(
    config: RunConfig, agent: Any, envs: gym.vector.VectorEnv, run_state: dict[str, Any]
) -> dict[str, Any]:
    """What a checkpoint holds: everything `runs.resume` needs to continue exactly."""
    return {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "rlsuite_version": __version__,
        "config": config.to_dict(),
        "num_steps": agent.num_steps,
        "agent": agent.state_dict(),
        "env_state": capture_env_state(envs),  # None for subprocess (vec=async) envs
        "run_state": run_state,
    }


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
        reason = one_line(exc).split(". ")[0]  # torch's first sentence; the rest is advice
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
