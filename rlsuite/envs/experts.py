"""Scripted experts: one per game, the teachers of imitation learning.

Each game writes its expert beside its rules, as ``Game.expert_actions(state)`` (a BFS planner
for the grid games, hand-written rules for the arcade and driving games), because the expert reads
the same state arrays the rules update. This module is the public way in: an expert as a policy,
and a function that lets it play seeded episodes and records them as demonstrations
(``rlsuite expert ENV_ID --record demos.npz``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.demos import Demonstrations, DemoRecorder
from rlsuite.envs.core import GameEnv, GameVectorEnv
from rlsuite.envs.render import check_display
from rlsuite.episodes import Episode, EpisodeTracker


class NoExpertError(ValueError):
    """The environment is not an rlsuite game, so there is no scripted expert for it."""


class ScriptedExpert:
    """The game's expert as a policy: ``expert()`` -> the action(s) to take now.

    It reads the game's true state, not the observation, so it works the same in both obs modes.
    Works on a single env (returns an int) and on the native vector env (returns an array).
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        game_env = env.unwrapped
        if not isinstance(game_env, GameEnv | GameVectorEnv):
            raise NoExpertError(
                f"{getattr(env.spec, 'id', env)} is not an rlsuite game; scripted experts exist "
                "for the games listed by `rlsuite envs`"
            )
        self.env = game_env

    def __call__(self, obs: Any = None) -> int | np.ndarray:
        if isinstance(self.env, GameEnv):
            return self.env.expert_action()
        return self.env.expert_actions()


@dataclass(frozen=True)
class ExpertResult:
    """How the expert did, and what it did (when recorded)."""

    returns: np.ndarray
    successes: np.ndarray
    lengths: np.ndarray
    demos: Demonstrations | None


def run_expert(
    env_id: str,
    episodes: int = 10,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    record: bool = False,
    render_mode: str | None = None,
) -> ExpertResult:
    """Let the scripted expert play `episodes` episodes, seeded `seed`, `seed + 1`, ...

    Returns per-episode returns, successes and lengths, and the demonstrations if `record`.
    With ``render_mode="human"`` it stops at once (NoDisplayError) when no window can open.
    """
    return run_policy(
        env_id, ScriptedExpert, episodes, seed, env_kwargs, record, render_mode, "scripted-expert"
    )


def run_policy(
    env_id: str,
    make_policy: Callable[[gym.Env], Callable[[np.ndarray], Any]],
    episodes: int = 10,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    record: bool = False,
    render_mode: str | None = None,
    source: str = "policy",
) -> ExpertResult:
    """Play `episodes` seeded episodes (`seed`, `seed + 1`, ...) with ``make_policy(env)``, a
    function of the observation that returns the action; record them as demonstrations if
    `record` (``source`` names the expert in the file's header).

    The one recording loop: the scripted experts (``rlsuite expert``) and trained runs
    (``rlsuite demos --expert RUN_DIR``) both play through it.
    """
    if render_mode == "human":
        check_display()
    env_kwargs = dict(env_kwargs or {})
    env = gym.make(env_id, render_mode=render_mode, **env_kwargs)
    recorder = DemoRecorder(env_id, env_kwargs, source=source) if record else None
    tracker = EpisodeTracker.for_env(env)
    played: list[Episode] = []
    try:
        policy = make_policy(env)
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed + episode)
            tracker.reset()
            if recorder:
                recorder.start(seed + episode)
            finished: list[Episode] = []
            while not finished:
                action = policy(obs)
                next_obs, reward, terminated, truncated, info = env.step(action)
                if recorder:
                    recorder.add(obs, action, reward)
                obs = next_obs
                finished = tracker.step(reward, terminated, truncated, info)
            if recorder:
                success = finished[0].success
                recorder.end(obs, terminated, bool(success) if success is not None else False)
            played += finished
    finally:
        env.close()
    return ExpertResult(
        returns=np.array([e.episode_return for e in played]),
        successes=np.array([bool(e.success) for e in played]),
        lengths=np.array([e.length for e in played]),
        demos=recorder.demonstrations() if recorder else None,
    )
