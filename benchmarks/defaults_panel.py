"""The agents' built-in defaults, on the tasks they were tuned on and on held-out tasks.

Issue #7's "defaults that generalise": every env id without a per-task entry in
``rlsuite/hyperparams`` gets the agent's built-in defaults, so they must work beyond the tasks
they were chosen on. Each run here is ``rlsuite train ID --agent X --defaults --steps N --seed S``
(``--defaults`` skips the per-task entry; our games add ``--env-kwargs reward_mode=shaped``, the
task's choice, not a tuning flag). Beside it, Stable-Baselines3's PPO / A2C at *their* defaults
(``PPO("MlpPolicy", env)`` on one env, as SB3's documentation starts), the same budget and
evaluation: 50 deterministic episodes, success rate (our games) or mean return (Gymnasium tasks).

Tuning panel (the defaults were chosen on these): CartPole-v1, rlsuite/KeyDoor-8x8-v0.
Held out (never used to choose a default): Acrobot-v1, rlsuite/KeyDoor-5x5-v0,
rlsuite/Maze-2Rooms-v0.

    python benchmarks/defaults_panel.py                      # everything, seeds 0-2
    python benchmarks/defaults_panel.py --panel held-out --no-sb3 --seeds 0
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.env_util import make_vec_env

sys.path.insert(0, str(Path(__file__).parent))
from games_learning import EVAL_SEED, eval_envs, score, train_rlsuite  # noqa: E402

from rlsuite.agents import evaluate  # noqa: E402
from rlsuite.config import RunConfig, resolve_config  # noqa: E402

# (env id, budget, target): success rate for our games, mean return for Gymnasium tasks.
TUNING = [("CartPole-v1", 100_000, 475.0), ("rlsuite/KeyDoor-8x8-v0", 300_000, 0.9)]
HELD_OUT = [
    ("Acrobot-v1", 100_000, -100.0),
    ("rlsuite/KeyDoor-5x5-v0", 100_000, 0.9),
    ("rlsuite/Maze-2Rooms-v0", 300_000, 0.9),
]


def defaults_config(env_id: str, agent: str, steps: int, seed: int) -> RunConfig:
    """What ``rlsuite train ENV --agent X --defaults --steps N --seed S`` resolves."""
    shaped = ["reward_mode=shaped"] if env_id.startswith("rlsuite/") else []
    return resolve_config(env_id, agent, steps=steps, seed=seed, env_kwargs=shaped, per_task=False)


def train_sb3_defaults(config: RunConfig):
    """SB3's own defaults for the agent on the same env kwargs and budget; (policy, seconds)."""
    envs = make_vec_env(config.env_id, n_envs=1, seed=config.seed, env_kwargs=config.env_kwargs)
    cls = PPO if config.agent == "ppo" else A2C
    model = cls("MlpPolicy", envs, seed=config.seed, device="cpu")
    start = time.perf_counter()
    model.learn(config.steps)
    seconds = time.perf_counter() - start
    return (lambda obs, deterministic: model.predict(obs, deterministic=deterministic)[0]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panel", choices=["all", "tuning", "held-out"], default="all")
    parser.add_argument("--agents", nargs="+", default=["ppo", "a2c"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-sb3", action="store_true", help="rlsuite only")
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="4096 steps, 8 episodes: does it run?")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        args.episodes = 8
    tasks = {"tuning": TUNING, "held-out": HELD_OUT}
    panels = ["tuning", "held-out"] if args.panel == "all" else [args.panel]
    sides = ["rlsuite"] + ([] if args.no_sb3 else ["sb3"])
    lines = []
    for panel in panels:
        for env_id, steps, target in tasks[panel]:
            for agent in args.agents:
                cells = {}
                for side in sides:
                    scores, walls = [], []
                    for seed in args.seeds:
                        budget = 4096 if args.quick else steps
                        config = defaults_config(env_id, agent, budget, seed)
                        train = train_sb3_defaults if side == "sb3" else train_rlsuite
                        predict, seconds = train(config)
                        envs = eval_envs(config)
                        result = evaluate(
                            predict, envs, args.episodes, deterministic=True, seed=EVAL_SEED + seed
                        )
                        envs.close()
                        scores.append(score(result))
                        walls.append(seconds)
                        print(
                            f"{panel} {env_id} {agent} {side} seed {seed}: "
                            f"{scores[-1]:.2f} in {seconds:.1f} s",
                            flush=True,
                        )
                    cells[side] = (scores, statistics.median(walls))
                lines.append((panel, env_id, agent, steps, target, cells))
    print()
    print(
        "| panel | env | agent | budget | target | rlsuite (seeds) | median | rlsuite wall s "
        "| SB3 defaults (seeds) | median | SB3 wall s | SB3 / rlsuite wall |"
    )
    print("| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for panel, env_id, agent, steps, target, cells in lines:
        ours, ours_wall = cells["rlsuite"]
        row = [
            panel,
            env_id,
            agent,
            f"{steps // 1000}k",
            f"{target:g}",
            ", ".join(f"{s:.2f}" for s in ours),
            f"{statistics.median(ours):.2f}",
            f"{ours_wall:.1f}",
        ]
        if "sb3" in cells:
            theirs, their_wall = cells["sb3"]
            row += [
                ", ".join(f"{s:.2f}" for s in theirs),
                f"{statistics.median(theirs):.2f}",
                f"{their_wall:.1f}",
                f"{their_wall / ours_wall:.2f}x",
            ]
        else:
            row += ["-"] * 4
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
