"""Maze's layouts and rules: chained rooms all reachable, walls block, the view shows the walls."""

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import grid
from rlsuite.envs.maze import GRID_SIZE, PAD, VIEW, generate_layout

RIGHT, DOWN, LEFT, UP = range(4)
INSIDE = slice(PAD, PAD + GRID_SIZE)


@pytest.mark.parametrize("n_rooms", [1, 2, 4, 6])
def test_layouts_chain_n_rooms_from_agent_to_goal_all_reachable(n_rooms):
    for seed in range(30):
        cells, room_of, agent, goal = generate_layout(np.random.default_rng(seed), n_rooms)
        assert cells.shape == (GRID_SIZE, GRID_SIZE)
        assert (cells[[0, -1], :] == grid.WALL).all() and (cells[:, [0, -1]] == grid.WALL).all()
        assert set(np.unique(room_of)) == set(range(-1, n_rooms))
        assert (cells == grid.DOOR_OPEN).sum() == n_rooms - 1
        assert room_of[agent] == 0 and room_of[goal] == n_rooms - 1 and cells[goal] == grid.GOAL
        dist = grid.bfs_distances(cells == grid.WALL, goal)
        open_cells = cells != grid.WALL
        assert (dist[open_cells] >= 0).all(), "a room is cut off from the goal"
        # A chain: the goal is at least one doorway per room away from the first room.
        assert dist[agent] >= n_rooms - 1


def test_same_seed_same_layout_other_seed_other_layout():
    first = [generate_layout(np.random.default_rng(s), 4)[0] for s in (1, 1, 2)]
    np.testing.assert_array_equal(first[0], first[1])
    assert not np.array_equal(first[0], first[2])


def make_env(**kwargs):
    env = gym.make("rlsuite/Maze-4Rooms-v0", **kwargs)
    env.reset(seed=0)
    return env


def position(env) -> tuple[int, int]:
    state = env.unwrapped.state
    return int(state["agent_x"][0]), int(state["agent_y"][0])


def test_walls_block_and_floor_lets_through():
    env = make_env()
    cells = env.unwrapped.state["cells"][0, INSIDE, INSIDE]
    for _ in range(200):  # random walk: every move lands where the grid says it may
        x, y = position(env)
        action = int(env.action_space.sample())
        nx, ny = x + grid.MOVE_DX[action], y + grid.MOVE_DY[action]
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
        expected = (x, y) if cells[ny, nx] == grid.WALL else (nx, ny)
        assert position(env) == expected


def test_the_expert_reaches_the_goal_through_every_room_and_each_step_is_shaped_upwards():
    env = make_env(reward_mode="shaped")
    rooms_entered, rewards = 0, []
    for _ in range(80):
        before = int(env.unwrapped.state["best_room"][0])
        _, reward, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        rooms_entered += int(env.unwrapped.state["best_room"][0]) > before
        rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated and info["is_success"] and info["task_reward"] == 1.0
    assert rooms_entered == 3  # rooms 2, 3 and 4 of the chain
    # Every step one closer to the goal raises the potential; the last one is paid the task's +1.
    assert min(rewards[:-1]) > 0 and rewards[-1] > 0.5


def test_symbolic_view_shows_the_walls_around_the_agent():
    env = gym.make("rlsuite/Maze-6Rooms-v0")
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        state = env.unwrapped.state
        x, y = position(env)
        padded = state["cells"][0]
        around = padded[y : y + VIEW, x : x + VIEW]  # padded coordinates: the agent at the centre
        n = VIEW * VIEW
        np.testing.assert_array_equal(obs[:n].reshape(VIEW, VIEW), around == grid.WALL)
        assert obs[n // 2] == 0  # the agent's own cell is never a wall
        assert env.observation_space.contains(obs)


@pytest.mark.parametrize("n_rooms", [0, 7, 2.0, "4"])
def test_bad_n_rooms_raises_naming_the_valid_range(n_rooms):
    with pytest.raises(ValueError, match="n_rooms must be an integer from 1 to 6"):
        gym.make("rlsuite/Maze-4Rooms-v0", n_rooms=n_rooms)


def test_goal_hint_off_leaves_out_the_goal_offset_and_nothing_else():
    hinted = gym.make("rlsuite/Maze-6Rooms-v0")
    blind = gym.make("rlsuite/Maze-6Rooms-v0", goal_hint=False)
    assert hinted.observation_space.shape == (3 * VIEW * VIEW + 4,)  # the default: as before
    assert blind.observation_space.shape == (3 * VIEW * VIEW + 2,)
    obs, _ = hinted.reset(seed=3)
    blind_obs, _ = blind.reset(seed=3)
    for action in [0, 1, 2, 3, 0, 0, 1]:
        np.testing.assert_array_equal(blind_obs, obs[:-2])  # view and position, no goal offset
        assert blind.observation_space.contains(blind_obs)
        obs = hinted.step(action)[0]
        blind_obs = blind.step(action)[0]
    with pytest.raises(ValueError, match="goal_hint"):
        gym.make("rlsuite/Maze-6Rooms-v0", goal_hint="no")


def test_show_visited_marks_the_cells_stood_on_this_episode_and_nothing_else():
    plain = gym.make("rlsuite/Maze-4Rooms-v0")
    remembering = gym.make("rlsuite/Maze-4Rooms-v0", show_visited=True)
    n = VIEW * VIEW
    assert remembering.observation_space.shape == (4 * n + 4,)
    obs, _ = remembering.reset(seed=5)
    plain_obs, _ = plain.reset(seed=5)
    stood = {position(remembering)}
    for step, action in enumerate([0, 0, 1, 1, 2, 2, 3, 3, 0, 1]):
        # Without the channel, the observation is the plain game's.
        np.testing.assert_array_equal(np.delete(obs, np.s_[3 * n : 4 * n]), plain_obs)
        assert remembering.observation_space.contains(obs)
        x, y = position(remembering)  # the view's centre is the agent's cell
        visited = obs[3 * n : 4 * n].reshape(VIEW, VIEW)
        expected = np.zeros((VIEW, VIEW))
        for cx, cy in stood:
            if abs(cx - x) <= VIEW // 2 and abs(cy - y) <= VIEW // 2:
                expected[cy - y + VIEW // 2, cx - x + VIEW // 2] = 1
        np.testing.assert_array_equal(visited, expected, err_msg=f"step {step}")
        obs = remembering.step(action)[0]
        plain_obs = plain.step(action)[0]
        stood.add(position(remembering))
    obs, _ = remembering.reset(seed=6)  # a new episode remembers only its start
    assert obs[3 * n : 4 * n].sum() == 1 and obs[3 * n + n // 2] == 1
    with pytest.raises(ValueError, match="show_visited"):
        gym.make("rlsuite/Maze-4Rooms-v0", show_visited=1)
