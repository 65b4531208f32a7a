"""frame_stack=K: the last K observations, oldest first (pixel frames on the channel axis, symbolic
vectors end to end), on both env kinds."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import game_ids
from rlsuite.envstate import capture_env_state, restore_env_state

IDS = game_ids()
K = 4
MODES = ("pixels", "symbolic")


def stack_by_hand(episode_frames: list[np.ndarray]) -> np.ndarray:
    """The last K observations of an episode, oldest first, joined on the last axis (channels or
    features); the first one repeated before it began."""
    padded = [episode_frames[0]] * K + episode_frames
    return np.concatenate(padded[-K:], axis=-1)


@pytest.mark.parametrize("obs_mode", MODES)
@pytest.mark.parametrize("env_id", IDS)
def test_single_env_stack_equals_stacking_by_hand(env_id, obs_mode):
    plain = gym.make(env_id, obs_mode=obs_mode)
    stacked = gym.make(env_id, obs_mode=obs_mode, frame_stack=K)
    *rest, last = plain.observation_space.shape
    assert stacked.observation_space.shape == (*rest, K * last)
    assert stacked.observation_space.dtype == plain.observation_space.dtype
    frame, _ = plain.reset(seed=3)
    obs, _ = stacked.reset(seed=3)
    episode, handed_out, expected = [frame], [obs], [stack_by_hand([frame])]
    rng = np.random.default_rng(0)
    for _ in range(K + 3):
        action = int(rng.integers(plain.action_space.n))
        frame, _, terminated, truncated, _ = plain.step(action)
        obs, *_ = stacked.step(action)
        episode.append(frame)
        handed_out.append(obs)
        expected.append(stack_by_hand(episode))
        if terminated or truncated:
            frame, _ = plain.reset()
            obs, _ = stacked.reset()
            episode = [frame]
            handed_out.append(obs)
            expected.append(stack_by_hand(episode))
    # Checked at the end: an observation handed out is never written again by later steps.
    for got, want in zip(handed_out, expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("obs_mode", MODES)
@pytest.mark.parametrize("env_id", IDS)
def test_vector_env_stack_equals_stacking_by_hand_across_autoresets(env_id, obs_mode):
    n, seed, limit = 3, 5, 5  # a short time limit: every game autoresets within the test
    vec = gym.make_vec(
        env_id,
        n,
        vectorization_mode="vector_entry_point",
        obs_mode=obs_mode,
        frame_stack=K,
        max_episode_steps=limit,
    )
    singles = [gym.make(env_id, obs_mode=obs_mode, max_episode_steps=limit) for _ in range(n)]
    obs, _ = vec.reset(seed=seed)
    assert obs.shape == (n, *vec.single_observation_space.shape)
    assert obs.dtype == singles[0].observation_space.dtype
    episodes = [[env.reset(seed=seed + i)[0]] for i, env in enumerate(singles)]
    for i in range(n):
        np.testing.assert_array_equal(obs[i], stack_by_hand(episodes[i]))
    rng = np.random.default_rng(1)
    autoresets = 0
    for _ in range(2 * limit + 2):
        actions = rng.integers(0, vec.single_action_space.n, n)
        obs, _, terminated, truncated, info = vec.step(actions)
        for i, env in enumerate(singles):
            frame, _, term, trunc, _ = env.step(int(actions[i]))
            episodes[i].append(frame)
            assert (terminated[i], truncated[i]) == (term, trunc)
            if term or trunc:
                autoresets += 1
                # The finished episode's last K frames, then the new episode's fresh stack.
                np.testing.assert_array_equal(info["final_obs"][i], stack_by_hand(episodes[i]))
                episodes[i] = [env.reset()[0]]
            np.testing.assert_array_equal(obs[i], stack_by_hand(episodes[i]))
    assert autoresets >= n


@pytest.mark.parametrize("obs_mode", MODES)
def test_the_stack_is_saved_and_restored_with_the_env_state(obs_mode):
    make = lambda: gym.make_vec(  # noqa: E731
        "rlsuite/Invaders-v0", 2, vectorization_mode="vector_entry_point", obs_mode=obs_mode,
        frame_stack=K,
    )  # fmt: skip
    envs = make()
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(6):
        envs.step(rng.integers(0, 4, 2))
    saved = capture_env_state(envs)
    copy = make()
    copy.reset(seed=99)  # another episode entirely, until restored
    assert restore_env_state(copy, saved) == []
    for _ in range(3):  # the older frames of the next stacks come from the restored stack
        actions = rng.integers(0, 4, 2)
        np.testing.assert_array_equal(envs.step(actions)[0], copy.step(actions)[0])


@pytest.mark.parametrize("obs_mode", MODES)
def test_the_stacked_env_passes_gymnasiums_checker(obs_mode):
    env = gym.make(IDS[0], obs_mode=obs_mode, frame_stack=3)
    check_env(env.unwrapped)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frame_stack": 0, "obs_mode": "pixels"}, "at least 1"),
        ({"frame_stack": 0}, "at least 1"),
        ({"frame_stack": 2.5, "obs_mode": "pixels"}, "whole number"),
    ],
)
def test_bad_frame_stack_is_refused_with_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make(IDS[0], **kwargs)
    with pytest.raises(ValueError, match=message):
        gym.make_vec(IDS[0], 2, vectorization_mode="vector_entry_point", **kwargs)
