"""Forage: the lecture's VizDoom health-gathering example, seen from above.

## Description
The forager lives on a 15 x 16 arena of 4-pixel cells. Its health drains by one point every step;
food (+20) and medkits (+40) restore it, up to 100. Acid pools (hazards) burn 15 points on every
step spent on them. Whatever is picked up reappears at once on a random free cell, so the arena
always holds 4 food, 2 medkits and 6 acid pools (the pools stay put for the episode). Survive
``duration`` steps to win.

## Actions
``Discrete(5)``: 0 stay, 1 up, 2 down, 3 left, 4 right (walking into the border is staying).

## Observation
- ``obs_mode="symbolic"``: ``Box(-1, 1, (20,), float32)``: the forager's row and column (divided
  by the arena's size minus one), its health / 100, the time left / ``duration``, then the offsets
  (row, column, divided the same way) from the forager to the 3 nearest food, to both medkits and
  to the 3 nearest acid pools, each kind nearest first (distance counted in steps).
- ``obs_mode="pixels"``: ``Box(0, 255, (64, 64, 3), uint8)``: the top 4 pixel rows are a red
  health bar over a grey time-left bar; below, the arena: the red forager, green food, white
  medkits with a red centre, purple acid pools.

## Rewards
- ``reward_mode="sparse"`` (the task): +1 on the step the time runs out with the forager alive;
  0 otherwise (dying ends the episode with nothing).
- ``reward_mode="shaped"``: the task reward, plus potential-based shaping
  ``gamma * Phi(s') - Phi(s)`` (``Phi(terminal) = 0``) with ``Phi = scale * health / 100`` (a full
  stomach is closer to surviving: food and medkits raise it, acid and time lower it) and
  ``scale = 0.5 / (gamma + (1 - gamma) * duration)`` (see ``rlsuite.envs.shaping``), plus an
  event bonus: +0.1 per food or medkit eaten, +0.01 per step alive, -0.01 per step without moving,
  -0.1 per step in acid. The potential alone does not teach foraging: no random forager survives
  300 steps, so the critic soon cancels it (``rlsuite.envs.shaping``); PPO learned nothing with it.
  A forager that dies lives fewer steps than one that survives, so it collects less of the
  ``alive`` bonus and misses the +1; the food bonus is not bounded by the rules (a forager that
  out-eats the expert and then dies could in principle collect more), so the tests check the
  ranking against the scripted expert with foragers that eat and then starve, stand still or
  walk at random.

## Termination
Terminated with success after ``duration`` steps alive (the time left is observed, so the task is
Markov); terminated with failure when health reaches 0. The registered ``max_episode_steps`` lies
beyond ``duration``, so the time limit never cuts an episode short.

## Registered ids
``rlsuite/Forage-v0`` (``duration=300``). Keyword argument ``duration`` (10 to 10000 steps).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from gymnasium import spaces

from rlsuite.envs import render
from rlsuite.envs.core import Game, State, Transition, next_uniform

ROWS, COLS, CELL = 15, 16, 4  # the arena, in 4-pixel cells, below a 4-pixel status bar
HUD = 4  # pixel rows of the health and time bars
MAX_HEALTH, DRAIN, HAZARD_DAMAGE = 100, 1, 15
N_FOOD, N_MEDKIT, N_HAZARD = 4, 2, 6
N_SUPPLY = N_FOOD + N_MEDKIT  # item slots: food first, then medkits, then hazards
N_ITEMS = N_SUPPLY + N_HAZARD
GAIN = np.array([20] * N_FOOD + [40] * N_MEDKIT)  # health restored per supply slot
NEAREST = ((0, N_FOOD, 3), (N_FOOD, N_SUPPLY, N_MEDKIT), (N_SUPPLY, N_ITEMS, 3))  # (from, to, k)


def _sprite(art: tuple[str, ...], main: str, second: str = "floor") -> np.ndarray:
    """A CELL x CELL tile from ASCII art: '#' in palette colour `main`, 'o' in `second`."""
    tile = render.solid_tile(render.color("floor"), CELL)
    pixels = np.array([list(row) for row in art])
    tile[pixels == "#"] = render.color(main)
    tile[pixels == "o"] = render.color(second)
    return tile


FLOOR_TILE, FOOD_TILE, MEDKIT_TILE, ACID_TILE, AGENT_TILE, BURNT_TILE, BLANK_TILE = range(7)
TILES = np.stack(
    [
        _sprite(("....", "....", "....", "...."), "floor"),
        _sprite((".##.", "####", "####", ".##."), "food"),
        _sprite(("####", "#oo#", "#oo#", "####"), "medkit", "agent"),
        _sprite(("####", "#..#", "#..#", "####"), "hazard"),
        _sprite(("####", "####", "####", "####"), "agent"),
        _sprite(("o##o", "####", "####", "o##o"), "agent", "hazard"),  # the forager in acid
        render.solid_tile(render.color("background"), CELL),
    ]
)
ITEM_TILES = np.array([FOOD_TILE] * N_FOOD + [MEDKIT_TILE] * N_MEDKIT + [ACID_TILE] * N_HAZARD)

# Row and column change of each action: stay, up, down, left, right.
MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])


def _free_cells(state: State, games: np.ndarray, draw: np.ndarray) -> tuple[np.ndarray, ...]:
    """A uniformly random cell per game in `games` holding neither the forager nor an item.

    Items with a negative row are not placed yet. The k-th free cell, k = floor(draw * n_free),
    is found with one cumulative sum over the flattened arena: no loop over games.
    """
    n = len(games)
    occupied = np.zeros((n, ROWS * COLS), dtype=bool)
    ys, xs = state["item_y"][games], state["item_x"][games]
    rows, slots = np.nonzero(ys >= 0)
    occupied[rows, ys[rows, slots] * COLS + xs[rows, slots]] = True
    occupied[np.arange(n), state["y"][games] * COLS + state["x"][games]] = True
    free = ~occupied
    k = (draw * free.sum(axis=1)).astype(np.int64)
    cell = np.argmax(np.cumsum(free, axis=1) > k[:, None], axis=1)
    return cell // COLS, cell % COLS


class Forage(Game):
    """Health-gathering rules over a batch of games (see the module docstring)."""

    action_meanings: ClassVar[tuple[str, ...]] = ("stay", "up", "down", "left", "right")
    # Survival's dense signal (see the module docstring): potential shaping alone never taught it.
    event_bonus: ClassVar[dict[str, float]] = {
        "food": 0.1,
        "medkit": 0.1,
        "alive": 0.01,
        "idle": -0.01,
        "hazard": -0.1,
    }
    render_fps: ClassVar[int] = 10

    def __init__(self, duration: int = 300) -> None:
        if not isinstance(duration, int) or not 10 <= duration <= 10000:
            raise ValueError(f"duration must be an integer from 10 to 10000, got {duration!r}")
        self.duration = duration

    def symbolic_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (20,), dtype=np.float32)

    def new_state(self, n: int) -> State:
        state = {name: np.zeros(n, dtype=np.int64) for name in ("y", "x", "health")}
        state["item_y"] = np.zeros((n, N_ITEMS), dtype=np.int64)
        state["item_x"] = np.zeros((n, N_ITEMS), dtype=np.int64)
        return state

    def reset_games(self, state: State, idx: np.ndarray) -> None:
        rng = state["rng"]
        # The forager anywhere, then each item on a cell nobody holds yet.
        cell = (next_uniform(rng, idx) * ROWS * COLS).astype(np.int64)
        state["y"][idx], state["x"][idx] = cell // COLS, cell % COLS
        state["item_y"][idx] = -1
        for slot in range(N_ITEMS):
            y, x = _free_cells(state, idx, next_uniform(rng, idx))
            state["item_y"][idx, slot], state["item_x"][idx, slot] = y, x
        state["health"][idx] = MAX_HEALTH

    def step(self, state: State, actions: np.ndarray) -> Transition:
        # One draw per supply slot per game per step, used only where that supply was picked up.
        respawn_draws = np.stack([next_uniform(state["rng"]) for _ in range(N_SUPPLY)], axis=1)

        # 1. Move (the border stops the forager); health drains whatever it does.
        y = np.clip(state["y"] + MOVES[actions, 0], 0, ROWS - 1)
        x = np.clip(state["x"] + MOVES[actions, 1], 0, COLS - 1)
        idle = (y == state["y"]) & (x == state["x"])
        state["y"], state["x"] = y, x
        health = state["health"] - DRAIN

        # 2. Pick up what lies here; stand in acid and burn.
        here = (state["item_y"] == y[:, None]) & (state["item_x"] == x[:, None])  # (B, N_ITEMS)
        picked = here[:, :N_SUPPLY]
        in_acid = here[:, N_SUPPLY:].any(axis=1)
        health = np.minimum(health + picked @ GAIN, MAX_HEALTH) - HAZARD_DAMAGE * in_acid
        state["health"] = np.maximum(health, 0)

        # 3. What was picked up reappears elsewhere (one slot at a time, only in those games).
        for slot in range(N_SUPPLY):
            games = np.flatnonzero(picked[:, slot])
            if len(games):
                new_y, new_x = _free_cells(state, games, respawn_draws[games, slot])
                state["item_y"][games, slot], state["item_x"][games, slot] = new_y, new_x

        # 4. Dead, or alive at the end of the time?
        died = state["health"] <= 0
        survived = ~died & (state["t"] >= self.duration)
        events = {
            "food": picked[:, :N_FOOD].sum(axis=1).astype(np.float64),
            "medkit": picked[:, N_FOOD:].sum(axis=1).astype(np.float64),
            "alive": (~died).astype(np.float64),
            "idle": idle.astype(np.float64),
            "hazard": in_acid.astype(np.float64),
        }
        return Transition(survived.astype(np.float64), died | survived, survived, events)

    def shaping_horizon(self) -> int:
        return self.duration  # every success lasts exactly this long

    def progress(self, state: State) -> np.ndarray:
        return state["health"] / MAX_HEALTH

    # ---------------------------------------------------------------------------------------
    # Observations
    # ---------------------------------------------------------------------------------------
    def symbolic(self, state: State) -> np.ndarray:
        dy = (state["item_y"] - state["y"][:, None]) / (ROWS - 1)  # (B, N_ITEMS)
        dx = (state["item_x"] - state["x"][:, None]) / (COLS - 1)
        steps = np.abs(state["item_y"] - state["y"][:, None]) + np.abs(
            state["item_x"] - state["x"][:, None]
        )
        columns = [
            np.stack(
                [
                    state["y"] / (ROWS - 1),
                    state["x"] / (COLS - 1),
                    state["health"] / MAX_HEALTH,
                    (self.duration - state["t"]) / self.duration,
                ],
                axis=1,
            )
        ]
        for start, stop, k in NEAREST:
            order = start + np.argsort(steps[:, start:stop], axis=1, kind="stable")[:, :k]
            near = np.stack([np.take_along_axis(dy, order, 1), np.take_along_axis(dx, order, 1)], 2)
            columns.append(near.reshape(len(order), -1))
        return np.concatenate(columns, axis=1).astype(np.float32)

    def draw(self, state: State) -> np.ndarray:
        B = len(state["t"])
        games = np.arange(B)[:, None]
        # The arena is a grid of tile ids below one blank row for the bars; one tile gather.
        cells = np.full((B, ROWS + 1, COLS), FLOOR_TILE)
        cells[:, 0] = BLANK_TILE
        cells[games, state["item_y"] + 1, state["item_x"]] = ITEM_TILES
        on_acid = cells[games[:, 0], state["y"] + 1, state["x"]] == ACID_TILE
        cells[games[:, 0], state["y"] + 1, state["x"]] = np.where(on_acid, BURNT_TILE, AGENT_TILE)
        frames = render.tile_grid(cells, TILES)
        # Status bars, one pixel column per step of resolution: health on top, time left below.
        width = COLS * CELL
        health_px = state["health"] * width // MAX_HEALTH
        time_px = (self.duration - state["t"]) * width // self.duration
        for rows, length, name in (
            (slice(0, 2), health_px, "agent"),
            (slice(2, 3), time_px, "wall"),
        ):
            filled = np.arange(width) < length[:, None]  # (B, width)
            frames[:, rows] = np.where(
                filled[:, None, :, None], render.color(name), frames[:, rows]
            )
        return frames

    def status(self, state: State, i: int) -> str:
        left = self.duration - int(state["t"][i])
        return f"health {int(state['health'][i])}  steps left {left}"

    # ---------------------------------------------------------------------------------------
    # Scripted expert
    # ---------------------------------------------------------------------------------------
    def expert_actions(self, state: State) -> np.ndarray:
        """Walk the shortest path around the acid to the nearest food or medkit.

        A distance field over the whole batch: every supply cell is 0, acid is impassable, and
        each sweep lets a cell take one plus its best neighbour's distance. Sweeping stops once
        every forager has a neighbour with a known distance, which is then the true one.
        """
        B = len(state["t"])
        games = np.arange(B)[:, None]
        far = ROWS * COLS
        distance = np.full((B, ROWS + 2, COLS + 2), far)  # padded: the border is never a way
        distance[games, state["item_y"][:, :N_SUPPLY] + 1, state["item_x"][:, :N_SUPPLY] + 1] = 0
        passable = np.zeros((B, ROWS + 2, COLS + 2), dtype=bool)
        passable[:, 1:-1, 1:-1] = True
        passable[games, state["item_y"][:, N_SUPPLY:] + 1, state["item_x"][:, N_SUPPLY:] + 1] = (
            False
        )
        y, x = state["y"] + 1, state["x"] + 1
        neighbours = np.stack([y + MOVES[1:, 0, None], x + MOVES[1:, 1, None]])  # (2, 4, B)
        for _ in range(ROWS * COLS):
            around = distance[np.arange(B), neighbours[0], neighbours[1]]  # (4, B)
            if (around < far).any(axis=0).all():
                break
            inner = distance[:, 1:-1, 1:-1]
            best = np.minimum.reduce(
                [
                    distance[:, :-2, 1:-1],
                    distance[:, 2:, 1:-1],
                    distance[:, 1:-1, :-2],
                    distance[:, 1:-1, 2:],
                ]
            )
            distance[:, 1:-1, 1:-1] = np.where(
                passable[:, 1:-1, 1:-1], np.minimum(inner, best + 1), far
            )
        around = np.where(around < far, around, far)
        return 1 + np.argmin(around, axis=0)  # ties: up, down, left, right
