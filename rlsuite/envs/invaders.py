"""Invaders: the lecture's Space Invaders, on a 16 x 16 board of 4-pixel cells.

## Description
A formation of 3 rows x 6 aliens marches sideways one column at a time, every
``MOVE_EVERY`` steps; when its edge reaches a wall it steps one row down instead and turns around.
The lowest alien of each column drops bombs that fall one row per step. The player's cannon moves
along the bottom row and fires one bullet at a time, which climbs two rows per step and destroys
the first alien it meets. Clear the wave before the aliens land, and dodge the bombs.

## Actions
``Discrete(4)``: 0 noop, 1 left, 2 right, 3 fire (ignored while a bullet is in flight).

## Observation
- ``obs_mode="symbolic"``: ``Box(-1, 1, (47,), float32)``: the cannon's column; the bullet
  (in flight, column, row); the 18 alive flags of the formation (row by row); each of the 6
  alien columns' distance from the cannon (column minus the cannon's); the formation's
  left column, top row, marching direction (-1 or +1) and march clock; the 3 bomb slots, lowest
  bomb first (falling, column relative to the cannon, row); what a player sees at a glance: the
  row of the lowest bomb in the column left of the cannon, its own and the one right of it (0:
  none), the cells it can reach in one step, and the nearest column that still has aliens (its
  distance from the cannon, the row of its lowest alien); lives left. Columns and rows are
  divided by 15, so every entry lies in [-1, 1].
- ``obs_mode="pixels"``: ``Box(0, 255, (64, 64, 3), uint8)``: green aliens, the red cannon,
  a white bullet, orange bombs, and one red mark per life in the top-left corner. A one-pixel
  line in the top-right corner shows what the rules need and a still picture would not: the
  marching direction (a green dash in the left or right half of pixels 40-47) and the march clock
  (which of four white dashes in pixels 48-63 is lit: steps since the formation last moved).

## Rewards
- ``reward_mode="sparse"`` (the task): +1 when the last alien dies, -1 when the cannon loses its
  last life or an alien reaches the row above it; 0 on every other step.
- ``reward_mode="shaped"``: the task reward, plus potential-based shaping
  ``gamma * Phi(s') - Phi(s)`` (``Phi(terminal) = 0``) with ``Phi = scale * progress``,
  ``progress = 0.8 * aliens shot / 18 + 0.2 * lives left / lives``: each alien shot raises it,
  each life lost lowers it. ``scale = 0.5 / (gamma + (1 - gamma) * 288)`` (see
  ``rlsuite.envs.shaping``; no wave lasts more than 288 steps), plus an event bonus of 0.5 / 18 per
  alien shot (a signal the critic cannot cancel, see ``rlsuite.envs.shaping``). A lost wave shot
  at most 17 aliens, so it collects less bonus than a won one and no lost wave scores more than a
  won one.

## Termination
The episode ends when the wave is cleared (success) or lost. Lost also bounds its length: the
formation lands within 300 steps. ``max_episode_steps`` truncates only as a safety net.

## Registered ids
``rlsuite/Invaders-v0`` (3 lives). Keyword argument ``lives`` (1 to 9).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from gymnasium import spaces

from rlsuite.envs import render
from rlsuite.envs.core import Game, State, Transition, next_integers, next_uniform

NOOP, LEFT, RIGHT, FIRE = range(4)
COLS = ROWS = 16  # the board, in 4-pixel cells
CELL = 4
PLAYER_ROW = ROWS - 1
ALIEN_ROWS, ALIEN_COLS, GAP = 3, 6, 2  # aliens sit on every other row and column
FORMATION_WIDTH = GAP * (ALIEN_COLS - 1) + 1
MAX_OFFSET = COLS - FORMATION_WIDTH  # the formation's left column lies in [0, MAX_OFFSET]
START_TOP = 2  # the formation's first row at the start (row 0 holds the lives)
LANDING_ROW = PLAYER_ROW - 1  # an alien this low has landed: the wave is lost
MOVE_EVERY = 4  # the formation moves once every this many steps
BULLET_SPEED = 2  # rows per step, checked one row at a time so it never jumps over an alien
MAX_BOMBS = 3
BOMB_CHANCE = 0.25  # per step, when a bomb slot is free
# The longest wave: with only its top row left, the formation lands after LANDING_ROW - START_TOP
# steps down, each at most MAX_OFFSET + 1 marches after the last.
LONGEST_WAVE = MOVE_EVERY * (MAX_OFFSET + 1) * (LANDING_ROW - START_TOP)
KILL_WEIGHT = 0.8  # share of the shaping progress for aliens shot (the rest: lives left)
NEAR_COLUMNS = np.array([-1, 0, 1])  # the columns the cannon can reach in one step
MARK_ROW = CELL - 1  # pixel row of the direction and clock marks: no sprite uses it in board row 0
DIRECTION_MARK, CLOCK_MARK = 40, 48  # first pixel column of each mark (lives end before 36)


def _sprite(art: tuple[str, ...], name: str) -> np.ndarray:
    """A CELL x CELL tile from ASCII art: '#' in palette colour `name` on the background."""
    tile = render.solid_tile(render.color("background"), CELL)
    tile[np.array([list(row) for row in art]) == "#"] = render.color(name)
    return tile


EMPTY_TILE, ALIEN_TILE, CANNON_TILE, BULLET_TILE, BOMB_TILE, LIFE_TILE = range(6)
TILES = np.stack(
    [
        _sprite(("....", "....", "....", "...."), "background"),
        _sprite((".##.", "####", "#..#", "...."), "alien"),
        _sprite((".##.", ".##.", "####", "####"), "agent"),
        _sprite((".##.", ".##.", ".##.", "...."), "bullet"),
        _sprite(("....", ".##.", ".##.", "...."), "bomb"),
        _sprite(("....", ".##.", ".##.", "...."), "agent"),
    ]
)


class Invaders(Game):
    """Space Invaders rules over a batch of games (see the module docstring)."""

    action_meanings: ClassVar[tuple[str, ...]] = ("noop", "left", "right", "fire")
    # 0.5 over a whole wave: a lost wave shot fewer aliens than a won one (module docstring).
    event_bonus: ClassVar[dict[str, float]] = {"kill": 0.5 / (ALIEN_ROWS * ALIEN_COLS)}
    render_fps: ClassVar[int] = 12

    def __init__(self, lives: int = 3) -> None:
        if not isinstance(lives, int) or not 1 <= lives <= 9:
            raise ValueError(f"lives must be an integer from 1 to 9, got {lives!r}")
        self.max_lives = lives

    def symbolic_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (47,), dtype=np.float32)

    def shaping_horizon(self) -> int:
        return LONGEST_WAVE

    def progress(self, state: State) -> np.ndarray:
        shot = 1.0 - state["alive"].mean(axis=(1, 2))
        return KILL_WEIGHT * shot + (1.0 - KILL_WEIGHT) * state["lives"] / self.max_lives

    def new_state(self, n: int) -> State:
        ints = ("player_x", "lives", "bullet_x", "bullet_y", "offset", "top", "direction")
        state = {name: np.zeros(n, dtype=np.int64) for name in ints}
        state["bullet_on"] = np.zeros(n, dtype=bool)
        state["alive"] = np.zeros((n, ALIEN_ROWS, ALIEN_COLS), dtype=bool)
        state["bomb_x"] = np.zeros((n, MAX_BOMBS), dtype=np.int64)
        state["bomb_y"] = np.zeros((n, MAX_BOMBS), dtype=np.int64)
        state["bomb_on"] = np.zeros((n, MAX_BOMBS), dtype=bool)
        return state

    def reset_games(self, state: State, idx: np.ndarray) -> None:
        rng = state["rng"]
        # The cannon, the formation's column and its first direction are drawn; the rest is fixed.
        state["player_x"][idx] = next_integers(rng, COLS, idx)
        state["offset"][idx] = next_integers(rng, MAX_OFFSET + 1, idx)
        state["direction"][idx] = 2 * next_integers(rng, 2, idx) - 1
        state["top"][idx] = START_TOP
        state["lives"][idx] = self.max_lives
        state["alive"][idx] = True
        state["bullet_on"][idx] = False
        state["bomb_on"][idx] = False

    # ---------------------------------------------------------------------------------------
    # Rules
    # ---------------------------------------------------------------------------------------
    def _bullet_hits(self, state: State) -> np.ndarray:
        """Kill the alien in the bullet's cell, if any; return the kills per game (0 or 1)."""
        row = state["bullet_y"] - state["top"]
        col = state["bullet_x"] - state["offset"]
        on_grid = (
            state["bullet_on"]
            & (row >= 0)
            & (row % GAP == 0)
            & (row < GAP * ALIEN_ROWS)
            & (col >= 0)
            & (col % GAP == 0)
            & (col < GAP * ALIEN_COLS)
        )
        games = np.flatnonzero(on_grid)
        r, c = row[games] // GAP, col[games] // GAP
        hit = state["alive"][games, r, c]
        games, r, c = games[hit], r[hit], c[hit]
        state["alive"][games, r, c] = False
        state["bullet_on"][games] = False
        kills = np.zeros(len(row), dtype=np.int64)
        kills[games] = 1
        return kills

    def _lowest_in_column(self, state: State, games: np.ndarray, column: np.ndarray) -> np.ndarray:
        """Formation row (0 to ALIEN_ROWS - 1) of the lowest living alien in `column` of each game
        in `games`; an empty column gives ALIEN_ROWS - 1 (callers ask only about columns that
        still have aliens, or mask the answer)."""
        return ALIEN_ROWS - 1 - np.argmax(state["alive"][games, ::-1, column], axis=1)

    def _nearest_alien_column(self, state: State) -> tuple[np.ndarray, np.ndarray]:
        """(board columns (B, ALIEN_COLS) of the formation, index (B,) of the column nearest the
        cannon that still has aliens); the observation and the expert both aim at it."""
        has_alien = state["alive"].any(axis=1)  # (B, ALIEN_COLS)
        columns = state["offset"][:, None] + GAP * np.arange(ALIEN_COLS)
        gap = np.where(has_alien, np.abs(columns - state["player_x"][:, None]), 2 * COLS)
        return columns, np.argmin(gap, axis=1)

    def _lowest_alive_row(self, state: State) -> np.ndarray:
        """Board row of the lowest living alien (-1 where none is left)."""
        row_alive = state["alive"].any(axis=2)  # (B, ALIEN_ROWS)
        last = ALIEN_ROWS - 1 - np.argmax(row_alive[:, ::-1], axis=1)
        return np.where(row_alive.any(axis=1), state["top"] + GAP * last, -1)

    def _bullet_and_formation(self, state: State, t: np.ndarray) -> np.ndarray:
        """Move the bullet, then the formation, in place; return the kills per game (0 or 1).

        The scripted expert replays this on a copy to ask "would a shot fired now hit?".
        """
        # The bullet climbs one row at a time and stops at the first alien.
        kills = np.zeros(len(t), dtype=np.int64)
        for _ in range(BULLET_SPEED):
            state["bullet_y"] -= state["bullet_on"]
            state["bullet_on"] &= state["bullet_y"] >= 0
            kills += self._bullet_hits(state)
        # The formation marches every MOVE_EVERY steps: sideways, or down and about-turn at a wall.
        marching = t % MOVE_EVERY == 0
        next_offset = state["offset"] + state["direction"]
        at_wall = marching & ((next_offset < 0) | (next_offset > MAX_OFFSET))
        sideways = marching & ~at_wall
        state["offset"] = np.where(sideways, next_offset, state["offset"])
        state["top"] = state["top"] + at_wall
        state["direction"] = np.where(at_wall, -state["direction"], state["direction"])
        return kills + self._bullet_hits(state)  # an alien may step into the bullet

    def step(self, state: State, actions: np.ndarray) -> Transition:
        rng = state["rng"]
        # Two draws per game per step, used or not, so each game's stream stays its own.
        drop_draw, pick_draw = next_uniform(rng), next_uniform(rng)

        # 1. The cannon moves or fires.
        move = (actions == RIGHT).astype(np.int64) - (actions == LEFT)
        state["player_x"] = np.clip(state["player_x"] + move, 0, COLS - 1)
        fire = (actions == FIRE) & ~state["bullet_on"]
        state["bullet_on"] |= fire
        state["bullet_x"] = np.where(fire, state["player_x"], state["bullet_x"])
        state["bullet_y"] = np.where(fire, PLAYER_ROW, state["bullet_y"])

        # 2-3. The bullet climbs and the formation marches.
        kills = self._bullet_and_formation(state, state["t"])

        # 4. Bombs fall one row; one that reaches the cannon's cell costs a life.
        state["bomb_y"] += state["bomb_on"]
        hits = state["bomb_on"] & (state["bomb_y"] == PLAYER_ROW)
        hits &= state["bomb_x"] == state["player_x"][:, None]
        hit = hits.any(axis=1)
        state["bomb_on"] &= state["bomb_y"] < PLAYER_ROW
        state["bomb_on"][hit] = False  # a hit clears the sky: a moment's grace to recover
        state["lives"] -= hit

        # 5. A random bottom alien drops a bomb into a free slot.
        shooters = state["alive"].any(axis=1)  # (B, ALIEN_COLS): columns with an alien left
        n_shooters = shooters.sum(axis=1)
        free = ~state["bomb_on"]
        drop = (drop_draw < BOMB_CHANCE) & free.any(axis=1) & (n_shooters > 0) & ~hit
        games = np.flatnonzero(drop)
        if len(games):
            # The k-th column that still has aliens, k uniform among them.
            k = (pick_draw[games] * n_shooters[games]).astype(np.int64)  # draws are < 1
            column = np.argmax(np.cumsum(shooters[games], axis=1) > k[:, None], axis=1)
            lowest = self._lowest_in_column(state, games, column)
            slot = np.argmax(free[games], axis=1)
            state["bomb_x"][games, slot] = state["offset"][games] + GAP * column
            state["bomb_y"][games, slot] = state["top"][games] + GAP * lowest + 1
            state["bomb_on"][games, slot] = True

        # 6. Won or lost?
        won = ~state["alive"].any(axis=(1, 2))
        lost = ~won & ((state["lives"] <= 0) | (self._lowest_alive_row(state) >= LANDING_ROW))
        task_reward = won.astype(np.float64) - lost
        events = {"kill": kills.astype(np.float64), "hit": hit.astype(np.float64)}
        return Transition(task_reward, won | lost, won, events)

    # ---------------------------------------------------------------------------------------
    # Observations
    # ---------------------------------------------------------------------------------------
    def symbolic(self, state: State) -> np.ndarray:
        B = len(state["t"])
        scale = float(COLS - 1)
        # Bomb slots, lowest (most urgent) first, so slot order carries meaning.
        order = np.argsort(-(state["bomb_y"] * state["bomb_on"]), axis=1, kind="stable")
        bomb_on = np.take_along_axis(state["bomb_on"], order, axis=1)
        bomb_dx = np.take_along_axis(state["bomb_x"], order, axis=1) - state["player_x"][:, None]
        bomb_y = np.take_along_axis(state["bomb_y"], order, axis=1)
        bombs = np.stack([bomb_on, bomb_on * bomb_dx / scale, bomb_on * bomb_y / scale], axis=2)
        bullet = state["bullet_on"]
        columns = [
            state["player_x"][:, None] / scale,
            np.stack(
                [bullet, bullet * state["bullet_x"] / scale, bullet * state["bullet_y"] / scale], 1
            ),
            state["alive"].reshape(B, -1),
            # Each alien column's distance from the cannon, as the bombs' are: where to walk and
            # when to fire, without the net having to subtract two absolute positions.
            (state["offset"][:, None] + GAP * np.arange(ALIEN_COLS) - state["player_x"][:, None])
            / scale,
            np.stack(
                [
                    state["offset"] / MAX_OFFSET,
                    state["top"] / scale,
                    state["direction"],
                    state["t"] % MOVE_EVERY / MOVE_EVERY,
                ],
                axis=1,
            ),
            bombs.reshape(B, -1),
            self.bombs_near(state) / scale,
            self.nearest_target(state) / scale,
            state["lives"][:, None] / self.max_lives,
        ]
        return np.concatenate(columns, axis=1).astype(np.float32)

    def bombs_near(self, state: State) -> np.ndarray:
        """(B, 3): the row of the lowest bomb in the column left of the cannon, its own column
        and the one right of it (0 where none falls): the cells the cannon can reach this step."""
        near = state["player_x"][:, None] + NEAR_COLUMNS  # (B, 3)
        falling = state["bomb_on"][:, None, :] & (state["bomb_x"][:, None, :] == near[:, :, None])
        return np.where(falling, state["bomb_y"][:, None, :], 0).max(axis=2)

    def nearest_target(self, state: State) -> np.ndarray:
        """(B, 2): the nearest column that still has aliens, as its distance from the cannon, and
        the row of its lowest alien (both 0 once the wave is cleared)."""
        games = np.arange(len(state["t"]))
        columns, nearest = self._nearest_alien_column(state)
        lowest = self._lowest_in_column(state, games, nearest)
        any_left = state["alive"].any(axis=(1, 2))
        return np.stack(
            [
                np.where(any_left, columns[games, nearest] - state["player_x"], 0),
                np.where(any_left, state["top"] + GAP * lowest, 0),
            ],
            axis=1,
        )

    def draw(self, state: State) -> np.ndarray:
        B = len(state["t"])
        games = np.arange(B)
        # Everything sits on the 16 x 16 board: fill a grid of tile ids, then one tile gather.
        cells = np.zeros((B, ROWS, COLS), dtype=np.int64)
        g, r, c = np.nonzero(state["alive"])
        cells[g, state["top"][g] + GAP * r, state["offset"][g] + GAP * c] = ALIEN_TILE
        g, k = np.nonzero(state["bomb_on"])
        cells[g, state["bomb_y"][g, k], state["bomb_x"][g, k]] = BOMB_TILE
        g = np.flatnonzero(state["bullet_on"])
        cells[g, state["bullet_y"][g], state["bullet_x"][g]] = BULLET_TILE
        cells[games, PLAYER_ROW, state["player_x"]] = CANNON_TILE
        cells[:, 0, : self.max_lives] = np.where(
            np.arange(self.max_lives) < state["lives"][:, None], LIFE_TILE, 0
        )
        frames = render.tile_grid(cells, TILES)
        # The marching direction and clock, which no still picture of the board shows.
        left = DIRECTION_MARK + CELL * (state["direction"] > 0)  # (B,) the dash's first column
        dash = np.arange(CELL)
        frames[games[:, None], MARK_ROW, left[:, None] + dash] = render.color("alien")
        tick = CLOCK_MARK + CELL * (state["t"] % MOVE_EVERY)
        frames[games[:, None], MARK_ROW, tick[:, None] + dash] = render.color("bullet")
        return frames

    def status(self, state: State, i: int) -> str:
        return f"lives {state['lives'][i]}  aliens left {int(state['alive'][i].sum())}"

    # ---------------------------------------------------------------------------------------
    # Scripted expert
    # ---------------------------------------------------------------------------------------
    def expert_actions(self, state: State) -> np.ndarray:
        """Dodge bombs about to land, walk under the nearest alien column, fire when under one."""
        B = len(state["t"])
        x = state["player_x"]
        # Where could the cannon be after this step: left, stay, right.
        cand = np.clip(x[:, None] + NEAR_COLUMNS, 0, COLS - 1)  # (B, 3)
        # Danger of standing in a column: a bomb about to land there (row 14 is certain death
        # this step, rows 12-13 leave a step or two to get away).
        bomb_row = np.where(state["bomb_on"], state["bomb_y"], -1)  # (B, K)
        same_col = state["bomb_x"][:, None, :] == cand[:, :, None]  # (B, 3, K)
        rows_in_col = np.where(same_col, bomb_row[:, None, :], -1).max(axis=2)  # (B, 3)
        danger = np.select(
            [rows_in_col >= LANDING_ROW, rows_in_col >= LANDING_ROW - 2], [100.0, 10.0], 0.0
        )
        # Target: the nearest column that has an alien, where the formation will be soon.
        columns, nearest = self._nearest_alien_column(state)
        target = columns[np.arange(B), nearest]
        distance = np.abs(cand - target[:, None]) * 1.0
        choice = np.argmin(danger + distance, axis=1)  # ties prefer left, then stay
        actions = np.array([LEFT, NOOP, RIGHT])[choice]
        # Fire when a shot from here would hit (replaying the rules) and staying put is safe.
        fire = self._shot_would_hit(state) & (danger[:, 1] < 100)
        return np.where(fire, FIRE, actions)

    def _shot_would_hit(self, state: State) -> np.ndarray:
        """Whether a bullet fired now would kill an alien, replaying the rules on a copy."""
        names = ("alive", "offset", "top", "direction")
        future = {name: state[name].copy() for name in names}
        future["bullet_on"] = ~state["bullet_on"]  # only a free cannon can fire
        future["bullet_x"] = state["player_x"].copy()
        future["bullet_y"] = np.full(len(state["t"]), PLAYER_ROW)
        hit = np.zeros(len(state["t"]), dtype=bool)
        for k in range(1, PLAYER_ROW // BULLET_SPEED + 2):
            hit |= self._bullet_and_formation(future, state["t"] + k) > 0
        return hit
