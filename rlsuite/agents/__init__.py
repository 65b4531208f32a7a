"""The agents, by name: what `rlsuite agents` lists and `rlsuite train --agent NAME` builds.

Policy gradient in the order of the lecture: REINFORCE (v1-v3), actor-critic with a learned
baseline (v3.5 / v4), A2C (v4 over parallel envs), PPO (collect once, update many times).
Then learning without a reward (imitation/): behavior cloning, DAgger, GAIL, AIRL, MaxEnt IRL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym

from rlsuite.agents.a2c import A2C
from rlsuite.agents.actor_critic import ActorCritic
from rlsuite.agents.base import Agent, NonFiniteLossError, UnsupportedSpaceError
from rlsuite.agents.common.evaluate import evaluate
from rlsuite.agents.imitation import AIRL, BC, GAIL, DAgger, MaxEntIRL
from rlsuite.agents.ppo import PPO
from rlsuite.agents.reinforce import Reinforce
from rlsuite.config import RUN_SETTINGS
from rlsuite.demos import Demonstrations
from rlsuite.errors import ConfigError
from rlsuite.logger import Logger
from rlsuite.vector import as_vector_env

AGENTS: dict[str, type[Agent]] = {
    cls.name: cls for cls in (Reinforce, ActorCritic, A2C, PPO, BC, DAgger, GAIL, AIRL, MaxEntIRL)
}

__all__ = [
    "AGENTS",
    "Agent",
    "NonFiniteLossError",
    "UnsupportedSpaceError",
    "agent_class",
    "evaluate",
    "make_agent",
    "make_config",
]


def agent_class(name: str) -> type[Agent]:
    """The agent called `name`, in any case ("PPO", "ppo"; "actor_critic" for "actor-critic")."""
    key = name.strip().lower().replace("_", "-")
    if key not in AGENTS:
        raise ConfigError(f"unknown agent {name!r}; agents: {', '.join(AGENTS)}")
    return AGENTS[key]


def make_config(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """The agent's Config with `overrides` applied; strings are converted to the field's type.

    Raises ConfigError (a ValueError) for an unknown setting or a bad value, with a one-line
    message such as "n_steps must be a positive integer, not 0".
    """
    cls = agent_class(name)
    fields = [f.name for f in dataclasses.fields(cls.Config)]
    for key in overrides or {}:
        if key in RUN_SETTINGS:
            hint = (
                "pass make_agent(..., device=...)"
                if key == "device"
                else "make_agent takes the vector env and the process as they are"
            )
            raise ConfigError(
                f"{key} is a run setting, not one of {cls.name}'s: {hint} "
                f"(`rlsuite train --set {key}=...` sets it for a run)"
            )
        if key not in fields:
            raise ConfigError(f"{cls.name} has no setting {key!r}; settings: {', '.join(fields)}")
    return cls.Config(**(overrides or {}))


def make_agent(
    name: str,
    envs: gym.vector.VectorEnv,
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
    logger: Logger | None = None,
    device: str = "cpu",
    demos: Demonstrations | None = None,
    encoder: Any = None,
    freeze_encoder: bool = False,
) -> Agent:
    """Build agent `name` on `envs` with its default Config updated by `overrides`; its networks
    run on `device` ("cpu", "cuda", "cuda:1", ...). The imitation agents learn from `demos`.
    `encoder`: a pretrained encoder module (``rlsuite.supervised.encoders.load_encoder``) in
    place of a fresh trunk, trained further unless `freeze_encoder`. A single env (not a
    vector env) is wrapped in a one-env ``SyncVectorEnv``, as SB3 wraps one in a DummyVecEnv."""
    envs = as_vector_env(envs)
    config = make_config(name, overrides)
    cls = agent_class(name)
    if cls.uses_demos:
        return cls(envs, config, seed=seed, logger=logger, device=device, demos=demos)
    return cls(
        envs,
        config,
        seed=seed,
        logger=logger,
        device=device,
        encoder=encoder,
        freeze_encoder=freeze_encoder,
    )
