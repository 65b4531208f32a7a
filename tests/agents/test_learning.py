"""An agent's return improves: the test that fails when a sign in any loss is flipped.

PPO on CartPole-v1 goes from a random policy's return (about 20-60) to at least 150 within
20,480 steps (a few seconds here); its evaluation is deterministic and seeded apart from training.
"""

from __future__ import annotations

import time

import gymnasium as gym
import torch

from rlsuite.agents import evaluate, make_agent


def test_ppo_return_improves_on_cartpole_within_15_seconds() -> None:
    torch.set_num_threads(1)
    envs = gym.make_vec("CartPole-v1", 8)
    eval_envs = gym.make_vec("CartPole-v1", 4)
    agent = make_agent("ppo", envs, {}, seed=0)
    before = evaluate(agent, eval_envs, episodes=8, deterministic=True, seed=1)["mean_return"]
    start = time.perf_counter()
    agent.learn(20_480)
    seconds = time.perf_counter() - start
    after = evaluate(agent, eval_envs, episodes=8, deterministic=True, seed=1)["mean_return"]
    assert before < 100, f"an untrained policy should fall early, returned {before}"
    assert after >= 150, f"PPO did not learn CartPole: {before:.0f} -> {after:.0f}"
    assert seconds < 15, f"20,480 steps took {seconds:.1f} s"
