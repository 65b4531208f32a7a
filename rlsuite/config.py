"""Run settings and agent configs: declared once, converted once, checked before any file is made.

Every setting is a dataclass field that declares its *kind*::

    n_steps: int = setting(5, POSITIVE_INT)  # steps per env per update

A kind names the type, the allowed range and how to say both in an error. One function,
:func:`coerce`, turns a command-line string, a YAML value or a Python value into the setting's
type and checks it; :class:`Settings` (the base of :class:`RunConfig` and of every agent's Config)
runs it on every field when the dataclass is built. So ``--set n_steps=0``, a config file and
``A2CConfig(n_steps=0)`` all fail the same way::

    n_steps must be a positive integer, not 0

(a :class:`~rlsuite.errors.ConfigError`: one line from the CLI, a ValueError in Python).

:func:`resolve_config` merges the sources of a run's settings, lowest first: the defaults, a
``--config`` file, the command-line options and ``--set``. Each source is one flat
``{setting: value}`` layer, so another source (per-task hyperparameters) is one more layer.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

from rlsuite.errors import ConfigError, RlsuiteError, one_line
from rlsuite.vector import VEC_MODES, load_wrapper, resolve_vec_mode

DEVICES = ("auto", "cpu", "cuda")  # the run setting `device` (--device)

# ================================================================================================
# Kinds of settings and the one coercer
# ================================================================================================


def _anything(value: Any) -> bool:
    return True


@dataclass(frozen=True)
class Kind:
    """What values a setting takes: a type, an allowed range, and their name for errors."""

    type: type  # int, float, bool, str, tuple (of `item`s) or dict
    description: str  # completes "<name> must be ...", e.g. "a positive integer"
    allowed: Callable[[Any], bool] = _anything  # the range, on the converted value
    item: type = int  # the element type of a tuple
    optional: bool = False  # None ("none" or "null" on the command line) is valid too


POSITIVE_INT = Kind(int, "a positive integer", lambda v: v > 0)
NON_NEGATIVE_INT = Kind(int, "0 or a positive integer", lambda v: v >= 0)
# A minibatch of one has no spread: batch norm and contrastive losses cannot train on it.
BATCH_SIZE = Kind(int, "an integer >= 2", lambda v: v >= 2)
POSITIVE = Kind(float, "a positive number", lambda v: v > 0)
NON_NEGATIVE = Kind(float, "a number >= 0", lambda v: v >= 0)
PROBABILITY = Kind(float, "a number from 0 to 1", lambda v: 0 <= v <= 1)
DECAY = Kind(float, "a number from 0 up to (not including) 1", lambda v: 0 <= v < 1)
REAL = Kind(float, "a finite number")
FLAG = Kind(bool, "true or false")
LAYER_SIZES = Kind(
    tuple,
    "one or more positive integers (layer widths, e.g. 64,64)",
    lambda v: len(v) > 0 and all(size > 0 for size in v),
)
TEXT = Kind(str, "a string")
NAMES = Kind(tuple, "a list of names", item=str)
MAPPING = Kind(dict, "a mapping of key: value")


def choice(*options: str) -> Kind:
    """A string setting that takes one of `options`."""
    return Kind(str, f"one of {', '.join(options)}", lambda v: v in options)


def optional(kind: Kind) -> Kind:
    """`kind`, or None (written "none" or "null" on the command line)."""
    return dataclasses.replace(kind, description=f"{kind.description} or none", optional=True)


REQUIRED = MISSING  # setting(REQUIRED, TEXT): a field without a default


def setting(default: Any, kind: Kind) -> Any:
    """A dataclass field with its default and its kind (checked by `check_settings`)."""
    metadata = {"kind": kind}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
_NONE = ("none", "null")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):  # True is an int to Python, not to a user
        raise TypeError
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text)
        except ValueError:
            value = float(text)  # "1e4" is 10000, "1.5" is refused below
    number = float(value)
    if not number.is_integer():
        raise ValueError
    return int(number)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    number = float(value.strip().replace("_", "") if isinstance(value, str) else value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _to_tuple(value: Any, item: type) -> tuple:
    if isinstance(value, str):  # "64,64", "64 64", "(64, 64)", "[64, 64]"; not "[64"
        text = value.strip()
        if text[:1] + text[-1:] in ("[]", "()"):
            text = text[1:-1]
        value = text.replace(",", " ").split()
    elif not isinstance(value, (list, tuple)):
        value = [value]  # YAML reads "64" as one number
    convert = _to_int if item is int else _to_str
    return tuple(convert(v) for v in value)


def _to_dict(value: Any) -> dict:
    if isinstance(value, str):  # from --set: "{n_steps: 64, ent_coef: 0.01}", read as YAML data
        value = yaml.safe_load(value)
    if not isinstance(value, Mapping):
        raise TypeError
    return dict(value)


def coerce(name: str, value: Any, kind: Kind) -> Any:
    """The setting `name`'s `value` as its kind's type, checked; raises ConfigError otherwise.

    This is rlsuite's one conversion from text: `value` may be a command-line string ("1e-3",
    "64,64", "true", "none"), a value read from YAML, or a Python value.
    """
    if kind.optional and (value is None or (isinstance(value, str) and value.lower() in _NONE)):
        return None
    try:
        if kind.type is tuple:
            converted = _to_tuple(value, kind.item)
        else:
            converter = {int: _to_int, float: _to_float, bool: _to_bool, str: _to_str}
            converted = converter.get(kind.type, _to_dict)(value)
    except (TypeError, ValueError, OverflowError, yaml.YAMLError):
        converted = None
    if converted is None or not kind.allowed(converted):
        raise ConfigError(f"{name} must be {kind.description}, not {_show(value)}")
    return converted


def _show(value: Any) -> str:
    """How a bad value is quoted in an error: numbers as typed, other text in quotes."""
    if isinstance(value, str):
        try:
            float(value)
            return value.strip()
        except ValueError:
            return repr(value)
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return _show(value[0])
    return repr(value) if value is not None else "none"


def as_typed(value: Any) -> str:
    """A value as ``--set key=value`` takes it in a shell: ``64,64`` for a tuple, ``true``,
    ``none``, ``{}`` or ``{n_steps: 64}`` for a mapping (YAML), ``""`` for nothing."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        value = ",".join(as_typed(item) for item in value)
    if isinstance(value, dict):
        return yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return str(value) or '""'


def settings_table(settings: type) -> list[tuple[str, str, str]]:
    """(name, default as typed on the command line, what it must be) of each field of a
    Settings dataclass: what ``rlsuite agents NAME`` and ``rlsuite models NAME`` print."""
    rows = []
    for f in dataclasses.fields(settings):
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        shown = "(required)" if default is MISSING else as_typed(default)
        rows.append((f.name, shown, f.metadata["kind"].description))
    return rows


def kind_of(settings: type, name: str) -> Kind:
    """The kind field `name` of a Settings dataclass declares."""
    return {f.name: f.metadata["kind"] for f in dataclasses.fields(settings)}[name]


def check_settings(settings: Any) -> None:
    """Convert and check every field of a Settings dataclass against its kind, in place."""
    for f in dataclasses.fields(settings):
        kind = f.metadata.get("kind")
        if kind is None:  # a programming error, caught by the tests of every Config
            raise TypeError(f"{type(settings).__name__}.{f.name} declares no kind (use setting())")
        value = coerce(f.name, getattr(settings, f.name), kind)
        object.__setattr__(settings, f.name, value)  # frozen: the converted value, once


@dataclass(frozen=True)
class Settings:
    """Base of the settings dataclasses: building one converts and checks every field."""

    def __post_init__(self) -> None:
        check_settings(self)


# ================================================================================================
# The run config
# ================================================================================================


@dataclass(frozen=True)
class RunConfig(Settings):
    """Everything that defines a training run; saved as the run folder's ``config.yaml``."""

    env_id: str = setting(REQUIRED, TEXT)
    agent: str = setting(REQUIRED, TEXT)
    steps: int = setting(REQUIRED, POSITIVE_INT)  # training budget: env steps, all envs together
    seed: int = setting(0, NON_NEGATIVE_INT)
    n_envs: int = setting(8, POSITIVE_INT)  # parallel envs in the vector env
    vec: str = setting("auto", choice(*VEC_MODES))  # gymnasium.make_vec's mode (vector.py)
    env_kwargs: dict[str, Any] = setting({}, MAPPING)  # passed to the env constructor
    wrappers: tuple[str, ...] = setting((), NAMES)  # "module:Class" wrappers, applied in order
    imports: tuple[str, ...] = setting((), NAMES)  # modules imported first (register env ids)
    eval_every: int = setting(0, NON_NEGATIVE_INT)  # evaluate every this many env steps (0: never)
    eval_episodes: int = setting(10, POSITIVE_INT)  # episodes per evaluation
    checkpoint_every: int = setting(0, NON_NEGATIVE_INT)  # step_<N>.pt period (0: only last.pt)
    torch_threads: int = setting(1, POSITIVE_INT)  # torch.set_num_threads; small nets: one
    # Where the networks run: "auto" takes CUDA when torch sees a GPU (runs.resolve_device).
    device: str = setting("auto", choice(*DEVICES))
    # A pretrained encoder (a `rlsuite pretrain` run folder or encoder.pt) as the agent's trunk,
    # and whether its weights stay fixed (supervised/encoders.py).
    encoder: str | None = setting(None, optional(TEXT))
    freeze_encoder: bool = setting(False, FLAG)
    agent_config: dict[str, Any] = setting({}, MAPPING)  # the agent Config's fields
    # Which per-task hyperparameter entry was applied ("" when none): rlsuite/hyperparams/.
    hyperparams: str = setting("", TEXT)
    # The imitation agents' demonstration file (.npz, rlsuite/demos.py); "" for the others.
    demos: str = setting("", TEXT)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists/dicts/scalars: what config.yaml and checkpoints hold."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """The inverse of `to_dict` (e.g. from a checkpoint or an older rlsuite's config.yaml)."""
        data = _upgrade(data)
        _check_keys(data, CONFIG_KEYS, "config")
        return cls(**data)


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(RunConfig))
# The run's scalar settings: what `--set key=value` accepts besides the agent Config's fields.
RUN_SETTINGS = (
    "seed",
    "steps",
    "n_envs",
    "vec",
    "eval_every",
    "eval_episodes",
    "checkpoint_every",
    "torch_threads",
    "device",
    "encoder",
    "freeze_encoder",
)
# Moved from the agent configs to the run config (rlsuite 0.1's config.yaml has them there).
_MOVED_TO_RUN = ("n_envs", "torch_threads")
_DROPPED = ("default_steps",)  # a run's own `steps` has always been saved beside it


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """An older config's run settings moved out of ``agent_config``, its unused curiosity
    settings dropped and a curious run's constant intrinsic weight kept; new configs pass
    unchanged."""
    agent_config = data.get("agent_config")
    if not isinstance(agent_config, dict):
        return data
    # Before curiosity_epochs and intrinsic_coef defaulted to none (each kind's own), every
    # a2c/ppo config saved their old defaults, 1 and 1.0, which a plain agent never used and
    # would now refuse. A curious agent's config keeps them: it ran with them.
    if agent_config.get("curiosity") is None:
        old_defaults = {"curiosity_epochs": 1, "intrinsic_coef": 1.0}
        unused = {k for k, v in old_defaults.items() if agent_config.get(k) == v}
        if unused:
            agent_config = {k: v for k, v in agent_config.items() if k not in unused}
            data = {**data, "agent_config": agent_config}
    # Before intrinsic_schedule (2026-12-05), every curious run kept its weight constant. A
    # config saved by such a run holds every curiosity setting but that one (a file written by
    # hand seldom holds these four): it resumes as it ran.
    saved_before_schedule = {"icm_eta", "icm_beta", "rnd_warmup_steps", "count_resolution"}
    if (
        agent_config.get("curiosity") is not None
        and "intrinsic_schedule" not in agent_config
        and saved_before_schedule <= set(agent_config)
    ):
        agent_config = {**agent_config, "intrinsic_schedule": "constant"}
        data = {**data, "agent_config": agent_config}
    if not set(agent_config) & {*_MOVED_TO_RUN, *_DROPPED}:
        return data
    data, agent_config = dict(data), dict(agent_config)
    for key in _MOVED_TO_RUN:
        if key in agent_config:
            data.setdefault(key, agent_config.pop(key))
    for key in _DROPPED:
        agent_config.pop(key, None)
    data["agent_config"] = agent_config
    return data


def resolve_config(
    env_id: str | None = None,
    agent: str | None = None,
    *,
    steps: int | None = None,
    n_envs: int | None = None,
    seed: int | None = None,
    eval_every: int | None = None,
    device: str | None = None,
    demos: str | Path | None = None,
    encoder: str | None = None,
    freeze_encoder: bool | None = None,
    config_file: str | Path | None = None,
    settings: Sequence[str] = (),
    env_kwargs: Sequence[str] = (),
    wrappers: Sequence[str] = (),
    imports: Sequence[str] = (),
    default_env_id: str = "CartPole-v1",
    default_agent: str = "ppo",
    per_task: bool = True,
) -> RunConfig:
    """Merge defaults < per-task hyperparameters < ``--config`` file < command-line options <
    ``--set`` into a RunConfig (``per_task=False`` skips the per-task layer: ``--defaults``).

    `settings` and `env_kwargs` are "key=value" strings. Everything is checked here, before any
    folder is made: unknown keys, values of the wrong type or range, unknown env ids or agents,
    wrappers and imports that do not load.
    """
    from rlsuite.agents import agent_class

    file = read_config_file(config_file) if config_file is not None else {}
    all_imports = tuple(dict.fromkeys([*file.get("imports", ()), *imports]))
    import_modules(all_imports)
    env_id = env_id or file.get("env_id") or default_env_id
    check_env_id(env_id)
    cls = agent_class(agent or file.get("agent") or default_agent)
    agent_fields = [f.name for f in dataclasses.fields(cls.Config)]

    # Each layer is a flat {setting: value}, run settings and agent settings alike, and may
    # hold "env_kwargs" (merged key by key); later layers win. Per-task hyperparameters (rl-zoo
    # style, keyed by env id) are one more layer, before the config file's.
    options = {"steps": steps, "n_envs": n_envs, "seed": seed, "eval_every": eval_every}
    options["device"] = device
    options["encoder"] = str(Path(encoder).resolve()) if encoder is not None else None
    options["freeze_encoder"] = freeze_encoder
    cli_env_kwargs = parse_pairs(env_kwargs, "--env-kwargs")
    obs_mode = {**(file.get("env_kwargs") or {}), **cli_env_kwargs}.get("obs_mode")
    task = task_settings(cls.name, env_id, obs_mode) if per_task else None
    layers = [
        (f"config file {config_file}", _flat_settings(file)),
        ("options", {key: value for key, value in options.items() if value is not None}),
        ("--env-kwargs", {"env_kwargs": cli_env_kwargs}),
        ("--set", parse_pairs(settings, "--set", parse_values=False)),
    ]
    if task is not None:
        layers.insert(0, task)
    values, merged_env_kwargs = merge_layers(layers, cls.name, agent_fields)

    agent_config = cls.Config(**{k: v for k, v in values.items() if k in agent_fields})
    run = {key: values[key] for key in RUN_SETTINGS if key in values}
    # Two settings default to a share of the run: steps first, then the periods from it.
    run["steps"] = _maybe(run, "steps", cls.default_steps)
    for key in ("eval_every", "checkpoint_every"):
        run[key] = _maybe(run, key, max(run["steps"] // 10, 1))  # ten times per run

    wrapper_paths = tuple(wrappers) if wrappers else tuple(file.get("wrappers", ()))
    for path in wrapper_paths:
        load_wrapper(path)  # fail now, not after the run folder exists
    if coerce("freeze_encoder", run.get("freeze_encoder", False), FLAG) and not run.get("encoder"):
        raise ConfigError("freeze_encoder needs an encoder: give --encoder RUN_DIR")
    config = RunConfig(
        env_id=env_id,
        agent=cls.name,
        demos=check_demos_path(cls, demos if demos is not None else file.get("demos")),
        hyperparams=task[0] if task is not None else "",
        env_kwargs=with_shaping_gamma(env_id, merged_env_kwargs, agent_config),
        wrappers=wrapper_paths,
        imports=all_imports,
        agent_config=dataclasses.asdict(agent_config),
        **run,
    )
    return dataclasses.replace(config, vec=resolve_vec_mode(env_id, config.vec, wrapper_paths))


def check_demos_path(agent: type, demos: str | Path | None) -> str:
    """The demonstration file's absolute path for an imitation agent (checked to exist), or "".

    Absolute, so that ``--resume`` and DAgger find it from any working directory. Its contents
    are checked against the env when the agent is built (``runs.build_agent``).
    """
    if not getattr(agent, "uses_demos", False):
        if demos:
            raise ConfigError(
                f"--demos is for the imitation agents; {agent.name} learns from the env's reward"
            )
        return ""
    if not demos:
        raise ConfigError(
            f"{agent.name} learns from demonstrations: give --demos FILE.npz (record one with "
            "`rlsuite demos ENV_ID --expert scripted -o demos.npz`)"
        )
    path = Path(demos).expanduser()
    if not path.is_file():
        raise ConfigError(f"no demonstration file at {path}")
    return str(path.resolve())


def merge_layers(
    layers: Sequence[tuple[str, Mapping[str, Any]]], agent: str, agent_fields: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, env kwargs) of `layers` merged in order; an unknown key raises ConfigError.

    Each layer is (where it came from, {setting: value}); its "env_kwargs" mapping, if any, is
    merged key by key into the env kwargs instead.
    """
    valid = [*RUN_SETTINGS, *agent_fields]
    values: dict[str, Any] = {}
    env_kwargs: dict[str, Any] = {}
    for source, layer in layers:
        for key, value in layer.items():
            if key == "env_kwargs":
                env_kwargs.update(coerce(f"env_kwargs in {source}", value, MAPPING))
            elif key in valid:
                values[key] = value
            elif key in _curiosity_fields():
                given = "" if key == "curiosity" else f" ({key} in {source})"
                raise ConfigError(
                    f"{agent} cannot learn with curiosity{given}: the intrinsic return needs "
                    "a critic with a second value head; use --agent a2c or ppo"
                )
            else:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise ConfigError(
                    f"unknown setting {key!r} in {source} for agent {agent}; {hint}"
                    f"valid: {', '.join(valid)}"
                )
    return values, env_kwargs


def _curiosity_fields() -> tuple[str, ...]:
    """The curiosity settings (rlsuite/agents/curiosity.py), which only some agents take."""
    from rlsuite.agents.curiosity import CURIOSITY_FIELDS

    return CURIOSITY_FIELDS


def task_settings(
    agent: str, env_id: str, obs_mode: str | None
) -> tuple[str, dict[str, Any]] | None:
    """The per-task hyperparameters of `agent` on `env_id` as a layer (rlsuite/hyperparams/)."""
    from rlsuite import hyperparams

    try:
        task = hyperparams.lookup(agent, env_id, obs_mode)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if task is None:
        return None
    layer = dict(task.settings)
    if task.steps is not None:
        layer["steps"] = task.steps
    layer["env_kwargs"] = task.env_kwargs
    return task.describe(), layer


def with_shaping_gamma(
    env_id: str, env_kwargs: dict[str, Any], agent_config: Any
) -> dict[str, Any]:
    """`env_kwargs` with the game's shaping discount set to the agent's gamma.

    Potential-based shaping leaves the optimal policy unchanged only when its discount is the
    one the agent optimises (Ng et al. 1999), so rlsuite's games get the agent's gamma, and a
    different one given by hand is refused.
    """
    spec = gym.spec(env_id)
    gamma = getattr(agent_config, "gamma", None)
    if gamma is None or not str(spec.entry_point).startswith("rlsuite.envs"):
        return env_kwargs
    given = env_kwargs.get("shaping_gamma")
    if given is not None and not math.isclose(coerce("shaping_gamma", given, PROBABILITY), gamma):
        raise ConfigError(
            f"shaping_gamma={given} differs from the agent's gamma={gamma}; shaping must use "
            "the agent's discount: drop shaping_gamma (it is set for you) or change gamma"
        )
    return {**env_kwargs, "shaping_gamma": gamma}


def _maybe(run: dict[str, Any], key: str, default: int) -> int:
    """run[key] checked, or `default` when it is absent or "none"."""
    value = run.get(key)
    if value is None or (isinstance(value, str) and value.lower() in _NONE):
        return default
    return coerce(key, value, kind_of(RunConfig, key))


def _flat_settings(file: dict[str, Any]) -> dict[str, Any]:
    """A config file's run settings, ``agent_config`` and ``env_kwargs`` as one flat layer."""
    return {
        **{key: file[key] for key in RUN_SETTINGS if key in file},
        **(file.get("agent_config") or {}),
        "env_kwargs": file.get("env_kwargs") or {},
    }


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping with the keys of config.yaml (read as data, never executed)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise RlsuiteError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)  # JSON is YAML, so one reader serves both
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0]
        raise RlsuiteError(f"config file {path} is not valid YAML/JSON: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RlsuiteError(f"config file {path} must hold a mapping of settings")
    for key in ("env_kwargs", "agent_config"):
        if not isinstance(data.get(key) or {}, dict):
            raise RlsuiteError(f"{key} in config file {path} must be a mapping")
    data = _upgrade(data)
    # An agent setting at the top level (as rl-zoo's files hold them) belongs under agent_config.
    _check_keys(data, CONFIG_KEYS, f"config file {path}", "; agent settings go under agent_config:")
    return data


def _check_keys(data: Mapping[str, Any], valid: Sequence[str], where: str, hint: str = "") -> None:
    unknown = [key for key in data if key not in valid]
    if unknown:
        raise RlsuiteError(
            f"unknown key {unknown[0]!r} in {where}; valid: {', '.join(valid)}{hint}"
        )


def parse_pairs(pairs: Sequence[str], option: str, parse_values: bool = True) -> dict[str, Any]:
    """["a=1", "b=x"] -> {"a": 1, "b": "x"}; values read as YAML scalars when `parse_values`.

    Settings are left as text (`parse_values=False`): their kinds convert them (`coerce`).
    Env kwargs have no declared kinds, so YAML reads them.
    """
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            hint = " (give ENV_ID before the options)" if not sep else ""
            raise RlsuiteError(f"{option} expects key=value, got {pair!r}{hint}")
        if parse_values:
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass  # keep the raw string
        result[key.strip()] = value
    return result


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively, so yaml.safe_dump can write the value."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ================================================================================================
# Env ids and the modules that register them
# ================================================================================================


def import_modules(names: Sequence[str]) -> None:
    """Import modules named by ``--import`` (they register env ids with Gymnasium)."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise RlsuiteError(f"bad --import {name!r}: {one_line(exc)}") from None


def check_env_id(env_id: str) -> None:
    """Raise with close matches when `env_id` is not registered."""
    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`rlsuite envs` lists them"
    raise RlsuiteError(f"unknown environment id {env_id!r}; {hint}")
