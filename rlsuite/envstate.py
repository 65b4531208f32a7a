"""Vector env state: capture and restore, generically (what makes a resumed run continue exactly).

An agent's state_dict does not hold the environments' state (positions, step counters, random
generators). To make a resumed run continue exactly, we walk the vector env's object graph --
the VectorEnv, its `.envs` list, each `.env` wrapper chain, plain helper objects -- and save
every attribute that is pure data: numpy arrays, np.random generators, python scalars and
strings, and lists/tuples/dicts of those. On resume the same attribute paths are set on a
freshly built env of the same config (after a reset). Spaces, callables, modules, pygame
objects and read-only (constant) arrays are skipped. Subprocess (async) envs cannot be walked.
"""

from __future__ import annotations

import types
from typing import Any

import gymnasium as gym
import numpy as np
import torch

_TAG = "__rlsuite__"
_BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
# Attributes that are configuration or back-references, never episode state.
_SKIP_ATTRS = frozenset({"spec", "metadata", "_saved_kwargs", "env_fns", "render_mode"})
_SKIP_MODULES = ("pygame", "torch", "numpy", "gymnasium.spaces", "gymnasium.envs.registration")


class _NotDataError(Exception):
    """Raised by `_encode` for a value that is not pure data."""


def is_async(envs: gym.vector.VectorEnv) -> bool:
    """Subprocess vector envs keep their state in other processes."""
    return isinstance(getattr(envs, "unwrapped", envs), gym.vector.AsyncVectorEnv)


def capture_env_state(envs: gym.vector.VectorEnv) -> list[dict[str, Any]] | None:
    """Every pure-data attribute of the env graph as ``{"path": [...], "value": ...}`` entries.

    Values are encoded with torch tensors for arrays, so the result is weights_only-safe.
    Returns None for subprocess (async) vector envs, whose state lives in other processes.
    """
    if is_async(envs):
        return None
    entries: list[dict[str, Any]] = []
    _walk(envs, [], entries, seen=set())
    return entries


def restore_env_state(envs: gym.vector.VectorEnv, entries: list[dict[str, Any]]) -> list[str]:
    """Set the captured attributes on `envs` (already reset); returns the paths that failed."""
    failed = []
    for entry in entries:
        path = entry["path"]
        try:
            parent = envs
            for key in path[:-1]:
                parent = parent[key] if isinstance(key, int) else getattr(parent, key)
            last = path[-1]
            current = parent[last] if isinstance(last, int) else getattr(parent, last)
            value = _decode(entry["value"], current)
            if value is not current:
                if isinstance(last, int):
                    parent[last] = value
                else:
                    setattr(parent, last, value)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            failed.append(".".join(str(key) for key in path))
    return failed


def _walk(obj: Any, path: list, entries: list, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    for name, value in vars(obj).items():
        if name not in _SKIP_ATTRS:
            _visit(value, [*path, name], entries, seen)


def _visit(value: Any, path: list, entries: list, seen: set[int]) -> None:
    try:
        entries.append({"path": path, "value": _encode(value)})
        return
    except _NotDataError:
        pass
    if isinstance(value, (list, tuple)):  # e.g. SyncVectorEnv.envs
        for i, item in enumerate(value):
            _visit(item, [*path, i], entries, seen)
    elif _is_walkable(value):
        _walk(value, path, entries, seen)


def _is_walkable(value: Any) -> bool:
    """Plain objects that may hold state (envs, wrappers, helpers); not spaces, modules, pygame."""
    if isinstance(value, (type, types.ModuleType, types.FunctionType, types.MethodType)):
        return False
    if not hasattr(value, "__dict__") or isinstance(value, gym.spaces.Space):
        return False
    module = type(value).__module__ or ""
    return not module.startswith(_SKIP_MODULES)


def _encode(value: Any) -> Any:
    """Pure data -> a weights_only-safe tree (arrays as tensors, tagged dicts), else raise."""
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        if value.dtype.kind not in "biufc":
            raise _NotDataError
        return {_TAG: "npscalar", "dtype": value.dtype.str, "value": value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc" or not value.flags.writeable:
            # object/str arrays cannot be tensors; read-only arrays are constants
            raise _NotDataError
        data = torch.from_numpy(np.ascontiguousarray(value).copy())
        return {_TAG: "ndarray", "dtype": value.dtype.str, "data": data}
    if isinstance(value, np.random.Generator):
        return {_TAG: "generator", "state": _encode(value.bit_generator.state)}
    if isinstance(value, np.random.RandomState):
        return {_TAG: "randomstate", "state": _encode(value.get_state(legacy=False))}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "items": [_encode(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return {_TAG: "dict", "items": [[k, _encode(v)] for k, v in value.items()]}
    raise _NotDataError


def _decode(encoded: Any, current: Any = None) -> Any:
    """The inverse of `_encode`, writing into `current` in place where it has the same form.

    In place keeps aliases intact (two attributes holding the same array or generator).
    """
    if isinstance(encoded, list):
        same = isinstance(current, list) and len(current) == len(encoded)
        items = [_decode(e, current[i] if same else None) for i, e in enumerate(encoded)]
        if same:
            current[:] = items
            return current
        return items
    if not isinstance(encoded, dict):
        return encoded
    kind = encoded[_TAG]
    if kind == "ndarray":
        array = encoded["data"].numpy().astype(np.dtype(encoded["dtype"]), copy=True)
        if _same_array_form(current, array):
            current[...] = array
            return current
        return array
    if kind == "npscalar":
        return np.dtype(encoded["dtype"]).type(encoded["value"])
    if kind == "generator":
        state = _decode(encoded["state"])
        if not isinstance(current, np.random.Generator):
            # Only numpy's own bit generators, by name: nothing from the file is called freely.
            if state["bit_generator"] not in _BIT_GENERATORS:
                raise ValueError(f"unknown bit generator {state['bit_generator']!r}")
            current = np.random.Generator(getattr(np.random, state["bit_generator"])())
        current.bit_generator.state = state
        return current
    if kind == "randomstate":
        if not isinstance(current, np.random.RandomState):
            current = np.random.RandomState()
        current.set_state(_decode(encoded["state"]))
        return current
    if kind == "tuple":
        return tuple(_decode(e) for e in encoded["items"])
    old = current if isinstance(current, dict) else {}
    items = {k: _decode(v, old.get(k)) for k, v in encoded["items"]}
    if isinstance(current, dict):
        current.clear()
        current.update(items)
        return current
    return items


def _same_array_form(current: Any, array: np.ndarray) -> bool:
    return (
        isinstance(current, np.ndarray)
        and current.shape == array.shape
        and current.dtype == array.dtype
        and current.flags.writeable
    )
