"""rlsuite's games in Ray: registered with Ray's registry, trained by RLlib's PPO in a remote
env runner (a real local Ray, 2 CPUs: conftest's `ray_address`), the README's example as written.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from rlsuite.envs import game_ids
from rlsuite.integrations.ray import register_games

README = Path(__file__).parent.parent / "README.md"


def test_every_game_is_in_rays_registry(ray_address):
    from ray.tune.registry import ENV_CREATOR, _global_registry

    assert register_games() == game_ids()
    for env_id in game_ids():
        assert _global_registry.contains(ENV_CREATOR, env_id)
    creator = _global_registry.get(ENV_CREATOR, "rlsuite/Maze-2Rooms-v0")
    env = creator({"obs_mode": "pixels"})  # env_config holds the game's kwargs
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 64, 3) and env.spec.id == "rlsuite/Maze-2Rooms-v0"
    with pytest.raises(ValueError, match="not rlsuite games: CartPole-v1"):
        register_games(["CartPole-v1"])


def test_the_readme_example_trains_rllib_ppo_on_a_game_for_two_iterations(ray_address):
    (code,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
        if "register_games" in b
    ]
    assert "range(10)" in code and "ray.init(" in code
    # Two iterations of a tiny batch: the README's example, smaller (Ray is already started).
    code = code.replace("range(10)", "range(2)").replace("ray.init(", "dict(")
    code = code.replace("train_batch_size_per_learner=2000", "train_batch_size_per_learner=128")
    code = code.replace("minibatch_size=250", "minibatch_size=64")
    code = code.replace("rollout_fragment_length=250", "rollout_fragment_length=64")
    code = code.replace("algo.stop()", "")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    algo, result = namespace["algo"], namespace["result"]
    try:
        assert result["training_iteration"] == 2
        runners = result["env_runners"]
        assert runners["num_env_steps_sampled_lifetime"] >= 2 * 128
        assert runners["num_episodes_lifetime"] > 0  # KeyDoor-5x5 episodes end within 100 steps
        assert math.isfinite(runners["episode_return_mean"])
        # The episodes were played by the rlsuite game, in the remote env runner process.
        made = algo.env_runner_group.foreach_env_runner(
            lambda runner: type(runner.env.unwrapped.envs[0].unwrapped).__module__,
            local_env_runner=False,
        )
        assert made == ["rlsuite.envs.core"]
    finally:
        algo.stop()
