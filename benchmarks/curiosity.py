"""Curiosity beside the plain agents on sparse-reward games: success, exploration, wall time.

Issue #9's acceptance, plain and curious side by side in one run, seeds 0-2 by default:

- ``keydoor``: ``rlsuite/KeyDoor-16x16-v0`` with ``reward_mode=sparse``: plain ppo and a2c, and
  ppo/a2c with ``--curiosity rnd`` and ``--curiosity icm`` (target: success >= 0.9 within 2M
  steps, median of 3 seeds);
- ``maze``: ``rlsuite/Maze-6Rooms-v0`` sparse with ``goal_hint=False`` and ``show_visited=False``,
  each observation with the one before it (``frame_stack=2``: where the agent just was):
  plain ppo beside ppo with rnd, icm and the per-episode count (``ppo+episode-count``: ``count``
  with ``count_per_episode``) (target: curiosity >= 0.5 while plain stays near 0). The entry
  shows the agent the cells it visited this episode, with which plain ppo finds the goal too
  (the maze is then no exploration test); ``--env-kwargs show_visited=true frame_stack=1``
  measures that;
- ``explore``: KeyDoor-16x16 with no extrinsic reward at all (``--no-extrinsic``): distinct
  cells per episode of each curious agent's policy (ppo with rnd, icm and the per-episode count)
  over a random policy's (target: >= 3x); the heatmaps of both are saved as PNG files
  (``--heatmaps DIR``);
- ``cost``: wall time per env step of each curiosity over the plain agent, same settings and
  budget, measured in turns in this one process (target: <= 1.4x).

Every training run is what ``rlsuite train ID --agent A --env-kwargs reward_mode=sparse
[--curiosity K] --seed S`` runs: the per-task settings of ``rlsuite/hyperparams`` (their
reward mode replaced by sparse) and, with ``--set KEY=VALUE``, more settings for every run (the
same for plain and curious). Success is the training success rate of the last 100 episodes at
the end (``rollout/success_rate``) and of 50 deterministic evaluation episodes.

    python benchmarks/curiosity.py                            # everything (many CPU hours)
    python benchmarks/curiosity.py --parts keydoor --rows ppo,ppo+rnd --seeds 0 --steps 5e5
    python benchmarks/curiosity.py --parts cost --steps 1e5
    python benchmarks/curiosity.py --parts maze --env-kwargs show_visited=true frame_stack=1
    python benchmarks/curiosity.py --parts explore --heatmaps heatmaps/
    python benchmarks/curiosity.py --out a.jsonl ...      # one JSON line per finished run
    python benchmarks/curiosity.py --combine a.jsonl b.jsonl  # one table from saved runs
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlsuite.agents import Agent, evaluate
from rlsuite.agents.curiosity import VisitCounter, grid_positions
from rlsuite.config import RunConfig, resolve_config
from rlsuite.logger import Logger
from rlsuite.runs import build_agent, run_envs

KEYDOOR = "rlsuite/KeyDoor-16x16-v0"
MAZE = "rlsuite/Maze-6Rooms-v0"
EVAL_SEED = 10_000
PARTS = ("keydoor", "maze", "explore", "cost")
ROWS = {
    "keydoor": ["ppo", "a2c", "ppo+rnd", "ppo+icm", "a2c+rnd", "a2c+icm"],
    "maze": ["ppo", "ppo+rnd", "ppo+icm", "ppo+episode-count"],
    "explore": ["ppo+rnd", "ppo+icm", "ppo+episode-count"],
    "cost": ["ppo", "ppo+rnd", "ppo+icm", "ppo+count", "a2c", "a2c+rnd", "a2c+icm"],
}
ENV_KWARGS = {
    "keydoor": ["reward_mode=sparse"],
    "maze": ["reward_mode=sparse", "goal_hint=false", "show_visited=false", "frame_stack=2"],
    "explore": ["reward_mode=sparse"],
    "cost": ["reward_mode=sparse"],
}
ENVS = {"keydoor": KEYDOOR, "maze": MAZE, "explore": KEYDOOR, "cost": KEYDOOR}


OUT: Path | None = None  # --out: every finished run is appended here at once


def emit(row: dict[str, Any]) -> None:
    """Print one finished run as a JSON line (and append it to --out)."""
    line = json.dumps(row)
    print(line, flush=True)
    if OUT is not None:
        with OUT.open("a") as f:
            f.write(line + "\n")


def run_config(
    part: str, row: str, seed: int, steps: int | None, extra: list[str], env_extra: list[str] = ()
) -> RunConfig:
    """What `rlsuite train` resolves for this row: ``agent[+curiosity]``; ``env_extra`` is
    ``--env-kwargs``, after the part's own."""
    agent, _, kind = row.partition("+")
    settings = list(extra)
    if kind == "episode-count":  # the count bonus over each episode's own visits
        settings += ["curiosity=count", "count_per_episode=true"]
    elif kind:
        settings.append(f"curiosity={kind}")
    if kind and part == "explore":
        settings.append("extrinsic_coef=0")
    return resolve_config(
        ENVS[part],
        agent,
        seed=seed,
        steps=steps,
        settings=settings,
        env_kwargs=[*ENV_KWARGS[part], *env_extra],
        eval_every=0,
    )


def train(config: RunConfig) -> tuple[Agent, float]:
    """Train as `rlsuite train` does (no run folder); returns the agent and the wall seconds."""
    logger = Logger(None)
    agent = build_agent(config, run_envs(config, config.n_envs), logger)
    start = time.perf_counter()
    agent.learn(config.steps)
    return agent, time.perf_counter() - start


def success(agent: Agent, config: RunConfig, episodes: int = 50) -> tuple[float, float]:
    """(training success of the last 100 episodes, success of deterministic evaluation)."""
    window = agent.logger.episode_successes
    training = float(np.mean(window)) if window else 0.0
    envs = run_envs(config, 8)
    result = evaluate(agent, envs, episodes=episodes, deterministic=True, seed=EVAL_SEED)
    envs.close()
    return training, float(result.get("success_rate") or 0.0)


# ------------------------------------------------------------------------------------------------
# Exploration without reward: distinct cells per episode, heatmaps
# ------------------------------------------------------------------------------------------------


def distinct_cells(
    config: RunConfig, act, episodes: int, seed: int
) -> tuple[list[int], list[int], np.ndarray]:
    """Distinct cells each of `episodes` episodes stood on, acting by `act(obs)`; the episodes'
    lengths; and the visitation heatmap of them all."""
    envs = run_envs(config, 8)
    (height, width), read = grid_positions(envs)
    heat = VisitCounter((height, width), read)
    visited = np.zeros((envs.num_envs, height * width), dtype=bool)
    counts: list[int] = []
    lengths: list[int] = []
    steps = np.zeros(envs.num_envs, dtype=np.int64)
    obs, _ = envs.reset(seed=seed)
    while len(counts) < episodes:
        x, y = read(envs)
        visited[np.arange(envs.num_envs), np.asarray(y) * width + np.asarray(x)] = True
        heat(envs)
        obs, _, terminated, truncated, _ = envs.step(act(obs))
        steps += 1
        for i in np.flatnonzero(terminated | truncated):
            counts.append(int(visited[i].sum()))
            lengths.append(int(steps[i]))
            visited[i], steps[i] = False, 0
    envs.close()
    return counts[:episodes], lengths[:episodes], heat.take_heatmap()


class RandomPolicy:
    """Uniformly random moves (the games' four), for a batch of observations."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.integers(4, size=len(obs))


def save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


def explore_rows(args, seeds: list[int]) -> list[dict[str, Any]]:
    rows = []
    for seed, row in itertools.product(seeds, args.rows or ROWS["explore"]):
        config = run_config("explore", row, seed, args.steps, args.set, args.env_kwargs)
        agent, wall = train(config)
        curious, curious_lengths, curious_map = distinct_cells(
            config, agent.predict, args.episodes, EVAL_SEED + seed
        )
        random, random_lengths, random_map = distinct_cells(
            config, RandomPolicy(seed), args.episodes, EVAL_SEED + seed
        )
        if args.heatmaps:
            kind = row.partition("+")[2]
            save_png(curious_map, Path(args.heatmaps) / f"explore_{kind}_s{seed}.png")
            save_png(random_map, Path(args.heatmaps) / f"explore_random_s{seed}.png")
        rows.append(
            {
                "part": "explore",
                "row": " ".join([f"{row} no extrinsic", *args.env_kwargs]),
                "seed": seed,
                "steps": agent.num_steps,
                "wall_s": wall,
                "settings": " ".join(args.set),
                "cells_curious": float(np.mean(curious)),
                "cells_random": float(np.mean(random)),
                "length_curious": float(np.mean(curious_lengths)),
                "length_random": float(np.mean(random_lengths)),
            }
        )
        emit(rows[-1])
    return rows


# ------------------------------------------------------------------------------------------------
# Learning and cost
# ------------------------------------------------------------------------------------------------


def learning_rows(args, part: str, seeds: list[int]) -> list[dict[str, Any]]:
    rows = []
    for seed in seeds:
        for row in args.rows or ROWS[part]:
            config = run_config(part, row, seed, args.steps, args.set, args.env_kwargs)
            agent, wall = train(config)
            training, evaluated = success(agent, config)
            rows.append(
                {
                    "part": part,
                    "row": " ".join([row, *args.env_kwargs]),
                    "seed": seed,
                    "steps": agent.num_steps,
                    "wall_s": wall,
                    "success_train": training,
                    "success_eval": evaluated,
                }
            )
            emit(rows[-1])
    return rows


def cost_rows(args) -> list[dict[str, Any]]:
    """Seconds per env step of each row, trained in turns (plain first) so the machine's load
    falls on all alike; the same seed 0 and budget."""
    rows = []
    for repeat in range(args.repeats):
        for row in args.rows or ROWS["cost"]:
            config = run_config("cost", row, 0, args.steps, args.set)
            agent, wall = train(config)
            rows.append(
                {
                    "part": "cost",
                    "row": row,
                    "seed": 0,
                    "repeat": repeat,
                    "steps": agent.num_steps,
                    "wall_s": wall,
                    "s_per_step": wall / agent.num_steps,
                }
            )
            emit(rows[-1])
    return rows


# ------------------------------------------------------------------------------------------------
# The tables
# ------------------------------------------------------------------------------------------------


def print_tables(rows: list[dict[str, Any]]) -> None:
    for part in ("keydoor", "maze"):
        mine = [r for r in rows if r["part"] == part]
        if not mine:
            continue
        print(f"\n{ENVS[part]}", *ENV_KWARGS[part])
        w = max(10, *(len(r["row"]) for r in mine))
        print(f"{'row':<{w}} {'seeds':<8} {'success (train, per seed)':<28} {'median':>7} "
              f"{'eval median':>12} {'steps':>9} {'wall s (median)':>16}")  # fmt: skip
        for row in dict.fromkeys(r["row"] for r in mine):
            runs = sorted((r for r in mine if r["row"] == row), key=lambda r: r["seed"])
            per_seed = " ".join(f"{r['success_train']:.2f}" for r in runs)
            print(
                f"{row:<{w}} {','.join(str(r['seed']) for r in runs):<8} {per_seed:<28} "
                f"{statistics.median(r['success_train'] for r in runs):>7.2f} "
                f"{statistics.median(r['success_eval'] for r in runs):>12.2f} "
                f"{max(r['steps'] for r in runs):>9} "
                f"{statistics.median(r['wall_s'] for r in runs):>16.0f}"
            )
    explore = [r for r in rows if r["part"] == "explore"]
    if explore:
        print(f"\n{KEYDOOR}, no extrinsic reward: distinct cells per episode")
        w = max(3, *(len(r["row"]) for r in explore))
        print(f"{'row':<{w}} {'seed':<6} {'curious':>8} {'random':>8} {'ratio':>6} "
              f"{'ep len c/r':>11} {'steps':>9} {'wall s':>7}  settings")  # fmt: skip
        for r in explore:
            ratio = r["cells_curious"] / r["cells_random"]
            lengths = f"{r.get('length_curious', 0):.0f}/{r.get('length_random', 0):.0f}"
            print(
                f"{r['row']:<{w}} {r['seed']:<6} {r['cells_curious']:>8.1f} "
                f"{r['cells_random']:>8.1f} "
                f"{ratio:>6.2f} {lengths:>11} {r['steps']:>9} {r['wall_s']:>7.0f}  "
                f"{r.get('settings', '')}"
            )
    cost = [r for r in rows if r["part"] == "cost"]
    if cost:
        print(f"\n{KEYDOOR}: wall time per env step (median of repeats), over the plain agent")

        def per_step(row: str) -> float:
            return statistics.median(r["s_per_step"] for r in cost if r["row"] == row)

        for row in dict.fromkeys(r["row"] for r in cost):
            plain = row.partition("+")[0]
            ratio = per_step(row) / per_step(plain) if any(r["row"] == plain for r in cost) else 0
            print(f"{row:<10} {1e6 * per_step(row):>8.1f} us/step  ratio {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {', '.join(PARTS)}")
    parser.add_argument("--rows", help="comma-separated rows (e.g. ppo,ppo+rnd)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=float, help="budget (default: the per-task entry's)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--env-kwargs", nargs="+", default=[], metavar="KEY=VALUE",
        help="keydoor, maze: env settings after the part's own (e.g. show_visited=true), named "
        "in the row",
    )  # fmt: skip
    parser.add_argument("--episodes", type=int, default=40, help="explore: episodes measured")
    parser.add_argument("--repeats", type=int, default=2, help="cost: rounds of every row")
    parser.add_argument("--heatmaps", metavar="DIR", help="explore: save the heatmaps here")
    parser.add_argument("--out", help="append a JSON line per run to this file")
    parser.add_argument("--combine", nargs="+", metavar="JSONL", help="print saved runs")
    args = parser.parse_args()
    if args.combine:
        rows = [json.loads(line) for f in args.combine for line in Path(f).read_text().splitlines()]
        print_tables(rows)
        return
    global OUT
    OUT = Path(args.out) if args.out else None
    torch.set_num_threads(1)
    args.steps = None if args.steps is None else int(args.steps)
    args.rows = args.rows.split(",") if args.rows else None
    rows: list[dict[str, Any]] = []
    for part in args.parts.split(","):
        if part in ("keydoor", "maze"):
            new = learning_rows(args, part, args.seeds)
        elif part == "explore":
            new = explore_rows(args, args.seeds)
        else:
            new = cost_rows(args)
        rows += new
    print_tables(rows)


if __name__ == "__main__":
    main()
