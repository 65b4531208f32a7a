"""`rlsuite play` and the scripted experts: a real pygame window (SDL's dummy driver), real key
events posted to pygame's queue, and the recorded demonstrations read back."""

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401
from rlsuite.demos import load_demos
from rlsuite.envs.experts import NoExpertError, ScriptedExpert, run_expert
from rlsuite.envs.play import HumanPlay, NotAGameError, idle_action, key_bindings


def _press(pygame, key_name):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key_name)))


def test_a_person_pressing_the_experts_keys_solves_keydoor_and_records_it(tmp_path):
    session = HumanPlay("rlsuite/KeyDoor-5x5-v0", episodes=2, seed=4, record=True)
    keys_for = {action: key for key, action in session.bindings.items() if not key.isdigit()}
    assert session.idle is None  # a grid game waits for a key press
    expert_actions = []
    assert session.tick()  # opens the window
    for _ in range(500):
        action = session.env.unwrapped.expert_action()
        _press(session.window.pygame, keys_for[action])
        expert_actions.append(action)
        if not session.tick():
            break
    session.close()
    demos = session.recorder.demonstrations()
    path = demos.save(tmp_path / "human.npz")
    back = load_demos(path)
    assert back.n_episodes == 2 and back.successes.all()
    assert back.source == "human" and list(back.seeds) == [4, 5]
    np.testing.assert_array_equal(back.actions, expert_actions[: len(back.actions)])


def test_no_key_means_waiting_in_grid_games_and_idling_in_real_time_games():
    grid = HumanPlay("rlsuite/KeyDoor-5x5-v0", episodes=1)
    grid.tick()
    grid.tick()
    assert grid.step_count == 0
    grid.close()
    arcade = HumanPlay("rlsuite/Invaders-v0", episodes=1)
    assert arcade.idle is not None
    for _ in range(3):
        arcade.tick()
    assert arcade.step_count == 3
    arcade.close()


def test_escape_ends_the_session():
    session = HumanPlay("rlsuite/Forage-v0", episodes=1)
    session.tick()
    _press(session.window.pygame, "escape")
    assert session.tick() is False
    session.close()


def test_key_bindings_follow_action_names():
    bindings = key_bindings(("noop", "left", "right", "fire"))
    assert bindings["left"] == 1 and bindings["right"] == 2 and bindings["space"] == 3
    assert bindings["0"] == 0 and idle_action(("noop", "left")) == 0
    assert idle_action(("up", "down")) is None


def test_play_refuses_an_env_that_is_not_a_game():
    with pytest.raises(NotAGameError, match="not an rlsuite game"):
        HumanPlay("CartPole-v1")


@pytest.mark.parametrize("env_id", ["rlsuite/KeyDoor-8x8-v0", "rlsuite/Racer-v0"])
def test_run_expert_records_successful_seeded_demonstrations(env_id, tmp_path):
    result = run_expert(env_id, episodes=3, seed=10, record=True)
    assert result.successes.all()
    demos = load_demos(result.demos.save(tmp_path / "expert.npz"))
    assert demos.n_episodes == 3 and list(demos.seeds) == [10, 11, 12]
    assert list(demos.episode_lengths) == list(result.lengths)
    env = gym.make(env_id)
    assert demos.observations.shape[1:] == env.observation_space.shape


def test_scripted_expert_needs_a_game():
    with pytest.raises(NoExpertError):
        ScriptedExpert(gym.make("CartPole-v1"))


def test_key_hints_read_naturally():
    from rlsuite.envs.play import keys_help

    grid = ("right", "down", "left", "up")
    assert keys_help(key_bindings(grid), grid) == "arrows: move"
    arcade = ("noop", "left", "right", "fire")
    assert keys_help(key_bindings(arcade), arcade) == "left: left   right: right   space: fire"
