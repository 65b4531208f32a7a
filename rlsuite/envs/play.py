"""``rlsuite play``: a person plays a game with the keyboard, optionally recording demonstrations.

Keys come from the game's ``action_meanings`` (arrows to move or steer, space to fire, ...) and are
shown under the picture. Grid games are turn-based: the game steps when you press a key. Games with
a "do nothing" action (Invaders, Forage, Racer) run in real time at the game's frame rate and take
that action while no key is held. Esc or closing the window stops; the finished episodes are saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.demos import DemoRecorder
from rlsuite.envs.core import GameEnv
from rlsuite.envs.render import NoDisplayError, Window
from rlsuite.episodes import EpisodeTracker

# Which key plays which action meaning; the first match wins.
KEY_NAMES: dict[str, tuple[str, ...]] = {
    "up": ("up",),
    "down": ("down",),
    "left": ("left",),
    "right": ("right",),
    "fire": ("space",),
    "faster": ("up",),
    "slower": ("down",),
    "left lane": ("left",),
    "right lane": ("right",),
}
IDLE_MEANINGS = ("noop", "stay", "keep", "none", "wait")


class NotAGameError(ValueError):
    """`rlsuite play` needs one of rlsuite's games (they name their actions)."""


def key_bindings(action_meanings: tuple[str, ...]) -> dict[str, int]:
    """pygame key name -> action, from the game's action names (number keys always work too)."""
    bindings: dict[str, int] = {}
    for action, meaning in enumerate(action_meanings):
        for key in KEY_NAMES.get(meaning.lower(), ()):
            bindings.setdefault(key, action)
    for action in range(min(len(action_meanings), 10)):
        bindings.setdefault(str(action), action)
    return bindings


def idle_action(action_meanings: tuple[str, ...]) -> int | None:
    """The "do nothing" action of a real-time game, or None for a turn-based one."""
    for action, meaning in enumerate(action_meanings):
        if meaning.lower() in IDLE_MEANINGS:
            return action
    return None


def keys_help(bindings: dict[str, int], action_meanings: tuple[str, ...]) -> str:
    """The line of key hints under the picture, e.g. "arrows: move  space: fire"."""
    named = {key: action_meanings[a] for key, a in bindings.items() if not key.isdigit()}
    arrows = ("up", "down", "left", "right")
    if all(named.get(key) == key for key in arrows):
        hints = ["arrows: move"] + [f"{k}: {m}" for k, m in named.items() if k not in arrows]
    else:
        hints = [f"{key}: {meaning}" for key, meaning in named.items()]
    return "   ".join(hints)


class HumanPlay:
    """One play session: a window, a game and maybe a recorder. ``tick()`` runs one frame."""

    def __init__(
        self,
        env_id: str,
        episodes: int = 3,
        seed: int = 0,
        fps: float | None = None,
        env_kwargs: dict[str, Any] | None = None,
        record: bool = False,
    ) -> None:
        self.env = gym.make(env_id, render_mode="rgb_array", **(env_kwargs or {}))
        game_env = self.env.unwrapped
        if not isinstance(game_env, GameEnv):
            raise NotAGameError(f"{env_id} is not an rlsuite game; `rlsuite envs` lists the games")
        meanings = game_env.game.action_meanings
        self.bindings = key_bindings(meanings)
        self.idle = idle_action(meanings)
        self.episodes, self.seed = episodes, seed
        fps = fps or self.env.metadata.get("render_fps", 10)
        try:  # raises NoDisplayError at once where no window can be seen
            self.window = Window(
                title=f"rlsuite play {env_id}", fps=fps if self.idle is not None else 30
            )
        except NoDisplayError:
            self.env.close()
            raise
        self.recorder = DemoRecorder(env_id, env_kwargs, source="human") if record else None
        self.help = keys_help(self.bindings, meanings)
        self.tracker = EpisodeTracker.for_env(self.env)
        self.episode = 0
        self.last_result = ""
        self.returns: list[float] = []
        self._start_episode()

    @property
    def step_count(self) -> int:
        """Steps taken in the running episode."""
        return int(self.tracker.episode_lengths[0])

    def _start_episode(self) -> None:
        seed = self.seed + self.episode
        self.obs, _ = self.env.reset(seed=seed)
        self.tracker.reset()
        if self.recorder:
            self.recorder.start(seed)

    def _chosen_action(self) -> int | None:
        """The action the keyboard asks for this frame (None: wait for a key)."""
        pygame = self.window.pygame
        names = [pygame.key.name(k) for k in self.window.keys_pressed]
        if self.idle is None:  # turn-based: one step per key press
            return next((self.bindings[n] for n in names if n in self.bindings), None)
        held = [pygame.key.name(k) for k in self.window.keys_held] + names
        return next((self.bindings[n] for n in held if n in self.bindings), self.idle)

    def tick(self) -> bool:
        """Show one frame, read the keyboard, maybe step. False once the session is over."""
        text = (
            f"episode {self.episode + 1}/{self.episodes}  step {self.step_count}  "
            f"return {self.tracker.episode_returns[0]:.2f}  {self.last_result}\n"
            f"{self.help}   esc: quit"
        )
        if not self.window.show(self.env.render(), text):
            return False
        action = self._chosen_action()
        if action is None:
            return True
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        if self.recorder:
            self.recorder.add(self.obs, action, reward)
        self.obs = next_obs
        finished = self.tracker.step(reward, terminated, truncated, info)
        if finished:  # one env: at most one episode ends in a step
            episode = finished[0]
            if self.recorder:
                self.recorder.end(next_obs, terminated, bool(episode.success))
            self.returns.append(episode.episode_return)
            self.last_result = "solved!" if episode.success else "episode over"
            self.episode += 1
            if self.episode >= self.episodes:
                return False
            self._start_episode()
        return True

    def close(self) -> None:
        self.window.close()
        self.env.close()


def play(
    env_id: str,
    episodes: int = 3,
    seed: int = 0,
    fps: float | None = None,
    env_kwargs: dict[str, Any] | None = None,
    record: str | Path | None = None,
) -> dict[str, Any]:
    """Play `episodes` episodes; save the finished ones to `record` (.npz) if given."""
    session = HumanPlay(env_id, episodes, seed, fps, env_kwargs, record=record is not None)
    try:
        while session.tick():
            pass
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the session like Esc: what was finished is still saved below
    finally:
        session.close()
    summary: dict[str, Any] = {
        "episodes": len(session.returns),
        "mean_return": float(np.mean(session.returns)) if session.returns else None,
    }
    if record is not None and session.recorder and session.recorder.n_episodes:
        summary["record"] = str(session.recorder.demonstrations().save(record))
    return summary
