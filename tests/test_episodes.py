"""The episode tracker under both autoreset modes, on real envs: every episode it reports is the
one a plain loop over a single env, replaying the same actions, sees."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.episodes import Episode, EpisodeTracker


def play_vector(envs: gym.vector.VectorEnv, steps: int, seed: int):
    """Random actions in a vector env through the tracker: its episodes and each env's actions."""
    tracker = EpisodeTracker.for_env(envs)
    rng = np.random.default_rng(seed)
    envs.reset(seed=seed)
    actions = []
    episodes: list[Episode] = []
    for _ in range(steps):
        action = rng.integers(envs.single_action_space.n, size=envs.num_envs)
        actions.append(action)
        episodes += tracker.step(*envs.step(action)[1:])
    return episodes, np.array(actions).T  # (N, steps)


def replay_single(env_id: str, seed: int, actions, skip_after_end: bool, **kwargs) -> list[tuple]:
    """The finished episodes of one env that takes `actions`, counted by hand.

    ``skip_after_end``: the vector env ignored the action after each episode's end (NEXT_STEP).
    """
    env = gym.make(env_id, **kwargs)
    env.reset(seed=seed)
    episodes, total, task, length, skip = [], 0.0, 0.0, 0, False
    for action in actions:
        if skip:
            skip = False
            continue
        _, reward, terminated, truncated, info = env.step(int(action))
        total, length = total + float(reward), length + 1
        task += info.get("task_reward", 0.0)
        if terminated or truncated:
            task_return = task if "task_reward" in info else None
            episodes.append((total, task_return, length, info.get("is_success")))
            env.reset()
            total, task, length, skip = 0.0, 0.0, 0, skip_after_end
    return episodes


def per_env(episodes: list[Episode], n: int) -> list[list[tuple]]:
    found = [[] for _ in range(n)]
    for e in episodes:
        found[e.env_index].append((e.episode_return, e.task_return, e.length, e.success))
    return found


def test_next_step_cartpole_counts_no_reset_step():
    envs = gym.make_vec("CartPole-v1", 3, vectorization_mode="sync")
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    episodes, actions = play_vector(envs, 300, seed=5)
    found = per_env(episodes, 3)
    for i in range(3):
        expected = replay_single("CartPole-v1", 5 + i, actions[i], skip_after_end=True)
        assert len(expected) >= 5  # random CartPole episodes are short: many resets covered
        assert found[i] == expected
    # CartPole reports neither a task reward nor success.
    assert all(e.task_return is None and e.success is None for e in episodes)


GAME_VECTOR_ENVS = {
    "native": ("vector_entry_point", {}),  # SAME_STEP, final step's infos also at the top level
    "sync-same-step": ("sync", {"autoreset_mode": AutoresetMode.SAME_STEP}),  # only final_info
    "sync-next-step": ("sync", {"autoreset_mode": AutoresetMode.NEXT_STEP}),
}


@pytest.mark.parametrize("how", GAME_VECTOR_ENVS)
def test_a_game_reports_return_task_return_and_success(how):
    # Shaped rewards, so the return and the (sparse) task return differ; KeyDoor-5x5's limit of
    # 30 steps truncates most random episodes, and a few are solved.
    mode, vector_kwargs = GAME_VECTOR_ENVS[how]
    kwargs = {"reward_mode": "shaped"}
    envs = gym.make_vec("rlsuite/KeyDoor-5x5-v0", 4, mode, vector_kwargs=vector_kwargs, **kwargs)
    next_step = envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert next_step == (how == "sync-next-step")
    episodes, actions = play_vector(envs, 400, seed=1)
    found = per_env(episodes, 4)
    for i in range(4):
        expected = replay_single(
            "rlsuite/KeyDoor-5x5-v0", 1 + i, actions[i], skip_after_end=next_step, **kwargs
        )
        assert len(found[i]) == len(expected) >= 10
        for got, want in zip(found[i], expected, strict=True):
            assert got[0] == pytest.approx(want[0], abs=1e-9)  # return
            assert got[1] == pytest.approx(want[1], abs=1e-9)  # task return
            assert got[2:] == want[2:]  # length, success
    assert any(e.success for e in episodes) and not all(e.success for e in episodes)
    assert any(e.episode_return != pytest.approx(e.task_return) for e in episodes)


def test_a_single_env_is_a_batch_of_one_reset_by_its_caller():
    env = gym.make("rlsuite/Maze-2Rooms-v0")
    tracker = EpisodeTracker.for_env(env)
    env.reset(seed=0)
    finished, steps = [], 0
    while not finished:
        steps += 1
        finished = tracker.step(*env.step(env.unwrapped.expert_action())[1:])
    assert finished == [Episode(0, 1.0, 1.0, steps, True)]  # the expert solves it: reward 1
    assert tracker.episode_lengths[0] == 0  # the next episode starts from nothing


def test_disabled_autoreset_is_refused():
    with pytest.raises(ValueError, match="DISABLED"):
        EpisodeTracker(2, AutoresetMode.DISABLED)
