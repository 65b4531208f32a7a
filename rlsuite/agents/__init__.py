"""The agents, by name: what `rlsuite agents` lists and `rlsuite train --agent NAME` builds.

Policy gradient in the order of the lecture: REINFORCE (v1-v3), actor-critic with a learned
baseline (v3.5 / v4), A2C (v4 over parallel envs), PPO (collect once, update many times).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import gymnasium as gym

from rlsuite.agents.a2c import A2C
from rlsuite.agents.actor_critic import ActorCritic
from rlsuite.agents.base import Agent, NonFiniteLossError, UnsupportedSpaceError
from rlsuite.agents.common.evaluate import evaluate
from rlsuite.agents.ppo import PPO
from rlsuite.agents.reinforce import Reinforce
from rlsuite.logger import Logger

AGENTS: dict[str, type[Agent]] = {cls.name: cls for cls in (Reinforce, ActorCritic, A2C, PPO)}

__all__ = [
    "AGENTS",
    "Agent",
    "NonFiniteLossError",
    "UnsupportedSpaceError",
    "evaluate",
    "make_agent",
    "make_config",
]


def make_config(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """The agent's Config with ``overrides`` applied; strings are converted to the field's type.

    Raises ValueError naming the valid fields when a key is unknown.
    """
    cls = _agent_class(name)
    defaults = cls.Config()
    fields = {f.name: f for f in dataclasses.fields(defaults)}
    hints = typing.get_type_hints(type(defaults))
    values = {}
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise ValueError(f"{name} has no setting {key!r}; settings: {', '.join(fields)}")
        values[key] = _coerce(key, value, getattr(defaults, key), hints.get(key))
    return dataclasses.replace(defaults, **values)


def make_agent(
    name: str,
    envs: gym.vector.VectorEnv,
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
    logger: Logger | None = None,
) -> Agent:
    """Build agent ``name`` on ``envs`` with its default Config updated by ``overrides``."""
    return _agent_class(name)(envs, make_config(name, overrides), seed=seed, logger=logger)


def _agent_class(name: str) -> type[Agent]:
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; agents: {', '.join(AGENTS)}")
    return AGENTS[name]


def _coerce(key: str, value: Any, default: Any, hint: Any) -> Any:
    """Turn a command-line string (or list) into the type of the field's default."""
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes", "on"):
                    return True
                if value.lower() in ("false", "0", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(default, tuple):
            if isinstance(value, str):
                value = [v for v in value.strip("()[] ").replace(",", " ").split() if v]
            return tuple(int(v) for v in value)
        if value is None or isinstance(value, str) and value.lower() in ("none", "null"):
            if default is None or "None" in str(hint):
                return None
            raise ValueError(value)
        if default is None:  # the optional settings (target_kl, clip_range_vf) are floats
            return float(value)
        if isinstance(default, int):
            return int(float(value)) if isinstance(value, str) else int(value)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"setting {key}={value!r} is not a valid {type(default).__name__}"
        ) from None
