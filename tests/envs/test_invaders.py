"""Invaders' rules: shooting, marching, bombs, lives, winning and losing."""

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import invaders as inv
from rlsuite.envs.core import start_games
from rlsuite.envs.invaders import FIRE, LEFT, NOOP, Invaders


def new_games(n: int = 1, seed: int = 0, **kwargs) -> tuple[Invaders, dict]:
    game = Invaders(**kwargs)
    return game, start_games(game, np.arange(seed, seed + n))


def step(game: Invaders, state: dict, action: int):
    state["t"] += 1
    return game.step(state, np.full(len(state["t"]), action))


def quiet(state: dict) -> None:
    """No bombs in the sky and the formation frozen between marches (t = 1 mod MOVE_EVERY)."""
    state["bomb_on"][:] = False
    state["t"][:] = 0


def test_bullet_kills_the_lowest_alien_in_its_column_and_only_one_flies():
    game, state = new_games()
    quiet(state)
    state["offset"][0] = 0
    state["player_x"][0] = 4  # under the formation's third column
    result = step(game, state, FIRE)
    assert state["bullet_on"][0] and state["bullet_y"][0] == inv.PLAYER_ROW - inv.BULLET_SPEED
    first_y = state["bullet_y"][0]
    step(game, state, FIRE)  # ignored: a bullet is already in flight
    assert state["bullet_y"][0] == first_y - inv.BULLET_SPEED
    kills = 0
    for _ in range(10):
        state["t"][0] = 0  # hold the formation still: it marches when t is a multiple of 4
        result = step(game, state, NOOP)
        kills += int(result.events["kill"][0])
    assert kills == 1 and not state["bullet_on"][0]
    assert not state["alive"][0, inv.ALIEN_ROWS - 1, 2]  # the lowest alien of that column died
    assert state["alive"][0].sum() == inv.ALIEN_ROWS * inv.ALIEN_COLS - 1


def test_formation_steps_down_and_turns_at_the_wall():
    game, state = new_games()
    quiet(state)
    state["offset"][0], state["direction"][0] = inv.MAX_OFFSET, 1
    top = state["top"][0]
    for _ in range(inv.MOVE_EVERY):
        step(game, state, NOOP)
    assert state["top"][0] == top + 1 and state["direction"][0] == -1
    assert state["offset"][0] == inv.MAX_OFFSET
    for _ in range(inv.MOVE_EVERY):
        step(game, state, NOOP)
    assert state["offset"][0] == inv.MAX_OFFSET - 1 and state["top"][0] == top + 1


def test_a_bomb_costs_a_life_and_the_last_life_loses_the_wave():
    game, state = new_games(lives=2)
    for lives_left in (1, 0):
        quiet(state)
        state["bomb_on"][0, 0] = True
        state["bomb_x"][0, 0] = state["player_x"][0]
        state["bomb_y"][0, 0] = inv.PLAYER_ROW - 1
        result = step(game, state, NOOP)
        assert result.events["hit"][0] == 1 and state["lives"][0] == lives_left
        assert not state["bomb_on"][0].any()  # a hit clears the sky
    assert result.terminated[0] and not result.success[0] and result.task_reward[0] == -1


def test_stepping_aside_dodges_a_bomb():
    game, state = new_games()
    quiet(state)
    state["player_x"][0] = 5
    state["bomb_on"][0, 0], state["bomb_x"][0, 0], state["bomb_y"][0, 0] = True, 5, 14
    result = step(game, state, LEFT)
    assert result.events["hit"][0] == 0 and state["lives"][0] == 3


def test_the_observation_shows_the_bombs_the_cannon_can_step_into():
    game, state = new_games()
    quiet(state)
    state["player_x"][0] = 5
    # One bomb right above the cannon, one low in the column to its right, one far away.
    for slot, (x, y) in enumerate([(5, 9), (6, 13), (11, 14)]):
        state["bomb_on"][0, slot], state["bomb_x"][0, slot], state["bomb_y"][0, slot] = True, x, y
    near = game.symbolic(state)[0, -6:-3] * 15  # left, own, right column; then target, lives
    assert near == pytest.approx([0, 9, 13])
    state["bomb_y"][0, 0] = 12  # a second bomb in the right-hand column: the lower one counts
    state["bomb_x"][0, 0] = 6
    assert game.symbolic(state)[0, -6:-3] * 15 == pytest.approx([0, 0, 13])


def test_the_observation_shows_the_nearest_column_that_still_has_aliens():
    game, state = new_games()
    quiet(state)
    state["offset"][0], state["top"][0], state["player_x"][0] = 3, 4, 8  # columns 3, 5, ..., 13
    state["alive"][0] = False
    state["alive"][0, 0, 1] = True  # column 5, top row (board row 4)
    state["alive"][0, :2, 4] = True  # column 11, rows 4 and 6: the lower one counts
    target = game.symbolic(state)[0, -3:-1] * 15  # distance from the cannon, lowest alien's row
    assert target == pytest.approx([-3, 4])  # column 5 is 3 to the left; column 11 is 3 right
    state["player_x"][0] = 9
    assert game.symbolic(state)[0, -3:-1] * 15 == pytest.approx([2, 6])


def test_clearing_the_wave_wins_and_landing_loses():
    game, state = new_games()
    quiet(state)
    state["alive"][0] = False
    state["alive"][0, 0, 0] = True
    state["offset"][0], state["player_x"][0] = 0, 0
    state["top"][0] = inv.PLAYER_ROW - inv.BULLET_SPEED  # within the bullet's first step
    result = step(game, state, FIRE)
    assert result.events["kill"][0] == 1
    assert result.terminated[0] and result.success[0] and result.task_reward[0] == 1

    game, state = new_games()
    quiet(state)
    state["top"][0] = inv.LANDING_ROW - inv.GAP * (inv.ALIEN_ROWS - 1)  # bottom row has landed
    result = step(game, state, NOOP)
    assert result.terminated[0] and not result.success[0] and result.task_reward[0] == -1


def test_observations_stay_inside_their_space_and_frames_show_the_cannon():
    env = gym.make_vec("rlsuite/Invaders-v0", 16, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        assert env.single_observation_space.contains(obs[0]) and np.abs(obs).max() <= 1
        obs, *_ = env.step(rng.integers(0, 4, 16))
    game, state = new_games()
    state["player_x"][0] = 7
    frame = game.draw(state)[0]
    bottom = frame[-2:, :, :]  # the cannon's base
    red = np.all(bottom == inv.render.color("agent"), axis=-1).any(axis=0)
    assert set(np.flatnonzero(red)) == set(range(7 * inv.CELL, 8 * inv.CELL))


def test_expert_fires_only_shots_that_hit():
    env = gym.make_vec("rlsuite/Invaders-v0", 32, vectorization_mode="vector_entry_point")
    env.reset(seed=3)
    shots = kills = 0
    for _ in range(100):
        actions = env.unwrapped.expert_actions()
        shots += int(((actions == FIRE) & ~env.unwrapped.state["bullet_on"]).sum())
        alive = env.unwrapped.state["alive"].sum(axis=(1, 2))
        _, _, terminated, truncated, _ = env.step(actions)
        killed = alive - env.unwrapped.state["alive"].sum(axis=(1, 2))
        kills += int(killed[~(terminated | truncated)].sum())  # ended games were refilled
    assert shots > 0 and kills >= 0.9 * shots


def test_bad_lives_raise_a_clear_error():
    with pytest.raises(ValueError, match="lives must be an integer from 1 to 9"):
        gym.make("rlsuite/Invaders-v0", lives=0)


def test_frames_show_the_marching_direction_and_clock():
    # The formation's next move depends on its direction and on the step within MOVE_EVERY, which
    # a picture of the board alone does not show: the top-right marks do.
    envs = gym.make_vec(
        "rlsuite/Invaders-v0", 8, vectorization_mode="vector_entry_point", obs_mode="pixels"
    )
    frames, _ = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        state = envs.unwrapped.state
        marks = frames[:, inv.MARK_ROW]  # (B, 64, 3): the one-pixel line of marks
        green = (marks == inv.render.color("alien")).all(axis=-1)
        right = green[:, inv.DIRECTION_MARK + inv.CELL : inv.CLOCK_MARK].all(axis=1)
        left = green[:, inv.DIRECTION_MARK : inv.DIRECTION_MARK + inv.CELL].all(axis=1)
        assert (right != left).all()
        np.testing.assert_array_equal(np.where(right, 1, -1), state["direction"])
        white = (marks[:, inv.CLOCK_MARK :] == inv.render.color("bullet")).all(axis=-1)
        tick = white.reshape(-1, inv.MOVE_EVERY, inv.CELL).all(axis=2)
        assert (tick.sum(axis=1) == 1).all()
        np.testing.assert_array_equal(tick.argmax(axis=1), state["t"] % inv.MOVE_EVERY)
        seen |= set(zip(state["direction"], state["t"] % inv.MOVE_EVERY, strict=True))
        frames, *_ = envs.step(rng.integers(0, 4, 8))
    assert len(seen) == 2 * inv.MOVE_EVERY  # both directions, every phase of the clock
