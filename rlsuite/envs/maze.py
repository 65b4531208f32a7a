"""Maze: a chain of rooms joined by doorways, a new layout every episode; find the goal in the last.

## Description

A 16x16 grid holds `n_rooms` rectangular rooms of random size (4 to 7 cells across, walls
included) placed one after another, each joined to the previous one by a doorway in their shared
wall, as in MiniGrid's MultiRoom. The agent starts somewhere in the first room and the goal is
somewhere in the last. Every episode draws a new layout, so the agent cannot memorise a path: it
must learn to search for doorways. The only reward is at the goal: the suite's hard exploration
benchmark (within the time limits, random play reaches the goal in about 15%, 1% and 0% of the
2-, 4- and 6-room episodes). Doorways are open: walking through them takes no key and no extra
action (MultiRoom's doors must be toggled open; that adds steps, not difficulty).

## Actions

`Discrete(4)`: 0 right, 1 down, 2 left, 3 up. Walls block a move (the agent stays).

## Observation

- `obs_mode="symbolic"`: `Box(-1, 1, (151,), float32)`. Layouts differ every episode, so the agent
  must see walls: a 7x7 view centred on the agent (MiniGrid's view size, cells beyond the grid
  count as wall) in three 0/1 channels `wall`, `doorway`, `goal` (147 floats, channel-major), then
  the agent's (x, y) divided by 15 and the goal's offset from the agent (dx, dy) divided by 15.
  Local views generalise across layouts (a doorway looks the same anywhere), and the goal's
  direction says where to head without saying how to get round the walls, which is the problem.
  A whole-grid encoding (256 cells x 3 channels) would be five times larger.
  With `goal_hint=False` the goal's offset is left out: `Box(-1, 1, (149,), float32)`, and the
  agent sees the goal only once it is within its 7x7 view, which makes the maze a test of
  exploration (curiosity) rather than of following a direction. The default, `True`, keeps the
  offset. With `show_visited=True` a fourth 7x7 channel, `visited`, after `goal`, is 1 on the
  cells the agent has stood on this episode (`Box(-1, 1, (200,), float32)`, 198 without the
  hint): a memory of the search, without which a deterministic policy that heads for the goal
  from one cell and away from it in the next steps between the two until the time runs out.
  The default, `False`, keeps the observation as it was. A shorter memory, for any game:
  `frame_stack=2` gives each observation with the one before it (`(298,)` without the hint),
  so the agent sees where it just was. Pixels show the whole grid either way.
- `obs_mode="pixels"`: `Box(0, 255, (64, 64, 3), uint8)`, 4 pixels per cell: grey walls, brown
  doorways, green goal, red agent.

## Rewards

- `reward_mode="sparse"`: +1 on reaching the goal, 0 otherwise (`info["task_reward"]`).
- `reward_mode="shaped"`: the task reward, plus potential-based shaping
  `gamma * Phi(s') - Phi(s)` (`Phi(terminal) = 0`) with `Phi = scale * progress`,
  `progress = 1 - (steps to the goal) / (the layout's longest such walk)` (breadth-first-search
  distances through the doorways) and `scale = 0.5 / (gamma + (1 - gamma) * 8 * n_rooms)` (see
  `rlsuite.envs.shaping`: the expert needs at most 8 steps a room), so no walk that fails to reach
  the goal scores more than one that reaches it.

## Termination

Terminated (with success) when the agent reaches the goal. Truncated at the registered time
limit.

## Registered ids

`rlsuite/Maze-2Rooms-v0`, `rlsuite/Maze-4Rooms-v0`, `rlsuite/Maze-6Rooms-v0` (kwarg `n_rooms`,
1 to 6).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from gymnasium import spaces

from rlsuite.envs import grid
from rlsuite.envs.core import Game, State, Transition, next_uniform

GRID_SIZE = 16  # cells across, outer wall included: 4 pixels a cell in the 64x64 frame
ROOM_SIZES = (4, 7)  # smallest and largest room side, walls included (2 to 5 free cells)
VIEW = 7  # side of the egocentric view in the symbolic observation
PAD = VIEW // 2  # the grid is stored with this many wall cells around it, so views never clip
MAX_ROOMS = 6
FAR = 10_000  # the distance stored for walls: never the closer neighbour


def generate_layout(
    rng: np.random.Generator, n_rooms: int, size: int = GRID_SIZE
) -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    """One layout: (cells (size, size) of FLOOR/WALL/DOOR_OPEN/GOAL, room number of each cell
    (-1 on walls; a doorway belongs to the room it opens into), agent (y, x), goal (y, x)).
    """
    while True:  # start again from scratch in the rare case the chain runs into a dead end
        rooms = _place_rooms(rng, n_rooms, size)
        if rooms is not None:
            break
    # 1. Everything is wall, then each room's inside is carved out and numbered.
    cells = np.full((size, size), grid.WALL, dtype=np.int8)
    room_of = np.full((size, size), -1, dtype=np.int8)
    for number, (top, left, height, width, door) in enumerate(rooms):
        cells[top + 1 : top + height - 1, left + 1 : left + width - 1] = grid.FLOOR
        room_of[top + 1 : top + height - 1, left + 1 : left + width - 1] = number
        # 2. The doorway into this room, in the wall it shares with the previous room.
        if door is not None:
            cells[door] = grid.DOOR_OPEN
            room_of[door] = number
    # 3. The agent starts on a free cell of the first room, the goal lies in the last room.
    agent = _random_inside(rng, rooms[0])
    goal = _random_inside(rng, rooms[-1])
    cells[goal] = grid.GOAL
    return cells, room_of, agent, goal


def _random_inside(rng: np.random.Generator, room: tuple) -> tuple[int, int]:
    top, left, height, width, _ = room
    return (
        int(rng.integers(top + 1, top + height - 1)),
        int(rng.integers(left + 1, left + width - 1)),
    )


def _place_rooms(rng: np.random.Generator, n_rooms: int, size: int) -> list[tuple] | None:
    """Rooms as (top, left, height, width, doorway (y, x) or None), walls included, chained.

    Each new room is attached to a random wall of the previous room (not the one with the
    doorway we came in by), with the doorway at a random place along it; it may share walls with
    other rooms but never overlap their insides.
    """
    low, high = ROOM_SIZES
    height, width = (int(v) for v in rng.integers(low, high + 1, 2))
    top, left = (int(v) for v in rng.integers(0, size - np.array([height, width]) + 1))
    rooms = [(top, left, height, width, None)]
    came_from = -1  # the side of the previous room where its own doorway is
    for _ in range(n_rooms - 1):
        for _attempt in range(40):
            room = _attach_room(rng, rooms[-1], came_from, size)
            if room is not None and not any(_overlap(room, other) for other in rooms):
                rooms.append(room[:5])
                came_from = room[5]
                break
        else:
            return None
    return rooms


def _attach_room(rng: np.random.Generator, previous: tuple, came_from: int, size: int):
    """A room glued to one side of `previous`, or None if it would leave the grid."""
    top, left, height, width, _ = previous
    sides = [s for s in range(4) if s != came_from]  # right, down, left, up
    side = sides[int(rng.integers(len(sides)))]
    new_h, new_w = (int(v) for v in rng.integers(ROOM_SIZES[0], ROOM_SIZES[1] + 1, 2))
    if side in (0, 2):  # a doorway in the right or left wall, at a row strictly inside
        door_y = int(rng.integers(top + 1, top + height - 1))
        door_x = left + width - 1 if side == 0 else left
        new_left = door_x if side == 0 else door_x - new_w + 1
        new_top = door_y - int(rng.integers(1, new_h - 1))  # the doorway is not in a corner
    else:  # a doorway in the bottom or top wall
        door_x = int(rng.integers(left + 1, left + width - 1))
        door_y = top + height - 1 if side == 1 else top
        new_top = door_y if side == 1 else door_y - new_h + 1
        new_left = door_x - int(rng.integers(1, new_w - 1))
    if new_top < 0 or new_left < 0 or new_top + new_h > size or new_left + new_w > size:
        return None
    # The new room's own doorway side, seen from the next room, is the opposite side.
    return (new_top, new_left, new_h, new_w, (door_y, door_x), (side + 2) % 4)


def _overlap(room: tuple, other: tuple) -> bool:
    """Whether the inside of either room meets the other room (walls may be shared)."""

    def meets(a, b, shrink_a: int) -> bool:
        a_top, a_left = a[0] + shrink_a, a[1] + shrink_a
        a_bottom, a_right = a[0] + a[2] - shrink_a, a[1] + a[3] - shrink_a
        return a_top < b[0] + b[2] and b[0] < a_bottom and a_left < b[1] + b[3] and b[1] < a_right

    return meets(room, other, 1) or meets(other, room, 1)


class Maze(Game):
    """A chain of `n_rooms` rooms with doorways; reach the goal in the last room.

    Args:
        n_rooms: how many rooms the chain has, from 1 to 6.
        goal_hint: whether the symbolic observation ends with the goal's offset (dx, dy) from
            the agent; False leaves it out (an exploration test).
        show_visited: whether the symbolic observation has a fourth 7x7 channel, 1 on the cells
            the agent has stood on this episode (a memory of its search).
    """

    action_meanings: ClassVar[tuple[str, ...]] = grid.MOVE_NAMES
    render_fps: ClassVar[int] = 10

    def __init__(
        self, n_rooms: int = 4, goal_hint: bool = True, show_visited: bool = False
    ) -> None:
        if not isinstance(n_rooms, (int, np.integer)) or not 1 <= n_rooms <= MAX_ROOMS:
            raise ValueError(f"n_rooms must be an integer from 1 to {MAX_ROOMS}, got {n_rooms!r}")
        if not isinstance(goal_hint, (bool, np.bool_)):
            raise ValueError(f"goal_hint must be true or false, got {goal_hint!r}")
        if not isinstance(show_visited, (bool, np.bool_)):
            raise ValueError(f"show_visited must be true or false, got {show_visited!r}")
        self.n_rooms = int(n_rooms)
        self.goal_hint = bool(goal_hint)
        self.show_visited = bool(show_visited)
        self.size = GRID_SIZE
        self._tiles = grid.make_tiles(grid.tile_size(self.size))
        self._tiles.flags.writeable = False  # a constant: rlsuite.envstate leaves it out
        # View offsets, row by row: (VIEW*VIEW,) each.
        dy, dx = np.mgrid[-PAD : PAD + 1, -PAD : PAD + 1]
        self._view_dy, self._view_dx = dy.ravel(), dx.ravel()

    # ------------------------------------------------------------------ state and level generator
    def symbolic_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (self._obs_size(),), dtype=np.float32)

    def _obs_size(self) -> int:
        """Three 7x7 channels (four with the visited cells), the agent's (x, y), and the goal's
        (dx, dy) with the hint."""
        return self._channels() * VIEW * VIEW + (4 if self.goal_hint else 2)

    def _channels(self) -> int:
        return 4 if self.show_visited else 3

    def new_state(self, n: int) -> State:
        padded = self.size + 2 * PAD
        state = {
            "cells": np.full((n, padded, padded), grid.WALL, dtype=np.int8),  # walls around
            "room_of": np.full((n, padded, padded), -1, dtype=np.int8),
            "dist": np.full((n, padded, padded), FAR, dtype=np.int32),  # steps to the goal
            "dist_max": np.ones(n, dtype=np.int64),  # the longest of those walks in the layout
            "agent_x": np.zeros(n, dtype=np.int64),
            "agent_y": np.zeros(n, dtype=np.int64),
            "goal_x": np.zeros(n, dtype=np.int64),
            "goal_y": np.zeros(n, dtype=np.int64),
            "best_room": np.zeros(n, dtype=np.int64),  # furthest room reached this episode
        }
        if self.show_visited:  # only then: the plain game's state (and checkpoints) as before
            state["visited"] = np.zeros((n, padded, padded), dtype=bool)  # cells stood on
        return state

    def reset_games(self, state: State, idx: np.ndarray) -> None:
        # One layout seed per game from its own stream, then a per-episode generator: the layout
        # depends on this game's stream only.
        seeds = (next_uniform(state["rng"], idx) * 2**53).astype(np.int64)
        inside = slice(PAD, PAD + self.size)
        for i, seed in zip(idx, seeds, strict=True):  # per-episode work: a loop is fine here
            cells, room_of, (ay, ax), (gy, gx) = generate_layout(
                np.random.default_rng(int(seed)), self.n_rooms, self.size
            )
            dist = grid.bfs_distances(cells == grid.WALL, (gy, gx))
            state["cells"][i, inside, inside] = cells
            state["room_of"][i, inside, inside] = room_of
            state["dist"][i, inside, inside] = np.where(dist < 0, FAR, dist)
            state["dist_max"][i] = max(int(dist.max()), 1)
            state["agent_x"][i], state["agent_y"][i] = ax, ay
            state["goal_x"][i], state["goal_y"][i] = gx, gy
        state["best_room"][idx] = 0
        if self.show_visited:
            state["visited"][idx] = False
            state["visited"][idx, state["agent_y"][idx] + PAD, state["agent_x"][idx] + PAD] = True

    # ------------------------------------------------------------------ rules
    def step(self, state: State, actions: np.ndarray) -> Transition:
        games = np.arange(len(actions))
        x, y = state["agent_x"], state["agent_y"]
        nx = x + grid.MOVE_DX[actions]
        ny = y + grid.MOVE_DY[actions]
        free = state["cells"][games, ny + PAD, nx + PAD] != grid.WALL
        np.copyto(x, nx, where=free)
        np.copyto(y, ny, where=free)
        if self.show_visited:
            state["visited"][games, y + PAD, x + PAD] = True
        room = state["room_of"][games, y + PAD, x + PAD].astype(np.int64)
        new_room = room > state["best_room"]
        np.maximum(state["best_room"], room, out=state["best_room"])
        success = (x == state["goal_x"]) & (y == state["goal_y"])
        return Transition(
            task_reward=success.astype(np.float64),
            terminated=success,
            success=success,
            events={"room": new_room},
        )

    def shaping_horizon(self) -> int:
        return 8 * self.n_rooms  # the expert needs at most 12, 24 and 33 steps for 2, 4, 6 rooms

    def progress(self, state: State) -> np.ndarray:
        games = np.arange(len(state["agent_x"]))
        steps = state["dist"][games, state["agent_y"] + PAD, state["agent_x"] + PAD]
        return 1.0 - steps / state["dist_max"]

    # ------------------------------------------------------------------ observations
    def symbolic(self, state: State) -> np.ndarray:
        B = len(state["agent_x"])
        x, y = state["agent_x"], state["agent_y"]
        # The (B, 49) cells around each agent; PAD cells of wall keep the view inside the arrays.
        around = (
            np.arange(B)[:, None],
            (y + PAD)[:, None] + self._view_dy,
            (x + PAD)[:, None] + self._view_dx,
        )
        view = state["cells"][around]
        obs = np.empty((B, self._obs_size()), dtype=np.float32)
        n = VIEW * VIEW
        obs[:, :n] = view == grid.WALL
        obs[:, n : 2 * n] = view == grid.DOOR_OPEN
        obs[:, 2 * n : 3 * n] = view == grid.GOAL
        if self.show_visited:
            obs[:, 3 * n : 4 * n] = state["visited"][around]
        scale = np.float32(1.0 / (self.size - 1))
        end = self._channels() * n
        obs[:, end] = x * scale
        obs[:, end + 1] = y * scale
        if self.goal_hint:
            obs[:, -2] = (state["goal_x"] - x) * scale
            obs[:, -1] = (state["goal_y"] - y) * scale
        return obs

    def draw(self, state: State) -> np.ndarray:
        inside = slice(PAD, PAD + self.size)
        cells = state["cells"][:, inside, inside].astype(np.int64)  # (B, size, size)
        cells[np.arange(len(cells)), state["agent_y"], state["agent_x"]] = grid.AGENT
        return grid.draw_cells(cells, self._tiles, self.frame_size)

    def status(self, state: State, i: int) -> str:
        return f"room {int(state['best_room'][i]) + 1} of {self.n_rooms} reached"

    # ------------------------------------------------------------------ scripted expert
    def expert_actions(self, state: State) -> np.ndarray:
        """Step to the neighbour closest to the goal (BFS distances computed at reset)."""
        games = np.arange(len(state["agent_x"]))[:, None]
        ny = state["agent_y"][:, None] + PAD + grid.MOVE_DY  # (B, 4): the four neighbours
        nx = state["agent_x"][:, None] + PAD + grid.MOVE_DX
        return np.argmin(state["dist"][games, ny, nx], axis=1).astype(np.int64)
