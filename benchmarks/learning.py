"""Do the agents learn? Each agent, default Config, on a task nobody here wrote.

- reinforce, actor-critic, ppo: CartPole-v1 within their ``default_steps``, target eval
  mean >= 475;
- a2c: Acrobot-v1 within 500k steps, target eval mean >= -100.

Evaluation: deterministic policy, 20 episodes, on a separately seeded vector env. Envs are built as
``rlsuite train`` builds them (the native vector env where the game registers one).

    python benchmarks/learning.py                 # all rows, seeds 0 1 2 (about 15 min on 2 cores)
    python benchmarks/learning.py --quick         # seed 0 only
    python benchmarks/learning.py --agents ppo    # some rows
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import torch

from rlsuite.agents import AGENTS, evaluate, make_agent
from rlsuite.config import RunConfig
from rlsuite.vector import make_vector_env


@dataclass(frozen=True)
class Row:
    agent: str
    env_id: str
    steps: int
    target: float


ROWS = [
    Row("reinforce", "CartPole-v1", AGENTS["reinforce"].default_steps, 475.0),
    Row("actor-critic", "CartPole-v1", AGENTS["actor-critic"].default_steps, 475.0),
    Row("ppo", "CartPole-v1", AGENTS["ppo"].default_steps, 475.0),
    Row("a2c", "Acrobot-v1", 500_000, -100.0),
]


def run(row: Row, seed: int) -> tuple[float, float]:
    """Train one agent, return (deterministic eval mean return, training seconds)."""
    envs = make_vector_env(row.env_id, RunConfig(row.env_id, row.agent, row.steps).n_envs)
    agent = make_agent(row.agent, envs, {}, seed=seed)
    start = time.perf_counter()
    agent.learn(row.steps)
    seconds = time.perf_counter() - start
    eval_envs = make_vector_env(row.env_id, 4)
    result = evaluate(agent, eval_envs, episodes=20, deterministic=True, seed=10_000 + seed)
    return result["mean_return"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seed 0 only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--agents", nargs="+", default=[row.agent for row in ROWS])
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [0] if args.quick else args.seeds

    header = f"{'agent':13} {'env':12} {'steps':>8} {'seed':>4} {'eval mean':>9} {'target':>7}"
    print(header + f" {'pass':>5} {'train s':>8}")
    for row in ROWS:
        if row.agent not in args.agents:
            continue
        means = []
        for seed in seeds:
            mean, seconds = run(row, seed)
            means.append(mean)
            ok = "yes" if mean >= row.target else "no"
            print(
                f"{row.agent:13} {row.env_id:12} {row.steps:8d} {seed:4d} {mean:9.1f} "
                f"{row.target:7.0f} {ok:>5} {seconds:8.1f}",
                flush=True,
            )
        median = statistics.median(means)
        ok = "yes" if median >= row.target else "no"
        print(
            f"{row.agent:13} {row.env_id:12} {row.steps:8d} {'med':>4} {median:9.1f} "
            f"{row.target:7.0f} {ok:>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()
