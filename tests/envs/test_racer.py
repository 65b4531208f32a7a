"""Racer's own rules: steering, speed, crashes, the finish, traffic, events, views, the expert."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import racer
from rlsuite.envs.core import start_games
from rlsuite.envs.racer import FASTER, FINISH, KEEP, LEFT, RIGHT, SLOWER, SPEEDS, Racer

ENV_ID = "rlsuite/Racer-v0"


def empty_road(game: Racer, n: int = 1, lane: int = 2, speed_step: int = 2) -> dict:
    """n games at the start line with no traffic at all."""
    state = start_games(game, np.arange(n) + 7)
    state["car_alive"][:] = False
    state["lane"][:] = lane
    state["speed_step"][:] = speed_step
    return state


def add_car(state: dict, slot: int, lane: int, dy: float, speed: float, game: int = 0) -> None:
    state["car_alive"][game, slot] = True
    state["car_lane"][game, slot] = lane
    state["car_dy"][game, slot] = dy
    state["car_speed"][game, slot] = speed


def no_spawn(game: Racer) -> Racer:
    game.spawn_prob = 0.0  # keep hand-built scenes exactly as built
    return game


@pytest.mark.parametrize(
    ("kwargs", "valid"),
    [
        ({"n_lanes": 7}, "3, 4, 5"),
        ({"traffic": "rush"}, "light, normal"),
        ({"time_limit": 50}, "100"),
        ({"highlight_lane": "yes"}, "true or false"),
    ],
)
def test_bad_options_name_the_valid_values(kwargs, valid):
    with pytest.raises(ValueError, match=valid):
        gym.make(ENV_ID, **kwargs)


def test_steering_and_speed_are_clamped():
    game = no_spawn(Racer())
    state = empty_road(game, lane=0, speed_step=len(SPEEDS) - 1)
    game.step(state, np.array([LEFT]))
    assert state["lane"][0] == 0  # the road edge stops the steering
    game.step(state, np.array([RIGHT]))
    assert state["lane"][0] == 1
    game.step(state, np.array([FASTER]))
    assert state["speed_step"][0] == len(SPEEDS) - 1
    distance = state["distance"][0]
    game.step(state, np.array([SLOWER]))
    assert state["distance"][0] == pytest.approx(distance + SPEEDS[-2])


def test_rear_ending_a_slower_car_is_a_crash():
    game = no_spawn(Racer())
    state = empty_road(game, speed_step=len(SPEEDS) - 1)
    add_car(state, 0, lane=2, dy=11.0, speed=1.25)  # 1 px of bumper gap, closing at 1.75 px/step
    result = game.step(state, np.array([KEEP]))
    assert result.terminated[0] and not result.success[0]
    assert result.task_reward[0] == 0.0 and result.events["crash"][0] == 1.0
    assert state["crashed"][0]


def test_steering_into_a_car_beside_us_is_a_crash_and_braking_in_time_is_not():
    game = no_spawn(Racer())
    state = empty_road(game, n=2)
    add_car(state, 0, lane=1, dy=3.0, speed=2.0, game=0)  # right beside us, one lane left
    add_car(state, 0, lane=2, dy=16.0, speed=1.25, game=1)  # ahead in our lane
    result = game.step(state, np.array([LEFT, SLOWER]))
    assert result.terminated.tolist() == [True, False]
    for _ in range(50):  # game 1 keeps braking: it follows, never crashes
        result = game.step(state, np.array([KEEP, SLOWER]))
        assert not result.terminated[1]


def test_reaching_the_finish_is_the_only_reward():
    game = no_spawn(Racer())
    state = empty_road(game)
    state["distance"][0] = FINISH - 1.0
    result = game.step(state, np.array([KEEP]))
    assert result.terminated[0] and result.success[0] and result.task_reward[0] == 1.0


def test_traffic_behind_us_brakes_instead_of_hitting_us():
    game = no_spawn(Racer())
    state = empty_road(game, speed_step=0)  # we crawl at 1 px/step
    add_car(state, 0, lane=2, dy=-14.0, speed=2.0)  # a faster car right behind us
    for _ in range(30):
        result = game.step(state, np.array([KEEP]))
        assert not result.terminated[0]
    assert state["car_dy"][0, 0] <= -racer.CAR_LEN - racer.FOLLOW_GAP + 1e-9
    assert state["car_speed"][0, 0] == SPEEDS[0]  # it now drives at our speed


def test_overtake_counts_cars_passed_minus_cars_that_passed_us():
    game = no_spawn(Racer())
    state = empty_road(game, n=2)
    add_car(state, 0, lane=1, dy=0.5, speed=1.25, game=0)  # we (2 px/step) pass it
    add_car(state, 0, lane=1, dy=-0.5, speed=2.0, game=1)  # it passes us as we slow down
    result = game.step(state, np.array([KEEP, SLOWER]))
    assert result.events["overtake"].tolist() == [1.0, -1.0]


def test_tailgating_is_a_near_miss():
    game = no_spawn(Racer())
    state = empty_road(game, speed_step=0)
    add_car(state, 0, lane=2, dy=12.0, speed=1.25)
    assert game.step(state, np.array([KEEP])).events["near_miss"][0] == 1.0
    state["car_dy"][0, 0] = 30.0
    assert game.step(state, np.array([KEEP])).events["near_miss"][0] == 0.0


def test_symbolic_reports_the_nearest_car_ahead_and_behind_per_lane_from_our_own_outwards():
    game = no_spawn(Racer())
    state = empty_road(game, n=2)
    state["lane"][1] = 4  # game 1 drives in the rightmost lane
    for g in (0, 1):
        add_car(state, 0, lane=4, dy=28.0, speed=2.0, game=g)
        add_car(state, 1, lane=4, dy=50.0, speed=1.5, game=g)  # farther: hidden behind the first
        add_car(state, 2, lane=0, dy=-14.0, speed=1.5, game=g)
    obs = game.symbolic(state)
    assert all(game.symbolic_space().contains(o) for o in obs)
    # per slot (own, left, right, two left, two right):
    # ahead dist, ahead rel speed, behind dist, behind rel speed
    middle, right_edge = obs[:, 4:].reshape(2, 5, 4)
    car_ahead, car_behind, empty = [0.5, 0.0, 1.0, 0.0], [1.0, 0.0, 0.25, -0.25], [1, 0, 1, 0]
    np.testing.assert_allclose(middle, [empty, empty, empty, car_behind, car_ahead])
    wall = [0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(right_edge, [car_ahead, empty, wall, empty, wall])
    assert obs[0, :4].tolist() == [0.5, 0.5, 0.0, 1.0]  # middle lane and speed, start, all time
    assert obs[1, 0] == 1.0


def test_running_out_of_time_ends_the_drive_as_a_failure_the_agent_can_see_coming():
    env = gym.make(ENV_ID, time_limit=100)
    obs, _ = env.reset(seed=3)
    time_left = [obs[3]]
    for _ in range(100):  # crawl behind the traffic, never finishing 1500 px
        obs, reward, terminated, truncated, info = env.step(SLOWER)
        time_left.append(obs[3])
        if terminated:
            break
    assert terminated and not truncated  # a rule of the game: no bootstrapping past it
    assert not info["is_success"] and info["task_reward"] == 0.0
    assert time_left == pytest.approx(np.linspace(1.0, 0.0, 101).tolist())


def test_the_time_bar_shrinks_as_the_time_runs_out():
    game = no_spawn(Racer(time_limit=200))
    state = empty_road(game, n=3)
    state["t"][:] = [0, 100, 200]
    bar = game.draw(state)[:, 1 : 1 + racer.TIME_BAR_ROWS, 3]  # (3, rows, rgb), the bar's middle
    lit = (bar == racer.render.color("wall")).all(axis=-1).sum(axis=1)
    assert lit.tolist() == [racer.TIME_BAR_ROWS, racer.TIME_BAR_ROWS // 2, 0]
    assert game.status(state, 1).endswith("steps left 100")


def test_frames_show_our_car_red_and_orange_after_a_crash():
    game = no_spawn(Racer())
    state = empty_road(game, n=2)
    state["crashed"][1] = True
    frames = game.draw(state)
    assert frames.shape == (2, 64, 64, 3) and frames.dtype == np.uint8
    x = game.road_left + 2 * racer.LANE_W + 3  # left edge of our car in the middle lane
    body = (racer.EGO_TOP + racer.CAR_LEN - 1, x)  # a rear pixel: not the windscreen
    assert tuple(frames[0][body]) == racer.render.PALETTE["agent"]
    assert tuple(frames[1][body]) == racer.render.PALETTE["bomb"]


@pytest.mark.parametrize("kwargs", [{"n_lanes": 3, "traffic": "heavy"}, {"n_lanes": 4}])
def test_expert_finishes_variants_and_random_play_crashes(kwargs):
    n = 100
    envs = gym.make_vec(ENV_ID, n, vectorization_mode="vector_entry_point", **kwargs)
    rng = np.random.default_rng(0)
    results = {}
    for player in ("expert", "random"):
        envs.reset(seed=1000)
        done, success = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        while not done.all():
            if player == "expert":
                actions = envs.unwrapped.expert_actions()
            else:
                actions = rng.integers(0, 5, n)
            _, _, terminated, truncated, info = envs.step(actions)
            ended = (terminated | truncated) & ~done
            success |= ended & info["is_success"]
            done |= ended
        results[player] = success.mean()
    assert results["expert"] >= 0.95
    assert results["random"] <= 0.05


def test_frames_show_each_traffic_cars_speed_on_its_windscreen():
    # Traffic moves by its own speed, which a still picture would not show: the windscreen's
    # brightness does, faster cars brighter.
    game = no_spawn(Racer())
    state = empty_road(game)
    shade = 1.0 / (racer.SPEED_SHADES - 1)  # px per step between two shades
    speeds = [1.0, 1.0 + 4 * shade, 1.0 + 7 * shade, 1.0 + 11 * shade, 2.0]
    for lane, speed in enumerate(speeds):
        add_car(state, lane, lane=lane, dy=20.0, speed=speed)
    frame = game.draw(state)[0]
    row = racer.EGO_TOP - 20 + 2  # the windscreen's first row
    columns = [game.road_left + lane * racer.LANE_W + 3 + 2 for lane in range(len(speeds))]
    brightness = [int(frame[row, x].sum()) for x in columns]
    assert brightness == sorted(brightness) and len(set(brightness)) == len(speeds)
    state["car_speed"][0, 2] += shade  # one shade's worth faster
    assert int(game.draw(state)[0][row, columns[2]].sum()) > brightness[2]


def test_highlight_lane_paints_our_lane_lighter_all_the_way_up_and_nothing_else():
    plain, lit = no_spawn(Racer()), no_spawn(Racer(highlight_lane=True))
    state = empty_road(plain, n=2)
    state["lane"][:] = [1, 4]  # a middle lane, and the lane along the road's right edge
    add_car(state, 0, lane=1, dy=30.0, speed=1.5)  # far ahead in our lane
    before, after = plain.draw(state), lit.draw(state)
    changed = (before != after).any(axis=-1)  # (2, rows, columns)
    edge = plain.road_left + plain.n_lanes * racer.LANE_W - 1  # the road's right edge line
    for g, lane in enumerate(state["lane"]):
        left = plain.road_left + lane * racer.LANE_W
        columns = np.flatnonzero(changed[g].any(axis=0))
        assert columns.tolist() == [c for c in range(left + 1, left + racer.LANE_W) if c != edge]
        assert changed[g][:, left + 1].all()  # top to bottom beside the lane's left dashes
        assert (after[g][changed[g]] == racer.render.color("own_lane")).all()
    car_row = racer.EGO_TOP - 30 + 5
    x = plain.road_left + racer.LANE_W + 1  # the road between the dashes and the car
    assert tuple(before[0][car_row, x]) == racer.render.PALETTE["road"]
    assert tuple(after[0][car_row, x]) == racer.render.PALETTE["own_lane"]
    car = slice(x + 2, x + 2 + racer.CAR_W)
    assert (after[0][car_row, car] == before[0][car_row, car]).all()  # the car drawn over it
