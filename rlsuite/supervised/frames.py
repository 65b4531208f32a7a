"""Game frames for perception: ``rlsuite dataset ENV_ID --frames N -o frames.npz``.

A policy (random, the game's scripted expert, or a trained run) plays a pixel game; every frame
is kept with labels read from the game's true state, and with its place in its trajectory, so
the same file serves three uses:

- unlabelled frames for self-supervised pretraining (``rlsuite fit simclr --data frames.npz``,
  ``rlsuite pretrain``);
- labelled frames for probes and classifiers (``--set label=label_has_key``): is the key held,
  is the door open, which cell is the agent in, how many objects are left;
- sequences: consecutive frames of one episode (``sequences``), with the actions and rewards.

Layout of the ``.npz`` (plain arrays, read with ``allow_pickle=False``; N frames):

- ``frames`` (N, H, W, C) uint8: the observations, as the env gives them (with ``frame_stack``
  K, C is 3K);
- ``label_<name>`` (N,): one per piece of game state: every per-game number or flag (e.g.
  ``label_has_key``, ``label_door_open``, ``label_agent_x``), ``label_agent_cell`` where the
  game has an agent on a grid, and ``label_<name>_count`` for every set of objects (e.g.
  ``label_alive_count``: invaders left);
- ``episode`` (N,) int64 (numbered from 0), ``step`` (N,) int64 (0 at the episode's start);
- ``action`` (N,) the action taken in the frame; ``reward``, ``terminated``, ``truncated`` (N,)
  what followed it;
- ``header``: a JSON string: format version, env id, env kwargs, policy, seed.

An episode's last observation (after its final action) is not a frame of its own: the game's
state has already moved on to the next episode, so it has no labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.errors import RlsuiteError, one_line

FORMAT_VERSION = 1
POLICIES = ("random", "expert")  # or a run folder
_STEP_ARRAYS = ("episode", "step", "action", "reward", "terminated", "truncated")


@dataclass(frozen=True)
class Frames:
    """Frames of a game with labels and trajectory indices; see the module docstring."""

    env_id: str
    frames: np.ndarray  # (N, H, W, C) uint8
    labels: dict[str, np.ndarray]  # name (without "label_") -> (N,)
    episode: np.ndarray
    step: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    policy: str = "random"
    seed: int = 0

    def __len__(self) -> int:
        return len(self.frames)

    def save(self, path: str | Path) -> Path:
        """Write the ``.npz`` (compressed: game frames are mostly flat colour)."""
        path = Path(path)
        header = {
            "format_version": FORMAT_VERSION,
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "policy": self.policy,
            "seed": self.seed,
        }
        arrays = {f"label_{name}": values for name, values in self.labels.items()}
        arrays.update({name: getattr(self, name) for name in _STEP_ARRAYS})
        np.savez_compressed(path, frames=self.frames, header=np.array(json.dumps(header)), **arrays)
        return path


def load_frames(path: str | Path) -> Frames:
    """A frames file written by ``rlsuite dataset``; any problem is one RlsuiteError line."""
    path = Path(path)
    if not path.is_file():
        raise RlsuiteError(f"frames file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        raise RlsuiteError(f"cannot read {path}: it holds Python objects or is damaged") from exc
    except Exception as exc:
        raise RlsuiteError(f"cannot read {path}: not a .npz file ({one_line(exc)})") from None
    missing = [key for key in ("frames", "header", *_STEP_ARRAYS) if key not in arrays]
    if missing:
        raise RlsuiteError(f"{path} is not a frames file from `rlsuite dataset` (no {missing[0]})")
    header = json.loads(str(arrays["header"]))
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise RlsuiteError(f"{path} was written by a newer rlsuite; upgrade rlsuite to read it")
    frames = arrays["frames"]
    n = len(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4:
        raise RlsuiteError(f"{path}: frames must be uint8 (N, H, W, C), not {frames.dtype}")
    labels = {key[6:]: value for key, value in arrays.items() if key.startswith("label_")}
    for name, values in [*labels.items(), *((k, arrays[k]) for k in _STEP_ARRAYS)]:
        if values.shape != (n,):
            raise RlsuiteError(f"{path}: {name} has shape {values.shape}, not ({n},)")
    return Frames(
        env_id=header["env_id"],
        frames=frames,
        labels=labels,
        env_kwargs=header.get("env_kwargs", {}),
        policy=header.get("policy", "unknown"),
        seed=int(header.get("seed", 0)),
        **{name: arrays[name] for name in _STEP_ARRAYS},
    )


def state_labels(state: dict[str, np.ndarray], n: int, grid_width: int) -> dict[str, np.ndarray]:
    """Labels of `n` games from their state arrays: every per-game number or flag, the agent's
    cell on a grid, and the count of every set of objects (a per-game array of flags)."""
    labels = {}
    for name, values in state.items():
        values = np.asarray(values)
        if name == "rng" or values.ndim == 0 or len(values) != n:
            continue  # the random streams are not something a frame shows
        if values.ndim == 1 and values.dtype.kind in "biuf":
            labels[name] = values.copy()
        elif values.dtype == np.bool_:  # (n, ...) flags: objects present
            labels[f"{name}_count"] = values.reshape(n, -1).sum(axis=1)
    if "agent_x" in labels and "agent_y" in labels:
        labels["agent_cell"] = labels["agent_y"] * grid_width + labels["agent_x"]
    return labels


def collect_frames(
    env_id: str,
    n_frames: int,
    policy: str = "random",
    *,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    n_envs: int = 8,
) -> Frames:
    """`n_frames` pixel frames of `env_id` played by `policy` ("random", "expert" or a run
    folder / saved agent), with state labels and trajectory indices.

    `env_kwargs` default to pixel observations (``obs_mode="pixels"``); a run folder plays in
    its own env settings (its frame stack, say) unless `env_kwargs` are given, as
    ``rlsuite demos`` does. `n_envs` games run side by side; their episodes are numbered in the
    order they start.
    """
    from rlsuite.envs.core import GameVectorEnv
    from rlsuite.vector import make_vector_env

    if n_frames < 1:
        raise RlsuiteError(f"--frames must be positive, got {n_frames}")
    if not str(gym.spec(env_id).entry_point).startswith("rlsuite.envs"):
        raise RlsuiteError(f"{env_id} is not an rlsuite game: its frames have no state labels")
    env_kwargs = {"obs_mode": "pixels", **(env_kwargs or _run_env_kwargs(policy, env_id))}
    envs = make_vector_env(env_id, n_envs, "vector_entry_point", **env_kwargs)
    try:
        game_env = envs.unwrapped
        if not isinstance(game_env, GameVectorEnv):
            raise RlsuiteError(f"{env_id} is not an rlsuite game: its frames have no state labels")
        act = _policy(policy, envs, seed)
        return _play(env_id, envs, game_env, act, n_frames, seed, env_kwargs, policy)
    finally:
        envs.close()


def _run_env_kwargs(policy: str, env_id: str) -> dict[str, Any]:
    """A run folder's own env kwargs ({} for other policies); a run of another env, or of
    symbolic observations, is refused by name."""
    if policy in ("random", "expert") or not Path(policy).is_dir():
        return {}
    from rlsuite.agents.imitation.experts import run_config

    config = run_config(policy, env_id)
    if config.env_kwargs.get("obs_mode", "symbolic") != "pixels":
        raise RlsuiteError(
            f"the run {policy} sees symbolic observations; frames are pixels: give a run "
            "trained with --env-kwargs obs_mode=pixels"
        )
    return config.env_kwargs


def _policy(policy: str, envs: Any, seed: int):
    """obs -> actions for the vector env."""
    if policy == "random":
        envs.action_space.seed(seed)
        return lambda obs: envs.action_space.sample()
    if policy == "expert":
        from rlsuite.envs.experts import ScriptedExpert

        return ScriptedExpert(envs)
    import rlsuite

    agent = rlsuite.load(policy, device="cpu")  # a run folder or a saved agent
    expected = agent.envs.single_observation_space.shape
    if expected != envs.single_observation_space.shape:
        raise RlsuiteError(
            f"the agent in {policy} sees observations of shape {expected}, this env gives "
            f"{envs.single_observation_space.shape}; give the env id and --env-kwargs it was "
            "trained with"
        )
    return lambda obs: agent.predict(obs, deterministic=False)


def _play(env_id, envs, game_env, act, n_frames, seed, env_kwargs, policy) -> Frames:
    """Step the games until `n_frames` frames are kept."""
    n = envs.num_envs
    grid_width = int(getattr(game_env.game, "size", 0) or 64)
    obs, _ = envs.reset(seed=seed)
    episode = np.arange(n)  # each game's current episode number
    next_episode = n
    step = np.zeros(n, dtype=np.int64)
    chunks: dict[str, list[np.ndarray]] = {}
    kept = 0
    while kept < n_frames:
        labels = state_labels(game_env.state, n, grid_width)  # of the frames in `obs`
        actions = np.asarray(act(obs))
        next_obs, reward, terminated, truncated, _ = envs.step(actions)
        record = {
            "frames": obs,
            "episode": episode.copy(),
            "step": step.copy(),
            "action": actions,
            "reward": np.asarray(reward, dtype=np.float32),
            "terminated": terminated,
            "truncated": truncated,
            **{f"label_{name}": values for name, values in labels.items()},
        }
        for key, values in record.items():
            chunks.setdefault(key, []).append(np.array(values))
        kept += n
        done = terminated | truncated
        step = np.where(done, 0, step + 1)
        for i in np.flatnonzero(done):  # a new episode starts in that game
            episode[i] = next_episode
            next_episode += 1
        obs = next_obs
    # Frames in time order, game after game within a step: each episode's frames stay in order.
    arrays = {key: np.concatenate(parts)[:n_frames] for key, parts in chunks.items()}
    labels = {key[6:]: arrays.pop(key) for key in list(arrays) if key.startswith("label_")}
    return Frames(
        env_id=env_id,
        labels=labels,
        env_kwargs=env_kwargs,
        policy=str(policy),
        seed=seed,
        **arrays,
    )


def sequences(data: Frames, length: int) -> np.ndarray:
    """Indices ``(M, length)`` of every run of `length` consecutive frames of one episode:
    ``data.frames[sequences(data, 4)]`` is ``(M, 4, H, W, C)``."""
    order = np.lexsort((data.step, data.episode))  # by episode, then step
    starts = []
    for k in range(len(order) - length + 1):
        window = order[k : k + length]
        same = (data.episode[window] == data.episode[window[0]]).all()
        if same and (np.diff(data.step[window]) == 1).all():
            starts.append(window)
    return np.array(starts, dtype=np.int64).reshape(-1, length)
