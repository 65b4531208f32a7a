"""Evaluate and watch a saved agent, and list what is available (`rlsuite eval|watch|envs|agents`).

A run folder or checkpoint is loaded with ``torch.load(weights_only=True)``
(``runs.load_checkpoint``) and its agent rebuilt from the saved config, on fresh environments.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.checkpoints import find_checkpoint, load_checkpoint
from rlsuite.config import RunConfig, check_env_id, import_modules
from rlsuite.envs.render import Window, check_display, display_scale, with_hud, write_video
from rlsuite.episodes import Episode, EpisodeTracker
from rlsuite.errors import RlsuiteError, one_line
from rlsuite.runs import EVAL_SEED_OFFSET, _plain_numbers, build_agent, run_envs
from rlsuite.vector import make_render_env


def load_run(target: str | Path, num_envs: int = 1):
    """(agent, envs, config, checkpoint path) from a run folder (best.pt, else last.pt) or a file.

    The agent is built on a fresh vector env of `num_envs` copies (in-process, even for runs
    trained with vec=async), which the caller closes.
    """
    path = find_checkpoint(target)
    checkpoint = load_checkpoint(path)
    config = RunConfig.from_dict(checkpoint["config"])
    import_modules(config.imports)
    check_env_id(config.env_id)
    local = dataclasses.replace(config, vec="sync" if config.vec == "async" else config.vec)
    envs = run_envs(local, num_envs)
    agent = build_agent(config, envs)
    try:
        agent.load_state_dict(checkpoint["agent"])
    except Exception as exc:
        envs.close()
        raise RlsuiteError(f"checkpoint {path} does not fit its agent: {one_line(exc)}") from None
    return agent, envs, config, path


def evaluate_run(
    target: str | Path, episodes: int = 10, deterministic: bool = False, seed: int | None = None
) -> dict[str, Any]:
    """Mean/std return, success rate (None when the env does not report it) and mean length.

    `seed` defaults to the one the run's own evaluations use, so the numbers are comparable.
    """
    from rlsuite.agents import evaluate

    if episodes <= 0:
        raise RlsuiteError(f"--episodes must be positive, got {episodes}")
    agent, envs, config, path = load_run(target, num_envs=min(8, episodes))
    seed = config.seed + EVAL_SEED_OFFSET if seed is None else seed
    try:
        result = evaluate(agent, envs, episodes=episodes, deterministic=deterministic, seed=seed)
    finally:
        envs.close()
    return {
        "checkpoint": str(path),
        "env_id": config.env_id,
        "agent": config.agent,
        "num_steps": int(agent.num_steps),
        "episodes": episodes,
        "deterministic": deterministic,
        "seed": seed,
        **_plain_numbers(result),
    }


def format_evaluation(result: dict[str, Any]) -> str:
    """The human-readable lines of `rlsuite eval`."""
    success, task = result.get("success_rate"), result.get("mean_task_return")
    mode = "deterministic" if result["deterministic"] else "stochastic"
    return "\n".join(
        [
            f"checkpoint:          {result['checkpoint']} (step {result['num_steps']})",
            f"episodes:            {result['episodes']} ({mode} actions, seed {result['seed']})",
            f"mean return:         {result['mean_return']:.3f} +/- {result['std_return']:.3f}",
            # rlsuite's games: the sparse task reward, whatever reward the agent trained on
            f"mean task return:    {'-' if task is None else f'{task:.3f}'}",
            f"success rate:        {'-' if success is None else f'{success:.3f}'}",
            f"mean episode length: {result['mean_length']:.1f}",
        ]
    )


def watch_run(
    target: str | Path,
    episodes: int = 3,
    fps: float | None = None,
    record: str | Path | None = None,
    deterministic: bool = False,
    seed: int | None = None,
    report: Callable[[str], None] = print,
) -> list[tuple[float, int]]:
    """Play the agent: in a pygame window, or into a .gif/.mp4 file (no display needed).

    Frames are the env's ``render_mode="rgb_array"`` images: one after each reset and one after
    every step, so an episode of length L gives L + 1 frames. Returns (return, length) per episode.
    Where no window can be seen, and nothing is recorded, it raises NoDisplayError at once.
    """
    if episodes <= 0:
        raise RlsuiteError(f"--episodes must be positive, got {episodes}")
    if record is not None and Path(record).suffix.lower() not in (".gif", ".mp4"):
        raise RlsuiteError(f"cannot record to {record}: use a .gif or .mp4 file name")
    if record is not None:
        # Some envs (CartPole) draw rgb_array frames through pygame: no display needed for that.
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    else:
        find_checkpoint(target)  # a wrong target is the first mistake to report
        check_display()  # NoDisplayError at once, not after loading the agent
    agent, envs, config, _ = load_run(target)
    envs.close()  # the agent acts on one rendering env below
    env = make_render_env(config.env_id, config.wrappers, **config.env_kwargs)
    fps = fps or env.metadata.get("render_fps") or 30
    seed = config.seed + EVAL_SEED_OFFSET if seed is None else seed
    window = None if record is not None else Window(f"rlsuite watch {config.env_id}", fps=fps)
    frames: list[np.ndarray] = []
    results: list[tuple[float, int]] = []
    try:
        with _display_errors_as_hints():
            for episode in range(1, episodes + 1):
                label = f"episode {episode}/{episodes}"
                result = _play_episode(
                    env, agent, seed + episode - 1, deterministic, window, label, frames
                )
                if result is None:
                    break  # the user closed the window or pressed Esc
                total, length = result.episode_return, result.length
                results.append((total, length))
                report(f"episode {episode}: return {total:.2f}, length {length}")
    finally:
        env.close()
        if window is not None:
            window.close()
    if record is not None:
        try:
            written = write_video(record, frames, fps)
        except (OSError, ValueError) as exc:
            raise RlsuiteError(f"cannot record to {record}: {one_line(exc)}") from None
        report(f"recorded {len(frames)} frames to {written}")
    return results


def _play_episode(env, agent, seed, deterministic, window, label, frames) -> Episode | None:
    """One episode; each frame goes to `window` (if any) or `frames`. None if the window closed."""
    obs, _ = env.reset(seed=seed)
    tracker = EpisodeTracker.for_env(env)
    ended: list[Episode] = []
    while True:
        frame = np.asarray(env.render(), dtype=np.uint8)
        if ended:  # the tracker has already started counting the next episode
            length, total = ended[0].length, ended[0].episode_return
        else:
            length, total = int(tracker.episode_lengths[0]), float(tracker.episode_returns[0])
        hud = f"{label}   step {length}   return {total:.2f}"
        if window is None:  # recording: the same picture the window would show
            frames.append(with_hud(frame, hud, display_scale(frame.shape)))
        elif not window.show(frame, hud):
            return None
        if ended:
            return ended[0]
        action = agent.predict(np.asarray(obs)[None], deterministic=deterministic)[0]
        obs, reward, terminated, truncated, info = env.step(action)
        ended = tracker.step(reward, terminated, truncated, info)


@contextmanager
def _display_errors_as_hints() -> Iterator[None]:
    """pygame errors (no display available) become a one-line hint instead of a traceback."""
    try:
        yield
    except Exception as exc:
        if not type(exc).__module__.startswith("pygame"):
            raise
        hint = "set SDL_VIDEODRIVER=dummy to record without a display"
        raise RlsuiteError(f"cannot draw or show frames ({one_line(exc)}); {hint}") from None


# ================================================================================================
# Listings
# ================================================================================================


def list_agents() -> list[tuple[str, str]]:
    """(name, description) of every agent."""
    from rlsuite.agents import AGENTS

    return [(name, cls.description) for name, cls in AGENTS.items()]


def list_envs(contains: str | None = None, everything: bool = False) -> Iterator[tuple[str, ...]]:
    """(id, observation space, action space, reward modes) of every registered id.

    Each env is made once to read its spaces. Ids that cannot be made here (a package such as
    MuJoCo or Box2D is missing) are left out, or listed with the reason when `everything`.
    """
    for env_id in sorted(gym.registry):
        if contains is not None and contains.lower() not in env_id.lower():
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                env = gym.make(env_id)
        except Exception as exc:
            if everything:
                yield env_id, f"unavailable: {one_line(exc)}", "-", "-"
            continue
        modes = getattr(env.unwrapped, "reward_modes", None)  # rlsuite's games declare theirs
        row = (env_id, _describe_space(env.observation_space), _describe_space(env.action_space))
        env.close()
        yield *row, ",".join(modes) if modes else "-"


def _describe_space(space: gym.Space) -> str:
    """Gymnasium's repr, shortened for Boxes whose bounds differ per dimension."""
    text = str(space)
    if isinstance(space, gym.spaces.Box) and len(text) > 60:
        return f"Box(shape={space.shape}, dtype={space.dtype})"
    return text
