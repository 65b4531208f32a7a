"""Checkpoint files: what they hold, written atomically, read without running code.

A checkpoint is one ``torch.save`` of tensors and python builtins only, so it loads with
``torch.load(path, weights_only=True)``: nothing in the file can execute code. It holds (see
:func:`checkpoint_payload`) the agent's ``state_dict()`` (weights, optimizer, counters, RNG states,
logger window), the vector env's own state (captured generically, see :mod:`rlsuite.envstate`),
the run's bookkeeping, the resolved config, the observation and action spaces (so that an agent
can be rebuilt to act without making any env: ``rlsuite.load``) and a format version. It is
written to a temporary file in the same folder and renamed over the old one, so a crash never
leaves a half-written ``last.pt``.

``Agent.save(path)`` writes a smaller file of the same kind (format ``rlsuite-agent``): the
agent's name, seed, spaces and ``state_dict()``, without a run's config or env state.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlsuite import __version__
from rlsuite.config import RunConfig
from rlsuite.envstate import capture_env_state
from rlsuite.errors import RlsuiteError, one_line

CHECKPOINT_FORMAT = "rlsuite-checkpoint"
CHECKPOINT_VERSION = 1
AGENT_FORMAT = "rlsuite-agent"  # Agent.save's files
AGENT_VERSION = 1
MODEL_FORMAT = "rlsuite-model"  # `rlsuite fit` runs (rlsuite/supervised/fit.py)
MODEL_VERSION = 1


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
        "spaces": spaces_to_dict(envs.single_observation_space, envs.single_action_space),
    }


def agent_payload(agent: Any) -> dict[str, Any]:
    """What ``Agent.save`` writes: enough to rebuild the agent and act, with no env."""
    envs = agent.envs
    return {
        "format": AGENT_FORMAT,
        "format_version": AGENT_VERSION,
        "rlsuite_version": __version__,
        "agent": agent.name,
        "seed": agent.seed,
        "spaces": spaces_to_dict(envs.single_observation_space, envs.single_action_space),
        "state": agent.state_dict(),
    }


# ------------------------------------------------------------------------------------------------
# Spaces as plain data (Box and Discrete: the spaces the agents take)
# ------------------------------------------------------------------------------------------------


def spaces_to_dict(observation_space: gym.Space, action_space: gym.Space) -> dict[str, Any]:
    """{"observation": ..., "action": ...}, each from `space_to_dict`."""
    return {"observation": space_to_dict(observation_space), "action": space_to_dict(action_space)}


def space_to_dict(space: gym.Space) -> dict[str, Any] | None:
    """A Box or Discrete space as tensors and builtins; None for any other space."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "low": torch.from_numpy(np.array(space.low)),  # a copy: the bounds are read-only
            "high": torch.from_numpy(np.array(space.high)),
            "dtype": np.dtype(space.dtype).name,
        }
    return None


def space_from_dict(data: dict[str, Any]) -> gym.Space:
    """The inverse of `space_to_dict`."""
    if data["type"] == "Discrete":
        return gym.spaces.Discrete(data["n"], start=data["start"])
    dtype = np.dtype(data["dtype"])
    return gym.spaces.Box(data["low"].numpy(), data["high"].numpy(), dtype=dtype)


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
    """Read a run's checkpoint with ``weights_only=True``; missing or corrupt files raise
    RlsuiteError."""
    data = load_saved(path)
    if data["format"] != CHECKPOINT_FORMAT:  # an Agent.save file: no run config, no env state
        raise RlsuiteError(
            f"{path} holds an agent saved with agent.save, not a run's checkpoint; "
            "load it with rlsuite.load, or give a run folder"
        )
    return data


def load_weights_only(path: str | Path, what: str, advice: str) -> Any:
    """``torch.load(path, weights_only=True)``; a failure is one line saying the file is not
    a `what` (a checkpoint, an encoder), with `advice` on which file to give instead."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):  # garbage bytes, not a forbidden class
            # torch's own message suggests weights_only=False, which is exactly what not to do.
            raise RlsuiteError(
                f"cannot read {what} {path}: the file is corrupt or not an rlsuite {what}; {advice}"
            ) from None
        raise RlsuiteError(
            f"refusing to load {path}: it holds objects other than tensors and plain data "
            f"(rlsuite never runs code from a {what})"
        ) from None
    except Exception as exc:
        reason = one_line(exc).split(". ")[0]  # torch's first sentence; the rest is advice
        raise RlsuiteError(
            f"cannot read {what} {path}: the file is corrupt or truncated ({reason}); {advice}"
        ) from None


def load_saved(
    path: str | Path, formats: Sequence[str] = (CHECKPOINT_FORMAT, AGENT_FORMAT)
) -> dict[str, Any]:
    """A run's checkpoint or an ``Agent.save`` file (or another of `formats`: MODEL_FORMAT for
    ``rlsuite fit`` runs), read with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise RlsuiteError(f"checkpoint not found: {path}")
    data = load_weights_only(path, "checkpoint", "use a run's checkpoints/last.pt or best.pt")
    versions = {
        CHECKPOINT_FORMAT: CHECKPOINT_VERSION,
        AGENT_FORMAT: AGENT_VERSION,
        MODEL_FORMAT: MODEL_VERSION,
    }
    if not isinstance(data, dict) or data.get("format") not in versions:
        raise RlsuiteError(f"{path} is not an rlsuite checkpoint")
    if data["format"] not in formats:
        found = "a model trained with rlsuite fit" if data["format"] == MODEL_FORMAT else "an agent"
        raise RlsuiteError(f"{path} holds {found}; {_READERS[formats[0]]}")
    if data.get("format_version", 0) > versions[data["format"]]:
        raise RlsuiteError(
            f"{path} was written by a newer rlsuite (format "
            f"{data['format_version']}); upgrade rlsuite to read it"
        )
    return data


# What reads each format, for a file given to the wrong command.
_READERS = {
    CHECKPOINT_FORMAT: "give an agent's run folder or checkpoint (rlsuite fit --eval-only reads "
    "fit runs)",
    MODEL_FORMAT: "give a folder written by rlsuite fit (rlsuite eval reads agents' runs)",
}


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
