"""Racer: weave through traffic on a multi-lane road and reach the finish line without a crash.

## Description
A top-down road of `n_lanes` lanes (default 5) scrolls downward as your red car drives up it.
Slower blue traffic cars appear ahead; they never change lanes, and a car that catches up with the
car (or you) in front of it slows to that car's speed. Reach the finish line 1500 px up the road
without touching any car, within ``time_limit`` steps (1000: an average of 1.5 px per step, faster
than most traffic). Driving fast and changing lanes to overtake is the way to finish in time;
the scripted expert (``Racer.expert_actions``) does exactly that and never crashes. The game is
mainly here for learning from demonstrations (behavior cloning, GAIL, AIRL).

## Actions
`Discrete(5)`: 0 keep, 1 left lane, 2 right lane, 3 faster, 4 slower. A lane change is instant
(steering into the road edge does nothing); the speed moves one step within 1.0, 1.5, ..., 3.0
px per step. Traffic drives at 1.25 to 2.0 px per step.

## Observation
- `obs_mode="symbolic"`: `Box(-1, 1, (24,), float32)`: own lane / (n_lanes - 1), own speed
  step / 4, distance / finish, time left / time_limit; then, seen from the driver's seat, for our
  own lane, the lane to the left, to the right, two to the left and two to the right: the
  nearest car ahead (distance / 56, 1 = none in sight; its speed minus yours / 2, 0 = none) and
  behind (same). A lane past the road's edge reads as a wall: distances 0 ahead and behind.
  Listing the lanes from our own outwards lets a net compare "my lane" with "the lane beside
  me" in one place, wherever we drive (see `docs/decisions.md`).
- `obs_mode="pixels"`: `Box(0, 255, (64, 64, 3), uint8)`: the road around your car, with a yellow
  speed bar at the bottom of the left verge, a grey time-left bar above it, and a green progress
  bar in the right verge. A traffic car's
  windscreen shows its speed, from dark grey (1 px per step) to white (2 px per step) in 16
  shades, so a picture holds what the rules need to move the traffic. With
  `highlight_lane=True` your own lane's road is a lighter grey all the way up the screen: the
  picture's counterpart of the symbolic observation's lanes listed from your own, so a car in
  your lane looks different from a car beside it wherever it is, not only next to your car.

## Rewards
- `reward_mode="sparse"` (the task reward, always in `info["task_reward"]`): +1 on the step that
  reaches the finish line without a crash, 0 otherwise.
- `reward_mode="shaped"`: the task reward, plus potential-based shaping
  `gamma * Phi(s') - Phi(s)` (`Phi(terminal) = 0`) with `Phi = scale * (share of the road
  driven)`, so progress pays as it happens and a crash forfeits it, and
  `scale = 0.5 / (gamma + (1 - gamma) * time_limit)` (see `rlsuite.envs.shaping`: every finish
  within the time limit then beats every crash and every drive that runs out of time, by at least
  0.5), plus an event bonus of 0.5 / 1500 per px driven (0.5 for the whole road: a signal the
  critic cannot cancel, see `rlsuite.envs.shaping`), and 0.5 / 1500 again per px driven beyond
  the pace that just finishes in time (1500 / `time_limit` px per step: 1.5 by default), so a
  step pays more the more it is ahead of that pace, and a car that follows the traffic at 1.5
  earns none of it. A drive that crashes or runs out of time covers less road than one that
  finishes, so its bonus for road driven is smaller too; its pace bonus can be larger than a
  slow finish's, but never more than `0.5 * (1 - pace / 3)` (0.25 by default; each px at top
  speed, 3, is at most that share beyond the pace), so every finish still beats every failed
  drive by at least `pace / 6` (0.25 by default).

## Termination
Terminated on a crash or when the time runs out (failures), or on reaching the finish (success,
`info["is_success"]`). Running out of time is one of the game's rules, not a cut by a wrapper: the
time left is observed, so an agent can learn to hurry, and it must not bootstrap past the end (a
time limit it could not see would be a truncation, and nothing would make it drive faster). The
registered `max_episode_steps` (1100) lies beyond `time_limit`, so it never cuts a drive short.

## Registered ids
`rlsuite/Racer-v0`: 5 lanes, normal traffic, 1000 steps. Options: `n_lanes` in (3, 4, 5), `traffic`
in ("light", "normal", "heavy"), `time_limit` (an integer from 100 to 10000 steps; the scripted
expert takes 590 steps on average, rarely more than 930), `highlight_lane` (False; pixels only).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from gymnasium import spaces

from rlsuite.envs import render
from rlsuite.envs.core import Game, State, Transition, next_uniform

KEEP, LEFT, RIGHT, FASTER, SLOWER = range(5)
SPEEDS = np.array([1.0, 1.5, 2.0, 2.5, 3.0])  # the ego's speed steps, px per step
TRAFFIC_SPEED = (1.25, 2.0)  # faster than our lowest speed: we can always follow or drop back
SPAWN_PROB = {"light": 0.06, "normal": 0.12, "heavy": 0.2}  # chance of a new car per step
FINISH = 1500.0  # px of road to cover
MAX_CARS = 10  # traffic slots per game
CAR_LEN, CAR_W, LANE_W = 10, 5, 10  # px
FOLLOW_GAP = 6.0  # traffic keeps this much space to the car in front (more than a near miss)
NEAR_MISS = 4.0  # bumper-to-bumper px that count as a near miss
SPAWN_DY, SPAWN_ZONE = 56.0, 20.0  # new cars appear just above the screen, one lane-slot apart
DESPAWN_AHEAD, DESPAWN_BEHIND = 72.0, -24.0  # cars this far away leave the game
VIEW = 56.0  # how far ahead/behind the symbolic observation sees
LANE_OFFSETS = (0, -1, 1, -2, 2)  # the lanes the symbolic observation lists, from our own outwards
TIME_BAR_ROWS = 28  # px of the left verge's top that show the time left
SPEED_SHADES = 16  # windscreen shades of traffic speeds, SPEEDS[0] (darkest) to TRAFFIC_SPEED[1]
EGO_TOP = 44  # screen row of our car's front: 44 px of road ahead in view, 10 behind


class Racer(Game):
    """Batched rules of Racer. Traffic positions `car_dy` are px ahead of our car (< 0: behind)."""

    action_meanings: ClassVar[tuple[str, ...]] = (
        "keep",
        "left lane",
        "right lane",
        "faster",
        "slower",
    )
    # 0.5 over the whole road: a drive that fails covered less of it; and as much again for
    # each px driven beyond the pace the time limit asks for (module docstring).
    event_bonus: ClassVar[dict[str, float]] = {"driven": 0.5 / FINISH, "pace": 0.5 / FINISH}
    render_fps: ClassVar[int] = 15

    def __init__(
        self,
        n_lanes: int = 5,
        traffic: str = "normal",
        time_limit: int = 1000,
        highlight_lane: bool = False,
    ) -> None:
        if n_lanes not in (3, 4, 5):
            raise ValueError(f"n_lanes must be one of 3, 4, 5 (the road is 64 px), got {n_lanes!r}")
        if traffic not in SPAWN_PROB:
            raise ValueError(f"unknown traffic {traffic!r}; valid values: {', '.join(SPAWN_PROB)}")
        if not isinstance(time_limit, int) or not 100 <= time_limit <= 10000:
            raise ValueError(f"time_limit must be an integer from 100 to 10000, got {time_limit!r}")
        if not isinstance(highlight_lane, bool):
            raise ValueError(f"highlight_lane must be true or false, got {highlight_lane!r}")
        self.n_lanes = n_lanes
        self.highlight_lane = highlight_lane
        self.time_limit = time_limit
        self.pace = FINISH / time_limit  # px per step that just reach the finish in time
        self.spawn_prob = SPAWN_PROB[traffic]
        self.road_left = (self.frame_size - n_lanes * LANE_W) // 2
        self._backgrounds = self._backgrounds_table()
        self._sprites = self._sprite_table()
        # Constant tables are read-only: rlsuite.envstate then leaves them out of checkpoints.
        self._backgrounds.flags.writeable = self._sprites.flags.writeable = False

    # ---------------------------------------------------------------------------------- state
    def symbolic_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (4 + 4 * len(LANE_OFFSETS),), dtype=np.float32)

    def new_state(self, n: int) -> State:
        return {
            "lane": np.zeros(n, dtype=np.int64),
            "speed_step": np.zeros(n, dtype=np.int64),  # index into SPEEDS
            "distance": np.zeros(n, dtype=np.float64),
            "crashed": np.zeros(n, dtype=bool),
            "car_alive": np.zeros((n, MAX_CARS), dtype=bool),
            "car_lane": np.zeros((n, MAX_CARS), dtype=np.int64),
            "car_dy": np.zeros((n, MAX_CARS), dtype=np.float64),
            "car_speed": np.zeros((n, MAX_CARS), dtype=np.float64),
        }

    def reset_games(self, state: State, idx: np.ndarray) -> None:
        # Start in the middle lane at 2 px/step, with three cars ahead, 14 px apart (no overlaps).
        state["lane"][idx] = self.n_lanes // 2
        state["speed_step"][idx] = 2
        state["distance"][idx] = 0.0
        state["crashed"][idx] = False
        state["car_alive"][idx] = False
        for slot in range(3):
            lane = (next_uniform(state["rng"], idx) * self.n_lanes).astype(np.int64)
            speed = np.interp(next_uniform(state["rng"], idx), (0, 1), TRAFFIC_SPEED)
            state["car_alive"][idx, slot] = True
            state["car_lane"][idx, slot] = lane
            state["car_dy"][idx, slot] = 24.0 + 14.0 * slot
            state["car_speed"][idx, slot] = speed

    # ---------------------------------------------------------------------------------- rules
    def step(self, state: State, actions: np.ndarray) -> Transition:
        # Three draws per game per step, used or not, so games never depend on each other.
        u_spawn, u_lane, u_speed = (next_uniform(state["rng"]) for _ in range(3))
        lanes, alive = state["car_lane"], state["car_alive"]

        # 1. Steer and set the speed.
        move = (actions == RIGHT).astype(np.int64) - (actions == LEFT)
        state["lane"] = np.clip(state["lane"] + move, 0, self.n_lanes - 1)
        change = (actions == FASTER).astype(np.int64) - (actions == SLOWER)
        state["speed_step"] = np.clip(state["speed_step"] + change, 0, len(SPEEDS) - 1)
        v = SPEEDS[state["speed_step"]]
        own_lane = alive & (lanes == state["lane"][:, None])  # (B, N)
        cut_in = (own_lane & (np.abs(state["car_dy"]) < CAR_LEN)).any(axis=1)

        # 2. Traffic moves relative to us; each car stops short of the car (or us) in front of it.
        before = state["car_dy"].copy()
        dy = self._follow(state, before + state["car_speed"] - v[:, None], v)
        state["car_dy"] = dy
        state["distance"] = state["distance"] + v

        # 3. What happened to us.
        crashed = cut_in | (own_lane & (np.abs(dy) < CAR_LEN)).any(axis=1)
        passed = (alive & (before >= 0) & (dy < 0)).sum(axis=1)
        passed_us = (alive & (before < 0) & (dy >= 0)).sum(axis=1)
        near = (own_lane & (np.abs(dy) < CAR_LEN + NEAR_MISS)).sum(axis=1)

        # 4. Cars far behind or far ahead leave; a new one may appear just above the screen.
        state["car_alive"] = alive = alive & (dy > DESPAWN_BEHIND) & (dy < DESPAWN_AHEAD)
        self._spawn(state, u_spawn, u_lane, u_speed)

        finished = (state["distance"] >= FINISH) & ~crashed
        out_of_time = ~finished & (state["t"] >= self.time_limit)  # a rule: the time left is seen
        state["crashed"] = crashed
        events = {
            "driven": v.astype(np.float64),  # px of road covered this step
            "pace": np.maximum(v - self.pace, 0.0),  # px beyond the pace that finishes in time
            "overtake": (passed - passed_us).astype(np.float64),
            "near_miss": (near * ~crashed).astype(np.float64),
            "crash": crashed.astype(np.float64),
        }
        terminated = crashed | finished | out_of_time
        return Transition(finished.astype(np.float64), terminated, finished, events)

    def _follow(self, state: State, moved: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Clamp moved cars behind their leaders (the next car or our car ahead in their lane)."""
        dy, lanes, alive = state["car_dy"], state["car_lane"], state["car_alive"]
        # ahead[b, j, k]: car k is in front of car j in the same lane (order before moving)
        ahead = (
            alive[:, :, None]
            & alive[:, None, :]
            & (lanes[:, :, None] == lanes[:, None, :])
            & (dy[:, None, :] > dy[:, :, None])
        )
        leader = np.where(ahead, dy[:, None, :], np.inf).argmin(axis=2)  # (B, N)
        has_car_leader = ahead.any(axis=2)
        leader_dy = np.take_along_axis(dy, leader, axis=1)
        # our car leads when it is in the lane, in front, and closer than any car leader
        ego_leads = alive & (lanes == state["lane"][:, None]) & (dy < 0)
        ego_leads &= ~has_car_leader | (leader_dy > 0)
        follows = has_car_leader | ego_leads
        speed = state["car_speed"]
        new = moved
        for _ in range(2):  # a second pass settles chains of three cars
            front = np.where(ego_leads, 0.0, np.take_along_axis(new, leader, axis=1))
            limit = front - CAR_LEN - FOLLOW_GAP
            blocked = follows & (moved > limit)
            new = np.where(blocked, limit, moved)
        front_speed = np.where(ego_leads, v[:, None], np.take_along_axis(speed, leader, axis=1))
        state["car_speed"] = np.where(blocked, np.minimum(speed, front_speed), speed)
        return new

    def _spawn(self, state: State, u_spawn, u_lane, u_speed) -> None:
        """Maybe add a car above the screen, always leaving two lanes open near the spawn line."""
        alive, lanes = state["car_alive"], state["car_lane"]
        lane = (u_lane * self.n_lanes).astype(np.int64)
        near_spawn = alive & (state["car_dy"] > SPAWN_DY - SPAWN_ZONE)  # (B, N)
        busy = (near_spawn[:, :, None] & (lanes[:, :, None] == np.arange(self.n_lanes))).any(1)
        lane_busy = busy[np.arange(len(lane)), lane]
        ok = (u_spawn < self.spawn_prob) & ~alive.all(axis=1) & ~lane_busy
        ok &= busy.sum(axis=1) <= self.n_lanes - 3
        games = np.flatnonzero(ok)
        slot = np.argmin(alive[games], axis=1)  # the first free slot
        state["car_alive"][games, slot] = True
        state["car_lane"][games, slot] = lane[games]
        state["car_dy"][games, slot] = SPAWN_DY
        state["car_speed"][games, slot] = np.interp(u_speed[games], (0, 1), TRAFFIC_SPEED)

    def shaping_horizon(self) -> int:
        return self.time_limit  # no drive, finished or not, lasts longer

    def progress(self, state: State) -> np.ndarray:
        return np.minimum(state["distance"] / FINISH, 1.0)

    # ---------------------------------------------------------------------------------- views
    def nearest_per_lane(self, state: State) -> tuple[np.ndarray, ...]:
        """Per lane, the nearest car ahead (dy >= 0) and behind: (dy, speed) each, (B, n_lanes).

        Lanes without such a car get dy = +inf (ahead) or -inf (behind) and speed = nan.
        """
        dy, speed = state["car_dy"], state["car_speed"]
        in_lane = state["car_alive"][:, None, :] & (
            state["car_lane"][:, None, :] == np.arange(self.n_lanes)[:, None]
        )  # (B, L, N)
        out = []
        for side, sign in ((dy >= 0, 1.0), (dy < 0, -1.0)):
            far = np.where(in_lane & side[:, None, :], sign * dy[:, None, :], np.inf)  # (B, L, N)
            k = far.argmin(axis=2)  # (B, L)
            found = np.take_along_axis(far, k[..., None], axis=2)[..., 0]
            car_speed = np.take_along_axis(speed, k, axis=1)
            out += [sign * found, np.where(np.isfinite(found), car_speed, np.nan)]
        return tuple(out)

    def symbolic(self, state: State) -> np.ndarray:
        ahead_dy, ahead_speed, behind_dy, behind_speed = self.nearest_per_lane(state)
        v = SPEEDS[state["speed_step"]][:, None]
        per_lane = [
            np.clip(ahead_dy / VIEW, 0.0, 1.0),
            np.nan_to_num((ahead_speed - v) / 2.0) * (ahead_dy < VIEW),
            np.clip(-behind_dy / VIEW, 0.0, 1.0),
            np.nan_to_num((behind_speed - v) / 2.0) * (-behind_dy < VIEW),
        ]
        own = [
            state["lane"] / (self.n_lanes - 1),
            state["speed_step"] / (len(SPEEDS) - 1),
            np.minimum(state["distance"] / FINISH, 1.0),
            self._time_left(state),
        ]
        # (B, n_lanes, 4) per lane, left to right -> (B, 5, 4) from our own lane outwards
        lanes = np.stack(per_lane, axis=2)
        seen = state["lane"][:, None] + np.array(LANE_OFFSETS)  # (B, 5) lane numbers
        on_road = (seen >= 0) & (seen < self.n_lanes)
        outwards = np.take_along_axis(lanes, np.clip(seen, 0, self.n_lanes - 1)[..., None], 1)
        outwards = np.where(on_road[..., None], outwards, 0.0)  # past the edge: a wall
        obs = np.concatenate([np.stack(own, axis=1), outwards.reshape(len(v), -1)], 1)
        return obs.astype(np.float32)

    def _time_left(self, state: State) -> np.ndarray:
        """The share of the time limit still to go, 1 at the start and 0 when time is up."""
        return np.maximum(self.time_limit - state["t"], 0) / self.time_limit

    def _backgrounds_table(self) -> np.ndarray:
        """(8, 5, 16, 64, 64, 3): the empty road for every scroll phase of the lane dashes, speed
        step (yellow bar, left verge) and progress sixteenth (green bar, right verge).

        Drawing a frame then starts with one gather; the bars show what one frame cannot.
        """
        size, left, right = self.frame_size, self.road_left, self.road_left + self.n_lanes * LANE_W
        rows = np.arange(size)
        table = np.empty((8, len(SPEEDS), 16, size, size, 3), dtype=np.uint8)
        table[...] = render.color("grass")
        table[..., left:right, :] = render.color("road")
        table[..., [left, right - 1], :] = render.color("lane")
        for phase in range(8):
            dashed = (phase + EGO_TOP - rows) % 8 < 4  # dashes fixed to the road, 4 on 4 off
            for k in range(1, self.n_lanes):
                table[phase, :, :, dashed, left + k * LANE_W] = render.color("lane")
        for step in range(len(SPEEDS)):
            table[:, step, :, size - 1 - 6 * (step + 1) : size - 1, 2:5] = render.color("key")
        for level in range(1, 16):
            table[:, :, level, size - 1 - 4 * level : size - 1, size - 5 : size - 2] = render.color(
                "goal"
            )
        return table

    @staticmethod
    def _sprite_table() -> np.ndarray:
        """(2 + SPEED_SHADES, CAR_LEN, CAR_W * 3) car sprites seen from above, as rows of RGB
        bytes, windscreen at the front: us, us after a crash, then traffic with its windscreen
        shaded by its speed (a still picture would not show the speed otherwise)."""
        shades = np.linspace(70, 255, SPEED_SHADES).astype(np.uint8)
        bodies = ["agent", "bomb"] + ["car"] * SPEED_SHADES
        screens = [render.color("background")] * 2 + [np.full(3, v, np.uint8) for v in shades]
        sprites = np.zeros((len(bodies), CAR_LEN, CAR_W * 3), dtype=np.uint8)
        for s, (body, screen) in enumerate(zip(bodies, screens, strict=True)):
            sprite = np.broadcast_to(render.color(body), (CAR_LEN, CAR_W, 3)).copy()
            sprite[2:4, 1:-1] = screen
            sprites[s] = sprite.reshape(CAR_LEN, CAR_W * 3)
        return sprites

    def draw(self, state: State) -> np.ndarray:
        phase = np.floor(state["distance"]).astype(np.int64) % 8
        progress = np.floor(15.99 * np.minimum(state["distance"] / FINISH, 1.0)).astype(np.int64)
        frames = self._backgrounds[phase, state["speed_step"], progress]  # (B, 64, 64, 3), a copy
        if self.highlight_lane:
            self._highlight_own_lane(frames, state["lane"])
        # the finish line: a chequered strip once it comes into view
        row = EGO_TOP - np.round(FINISH - state["distance"]).astype(np.int64)
        seen = np.flatnonzero((row >= 0) & (row < self.frame_size - 1))
        xs = np.arange(self.road_left, self.road_left + self.n_lanes * LANE_W)
        for dr in (0, 1):
            white = ((xs // 2 + dr) % 2 == 0)[:, None]
            strip = np.where(white, render.color("bullet"), render.color("background"))
            frames[seen[:, None], row[seen, None] + dr, xs] = strip
        self._paint_cars(frames, state)
        # the time left: a grey bar at the top of the left verge that shrinks to nothing
        length = np.ceil(TIME_BAR_ROWS * self._time_left(state)).astype(np.int64)
        filled = np.arange(TIME_BAR_ROWS) < length[:, None]  # (B, rows)
        bar = frames[:, 1 : 1 + TIME_BAR_ROWS, 2:5]
        frames[:, 1 : 1 + TIME_BAR_ROWS, 2:5] = np.where(
            filled[:, :, None, None], render.color("wall"), bar
        )
        return frames

    def _highlight_own_lane(self, frames: np.ndarray, lane: np.ndarray) -> None:
        """Paint the road of each game's own lane a lighter grey, top to bottom (its dashes and
        the road's edge stay as they are)."""
        games = np.arange(len(frames))[:, None]
        columns = self.road_left + 1 + LANE_W * lane[:, None] + np.arange(LANE_W - 1)  # (B, 9)
        strips = frames[games, :, columns]  # (B, 9, 64, 3): a copy (advanced indexing)
        strips[(strips == render.color("road")).all(axis=-1)] = render.color("own_lane")
        frames[games, :, columns] = strips

    def _paint_cars(self, frames: np.ndarray, state: State) -> None:
        """Paint the traffic, then our car (orange after a crash), sprite row by sprite row."""
        B, size = len(frames), self.frame_size
        g, k = np.nonzero(state["car_alive"])
        lane = np.concatenate([state["car_lane"][g, k], state["lane"]])
        top = EGO_TOP - np.round(state["car_dy"][g, k]).astype(np.int64)
        top = np.concatenate([top, np.full(B, EGO_TOP)])
        low, high = SPEEDS[0], TRAFFIC_SPEED[1]
        shade = np.round((state["car_speed"][g, k] - low) / (high - low) * (SPEED_SHADES - 1))
        shade = np.clip(shade, 0, SPEED_SHADES - 1)
        sprite = np.concatenate([2 + shade.astype(np.int64), state["crashed"].astype(np.int64)])
        g = np.concatenate([g, np.arange(B)])  # our car last: it wins where sprites overlap
        rows = top[:, None] + np.arange(CAR_LEN)  # (K, CAR_LEN) frame row of each sprite row
        car, r = np.nonzero((rows >= 0) & (rows < size))  # the sprite rows inside the frame
        # A car only ever covers the same CAR_W pixels of its lane, so view every frame row as
        # (n_lanes, CAR_W * 3) bytes of those pixels and copy whole sprite rows in one scatter.
        start = (self.road_left + 3) * 3
        road = frames.reshape(B * size, size * 3)[:, start : start + self.n_lanes * LANE_W * 3]
        slots = road.reshape(B * size, self.n_lanes, LANE_W * 3)[:, :, : CAR_W * 3]  # a view
        slots[g[car] * size + rows[car, r], lane[car]] = self._sprites[sprite[car], r]

    def status(self, state: State, i: int) -> str:
        speed = SPEEDS[state["speed_step"][i]]
        crash = "  CRASH" if state["crashed"][i] else ""
        left = max(self.time_limit - int(state["t"][i]), 0)
        return (
            f"distance {state['distance'][i]:.0f}/{FINISH:.0f}  speed {speed:.1f}  "
            f"steps left {left}{crash}"
        )

    # ---------------------------------------------------------------------------------- expert
    def expert_actions(self, state: State) -> np.ndarray:
        """Drive fast; when a car ahead is in the way, overtake through a freer lane (left first),
        else follow it at a distance from which a full brake is always safe."""
        ahead_dy, ahead_speed, behind_dy, _ = self.nearest_per_lane(state)
        ahead_speed = np.nan_to_num(ahead_speed, nan=TRAFFIC_SPEED[1])
        ahead_dy = np.minimum(ahead_dy, 1e3)
        B, L = ahead_dy.shape
        games, lane, step = np.arange(B), state["lane"], state["speed_step"]
        v = SPEEDS[step]

        def room(dy: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
            """Bumper gap left after a step at speed v and then braking to the leader's speed u."""
            brakes = v[..., None] - 0.5 * np.arange(1, len(SPEEDS)) - u[..., None]
            return dy - CAR_LEN - (v - u) - np.maximum(brakes, 0.0).sum(axis=-1)

        safe = NEAR_MISS + 1.0  # px of bumper gap kept even after a full brake
        own_dy, own_u = ahead_dy[games, lane], ahead_speed[games, lane]
        faster_ok = (step < len(SPEEDS) - 1) & (room(own_dy, own_u, v + 0.5) >= safe)
        keep_ok = room(own_dy, own_u, v) >= safe
        # Lane changes: worth it when our lane is blocked within 40 px and the side is freer. A side
        # lane is worth as much as the lane beyond it (less a car length), so the expert also
        # slips through a blocked lane towards an open one.
        best, best_dy = np.full(B, KEEP), own_dy + 8.0
        boxed_in = np.zeros(B, dtype=bool)  # a freer side lane exists, but a car is beside us
        for action, side in ((RIGHT, 1), (LEFT, -1)):  # LEFT last: it wins ties
            target = np.clip(lane + side, 0, L - 1)
            beyond = np.clip(lane + 2 * side, 0, L - 1)
            t_dy = np.maximum(ahead_dy[games, target], ahead_dy[games, beyond] - CAR_LEN)
            enter_ok = (target != lane) & (behind_dy[games, target] <= -(CAR_LEN + 2))
            enter_ok &= room(ahead_dy[games, target], ahead_speed[games, target], v) >= safe
            freer = (target != lane) & (own_dy < 40.0) & (t_dy >= own_dy + 8.0)
            car_beside = behind_dy[games, target] > -(CAR_LEN + 2)
            car_beside |= ahead_dy[games, target] < CAR_LEN
            boxed_in |= freer & car_beside & ~faster_ok
            better = enter_ok & freer & (t_dy >= best_dy)
            best = np.where(better, action, best)
            best_dy = np.where(better, t_dy, best_dy)
        # Boxed in: drop back (traffic is faster than our lowest speed) to pull out behind the car.
        speed_action = np.where(faster_ok, FASTER, np.where(keep_ok & ~boxed_in, KEEP, SLOWER))
        speed_action = np.where((speed_action == SLOWER) & (step == 0), KEEP, speed_action)
        return np.where(best != KEEP, best, speed_action).astype(np.int64)
