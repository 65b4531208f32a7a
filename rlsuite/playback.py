"""Load, evaluate and watch a saved agent, and list what is available (``rlsuite.load``,
`rlsuite eval|watch|envs|agents`).

A run folder or checkpoint is loaded with ``torch.load(weights_only=True)``
(``checkpoints.load_checkpoint``) and its agent rebuilt from the saved config: on fresh
environments to evaluate, from the saved spaces alone to act (``load_agent``, ``rlsuite.load``).
Both act deterministically by default, as the run's own evaluations do.
"""

from __future__ import annotations

import dataclasses
import os
import random
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlsuite.checkpoints import (
    CHECKPOINT_FORMAT,
    find_checkpoint,
    load_checkpoint,
    load_saved,
    space_from_dict,
)
from rlsuite.config import RunConfig, check_env_id, import_modules
from rlsuite.envs.render import Window, check_display, display_scale, with_hud, write_video
from rlsuite.episodes import Episode, EpisodeTracker
from rlsuite.errors import RlsuiteError, one_line
from rlsuite.runs import (
    EVAL_SEED_OFFSET,
    _plain_numbers,
    build_agent,
    judged_return,
    resolve_device,
    run_envs,
)
from rlsuite.vector import make_render_env


def load_agent(target: str | Path, device: str = "auto"):
    """The agent saved in a run folder (best.pt, else last.pt), a checkpoint or an
    ``Agent.save`` file, ready to ``predict``: ``rlsuite.load``.

    It is rebuilt from the saved observation and action spaces; no env is made (for checkpoints
    written before the spaces were saved, one env is made to read them, and closed). Its network
    runs on `device` ("auto": CUDA when torch sees a GPU). The caller's python and torch random
    generators are left as they were.
    """
    path = find_checkpoint(target)
    return _agent_from_saved(load_saved(path), path, device)


def _agent_from_saved(data: dict[str, Any], path: Path, device: str = "auto"):
    """The acting agent of a loaded checkpoint or Agent.save file (see `load_agent`)."""
    from rlsuite.agents import agent_class, make_config
    from rlsuite.supervised.encoders import agent_encoder

    if data["format"] == CHECKPOINT_FORMAT:
        config = RunConfig.from_dict(data["config"])
        name, settings, seed, state = config.agent, config.agent_config, config.seed, data["agent"]
        spaces = data.get("spaces") or _spaces_of_env(config)
    else:  # Agent.save
        name, seed, state, spaces = data["agent"], data["seed"], data["state"], data["spaces"]
        settings = state["config"]
    observation_space = space_from_dict(spaces["observation"])
    action_space = space_from_dict(spaces["action"])
    with _global_random_state_kept():  # building an agent seeds python's and torch's
        encoder = agent_encoder(None, state, observation_space)  # weights come with `state`
        agent = agent_class(name).for_spaces(
            observation_space,
            action_space,
            make_config(name, settings),
            seed=seed,
            device=resolve_device(device),
            encoder=encoder,
            freeze_encoder=bool(encoder is not None and state["encoder"]["frozen"]),
        )
        try:
            agent.load_state_dict(state)
        except Exception as exc:
            raise RlsuiteError(
                f"checkpoint {path} does not fit its agent: {one_line(exc)}"
            ) from None
    return agent


def _spaces_of_env(config: RunConfig) -> dict[str, Any]:
    """The spaces of one env of `config`, made and closed (checkpoints that hold none)."""
    from rlsuite.checkpoints import spaces_to_dict

    import_modules(config.imports)
    check_env_id(config.env_id)
    env = make_render_env(config.env_id, config.wrappers, **config.env_kwargs)
    env.close()
    return spaces_to_dict(env.observation_space, env.action_space)


@contextmanager
def _global_random_state_kept() -> Iterator[None]:
    python_state = random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(python_state)


def load_run(target: str | Path, num_envs: int = 1, device: str = "auto"):
    """(agent, envs, config, checkpoint path) from a run folder (best.pt, else last.pt) or a file.

    The agent is built on a fresh vector env of `num_envs` copies (in-process, even for runs
    trained with vec=async), which the caller closes; its network runs on `device` (whatever
    device the run trained on).
    """
    path = find_checkpoint(target)
    checkpoint = load_checkpoint(path)
    config = RunConfig.from_dict(checkpoint["config"])
    import_modules(config.imports)
    check_env_id(config.env_id)
    vec = "sync" if config.vec == "async" else config.vec
    local = dataclasses.replace(config, vec=vec, device=device)
    envs = run_envs(local, num_envs)
    try:
        agent = build_agent(local, envs, saved=checkpoint["agent"])
    except BaseException:
        envs.close()
        raise
    try:
        agent.load_state_dict(checkpoint["agent"])
    except Exception as exc:
        envs.close()
        raise RlsuiteError(f"checkpoint {path} does not fit its agent: {one_line(exc)}") from None
    return agent, envs, config, path


def evaluate_run(
    target: str | Path,
    episodes: int = 10,
    deterministic: bool = True,
    seed: int | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Mean/std return, mean task return and success rate (None where the env does not report
    them), mean length; `mean_reward` is the return the run's evaluations judge by (the task
    return where there is one: eval/mean_reward).

    Deterministic actions and, by default, the seed the run's own evaluations use, so the
    numbers compare with the run's eval/* curves; `deterministic=False` samples actions.
    """
    from rlsuite.agents import evaluate

    if episodes <= 0:
        raise RlsuiteError(f"--episodes must be positive, got {episodes}")
    agent, envs, config, path = load_run(target, num_envs=min(8, episodes), device=device)
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
        "mean_reward": judged_return(result),
        **_plain_numbers(result),
    }


def format_evaluation(result: dict[str, Any]) -> str:
    """The human-readable lines of `rlsuite eval`."""
    success, task = result.get("success_rate"), result.get("mean_task_return")
    mode = "deterministic" if result["deterministic"] else "stochastic"
    returns = f"{result['mean_return']:.3f} +/- {result['std_return']:.3f}"
    lines = [
        f"checkpoint:          {result['checkpoint']} (step {result['num_steps']})",
        f"episodes:            {result['episodes']} ({mode} actions, seed {result['seed']})",
    ]
    if task is None:
        lines.append(f"mean return:         {returns}")
    else:  # rlsuite's games: the sparse task reward, whatever reward the agent trained on
        lines.append(f"mean task return:    {task:.3f}  (what eval/mean_reward and best.pt judge)")
        lines.append(f"mean env return:     {returns}  (the reward the agent trained on)")
    lines.append(f"success rate:        {'-' if success is None else f'{success:.3f}'}")
    lines.append(f"mean episode length: {result['mean_length']:.1f}")
    return "\n".join(lines)


def watch_run(
    target: str | Path,
    episodes: int = 3,
    fps: float | None = None,
    record: str | Path | None = None,
    deterministic: bool = True,
    seed: int | None = None,
    report: Callable[[str], None] = print,
    device: str = "auto",
) -> list[tuple[float, int]]:
    """Play the agent: in a pygame window, or into a .gif/.mp4 file (no display needed).

    Deterministic actions by default, as the run's evaluations (`deterministic=False` samples).
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
    path = find_checkpoint(target)
    checkpoint = load_checkpoint(path)
    config = RunConfig.from_dict(checkpoint["config"])
    import_modules(config.imports)
    check_env_id(config.env_id)
    agent = _agent_from_saved(checkpoint, path, device)  # it acts on one rendering env
    env = make_render_env(config.env_id, config.wrappers, **config.env_kwargs)
    fps = fps or env.metadata.get("render_fps") or 30
    seed = config.seed + EVAL_SEED_OFFSET if seed is None else seed
    mode = "deterministic" if deterministic else "stochastic"
    report(f"watching {path} (step {agent.num_steps}): {mode} actions, seed {seed}")
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
                report(f"episode {episode}: {_describe_episode(result)}")
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
        action = agent.predict(obs, deterministic=deterministic)
        obs, reward, terminated, truncated, info = env.step(action)
        ended = tracker.step(reward, terminated, truncated, info)


def _describe_episode(episode: Episode) -> str:
    """ "return 1.23, length 20", with the task return and success where the env reports them."""
    text = f"return {episode.episode_return:.2f}, length {episode.length}"
    if episode.task_return is not None:
        text += f", task return {episode.task_return:.2f}"
    if episode.success is not None:
        text += ", success" if episode.success else ", no success"
    return text


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
