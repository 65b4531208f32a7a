"""What every rlsuite game promises, checked on every registered id.

Gymnasium's and Stable-Baselines3's env checkers, seeding, the single env agreeing with the native
vector env step for step, sparse and shaped modes agreeing on the task reward, the scripted expert,
pickling, rendering and bad input.
"""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import game_ids

IDS = game_ids()
OBS_MODES = ["symbolic", "pixels"]


@pytest.mark.parametrize("obs_mode", OBS_MODES)
@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_and_sb3_checkers_pass(env_id, obs_mode):
    for reward_mode in ("sparse", "shaped"):
        env = gym.make(env_id, obs_mode=obs_mode, reward_mode=reward_mode, render_mode="rgb_array")
        with warnings.catch_warnings():
            warnings.simplefilter("error", category=UserWarning)
            check_env(env.unwrapped, skip_render_check=False)
        sb3_check_env(env, warn=True)
        env.close()


def _rollout(env_id, seed, actions, **kwargs):
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    trace = [obs]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(int(action))
        trace += [obs, reward, terminated, truncated, info["task_reward"], info["is_success"]]
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs)
    return trace


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_rollout_and_other_seed_differs(env_id):
    n = gym.make(env_id).action_space.n
    actions = np.random.default_rng(0).integers(0, n, 300)
    first = _rollout(env_id, 7, actions, max_episode_steps=60)
    again = _rollout(env_id, 7, actions, max_episode_steps=60)
    assert len(first) == len(again)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other = gym.make(env_id)
    first_obs = [other.reset(seed=s)[0] for s in range(8)]
    assert any(not np.array_equal(first_obs[0], o) for o in first_obs[1:]), "seed has no effect"


@pytest.mark.parametrize("obs_mode", OBS_MODES)
@pytest.mark.parametrize("env_id", IDS)
def test_single_env_and_vector_env_agree_step_for_step(env_id, obs_mode):
    n_envs, seed, limit = 4, 11, 40
    kwargs = {"obs_mode": obs_mode, "reward_mode": "shaped"}
    vec = gym.make_vec(
        env_id, n_envs, vectorization_mode="vector_entry_point", max_episode_steps=limit, **kwargs
    )
    singles = [gym.make(env_id, max_episode_steps=limit, **kwargs) for _ in range(n_envs)]
    vec_obs, _ = vec.reset(seed=seed)
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(vec_obs[i], obs)
    rng = np.random.default_rng(1)
    episodes_ended = 0
    for _ in range(150):
        actions = rng.integers(0, singles[0].action_space.n, n_envs)
        vec_obs, rewards, terms, truncs, info = vec.step(actions)
        for i, env in enumerate(singles):
            obs, reward, term, trunc, single_info = env.step(int(actions[i]))
            assert rewards[i] == pytest.approx(reward)
            assert (terms[i], truncs[i]) == (term, trunc)
            assert info["task_reward"][i] == pytest.approx(single_info["task_reward"])
            assert info["is_success"][i] == single_info["is_success"]
            if term or trunc:
                episodes_ended += 1
                np.testing.assert_array_equal(info["final_obs"][i], obs)
                obs, _ = env.reset()
            np.testing.assert_array_equal(vec_obs[i], obs)
    assert episodes_ended > 0


@pytest.mark.parametrize("env_id", IDS)
def test_a_game_in_a_batch_does_not_depend_on_its_neighbours(env_id):
    # Game 0 gets the same actions in both batches, game 1 different ones: game 0 must not notice.
    kwargs = {"reward_mode": "shaped", "vectorization_mode": "vector_entry_point"}
    a, b = gym.make_vec(env_id, 2, **kwargs), gym.make_vec(env_id, 2, **kwargs)
    obs_a, _ = a.reset(seed=9)
    obs_b, _ = b.reset(seed=9)
    n = a.single_action_space.n
    rng = np.random.default_rng(0)
    for _ in range(150):
        actions = rng.integers(0, n, 2)
        step_a = a.step(actions)
        step_b = b.step(np.array([actions[0], (actions[1] + 1) % n]))
        for x, y in zip(step_a[:4], step_b[:4], strict=True):
            np.testing.assert_array_equal(x[0], y[0])
        assert a.single_observation_space.contains(step_a[0][0])


@pytest.mark.parametrize("env_id", IDS)
def test_shaped_and_sparse_give_the_same_task_reward(env_id):
    # Replay the expert's actions from the sparse game in the shaped one: the rules are the same,
    # only the reward the agent learns from differs.
    sparse = gym.make(env_id, reward_mode="sparse")
    shaped = gym.make(env_id, reward_mode="shaped")
    sparse.reset(seed=3)
    shaped.reset(seed=3)
    saw_shaping = False
    for _ in range(400):
        action = sparse.unwrapped.expert_action()
        _, r_sparse, term, trunc, info_sparse = sparse.step(action)
        _, r_shaped, term2, trunc2, info_shaped = shaped.step(action)
        assert info_sparse["task_reward"] == info_shaped["task_reward"] == r_sparse
        assert info_sparse["is_success"] == info_shaped["is_success"]
        assert (term, trunc) == (term2, trunc2)
        saw_shaping |= r_shaped != r_sparse
        if term or trunc:
            break
    assert saw_shaping, "shaped mode never changed the reward"


@pytest.mark.parametrize("env_id", IDS)
def test_scripted_expert_succeeds_in_95_of_100_seeded_episodes(env_id):
    episodes = 100
    vec = gym.make_vec(env_id, episodes, vectorization_mode="vector_entry_point")
    vec.reset(seed=1000)
    finished = np.zeros(episodes, dtype=bool)
    success = np.zeros(episodes, dtype=bool)
    while not finished.all():
        _, _, terms, truncs, info = vec.step(vec.unwrapped.expert_actions())
        done = (terms | truncs) & ~finished
        success[done] = info["is_success"][done]
        finished |= done
    assert success.mean() >= 0.95, f"expert solved {success.mean():.0%} of {episodes} episodes"


@pytest.mark.parametrize("env_id", IDS)
def test_random_play_fails_where_the_expert_succeeds(env_id):
    # A game that random actions solve poses no problem to learn.
    vec = gym.make_vec(env_id, 50, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    rng = np.random.default_rng(0)
    finished = np.zeros(50, dtype=bool)
    success = np.zeros(50, dtype=bool)
    while not finished.all():
        _, _, terms, truncs, info = vec.step(rng.integers(0, vec.single_action_space.n, 50))
        done = (terms | truncs) & ~finished
        success[done] = info["is_success"][done]
        finished |= done
    assert success.mean() < 0.8


@pytest.mark.parametrize("env_id", IDS)
def test_spec_has_time_limit_threshold_and_pickles(env_id):
    spec = gym.spec(env_id)
    assert spec.max_episode_steps and spec.reward_threshold is not None
    env = gym.make(env_id)
    env.reset(seed=5)
    env.step(0)
    copy = pickle.loads(pickle.dumps(env))
    actions = [1, 2, 0, 1, 1, 3, 2] * 3
    for a in actions:
        a = a % env.action_space.n
        np.testing.assert_array_equal(env.step(a)[0], copy.step(a)[0])


@pytest.mark.parametrize("env_id", IDS)
def test_bad_input_raises_clear_errors(env_id):
    with pytest.raises(ValueError, match="reward_mode.*sparse, shaped"):
        gym.make(env_id, reward_mode="dense")
    with pytest.raises(ValueError, match="obs_mode.*symbolic, pixels"):
        gym.make(env_id, obs_mode="rgb")
    env = gym.make(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="outside the action space"):
        env.step(env.action_space.n)
    vec = gym.make_vec(env_id, 3, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="outside the action space"):
        vec.step(np.array([0, -1, 0]))


@pytest.mark.parametrize("env_id", IDS)
def test_rendering_rgb_array_and_human_window(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[0] >= 128 and len(np.unique(frame.reshape(-1, 3), axis=0)) > 2
    human = gym.make(env_id, render_mode="human")
    human.reset(seed=0)
    for _ in range(3):
        human.step(0)
    window = human.unwrapped._window
    assert window is not None and window._surface is not None
    human.close()


def test_vector_env_declares_same_step_autoreset_and_batches():
    vec = gym.make_vec(IDS[0], 8, vectorization_mode="vector_entry_point", obs_mode="pixels")
    assert vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (8, 64, 64, 3) and obs.dtype == np.uint8


@pytest.mark.parametrize("env_id", IDS)
def test_a_step_both_terminal_and_at_the_time_limit_reports_both_flags_as_time_limit_does(env_id):
    # Let the expert play once to learn when its episode ends, then set the time limit to that
    # very step: Gymnasium's TimeLimit says truncated=True there too, and so must the vector env.
    probe = gym.make(env_id)
    probe.reset(seed=4)
    length, terminated = 0, False
    while not terminated:
        terminated = probe.step(probe.unwrapped.expert_action())[2]
        length += 1
    single = gym.make(env_id, max_episode_steps=length)
    vec = gym.make_vec(env_id, 1, vectorization_mode="vector_entry_point", max_episode_steps=length)
    single.reset(seed=4)
    vec.reset(seed=4)
    for _ in range(length):
        action = single.unwrapped.expert_action()
        np.testing.assert_array_equal(vec.unwrapped.expert_actions(), [action])
        _, _, term, trunc, _ = single.step(action)
        _, _, terms, truncs, _ = vec.step(np.array([action]))
        assert (bool(terms[0]), bool(truncs[0])) == (term, trunc)
    assert (term, trunc) == (True, True)
