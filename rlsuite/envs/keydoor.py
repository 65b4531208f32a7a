"""KeyDoor: fetch the key, unlock the door, reach the goal.

## Description

A square room (its outer wall counted in `size`, as in MiniGrid's DoorKey) is split in two by a
wall with one locked door. The agent and a key start in the left part; the goal is in the far
bottom-right corner. The agent must walk onto the key (picking it up), bump into the door while
holding it (unlocking it), walk through and reach the goal. Nothing is rewarded before the goal,
so an agent that acts at random rarely sees a reward on the larger grids: the suite's
exploration benchmark. It simplifies MiniGrid's DoorKey (no facing direction, no pickup or toggle
actions) but keeps its three-stage structure.

## Actions

`Discrete(4)`: 0 right, 1 down, 2 left, 3 up. Walls and the locked door block a move (the agent
stays); moving into the locked door with the key opens it, and the agent stays in front of it.

## Observation

- `obs_mode="symbolic"`: `Box(-1, 1, (10,), float32)`: the agent's (x, y), then the offsets
  (dx, dy) from the agent to the key (0, 0 once held), the door and the goal, all divided by
  `size - 1`, then `has_key` and `door_open` (0 or 1). Offsets make "which way next" a matter of
  signs, quick to learn; the door's x is the dividing wall's column, so the layout is fully
  described.
- `obs_mode="pixels"`: `Box(0, 255, (64, 64, 3), uint8)`, the grid drawn from the shared palette:
  grey walls, amber locked door (dark brown once open), yellow key, green goal, red agent.

## Rewards

- `reward_mode="sparse"`: +1 on reaching the goal, 0 otherwise (`info["task_reward"]`).
- `reward_mode="shaped"`: the task reward, plus potential-based shaping
  `gamma * Phi(s') - Phi(s)` (`Phi(terminal) = 0`) with `Phi = scale * progress`,
  `progress = 1 - (stages left + d / (4 * size)) / 3`, where the stages left are key and door
  and `d` is the walking distance to the current subgoal (key, door, then goal): progress rises
  from about 0 to 1 next to the goal, by a third at each stage done.
  `scale = 0.5 / (gamma + (1 - gamma) * 4 * size)` (see `rlsuite.envs.shaping`: 4 * size steps
  bound the expert's episodes), so no walk that fails to reach the goal scores more than one
  that reaches it.

## Termination

Terminated (with success) when the agent reaches the goal. Truncated at the registered time
limit.

## Registered ids

`rlsuite/KeyDoor-5x5-v0`, `rlsuite/KeyDoor-8x8-v0`, `rlsuite/KeyDoor-16x16-v0` (kwarg `size`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from gymnasium import spaces

from rlsuite.envs import grid
from rlsuite.envs.core import Game, State, Transition, next_integers

MIN_SIZE, MAX_SIZE = 5, 32


class KeyDoor(Game):
    """Pick up the key, open the locked door in the dividing wall, reach the goal.

    Args:
        size: side of the square grid including its outer wall, from 5 to 32.
    """

    action_meanings: ClassVar[tuple[str, ...]] = grid.MOVE_NAMES
    render_fps: ClassVar[int] = 10

    def __init__(self, size: int = 8) -> None:
        if not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(
                f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} "
                f"(the outer wall included), got {size!r}"
            )
        self.size = int(size)
        self.goal = self.size - 2  # the goal sits in the bottom-right corner, at (goal, goal)
        # The longest walk to any subgoal is below 4 * size: it normalises d in the potential.
        self.max_distance = 4.0 * self.size
        self._tiles = grid.make_tiles(grid.tile_size(self.size))
        self._room = np.zeros((self.size, self.size), dtype=np.int64)  # empty room, outer wall
        self._room[[0, -1], :] = grid.WALL
        self._room[:, [0, -1]] = grid.WALL
        # Constant tables are read-only: rlsuite.envstate then leaves them out of checkpoints.
        self._tiles.flags.writeable = self._room.flags.writeable = False

    # ------------------------------------------------------------------ state and level generator
    def symbolic_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (10,), dtype=np.float32)

    def new_state(self, n: int) -> State:
        names = ("agent_x", "agent_y", "key_x", "key_y", "wall_x", "door_y")
        state = {name: np.zeros(n, dtype=np.int64) for name in names}
        state["has_key"] = np.zeros(n, dtype=bool)
        state["door_open"] = np.zeros(n, dtype=bool)
        return state

    def reset_games(self, state: State, idx: np.ndarray) -> None:
        inner = self.size - 2  # cells across inside the outer wall
        rng = state["rng"][idx]  # these games' streams, advanced here and stored back below
        # 1. The dividing wall: a column with at least one free column on either side.
        wall_x = 2 + next_integers(rng, self.size - 4)
        # 2. The locked door: any row of that wall.
        door_y = 1 + next_integers(rng, inner)
        # 3. Agent and key: two different cells of the left part, numbered row by row.
        left_width = wall_x - 1
        n_cells = left_width * inner
        agent_cell = next_integers(rng, n_cells)
        key_cell = next_integers(rng, n_cells - 1)
        key_cell = key_cell + (key_cell >= agent_cell)  # skip the agent's cell
        state["rng"][idx] = rng
        # 4. The goal is fixed in the far corner (self.goal); the door starts locked.
        state["wall_x"][idx], state["door_y"][idx] = wall_x, door_y
        state["agent_x"][idx] = 1 + agent_cell % left_width
        state["agent_y"][idx] = 1 + agent_cell // left_width
        state["key_x"][idx] = 1 + key_cell % left_width
        state["key_y"][idx] = 1 + key_cell // left_width
        state["has_key"][idx] = False
        state["door_open"][idx] = False

    # ------------------------------------------------------------------ rules
    def step(self, state: State, actions: np.ndarray) -> Transition:
        x, y = state["agent_x"], state["agent_y"]
        wall_x, door_y = state["wall_x"], state["door_y"]
        has_key, door_open = state["has_key"], state["door_open"]
        nx = x + grid.MOVE_DX[actions]
        ny = y + grid.MOVE_DY[actions]
        # The outer wall bounds the walk; the dividing column lets through only the open door.
        inside = (nx >= 1) & (nx <= self.goal) & (ny >= 1) & (ny <= self.goal)
        in_wall = nx == wall_x
        at_door = in_wall & (ny == door_y)
        free = inside & (~in_wall | (at_door & door_open))
        opens = at_door & has_key & ~door_open  # bumping the locked door with the key opens it
        np.copyto(x, nx, where=free)
        np.copyto(y, ny, where=free)
        picks = (x == state["key_x"]) & (y == state["key_y"]) & ~has_key
        has_key |= picks
        door_open |= opens
        success = (x == self.goal) & (y == self.goal)
        return Transition(
            task_reward=success.astype(np.float64),
            terminated=success,
            success=success,
            events={"key": picks, "door": opens},
        )

    def shaping_horizon(self) -> int:
        return int(self.max_distance)  # the expert walks at most about 3 * size steps

    def progress(self, state: State) -> np.ndarray:
        x, y = state["agent_x"], state["agent_y"]
        wall_x, door_y = state["wall_x"], state["door_y"]
        has_key, door_open = state["has_key"], state["door_open"]
        # Walking distance to the current subgoal (the rooms are empty rectangles, so it is the
        # Manhattan distance, taken through the door when the goal lies behind the wall).
        to_key = np.abs(x - state["key_x"]) + np.abs(y - state["key_y"])
        to_door = np.abs(x - wall_x) + np.abs(y - door_y)
        beyond_door = (self.goal - wall_x) + np.abs(self.goal - door_y)
        to_goal = np.where(x <= wall_x, to_door + beyond_door, (self.goal - x) + (self.goal - y))
        distance = np.where(door_open, to_goal, np.where(has_key, to_door, to_key))
        stages_left = 2 - has_key.astype(np.int64) - door_open
        return 1.0 - (stages_left + distance / self.max_distance) / 3.0

    # ------------------------------------------------------------------ observations
    def symbolic(self, state: State) -> np.ndarray:
        B = len(state["agent_x"])
        x, y = state["agent_x"], state["agent_y"]
        has_key = state["has_key"]
        # Filled feature by feature (contiguous rows), then transposed once: twice as fast as
        # writing strided columns of a (B, 10) array.
        features = np.empty((10, B), dtype=np.float32)
        features[0] = x
        features[1] = y
        # Offsets from the agent, so "which way to the next subgoal" is a sign, easy to learn;
        # a held key travels with the agent (offset 0).
        features[2] = np.where(has_key, 0, state["key_x"] - x)
        features[3] = np.where(has_key, 0, state["key_y"] - y)
        features[4] = state["wall_x"] - x
        features[5] = state["door_y"] - y
        features[6] = self.goal - x
        features[7] = self.goal - y
        features[:8] *= np.float32(1.0 / (self.size - 1))
        features[8] = has_key
        features[9] = state["door_open"]
        return np.ascontiguousarray(features.T)  # (B, 10)

    def cells(self, state: State) -> np.ndarray:
        """(B, size, size) cell ids of the grid (see ``grid``), as drawn."""
        B = len(state["agent_x"])
        games = np.arange(B)
        cells = np.broadcast_to(self._room, (B, self.size, self.size)).copy()
        cells[games, :, state["wall_x"]] = grid.WALL  # (B, size): each game's wall column
        cells[games, state["door_y"], state["wall_x"]] = grid.DOOR_LOCKED + state["door_open"]
        cells[:, self.goal, self.goal] = grid.GOAL
        keep = ~state["has_key"]
        cells[games[keep], state["key_y"][keep], state["key_x"][keep]] = grid.KEY
        cells[games, state["agent_y"], state["agent_x"]] = grid.AGENT
        return cells

    def draw(self, state: State) -> np.ndarray:
        return grid.draw_cells(self.cells(state), self._tiles, self.frame_size)

    def status(self, state: State, i: int) -> str:
        key = "held" if state["has_key"][i] else "on the floor"
        door = "open" if state["door_open"][i] else "locked"
        return f"key {key}  door {door}"

    # ------------------------------------------------------------------ scripted expert
    def expert_actions(self, state: State) -> np.ndarray:
        """Walk to the key, then in front of the door, bump it open, go through, go to the goal.

        Both parts of the room are empty rectangles, so a greedy step toward the current target
        never meets a wall.
        """
        x, y = state["agent_x"], state["agent_y"]
        wall_x, door_y = state["wall_x"], state["door_y"]
        has_key = state["has_key"]
        before_door = (x == wall_x - 1) & (y == door_y)
        # Push right into the door from the cell before it (opens it, then walks through), and
        # from the doorway itself.
        push_right = has_key & (before_door | (x == wall_x))
        left_part = x < wall_x
        target_x = np.where(~has_key, state["key_x"], np.where(left_part, wall_x - 1, self.goal))
        target_y = np.where(~has_key, state["key_y"], np.where(left_part, door_y, self.goal))
        action = np.where(
            target_x > x,
            0,
            np.where(target_x < x, 2, np.where(target_y > y, 1, 3)),
        )
        return np.where(push_right, 0, action).astype(np.int64)
