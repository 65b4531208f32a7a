"""Demonstrations: what an expert did, saved so that imitation agents can learn from it.

The lecture's behavior cloning and inverse RL both start from an expert's trajectories. Ours come
from three experts: a game's scripted expert (``rlsuite expert``), a trained run, or a person
(``rlsuite play --record``). They are stored as one ``.npz`` file of plain arrays plus a JSON
header, loaded with ``allow_pickle=False``: a demonstration file can never run code.

Layout (N steps over E episodes, episodes stored one after another):

- ``observations`` (N, *obs_shape): the observation each action was taken in
- ``actions`` (N, *act_shape), ``rewards`` (N,) the reward the env gave (may be unused by IRL)
- ``episode_starts`` (E,) int64: index of each episode's first step
- ``final_observations`` (E, *obs_shape): the observation after each episode's last action
- ``terminated`` (E,) bool: the episode ended inside the game (not by a time limit or a stop)
- ``successes`` (E,) bool, ``seeds`` (E,) int64 (-1: not seeded)
- header (JSON): format version, env id, env kwargs, source
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rlsuite.errors import one_line

FORMAT_VERSION = 1
_ARRAYS = (
    "observations",
    "actions",
    "rewards",
    "episode_starts",
    "final_observations",
    "terminated",
    "successes",
    "seeds",
)


class DemoFormatError(ValueError):
    """A demonstration file that is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class Demonstrations:
    """Episodes of (observation, action) pairs from one environment; see the module docstring."""

    env_id: str
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    episode_starts: np.ndarray
    final_observations: np.ndarray
    terminated: np.ndarray
    successes: np.ndarray
    seeds: np.ndarray
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = "unknown"

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def next_observations(self) -> np.ndarray:
        """(N, *obs_shape) the observation each action led to: the next step's observation, or
        the episode's final observation after its last step."""
        following = np.empty_like(self.observations)
        following[:-1] = self.observations[1:]
        ends = np.append(self.episode_starts[1:], len(self.actions)) - 1
        following[ends] = self.final_observations
        return following

    @property
    def dones(self) -> np.ndarray:
        """(N,) bool: the step ended its episode inside the game (no future after it)."""
        done = np.zeros(len(self.actions), dtype=bool)
        ends = np.append(self.episode_starts[1:], len(self.actions)) - 1
        done[ends] = self.terminated
        return done

    @property
    def n_episodes(self) -> int:
        return len(self.episode_starts)

    @property
    def episode_lengths(self) -> np.ndarray:
        ends = np.append(self.episode_starts[1:], len(self.actions))
        return ends - self.episode_starts

    @property
    def episode_returns(self) -> np.ndarray:
        return (
            np.add.reduceat(self.rewards, self.episode_starts)
            if len(self.rewards)
            else self.rewards
        )

    def save(self, path: str | Path) -> Path:
        """Write the demonstrations to `path` (.npz), atomically."""
        path = Path(path)
        if path.suffix != ".npz":
            raise DemoFormatError(f"demonstration files end in .npz, got {path.name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format_version": FORMAT_VERSION,
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "source": self.source,
        }
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, header=np.array(json.dumps(header)), **arrays)
        tmp.replace(path)
        return path


def load_demos(path: str | Path) -> Demonstrations:
    """Read and validate a demonstration file; a bad file raises DemoFormatError (one line)."""
    path = Path(path)
    if not path.is_file():
        raise DemoFormatError(
            f"no demonstration file at {path}; record one with `rlsuite play ENV "
            "--record FILE.npz` or `rlsuite expert ENV --record FILE.npz`"
        )
    unreadable = f"{path} is not a readable .npz demonstration file"
    if not zipfile.is_zipfile(path):  # numpy would call it pickled data and suggest unpickling
        raise DemoFormatError(f"{unreadable} (not a zip file, as np.savez writes)")
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {name: data[name] for name in data.files}
    except Exception as exc:  # numpy raises several types for a damaged zip
        raise DemoFormatError(f"{unreadable} ({one_line(exc).split('. ')[0]})") from None
    missing = [name for name in ("header", *_ARRAYS) if name not in contents]
    if missing:
        raise DemoFormatError(
            f"{path} is missing {', '.join(missing)}; is it an rlsuite demo file?"
        )
    try:
        header = json.loads(str(contents.pop("header")))
    except json.JSONDecodeError:
        raise DemoFormatError(f"{path} has a damaged header") from None
    if header.get("format_version") != FORMAT_VERSION:
        raise DemoFormatError(
            f"{path} has format version {header.get('format_version')}, "
            f"this rlsuite reads {FORMAT_VERSION}"
        )
    try:
        return Demonstrations(
            env_id=header["env_id"],
            env_kwargs=header.get("env_kwargs", {}),
            source=header.get("source", "unknown"),
            **contents,
        )
    except DemoFormatError as exc:
        raise DemoFormatError(f"{path}: {exc}") from None


def _env_difference(recorded: dict[str, Any], used: dict[str, Any]) -> str:
    """The env kwargs that differ between the recording and this run (reward settings left
    out: they do not change observations), as options to give."""
    keys = sorted(
        key
        for key in {*recorded, *used}
        if recorded.get(key) != used.get(key) and key not in ("reward_mode", "shaping_gamma")
    )
    if not keys:
        return "another obs_mode or frame_stack?"

    def shown(kwargs: dict[str, Any]) -> str:
        return ", ".join(
            f"{key}={_option(kwargs[key])}" if key in kwargs else f"{key} unset" for key in keys
        )

    return f"recorded with {shown(recorded)}; this run has {shown(used)}"


def _option(value: Any) -> str:
    """A value as typed after ``--env-kwargs key=``."""
    return value if isinstance(value, str) else json.dumps(value)


def check_fits(
    demos: Demonstrations,
    env_id: str,
    observation_space,
    action_space,
    env_kwargs: dict[str, Any] | None = None,
) -> None:
    """Raise DemoFormatError unless `demos` were recorded in `env_id` with these spaces
    (`env_kwargs`: the env's, to say which differ from the recording's when shapes do).

    The spaces are Gymnasium spaces (read through ``shape``, ``dtype`` and ``contains``, so this
    module needs no gymnasium import). A file from another game, another observation mode or a
    frame stack of another depth would otherwise train on meaningless arrays.
    """
    if demos.env_id != env_id:
        raise DemoFormatError(f"the demonstrations were recorded in {demos.env_id}, not {env_id}")
    if demos.observations.shape[1:] != tuple(observation_space.shape):
        raise DemoFormatError(
            f"the demonstrations' observations have shape {demos.observations.shape[1:]}, "
            f"{env_id}'s have {tuple(observation_space.shape)} "
            f"({_env_difference(demos.env_kwargs, env_kwargs or {})})"
        )
    if not np.can_cast(demos.observations.dtype, observation_space.dtype, casting="same_kind"):
        raise DemoFormatError(
            f"the demonstrations' observations are {demos.observations.dtype}, "
            f"{env_id}'s are {observation_space.dtype}"
        )
    n_actions = getattr(action_space, "n", None)
    if n_actions is not None:  # Discrete: whole numbers from start to start + n - 1
        start = int(getattr(action_space, "start", 0))
        actions = demos.actions
        if actions.ndim != 1 or actions.dtype.kind not in "iu":
            raise DemoFormatError(
                f"{env_id} takes one integer action per step; the demonstrations hold "
                f"{actions.dtype} actions of shape {actions.shape[1:]}"
            )
        if len(actions) and (actions.min() < start or actions.max() >= start + int(n_actions)):
            raise DemoFormatError(
                f"the demonstrations' actions run from {actions.min()} to {actions.max()}; "
                f"{env_id} takes {start} to {start + int(n_actions) - 1}"
            )
    elif demos.actions.shape[1:] != tuple(action_space.shape):
        raise DemoFormatError(
            f"the demonstrations' actions have shape {demos.actions.shape[1:]}, "
            f"{env_id}'s have {tuple(action_space.shape)}"
        )


def _validate(demos: Demonstrations) -> None:
    n, e = len(demos.actions), len(demos.episode_starts)
    if len(demos.observations) != n or len(demos.rewards) != n:
        raise DemoFormatError(
            f"{len(demos.observations)} observations, {n} actions and {len(demos.rewards)} "
            "rewards: they must match one to one"
        )
    for name in ("final_observations", "terminated", "successes", "seeds"):
        if len(getattr(demos, name)) != e:
            raise DemoFormatError(f"{name} has {len(getattr(demos, name))} rows for {e} episodes")
    starts = demos.episode_starts
    if e and (starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= max(n, 1)):
        raise DemoFormatError("episode_starts must begin at 0 and increase within the steps")
    if e and demos.final_observations.shape[1:] != demos.observations.shape[1:]:
        raise DemoFormatError("final_observations and observations have different shapes")
    for name in _ARRAYS:
        if getattr(demos, name).dtype.kind not in "biuf":  # numbers only, never objects/text
            raise DemoFormatError(f"{name} holds {getattr(demos, name).dtype} values, not numbers")
    for name in ("observations", "actions", "rewards", "final_observations"):
        array = getattr(demos, name)
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise DemoFormatError(f"{name} contains NaN or infinity")


class DemoRecorder:
    """Collects steps as they are played and turns finished episodes into Demonstrations.

    Call ``start(obs, seed)`` after each reset, ``add(obs, action, reward)`` for each step, and
    ``end(final_obs, terminated, success)`` when the episode is over. Unfinished episodes are left
    out, so stopping half-way through never stores a partial trajectory as if it were complete.
    """

    def __init__(
        self, env_id: str, env_kwargs: dict[str, Any] | None = None, source: str = ""
    ) -> None:
        self.env_id, self.env_kwargs, self.source = env_id, env_kwargs or {}, source
        self._episodes: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def start(self, seed: int | None) -> None:
        self._current = {
            "obs": [],
            "actions": [],
            "rewards": [],
            "seed": -1 if seed is None else seed,
        }

    def add(self, obs: np.ndarray, action: Any, reward: float) -> None:
        self._current["obs"].append(np.asarray(obs))
        self._current["actions"].append(np.asarray(action))
        self._current["rewards"].append(float(reward))

    def end(self, final_obs: np.ndarray, terminated: bool, success: bool) -> None:
        episode = self._current
        self._current = None
        if episode and episode["actions"]:
            episode.update(final=np.asarray(final_obs), terminated=terminated, success=success)
            self._episodes.append(episode)

    @property
    def n_episodes(self) -> int:
        return len(self._episodes)

    def demonstrations(self) -> Demonstrations:
        if not self._episodes:
            raise DemoFormatError("no finished episode to save")
        eps = self._episodes
        lengths = [len(ep["actions"]) for ep in eps]
        return Demonstrations(
            env_id=self.env_id,
            env_kwargs=self.env_kwargs,
            source=self.source,
            observations=np.stack([o for ep in eps for o in ep["obs"]]),
            actions=np.stack([a for ep in eps for a in ep["actions"]]),
            rewards=np.array([r for ep in eps for r in ep["rewards"]], dtype=np.float64),
            episode_starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
            final_observations=np.stack([ep["final"] for ep in eps]),
            terminated=np.array([ep["terminated"] for ep in eps], dtype=bool),
            successes=np.array([ep["success"] for ep in eps], dtype=bool),
            seeds=np.array([ep["seed"] for ep in eps], dtype=np.int64),
        )
