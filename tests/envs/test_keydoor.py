"""KeyDoor's rules: walls and the locked door block, the key opens the door, the goal ends it."""

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import grid
from rlsuite.envs.keydoor import KeyDoor
from rlsuite.envs.shaping import potential_scale

RIGHT, DOWN, LEFT, UP = range(4)


def make_env(**kwargs):
    """A single 8x8 env, reset; its state is edited by the tests to set up a situation."""
    env = gym.make("rlsuite/KeyDoor-8x8-v0", **kwargs)
    env.reset(seed=0)
    return env


def place(env, **values) -> None:
    """Overwrite state fields of the (single) game: place(env, agent_x=2, has_key=True)."""
    for name, value in values.items():
        env.unwrapped.state[name][0] = value


def agent(env) -> tuple[int, int]:
    state = env.unwrapped.state
    return int(state["agent_x"][0]), int(state["agent_y"][0])


def test_outer_and_dividing_walls_block_moves():
    env = make_env()
    place(env, wall_x=4, door_y=3, key_x=1, key_y=6, agent_x=1, agent_y=1)
    for action in (LEFT, UP):  # into the outer wall
        env.step(action)
        assert agent(env) == (1, 1)
    place(env, agent_x=3, agent_y=1)
    env.step(RIGHT)  # into the dividing wall, away from the door
    assert agent(env) == (3, 1)


def test_locked_door_blocks_without_key_and_the_key_opens_it():
    env = make_env()
    place(env, wall_x=4, door_y=3, key_x=1, key_y=3, agent_x=3, agent_y=3)
    env.step(RIGHT)  # no key: the door holds
    assert agent(env) == (3, 3) and not env.unwrapped.state["door_open"][0]
    for action in (LEFT, LEFT):  # walk onto the key at (1, 3)
        env.step(action)
    assert env.unwrapped.state["has_key"][0]
    for action in (RIGHT, RIGHT, RIGHT):  # back to the door, then bump into it
        env.step(action)
    # The bump opened the door; the agent stays in front of it.
    assert env.unwrapped.state["door_open"][0] and agent(env) == (3, 3)
    env.step(RIGHT)  # now it walks through
    assert agent(env) == (4, 3)


def test_key_pickup_raises_the_potential_in_shaped_mode_only():
    sparse, shaped = make_env(), make_env(reward_mode="shaped")
    for env in (sparse, shaped):
        place(env, wall_x=4, door_y=3, key_x=2, key_y=3, agent_x=3, agent_y=3)
    rewards = {}
    for env in (sparse, shaped):
        _, reward, *_, info = env.step(LEFT)  # onto the key
        assert env.unwrapped.state["has_key"][0] and info["task_reward"] == 0.0
        rewards[env.unwrapped.reward_mode] = reward
    assert rewards["sparse"] == 0.0
    # A stage done is a third of the potential's range (Phi = scale * progress).
    scale = potential_scale(0.99, KeyDoor(8).shaping_horizon())
    assert rewards["shaped"] > 0.3 * scale


def test_reaching_the_goal_ends_the_episode_with_success_and_reward_one():
    env = make_env()
    place(env, wall_x=3, door_y=2, agent_x=6, agent_y=5, has_key=True, door_open=True)
    _, reward, terminated, truncated, info = env.step(DOWN)
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["is_success"] and info["task_reward"] == 1.0


def test_the_key_is_drawn_until_picked_up_and_the_door_changes_colour_when_opened():
    env = make_env(obs_mode="pixels")
    game = env.unwrapped.game
    place(env, wall_x=4, door_y=3, key_x=2, key_y=3, agent_x=3, agent_y=3)
    cells = game.cells(env.unwrapped.state)[0]
    assert cells[3, 2] == grid.KEY and cells[3, 4] == grid.DOOR_LOCKED
    env.step(LEFT)
    env.step(RIGHT)
    env.step(RIGHT)
    cells = game.cells(env.unwrapped.state)[0]
    assert (cells == grid.KEY).sum() == 0 and cells[3, 4] == grid.DOOR_OPEN
    assert (cells == grid.AGENT).sum() == 1 and (cells == grid.GOAL).sum() == 1


@pytest.mark.parametrize("size", [5, 8, 16])
def test_layouts_are_valid_for_many_seeds(size):
    game = KeyDoor(size)
    envs = gym.make_vec(
        f"rlsuite/KeyDoor-{size}x{size}-v0", 200, vectorization_mode="vector_entry_point"
    )
    obs, _ = envs.reset(seed=0)
    state = envs.unwrapped.state
    assert ((state["wall_x"] >= 2) & (state["wall_x"] <= size - 3)).all()
    assert ((state["door_y"] >= 1) & (state["door_y"] <= size - 2)).all()
    for who in ("agent", "key"):  # both start left of the dividing wall, inside the outer wall
        assert ((state[f"{who}_x"] >= 1) & (state[f"{who}_x"] < state["wall_x"])).all()
        assert ((state[f"{who}_y"] >= 1) & (state[f"{who}_y"] <= size - 2)).all()
    same_cell = (state["agent_x"] == state["key_x"]) & (state["agent_y"] == state["key_y"])
    assert not same_cell.any()
    assert envs.single_observation_space.contains(obs[0]) and np.abs(obs).max() <= 1.0
    assert game.draw(state).shape == (200, 64, 64, 3)


@pytest.mark.parametrize("size", [4, 33, 8.0, "8"])
def test_bad_size_raises_naming_the_valid_range(size):
    with pytest.raises(ValueError, match="size must be an integer from 5 to 32"):
        gym.make("rlsuite/KeyDoor-8x8-v0", size=size)
