"""A yardstick nobody here wrote learns KeyDoor: Stable-Baselines3's PPO on the 5x5 grid.

If SB3's PPO cannot learn the game from its symbolic observation and shaped reward, the game (its
observation, its shaping or its time limit) is at fault, not our agents. About 40 s on one core.
"""

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import rlsuite  # noqa: F401  (registers the games)

ENV_ID = "rlsuite/KeyDoor-5x5-v0"


def success_rate(model: PPO, episodes: int = 50) -> float:
    """Share of seeded episodes the greedy policy solves, as the single env reports it."""
    env = gym.make(ENV_ID)
    solved = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)  # layouts never seen in training
        done, info = False, {}
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(int(action))
            done = terminated or truncated
        solved.append(info["is_success"])
    return float(np.mean(solved))


def test_sb3_ppo_learns_keydoor_5x5_from_symbolic_obs_and_shaped_reward():
    envs = make_vec_env(ENV_ID, n_envs=8, seed=0, env_kwargs={"reward_mode": "shaped"})
    model = PPO(
        "MlpPolicy",
        envs,
        # Short rollouts and several epochs per batch: many updates from few steps, which is what
        # a small, fast task wants; the shaped reward keeps the advantage signal dense.
        n_steps=64,
        batch_size=128,
        n_epochs=8,
        learning_rate=1e-3,
        ent_coef=0.01,
        policy_kwargs={"net_arch": [64, 64]},
        seed=0,
        device="cpu",
    )
    model.learn(24_000)
    rate = success_rate(model)
    assert rate >= 0.9, f"PPO solved {rate:.0%} of 50 evaluation episodes"
