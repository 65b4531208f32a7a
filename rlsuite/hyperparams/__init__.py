"""Per-task settings, as rl-zoo ships them: one YAML file per agent, keyed by env id.

``rlsuite/hyperparams/<agent>.yaml`` maps an env id to the settings that make that agent learn that
task. ``rlsuite train ID --agent NAME`` applies the entry when there is one (and says so in one
line); ``--config`` and ``--set`` override it. An entry holds:

- any field of the agent's Config (``learning_rate: 3.0e-4``) or a run setting (``n_envs: 16``);
- ``n_timesteps``: the training budget (rl-zoo's name for ``--steps``);
- ``env_kwargs``: keyword arguments for the env (``{reward_mode: shaped}``);
- ``symbolic:`` / ``pixels:``: a nested mapping applied on top of the rest when the env is made
  with that ``obs_mode`` (rlsuite's games), where the two kinds of observation need different
  settings (a CNN learns at another pace than an MLP).

The files are data, read with ``yaml.safe_load``; nothing in them is executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HYPERPARAMS_DIR = Path(__file__).parent
OBS_MODE_KEYS = ("symbolic", "pixels")  # nested per-observation-mode overrides


@dataclass(frozen=True)
class TaskSettings:
    """One entry of a hyperparameter file, resolved for one observation mode."""

    path: Path  # the YAML file it came from
    env_id: str  # its key in that file
    obs_mode: str | None  # which nested override was applied, if any
    steps: Any = None  # n_timesteps, as written (checked as the run's `steps`)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # agent Config fields and run settings

    def describe(self) -> str:
        """Which file and entry: ``rlsuite/hyperparams/ppo.yaml [rlsuite/Racer-v0, pixels]``."""
        where = f"{self.env_id}, {self.obs_mode}" if self.obs_mode else self.env_id
        try:
            shown = self.path.relative_to(HYPERPARAMS_DIR.parent.parent)
        except ValueError:
            shown = self.path
        return f"{shown} [{where}]"


def hyperparams_file(agent: str) -> Path:
    """Where agent ``agent``'s per-task settings live (``a2c.yaml``, ``actor-critic.yaml``, ...)."""
    return HYPERPARAMS_DIR / f"{agent}.yaml"


def read_file(path: Path) -> dict[str, dict[str, Any]]:
    """The whole file: env id -> entry. Raises ValueError on a malformed file."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    data = data or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path} must map env ids to mappings of settings")
    return data


def lookup(agent: str, env_id: str, obs_mode: str | None = None) -> TaskSettings | None:
    """The settings for ``agent`` on ``env_id`` (with ``obs_mode``'s overrides), or None.

    Values are returned as written; ``rlsuite.config`` converts and checks them like any other
    source of settings.
    """
    path = hyperparams_file(agent)
    entry = read_file(path).get(env_id)
    if entry is None:
        return None
    values = {k: v for k, v in entry.items() if k not in OBS_MODE_KEYS}
    env_kwargs = _env_kwargs(path, env_id, values.pop("env_kwargs", None))
    mode = obs_mode or "symbolic"
    override = entry.get(mode)
    applied = mode if isinstance(override, dict) else None
    if applied:
        override = dict(override)
        env_kwargs.update(_env_kwargs(path, env_id, override.pop("env_kwargs", None)))
        values.update(override)
    return TaskSettings(
        path=path,
        env_id=env_id,
        obs_mode=applied,
        steps=values.pop("n_timesteps", None),
        env_kwargs=env_kwargs,
        settings=values,
    )


def _env_kwargs(path: Path, env_id: str, value: Any) -> dict[str, Any]:
    """An entry's ``env_kwargs`` (absent: none); anything but a mapping is a malformed file."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{path}: env_kwargs of {env_id!r} must be a mapping")
    return dict(value)
