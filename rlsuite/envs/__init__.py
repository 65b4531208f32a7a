"""rlsuite's games, registered with Gymnasium from one table when ``rlsuite`` is imported.

Every id gets the single env (``gym.make``) and the native batched vector env
(``gym.make_vec(id, n, vectorization_mode="vector_entry_point")``); both take ``reward_mode``
("sparse" | "shaped"), ``obs_mode`` ("symbolic" | "pixels"), ``shaping_gamma`` (the agent's
discount, for shaped rewards) and ``frame_stack`` (the last K observations in one) as keyword
arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from rlsuite.envs.core import OBS_MODES, REWARD_MODES, GameEnv, GameVectorEnv

__all__ = ["GAME_SPECS", "GameEnv", "GameVectorEnv", "OBS_MODES", "REWARD_MODES", "game_ids"]


@dataclass(frozen=True)
class GameSpec:
    """One registered id: which game, with which options, and its time limit and target."""

    id: str
    game: str  # "module:Class" of the rules (imported only when the env is made)
    max_episode_steps: int
    reward_threshold: float  # on the sparse task reward (sum over an episode)
    kwargs: dict[str, Any] = field(default_factory=dict)


GAME_SPECS: tuple[GameSpec, ...] = (
    # KeyDoor's limits are a few times the expert's longest episode, so that random walks rarely
    # finish (about 20%, 7% and 3% of episodes) and the sparse reward is a real exploration task.
    GameSpec("rlsuite/KeyDoor-5x5-v0", "rlsuite.envs.keydoor:KeyDoor", 30, 0.95, {"size": 5}),
    GameSpec("rlsuite/KeyDoor-8x8-v0", "rlsuite.envs.keydoor:KeyDoor", 100, 0.95, {"size": 8}),
    GameSpec("rlsuite/KeyDoor-16x16-v0", "rlsuite.envs.keydoor:KeyDoor", 400, 0.95, {"size": 16}),
    # Maze: 20 steps a room, as MiniGrid's MultiRoom (the expert needs at most 12, 24 and 33).
    GameSpec("rlsuite/Maze-2Rooms-v0", "rlsuite.envs.maze:Maze", 40, 0.95, {"n_rooms": 2}),
    GameSpec("rlsuite/Maze-4Rooms-v0", "rlsuite.envs.maze:Maze", 80, 0.95, {"n_rooms": 4}),
    GameSpec("rlsuite/Maze-6Rooms-v0", "rlsuite.envs.maze:Maze", 120, 0.95, {"n_rooms": 6}),
    GameSpec("rlsuite/Invaders-v0", "rlsuite.envs.invaders:Invaders", 500, 0.9, {"lives": 3}),
    GameSpec("rlsuite/Forage-v0", "rlsuite.envs.forage:Forage", 400, 0.9, {"duration": 300}),
    GameSpec(
        "rlsuite/Racer-v0",
        "rlsuite.envs.racer:Racer",
        1100,  # beyond the game's own time limit, which ends the drive (a rule, observed)
        0.9,
        {"n_lanes": 5, "traffic": "normal", "time_limit": 1000},
    ),
)


def game_ids() -> list[str]:
    """Every rlsuite id, in table order."""
    return [spec.id for spec in GAME_SPECS]


def _register_all() -> None:
    for spec in GAME_SPECS:
        if spec.id in gym.registry:
            continue
        gym.register(
            id=spec.id,
            entry_point="rlsuite.envs.core:GameEnv",
            vector_entry_point="rlsuite.envs.core:GameVectorEnv",
            max_episode_steps=spec.max_episode_steps,
            reward_threshold=spec.reward_threshold,
            kwargs={"game": spec.game, **spec.kwargs},
        )


_register_all()
