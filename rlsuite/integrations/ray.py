"""rlsuite's games in Ray: every game id registered with Ray's env registry, for RLlib.

RLlib builds its environments in remote worker processes, which never imported rlsuite and so
never saw its ``gymnasium.register`` calls. Ray's own registry (``ray.tune.registry``) is stored
in the cluster and read by every worker, so registering a creator there makes the ids work
everywhere::

    from ray.rllib.algorithms.ppo import PPOConfig
    from rlsuite.integrations.ray import register_games

    register_games()
    config = PPOConfig().environment("rlsuite/KeyDoor-5x5-v0", env_config={"reward_mode": "shaped"})
    algo = config.build_algo()
    print(algo.train()["env_runners"]["episode_return_mean"])

``env_config`` holds the game's keyword arguments (``reward_mode``, ``obs_mode``, ...). The
creator is a module-level function, so a worker unpickles it by importing this module, which
imports ``rlsuite`` and so registers the games with Gymnasium there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import gymnasium as gym

RAY_HINT = 'rlsuite.integrations.ray needs Ray: pip install "rlsuite[ray]"'


def make_game(env_id: str, env_config: Mapping[str, Any] | None = None) -> gym.Env:
    """One rlsuite game, as RLlib's env creator: ``gym.make(env_id, **env_config)``.

    RLlib passes an ``EnvContext`` (a dict that also knows the worker's index); its items are
    the game's keyword arguments.
    """
    import rlsuite.envs  # noqa: F401  (registers the ids in this process)

    return gym.make(env_id, **dict(env_config or {}))


def register_games(ids: list[str] | None = None) -> list[str]:
    """Register rlsuite's games (all of them, or `ids`) with Ray's registry; returns the ids.

    After this, ``PPOConfig().environment("rlsuite/KeyDoor-8x8-v0")`` (or any RLlib algorithm,
    or a Tune trainable asking ``tune.registry`` for an env) builds the game on every worker.
    """
    try:
        from ray.tune.registry import register_env
    except ImportError:
        raise ImportError(RAY_HINT) from None
    from rlsuite.envs import game_ids

    known = game_ids()
    chosen = known if ids is None else list(ids)
    unknown = [env_id for env_id in chosen if env_id not in known]
    if unknown:
        raise ValueError(f"not rlsuite games: {', '.join(unknown)}; they are: {', '.join(known)}")
    for env_id in chosen:
        register_env(env_id, partial(make_game, env_id))
    return chosen
