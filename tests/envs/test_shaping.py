"""Shaped rewards: potential-based (they telescope), and they rank policies as the task does.

Shaped reward = task reward + gamma * Phi(s') - Phi(s) with Phi(terminal) = 0, plus the game's
event bonus (``Game.event_bonus``, empty for the grid games).
"""

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.envs import game_ids, grid
from rlsuite.envs.shaping import potential_scale

IDS = game_ids()


def phi(env, gamma: float) -> float:
    """Phi of the env's current state, from the game's progress and the documented scale."""
    game = env.unwrapped.game
    return potential_scale(gamma, game.shaping_horizon()) * float(
        game.progress(env.unwrapped.state)[0]
    )


@pytest.mark.parametrize("gamma", [0.9, 0.99])
@pytest.mark.parametrize("env_id", IDS)
def test_discounted_shaping_telescopes_to_minus_phi_s0(env_id, gamma):
    # sum_t gamma^t F_t = -Phi(s_0) when the episode terminates (Phi(terminal) = 0), and
    # gamma^T Phi(s_T) - Phi(s_0) when a time limit cuts it (s_T is not terminal).
    rng = np.random.default_rng(0)
    seen = {"terminated": 0, "truncated": 0}
    for episode in range(12):
        # Half the episodes under a short time limit (cut), half long enough to end in the game;
        # a noisy expert reaches the goal, random actions fail.
        horizon = gym.make(env_id).unwrapped.game.shaping_horizon()  # about the expert's
        limit = min(max(3, horizon // 8), 10) if episode % 2 else gym.spec(env_id).max_episode_steps
        env = gym.make(env_id, reward_mode="shaped", shaping_gamma=gamma, max_episode_steps=limit)
        env.unwrapped.game.event_bonus = {}  # the potential part alone (this game's copy)
        env.reset(seed=episode)
        phi_0, discounted, discount = phi(env, gamma), 0.0, 1.0
        terminated = truncated = False
        while not (terminated or truncated):
            if rng.random() < 0.7:
                action = env.unwrapped.expert_action()
            else:
                action = int(rng.integers(env.action_space.n))
            _, reward, terminated, truncated, info = env.step(action)
            discounted += discount * (reward - info["task_reward"])
            discount *= gamma
        if terminated:
            assert discounted == pytest.approx(-phi_0, abs=1e-9)
        else:  # discount is now gamma^T
            assert discounted == pytest.approx(discount * phi(env, gamma) - phi_0, abs=1e-9)
        seen["terminated" if terminated else "truncated"] += 1
    assert seen["terminated"] and seen["truncated"], seen


# Policies that never succeed (their successful episodes, if any, are left out), beside the
# scripted expert. Each takes the native vector env and a generator and returns actions.
def _random(envs, rng):
    return rng.integers(0, envs.single_action_space.n, envs.num_envs)


def _first_action(envs, rng):  # stay still (Forage, Invaders, Racer keep), or walk into a wall
    return np.zeros(envs.num_envs, dtype=np.int64)


def _hover_by_the_goal(envs, rng):
    """The grid expert, except that it steps back instead of onto the goal."""
    state, game = envs.unwrapped.state, envs.unwrapped.game
    actions = envs.unwrapped.expert_actions()
    goal_x = state.get("goal_x", getattr(game, "goal", None))
    goal_y = state.get("goal_y", getattr(game, "goal", None))
    onto_goal = (state["agent_x"] + grid.MOVE_DX[actions] == goal_x) & (
        state["agent_y"] + grid.MOVE_DY[actions] == goal_y
    )
    return np.where(onto_goal, (actions + 2) % 4, actions)  # 0 right, 1 down, 2 left, 3 up


def _dodge_but_never_fire(envs, rng):
    actions = envs.unwrapped.expert_actions()
    return np.where(actions == 3, 0, actions)  # fire -> noop


def _survive_but_never_finish(envs, rng):
    """The expert's lane changes, but from 400 px on always braking: alive, too slow to finish."""
    actions = envs.unwrapped.expert_actions()
    lane_change = (actions == 1) | (actions == 2)
    return np.where((envs.unwrapped.state["distance"] > 400) & ~lane_change, 4, actions)


def _race_then_crash(envs, rng):
    """The expert until 1300 px, then top speed straight ahead: the most pace bonus a failed
    drive can collect (a run that happens to reach the finish is left out as a success)."""
    actions = envs.unwrapped.expert_actions()
    return np.where(envs.unwrapped.state["distance"] > 1300, 3, actions)  # 3: faster


def _eat_then_starve(envs, rng):
    """The expert for 150 steps, then standing still until health runs out."""
    actions = envs.unwrapped.expert_actions()
    return np.where(envs.unwrapped.state["t"] > 150, 0, actions)


FAILING = {
    "KeyDoor": [_hover_by_the_goal],
    "Maze": [_hover_by_the_goal],
    "Invaders": [_dodge_but_never_fire],
    "Racer": [_survive_but_never_finish, _race_then_crash],
    "Forage": [_eat_then_starve],
}


def _play(env_id, policy, gamma, n=30):
    """Shaped returns, successes and lengths of n episodes (seeds 0..n-1), one per game."""
    envs = gym.make_vec(
        env_id,
        n,
        vectorization_mode="vector_entry_point",
        reward_mode="shaped",
        shaping_gamma=gamma,
        max_episode_steps=gym.spec(env_id).max_episode_steps,
    )
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
    finished, success = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    while not finished.all():
        _, reward, terminated, truncated, info = envs.step(policy(envs, rng))
        returns[~finished] += reward[~finished]
        lengths[~finished] += 1
        done = (terminated | truncated) & ~finished
        success[done] = info["is_success"][done]
        finished |= done
    return returns, success, lengths


@pytest.mark.parametrize("gamma", [0.99, 0.999])
@pytest.mark.parametrize("env_id", IDS)
def test_no_failing_episode_out_scores_the_expert_on_the_shaped_return(env_id, gamma):
    expert = lambda envs, rng: envs.unwrapped.expert_actions()  # noqa: E731
    expert_returns, expert_success, lengths = _play(env_id, expert, gamma)
    assert expert_success.all()
    # The scale's guarantee holds for successes within the game's shaping horizon.
    assert lengths.max() <= gym.make(env_id).unwrapped.game.shaping_horizon()
    kind = env_id.split("/")[1].split("-")[0]
    best_failure = {}
    for policy in [_first_action, _random, *FAILING[kind]]:
        returns, success, _ = _play(env_id, policy, gamma)
        if (~success).any():
            best_failure[policy.__name__] = returns[~success].max()
    assert set(best_failure) >= {p.__name__ for p in FAILING[kind]}, "heuristics must fail"
    # Not only on average: the worst expert episode beats the best failing episode.
    assert expert_returns.min() > max(best_failure.values()), (expert_returns.min(), best_failure)


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.01, "0.99"])
def test_shaping_gamma_outside_0_1_is_refused(gamma):
    with pytest.raises(ValueError, match=r"shaping_gamma must be"):
        gym.make(IDS[0], reward_mode="shaped", shaping_gamma=gamma)


def test_the_potential_scale_shrinks_with_the_cost_of_waiting():
    # At gamma = 1 waiting is free and Phi may reach 0.5; a longer horizon or a smaller gamma
    # makes every step of waiting cost (1 - gamma) Phi, so the scale comes down.
    assert potential_scale(1.0, 1000) == 0.5
    assert potential_scale(0.99, 100) < potential_scale(0.999, 100) < 0.5
    assert potential_scale(0.99, 1000) < potential_scale(0.99, 100)


@pytest.mark.parametrize("env_id", IDS)
def test_the_event_bonus_is_what_the_game_documents(env_id):
    # Shaped minus the potential-only reward, step by step, is the weighted sum of the events.
    shaped = gym.make(env_id, reward_mode="shaped")
    potential_only = gym.make(env_id, reward_mode="shaped")
    potential_only.unwrapped.game.event_bonus = {}
    game = shaped.unwrapped.game
    rng = np.random.default_rng(0)
    shaped.reset(seed=3)
    potential_only.reset(seed=3)
    total = 0.0
    for _ in range(200):
        action = int(rng.integers(shaped.action_space.n))
        _, r1, term, trunc, _ = shaped.step(action)
        _, r2, *_ = potential_only.step(action)
        total += r1 - r2
        if term or trunc:
            break
    if not game.event_bonus:
        assert total == 0.0
    else:
        assert total != 0.0  # 200 random steps meet at least one rewarded event
