"""How fast is KeyDoor-8x8 next to MiniGrid's DoorKey-8x8? One run, one table, ratios.

    python benchmarks/keydoor_vs_minigrid.py [--seconds 3] [--batch 1024]

Every row steps random actions, drawn inside the timed loop, and resets ended episodes as its
environment does: rlsuite's native vector env autoresets in the same step; the single envs are
reset by hand when an episode ends, the usual Gymnasium loop. MiniGrid (`pip install minigrid`,
the `bench` extra) is stepped the usual way: one `gym.make` env, its default observation.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import rlsuite  # noqa: F401  (registers the games)

ENV_ID = "rlsuite/KeyDoor-8x8-v0"
MINIGRID_ID = "MiniGrid-DoorKey-8x8-v0"


def timed(run_steps: Callable[[int], int], seconds: float) -> float:
    """Steps per second of `run_steps(k)` (which returns the steps it took), after a warm-up."""
    run_steps(10)
    steps, k, start = 0, 16, time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += run_steps(k)
        k = min(k * 2, 4096)  # longer chunks as we go: the clock is read rarely
    return steps / (time.perf_counter() - start)


def vector_rate(obs_mode: str, batch: int, seconds: float) -> float:
    envs = gym.make_vec(ENV_ID, batch, vectorization_mode="vector_entry_point", obs_mode=obs_mode)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)

    def run(k: int) -> int:
        for _ in range(k):
            envs.step(rng.integers(0, 4, batch))
        return k * batch

    return timed(run, seconds)


def single_rate(env_id: str, seconds: float) -> float:
    env = gym.make(env_id)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    n_actions = env.action_space.n

    def run(k: int) -> int:
        for _ in range(k):
            _, _, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
            if terminated or truncated:
                env.reset()
        return k

    return timed(run, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per row")
    parser.add_argument("--batch", type=int, default=1024, help="games in the vector env")
    args = parser.parse_args()

    try:
        import minigrid  # noqa: F401  (registers MiniGrid's ids)
    except ImportError as exc:
        raise SystemExit("the yardstick needs MiniGrid: pip install minigrid") from exc

    minigrid_rate = single_rate(MINIGRID_ID, args.seconds)
    rows = [
        (f"{MINIGRID_ID}  gym.make, 1 env", "steps/s", minigrid_rate),
        (f"{ENV_ID}  gym.make, 1 env", "steps/s", single_rate(ENV_ID, args.seconds)),
        (
            f"{ENV_ID}  vector env x{args.batch}, symbolic",
            "steps/s",
            vector_rate("symbolic", args.batch, args.seconds),
        ),
        (
            f"{ENV_ID}  vector env x{args.batch}, 64x64 pixels",
            "frames/s",
            vector_rate("pixels", args.batch, args.seconds),
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'environment (random actions)':<{width}}  {'rate':>12}  {'unit':<8}  vs MiniGrid")
    for name, unit, rate in rows:
        print(f"{name:<{width}}  {rate:>12,.0f}  {unit:<8}  {rate / minigrid_rate:>9.1f}x")
    print("targets: vector symbolic >= 200x MiniGrid and >= 1,000,000 steps/s; pixels >= 50,000")


if __name__ == "__main__":
    main()
