"""Forage's rules: draining health, supplies, acid, respawning, surviving and dying."""

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import forage as fg
from rlsuite.envs.core import start_games
from rlsuite.envs.forage import Forage

STAY, UP, DOWN, LEFT, RIGHT = range(5)


def new_games(n: int = 1, seed: int = 0, **kwargs) -> tuple[Forage, dict]:
    game = Forage(**kwargs)
    return game, start_games(game, np.arange(seed, seed + n))


def step(game: Forage, state: dict, action: int):
    state["t"] += 1
    return game.step(state, np.full(len(state["t"]), action))


def clear_arena(state: dict) -> None:
    """Put the forager at (7, 7) and every item far away in the bottom row (columns 0-11)."""
    state["y"][:], state["x"][:] = 7, 7
    state["item_y"][:] = fg.ROWS - 1
    state["item_x"][:] = np.arange(fg.N_ITEMS)


def test_health_drains_every_step_and_standing_still_is_idle():
    game, state = new_games()
    clear_arena(state)
    result = step(game, state, STAY)
    assert state["health"][0] == fg.MAX_HEALTH - fg.DRAIN
    assert result.events["idle"][0] == 1 and result.events["alive"][0] == 1
    result = step(game, state, UP)
    assert (state["y"][0], state["x"][0]) == (6, 7) and result.events["idle"][0] == 0


def test_the_border_stops_the_forager():
    game, state = new_games()
    clear_arena(state)
    state["y"][0], state["x"][0] = 0, 0
    result = step(game, state, UP)
    assert (state["y"][0], state["x"][0]) == (0, 0) and result.events["idle"][0] == 1


def test_food_and_medkits_restore_health_and_reappear_on_a_free_cell():
    game, state = new_games()
    clear_arena(state)
    state["health"][0] = 50
    state["item_y"][0, 0], state["item_x"][0, 0] = 6, 7  # food just above
    result = step(game, state, UP)
    assert result.events["food"][0] == 1
    assert state["health"][0] == 50 - fg.DRAIN + fg.GAIN[0]
    food = (state["item_y"][0, 0], state["item_x"][0, 0])
    others = set(zip(state["item_y"][0, 1:], state["item_x"][0, 1:], strict=True))
    assert food != (6, 7) and food not in others  # not under the forager, not on another item
    medkit = fg.N_FOOD
    state["item_y"][0, medkit], state["item_x"][0, medkit] = 5, 7
    result = step(game, state, UP)
    assert result.events["medkit"][0] == 1
    assert state["health"][0] == fg.MAX_HEALTH  # capped


def test_acid_burns_and_an_empty_stomach_dies():
    game, state = new_games()
    clear_arena(state)
    state["item_y"][0, fg.N_SUPPLY], state["item_x"][0, fg.N_SUPPLY] = 7, 8  # acid to the right
    result = step(game, state, RIGHT)
    assert result.events["hazard"][0] == 1
    assert state["health"][0] == fg.MAX_HEALTH - fg.DRAIN - fg.HAZARD_DAMAGE
    state["health"][0] = 10
    result = step(game, state, STAY)  # still in the acid
    assert state["health"][0] == 0 and result.terminated[0]
    assert not result.success[0] and result.task_reward[0] == 0 and result.events["alive"][0] == 0


def test_surviving_the_whole_duration_wins():
    game, state = new_games(duration=20)
    clear_arena(state)
    for t in range(1, 21):
        result = step(game, state, LEFT if t % 2 else RIGHT)
        assert result.terminated[0] == (t == 20)
    assert result.success[0] and result.task_reward[0] == 1


def test_reset_places_every_item_on_its_own_cell():
    game, state = new_games(500, seed=1)
    cells = state["item_y"] * fg.COLS + state["item_x"]  # (500, N_ITEMS)
    agent = state["y"] * fg.COLS + state["x"]
    everything = np.concatenate([cells, agent[:, None]], axis=1)
    assert all(len(set(row)) == fg.N_ITEMS + 1 for row in everything)
    assert cells.min() >= 0 and cells.max() < fg.ROWS * fg.COLS


def test_expert_walks_around_acid_to_reach_food():
    game, state = new_games()
    clear_arena(state)
    state["item_y"][0, 0], state["item_x"][0, 0] = 7, 10  # food three cells to the right...
    state["item_y"][0, fg.N_SUPPLY], state["item_x"][0, fg.N_SUPPLY] = 7, 8  # ...acid in the way
    burns = 0
    for _ in range(6):
        result = step(game, state, int(game.expert_actions(state)[0]))
        burns += int(result.events["hazard"][0])
        if result.events["food"][0]:
            break
    assert result.events["food"][0] == 1 and burns == 0
    assert state["t"][0] == 5  # the shortest way around one acid pool


def test_observations_stay_inside_their_space_and_bars_show_health():
    env = gym.make_vec("rlsuite/Forage-v0", 16, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(150):
        assert all(env.single_observation_space.contains(o) for o in obs)
        obs, *_ = env.step(rng.integers(0, 5, 16))
    game, state = new_games()
    state["health"][0] = 50
    frame = game.draw(state)[0]
    red = np.all(frame[0] == fg.render.color("agent"), axis=-1)
    assert red.sum() == 32  # half the width for half the health


def test_bad_duration_raises_a_clear_error():
    with pytest.raises(ValueError, match="duration must be an integer from 10 to 10000"):
        gym.make("rlsuite/Forage-v0", duration=5)
