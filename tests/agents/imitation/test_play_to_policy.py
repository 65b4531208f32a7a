"""A person's play to a policy: `rlsuite play --record` driven by key presses under SDL's dummy
driver, then `rlsuite train --agent bc` on the file; the policy repeats the person's actions."""

from __future__ import annotations

import threading
import time

import gymnasium as gym
import numpy as np
import pygame

import rlsuite
from rlsuite.cli import main
from rlsuite.demos import load_demos
from rlsuite.envs.play import key_bindings

KEYDOOR = "rlsuite/KeyDoor-5x5-v0"
SEED, EPISODES = 7, 5


def _planned_keys() -> list[str]:
    """The keys a player presses to solve the episodes `rlsuite play --seed 7` will show (the
    scripted expert's moves, worked out on a copy of the game with the same seeds)."""
    env = gym.make(KEYDOOR)
    meanings = env.unwrapped.game.action_meanings
    key_of = {a: k for k, a in key_bindings(meanings).items() if not k.isdigit()}
    keys = []
    for episode in range(EPISODES):
        env.reset(seed=SEED + episode)
        done = False
        while not done:
            action = env.unwrapped.expert_action()
            keys.append(key_of[action])
            _, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    env.close()
    return keys


def _press_keys_one_per_frame(keys: list[str], stop: threading.Event) -> None:
    """Post each key once the game has read the previous one (its queue is empty again)."""
    while not pygame.display.get_init() and not stop.is_set():
        time.sleep(0.01)
    for key in keys:
        if stop.is_set():
            return
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key)))
        while pygame.event.peek(pygame.KEYDOWN, pump=False) and not stop.is_set():
            time.sleep(0.002)


def test_recorded_play_trains_a_policy_that_repeats_the_players_actions(tmp_path, capsys):
    keys = _planned_keys()
    path = tmp_path / "person.npz"
    stop = threading.Event()
    player = threading.Thread(target=_press_keys_one_per_frame, args=(keys, stop), daemon=True)
    player.start()
    try:
        args = ["play", KEYDOOR, "--episodes", str(EPISODES), "--seed", str(SEED)]
        assert main([*args, "--record", str(path)]) == 0
    finally:
        stop.set()
        player.join(timeout=5)
    assert "demonstrations saved" in capsys.readouterr().out
    demos = load_demos(path)
    assert demos.source == "human" and demos.n_episodes == EPISODES and demos.successes.all()
    assert len(demos.actions) == len(keys)

    run = tmp_path / "bc"
    args = ["train", KEYDOOR, "--agent", "bc", "--demos", str(path), "--steps", "20000"]
    args += ["--set", "validation_fraction=0", "learning_rate=3e-3", "--no-progress"]
    assert main([*args, "--run-dir", str(run)]) == 0
    policy = rlsuite.load(run / "checkpoints" / "last.pt")
    np.testing.assert_array_equal(
        policy.predict(demos.observations, deterministic=True), demos.actions
    )
