"""Building an env id's environments: the one place that chooses between native and Sync/Async.

A game that registers a ``vector_entry_point`` steps its whole batch in numpy (one call for N
games); any other env id is N copies in a ``SyncVectorEnv`` (or ``AsyncVectorEnv``, one process
per copy). Mode ``"auto"`` takes the native vector env when there is one and no wrapper is asked
for, because a vector entry point takes no per-env wrappers.
"""

from __future__ import annotations

import gc
import importlib
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import gymnasium as gym
from gymnasium.vector.async_vector_env import AsyncVectorEnv, _async_worker

from rlsuite.errors import RlsuiteError, one_line

VEC_MODES = ("auto", "sync", "async", "vector_entry_point")

Wrapper = Callable[[gym.Env], gym.Env]
Made = TypeVar("Made")


def resolve_vec_mode(env_id: str, mode: str = "auto", wrappers: Sequence[Any] = ()) -> str:
    """The ``gym.make_vec`` mode for `mode`; "auto" picks the native vector env when it can."""
    if mode not in VEC_MODES:
        raise RlsuiteError(f"vec must be one of {', '.join(VEC_MODES)}, not {mode!r}")
    native = gym.spec(env_id).vector_entry_point is not None
    if mode == "auto":
        return "vector_entry_point" if native and not wrappers else "sync"
    if mode == "vector_entry_point" and not native:
        raise RlsuiteError(f"{env_id} registers no vector_entry_point; use vec=sync or vec=async")
    if mode == "vector_entry_point" and wrappers:
        raise RlsuiteError("--wrapper needs vec=sync or vec=async (a native vector env takes none)")
    return mode


def load_wrapper(path: str) -> Wrapper:
    """The wrapper class named "module:Class" (e.g. gymnasium.wrappers:ClipReward)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise RlsuiteError(f"bad --wrapper {path!r}: expected module:Class")
    try:
        wrapper = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:
        raise RlsuiteError(f"bad --wrapper {path!r}: {one_line(exc)}") from None
    if isinstance(wrapper, type) and issubclass(wrapper, gym.vector.VectorWrapper):
        raise RlsuiteError(f"bad --wrapper {path!r}: it wraps vector envs; give a gym.Wrapper")
    if not callable(wrapper):
        raise RlsuiteError(f"bad --wrapper {path!r}: not a class")
    return wrapper


def _wrappers(wrappers: Sequence[str | Wrapper]) -> list[Wrapper]:
    return [load_wrapper(w) if isinstance(w, str) else w for w in wrappers]


def make_vector_env(
    env_id: str,
    n_envs: int,
    mode: str = "auto",
    wrappers: Sequence[str | Wrapper] = (),
    **env_kwargs: Any,
) -> gym.vector.VectorEnv:
    """`n_envs` copies of `env_id` as one vector env (see the module docstring for `mode`).

    `wrappers` are Gymnasium wrappers (classes or "module:Class" names) applied to each copy in
    order; `env_kwargs` go to the env's constructor. A failure becomes one RlsuiteError line.
    """
    mode = resolve_vec_mode(env_id, mode, wrappers)
    loaded = _wrappers(wrappers)
    # vec=async: one process per copy, observations passed in shared memory, and workers that
    # leave Ctrl-C to the main process (see `_async_worker_ignoring_signals`).
    vector_kwargs = {"shared_memory": True, "worker": _async_worker_ignoring_signals}
    return make_or_explain(
        env_id,
        lambda: gym.make_vec(
            env_id,
            num_envs=n_envs,
            vectorization_mode=mode,
            wrappers=loaded or None,
            vector_kwargs=vector_kwargs if mode == "async" else None,
            **env_kwargs,
        ),
    )


def as_vector_env(envs: gym.Env | gym.vector.VectorEnv) -> gym.vector.VectorEnv:
    """A vector env as it is; a single ``gym.Env`` in a one-env ``SyncVectorEnv``, as SB3 wraps
    one in a DummyVecEnv, so that ``PPO(gym.make(ID))`` trains as SB3's ``PPO(..., env)``."""
    if isinstance(envs, gym.Env):
        single_env = envs
        return gym.vector.SyncVectorEnv([lambda: single_env])
    return envs


def make_or_explain(env_id: str, make: Callable[[], Made]) -> Made:
    """``make()``, or the one-line RlsuiteError of an env that could not be made.

    A constructor that raises leaves a half-built object, whose ``__del__`` may fail in turn
    (Gymnasium's ``CartPoleVectorEnv`` closes screens its ``__init__`` never set), and Python
    prints that as "Exception ignored in ..." with a traceback, around the one line. Such
    reports are held while the env is made: dropped if making it failed (the half-built object
    goes before the hook is back), passed on if it succeeded.
    """
    held: list[Any] = []
    hook, sys.unraisablehook = sys.unraisablehook, held.append
    try:
        made = make()
    except Exception as exc:
        error = RlsuiteError(f"cannot make environment {env_id}: {one_line(exc)}")
        traceback.clear_frames(exc.__traceback__)  # the half-built object's last references
        gc.collect()
        raise error from None
    finally:
        sys.unraisablehook = hook
    for report in held:
        hook(report)
    return made


def _async_worker_ignoring_signals(*args: Any) -> None:
    """Gymnasium's AsyncVectorEnv worker, deaf to SIGINT and SIGTERM.

    Ctrl-C reaches every process of the terminal's process group. Gymnasium's worker would
    stop with KeyboardInterrupt and the main process's next step would fail, losing the update
    it was finishing and its last.pt. Here the main process alone decides: it finishes the
    update, saves, then closes the workers. A worker whose main process died anyway reads the
    end of its pipe and exits.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _async_worker(*args)


def close_vector_env(envs: gym.vector.VectorEnv, timeout: float = 10.0) -> None:
    """Close `envs`; subprocess workers that do not answer within `timeout` s are terminated.

    Called on every way out of training (finished, Ctrl-C, an error), so no worker process or
    shared-memory block outlives the run.
    """
    if isinstance(envs.unwrapped, AsyncVectorEnv):
        envs.close(timeout=timeout)
    else:
        envs.close()


def make_render_env(
    env_id: str, wrappers: Sequence[str | Wrapper] = (), **env_kwargs: Any
) -> gym.Env:
    """One copy of `env_id` drawing ``render_mode="rgb_array"`` frames (for watch/record)."""
    loaded = _wrappers(wrappers)

    def make() -> gym.Env:
        env = gym.make(env_id, render_mode="rgb_array", **env_kwargs)
        for wrapper in loaded:
            env = wrapper(env)
        return env

    return make_or_explain(env_id, make)
