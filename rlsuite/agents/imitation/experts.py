"""The experts that imitation learns from: a game's scripted expert or a trained run.

``rlsuite demos ENV_ID --expert scripted|RUN_DIR`` records either one as demonstrations, and
DAgger asks either one for the right action in the states its learner visits. An expert is a
function from a batch of observations to a batch of actions (the scripted one reads the game's
true state instead, so it sees the same thing in every observation mode).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.demos import Demonstrations
from rlsuite.errors import RlsuiteError

SCRIPTED = "scripted"  # the --expert value for a game's own expert

ExpertFn = Callable[[np.ndarray], np.ndarray]


def run_config(run_dir: str | Path, env_id: str | None = None) -> Any:
    """The RunConfig saved in a run folder's checkpoint (best.pt, else last.pt); with `env_id`,
    a run trained on another env is refused by name."""
    from rlsuite.checkpoints import find_checkpoint, load_checkpoint
    from rlsuite.config import RunConfig

    config = RunConfig.from_dict(load_checkpoint(find_checkpoint(run_dir))["config"])
    if env_id is not None and config.env_id != env_id:
        raise RlsuiteError(f"the run {run_dir} was trained on {config.env_id}, not {env_id}")
    return config


def trained_expert(run_dir: str | Path, env_id: str, deterministic: bool = True) -> ExpertFn:
    """A trained run's policy as an expert for `env_id` (its predict, on the CPU)."""
    from rlsuite.playback import load_agent

    run_config(run_dir, env_id)
    agent = load_agent(run_dir, device="cpu")
    return lambda obs: agent.predict(obs, deterministic=deterministic)


def scripted_expert(envs: gym.Env | gym.vector.VectorEnv) -> ExpertFn:
    """The game's scripted expert on `envs` (a game env or the game's native vector env)."""
    from rlsuite.envs.experts import NoExpertError, ScriptedExpert

    try:
        expert = ScriptedExpert(envs)
    except NoExpertError as exc:
        raise RlsuiteError(
            f"{exc}; give a trained run folder as the expert instead (`rlsuite demos "
            "--expert RUN_DIR`, `--agent dagger --set expert=RUN_DIR`)"
        ) from None
    return lambda obs: np.asarray(expert(obs))


def make_expert(expert: str, envs: gym.Env | gym.vector.VectorEnv, env_id: str) -> ExpertFn:
    """``"scripted"`` -> the game's expert on `envs`; anything else is a run folder."""
    if expert == SCRIPTED:
        return scripted_expert(envs)
    return trained_expert(expert, env_id)


def record_demos(
    env_id: str,
    expert: str,
    episodes: int,
    seed: int = 0,
    deterministic: bool = True,
    env_kwargs: dict[str, Any] | None = None,
) -> tuple[Demonstrations, Any]:
    """`episodes` seeded episodes of `expert` (``"scripted"`` or a run folder) in `env_id`,
    recorded: ``rlsuite demos``. Returns (demonstrations, the expert's ExpertResult).

    A trained run plays in its own env settings (reward mode, observation mode, frame stack)
    unless `env_kwargs` are given, so its policy sees what it was trained on.
    """
    from rlsuite.envs.experts import run_policy

    if expert == SCRIPTED:
        from rlsuite.envs.experts import ScriptedExpert

        make_policy, source = ScriptedExpert, "scripted-expert"
        kwargs = env_kwargs or {}
    else:
        policy = trained_expert(expert, env_id, deterministic)
        make_policy = lambda env: lambda obs: policy(obs)  # noqa: E731
        source = f"run:{Path(expert).name}"
        kwargs = env_kwargs if env_kwargs else run_config(expert).env_kwargs
    try:
        result = run_policy(env_id, make_policy, episodes, seed, kwargs, True, source=source)
    except ValueError as exc:  # not a game, bad game option
        raise RlsuiteError(str(exc)) from None
    return result.demos, result
