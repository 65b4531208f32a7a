"""A grid game's layout as an explicit MDP: every reachable state, the transition table.

Exact maximum-entropy IRL needs what model-free RL never does: the whole state space and the
dynamics. rlsuite's grid games keep their state as a few integer arrays, so for one layout (an
episode's reset seed) the states that play can reach are enumerated by breadth-first search,
stepping *the game's own rules* (``Game.step``) on a batch of all frontier states at once: there
is no second copy of the rules to drift apart.

A state is the tuple of the game's *changing* variables (``MDP_VARIABLES``: where the agent is,
and, in KeyDoor, whether it holds the key and the door is open); everything else (walls, door
row, key and goal cells) is the layout, fixed for the episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.envs.core import GameEnv, take
from rlsuite.errors import RlsuiteError

# The state variables that change within an episode, per game class (the rest is the layout).
MDP_VARIABLES: dict[str, tuple[str, ...]] = {
    "KeyDoor": ("agent_x", "agent_y", "has_key", "door_open"),
    "Maze": ("agent_x", "agent_y"),
}


@dataclass(frozen=True)
class GridMDP:
    """One layout of a grid game: S reachable states, A actions.

    ``next_state[s, a]`` is the state index reached (for a terminal move: the goal state, which
    has no moves of its own: ``terminal[s, a]`` marks those moves); ``obs[s]`` is the observation
    the game shows in s, ``variables[s]`` the state's variables, ``task_reward[s, a]`` the true
    sparse reward of the move (for checking a recovered reward).
    """

    game: str
    variables: np.ndarray  # (S, V) int64, named by MDP_VARIABLES[game]
    next_state: np.ndarray  # (S, A) int64
    terminal: np.ndarray  # (S, A) bool: the move ends the episode
    task_reward: np.ndarray  # (S, A) float64
    obs: np.ndarray  # (S, *obs_shape)
    start: int  # the episode's first state
    cells: np.ndarray  # (size, size) the layout's cells as drawn, agent left out
    horizon: int  # the env's time limit

    @property
    def n_states(self) -> int:
        return len(self.variables)


def variable_dims(game: Any) -> tuple[int, ...]:
    """How many values each of the game's MDP_VARIABLES takes (cells across, then flags)."""
    flags = len(MDP_VARIABLES[type(game).__name__]) - 2
    return (game.size, game.size) + (2,) * flags


def acting_states(mdp: GridMDP) -> np.ndarray:
    """(S,) bool: the states an action is taken in (all but the goal states)."""
    stays = mdp.next_state == np.arange(mdp.n_states)[:, None]
    return ~(mdp.terminal.all(axis=1) & stays.all(axis=1))


def game_env(env: gym.Env) -> GameEnv:
    """The rlsuite grid game under `env`'s wrappers, or a one-line error."""
    game_env = env.unwrapped
    if not isinstance(game_env, GameEnv) or type(game_env.game).__name__ not in MDP_VARIABLES:
        raise RlsuiteError(
            f"{getattr(env.spec, 'id', env)} is not a grid game; maxent-irl and reward maps need "
            f"one whose states can be enumerated ({', '.join(MDP_VARIABLES)})"
        )
    if game_env.frame_stack > 1:  # a stack holds past states, which are not enumerated
        raise RlsuiteError(
            "maxent-irl and reward maps enumerate single states, so they take no frame_stack; "
            "record the demonstrations without it"
        )
    return game_env


def build_mdp(env: gym.Env, seed: int) -> GridMDP:
    """Reset `env` with `seed` and enumerate its layout's reachable states (BFS over the rules)."""
    first_obs, _ = env.reset(seed=seed)
    unwrapped = game_env(env)
    game, layout = unwrapped.game, unwrapped.state
    names = MDP_VARIABLES[type(game).__name__]
    n_actions = game.n_actions
    start = tuple(int(layout[name][0]) for name in names)
    index: dict[tuple[int, ...], int] = {start: 0}
    states: list[tuple[int, ...]] = [start]
    frontier = [start]
    moves: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    while frontier:
        # Every frontier state with every action, as one batch of the game's rules.
        batch = with_variables(layout, names, np.repeat(np.array(frontier), n_actions, axis=0))
        actions = np.tile(np.arange(n_actions), len(frontier))
        result = game.step(batch, actions)
        reached = np.stack([np.asarray(batch[name]).astype(np.int64) for name in names], axis=1)
        new_frontier = []
        for k, state in enumerate(frontier):
            rows = slice(k * n_actions, (k + 1) * n_actions)
            targets = []
            ends = np.asarray(result.terminated[rows], dtype=bool)
            for row, ended in zip(reached[rows], ends, strict=True):
                key = tuple(int(v) for v in row)
                if key not in index:
                    index[key] = len(states)
                    states.append(key)
                    if not ended:  # the goal is reached, never left: nothing to expand
                        new_frontier.append(key)
                targets.append(index[key])
            moves[index[state]] = (
                np.array(targets),
                np.asarray(result.terminated[rows], dtype=bool),
                np.asarray(result.task_reward[rows], dtype=np.float64),
            )
        frontier = new_frontier
    variables = np.array(states, dtype=np.int64)
    n = len(states)
    next_state = np.zeros((n, n_actions), dtype=np.int64)
    terminal = np.zeros((n, n_actions), dtype=bool)
    task_reward = np.zeros((n, n_actions))
    for s, (targets, ends, rewards) in moves.items():
        next_state[s], terminal[s], task_reward[s] = targets, ends, rewards
    # A goal state is reached but never left: its rows point at itself and end at once.
    for s in np.unique(next_state[terminal]):
        if s not in moves:
            next_state[s], terminal[s] = s, True
    obs = observe(unwrapped, with_variables(layout, names, variables))
    assert np.array_equal(obs[0], first_obs), "the enumerated start state differs from reset's"
    cells = layout_cells(unwrapped, layout)
    horizon = env.spec.max_episode_steps if env.spec is not None else 100
    return GridMDP(
        type(game).__name__, variables, next_state, terminal, task_reward, obs, 0, cells, horizon
    )


def with_variables(layout: dict[str, Any], names: tuple[str, ...], values: np.ndarray):
    """A batch of the layout (a state of one game), one copy per row of `values` (B, V)."""
    batch = take(layout, np.zeros(len(values), dtype=np.int64))
    for j, name in enumerate(names):
        batch[name] = values[:, j].astype(layout[name].dtype)
    return batch


def observe(unwrapped: GameEnv, batch: dict[str, Any]) -> np.ndarray:
    """The observations of a batch of states, in the env's observation mode (symbolic only)."""
    if unwrapped._batch.obs_mode != "symbolic":
        raise RlsuiteError("maxent-irl and reward maps need obs_mode=symbolic")
    return unwrapped.game.symbolic(batch)


def layout_cells(unwrapped: GameEnv, layout: dict[str, Any]) -> np.ndarray:
    """(size, size) cell ids of the layout with the agent taken off (for drawing heatmaps)."""
    game = unwrapped.game
    if hasattr(game, "cells"):  # KeyDoor
        cells = game.cells(layout)[0].copy()
    else:  # Maze stores its cells padded
        from rlsuite.envs.maze import PAD

        cells = layout["cells"][0, PAD : PAD + game.size, PAD : PAD + game.size].astype(np.int64)
    from rlsuite.envs import grid

    cells[cells == grid.AGENT] = 0
    return cells
