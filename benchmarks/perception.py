"""Perception: does a self-supervised encoder make an agent learn a pixel game sooner?

Issue #11's perception acceptance. On KeyDoor-8x8 pixels, A2C with the shipped per-task settings
(``rlsuite train rlsuite/KeyDoor-8x8-v0 --agent a2c --env-kwargs obs_mode=pixels``) learns its CNN
from scratch; beside it the same A2C takes a frozen encoder pretrained self-supervised on the
game's frames (``rlsuite pretrain ... --method ae --policy expert --frames 2000 --set cell=8
keypoints=16``: keypoints read from one code per game cell, see encoders.KeypointEncoder,
standardised over the frames; then ``--encoder RUN --freeze-encoder``). Both
are evaluated every ``--every`` env steps (20 deterministic episodes on fixed seeds) and stop at
the first success rate >= ``--target``. A third run, the bound, is the same agent on the game's
symbolic state: what a perfect frozen encoder could give the agent. ``--agent ppo`` runs
all three with PPO instead (its own per-task settings). Reported per seed: env steps
and seconds to the target; the pretrained side's seconds include the whole pretraining
(collecting the frames, training the encoder, writing its run folder). Evaluation time is taken
out of both clocks. Seconds are given twice: wall time, and this process's CPU time (one torch
thread, so on a machine shared with other jobs the CPU time is what the run would take alone).
The ratios are scratch / pretrained (> 1: the encoder helps).

    python benchmarks/perception.py                  # seeds 0-2, a2c, keypoint ae, 0.95, 1M
    python benchmarks/perception.py --seeds 0 --method simclr
    python benchmarks/perception.py --agent ppo --steps 150000 --every 8192 --frames 4000
    python benchmarks/perception.py --quick          # 4096 steps: does it run?
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rlsuite.agents import evaluate
from rlsuite.config import RunConfig, resolve_config
from rlsuite.logger import Logger
from rlsuite.runs import build_agent, run_envs
from rlsuite.supervised import pretrain

ENV_ID = "rlsuite/KeyDoor-8x8-v0"
EVAL_SEED = 10_000  # evaluation envs are reset with EVAL_SEED + the training seed
EVAL_EPISODES = 20


# The pretrained encoder: keypoints (x, y, present) read from one code per 8x8-pixel cell of the
# 64x64 frames (encoders.KeypointEncoder), an auto-encoder on expert frames. Chosen on seed 0;
# 2,000 frames (the default --frames; 4,000 before) chosen with A2C on seeds 0 and 1.
PRETRAIN_SETTINGS = ["cell=8", "keypoints=16"]


def run_config(
    agent: str,
    seed: int,
    steps: int,
    encoder: str | None = None,
    settings: list[str] | None = None,
    obs_mode: str = "pixels",
) -> RunConfig:
    """What `rlsuite train ENV --agent AGENT --env-kwargs obs_mode=pixels [--encoder E
    --freeze-encoder --set SETTINGS]` resolves to: the shipped per-task settings. With the
    keypoints (3K numbers) the agent's network after the encoder is its default for vector
    observations (64-64 tanh, as on the symbolic game). ``obs_mode="symbolic"`` is the same
    agent on the game's own state (its symbolic entry)."""
    return resolve_config(
        ENV_ID,
        agent,
        seed=seed,
        steps=steps,
        device="cpu",
        env_kwargs=[f"obs_mode={obs_mode}"],
        encoder=encoder,
        freeze_encoder=encoder is not None or None,
        settings=settings or (),
    )


def train_to_target(config: RunConfig, target: float, every: int) -> dict[str, Any]:
    """Train until the success rate reaches `target` (or the budget ends); training seconds and
    env steps at that point, evaluation time taken out."""
    envs = run_envs(config, config.n_envs)
    eval_envs = run_envs(config, 8)
    with tempfile.TemporaryDirectory() as log_dir:
        logger = Logger(log_dir)
        agent = build_agent(config, envs, logger)
        state = {"next": every, "eval": (0.0, 0.0), "reached": None, "success": 0.0}
        start = clock()

        def keep_training(agent) -> bool:
            if agent.num_steps < state["next"]:
                return True
            state["next"] = (agent.num_steps // every + 1) * every
            paused = clock()
            result = evaluate(
                agent, eval_envs, EVAL_EPISODES, deterministic=True, seed=EVAL_SEED + config.seed
            )
            state["success"] = result["success_rate"]
            if result["success_rate"] >= target:
                state["reached"] = (*since(start, state["eval"], paused), agent.num_steps)
            now = clock()
            state["eval"] = tuple(
                e + n - p for e, n, p in zip(state["eval"], now, paused, strict=True)
            )
            return state["reached"] is None

        agent.learn(config.steps, callback=keep_training)
        seconds, cpu_seconds = since(start, state["eval"], clock())
        logger.close()
    envs.close()
    eval_envs.close()
    reached = state["reached"]
    return {
        "reached": reached is not None,
        "seconds": reached[0] if reached else seconds,
        "cpu_seconds": reached[1] if reached else cpu_seconds,
        "steps": reached[2] if reached else agent.num_steps,
        "last_success": state["success"],
    }


def clock() -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds): on a shared machine the CPU time is what
    the run would take alone (one torch thread: CPU time is at most wall time)."""
    return time.perf_counter(), time.process_time()


def since(start, excluded, now) -> tuple[float, float]:
    """(wall, CPU) seconds from `start` to `now`, less the `excluded` (evaluation) time."""
    return tuple(n - s - e for n, s, e in zip(now, start, excluded, strict=True))


def pretrain_encoder(args: argparse.Namespace, seed: int, folder: Path) -> tuple[str, float, float]:
    """`rlsuite pretrain ENV --method M --frames N --epochs E --seed S`: the run folder and the
    wall seconds of the whole command's work."""
    start = clock()
    request = pretrain.resolve_pretrain(
        ENV_ID,
        args.method,
        frames=args.frames,
        policy=args.policy,
        seed=seed,
        epochs=args.epochs,
        settings=dict(pair.split("=", 1) for pair in args.set),
    )
    run_dir = folder / f"pretrain_{args.method}_s{seed}"
    result, _ = pretrain.pretrain(request, run_dir, force=True)
    seconds, cpu_seconds = since(start, (0.0, 0.0), clock())
    loss = result.best_val["loss"]
    print(
        f"  pretrained {args.method}: val loss {loss:.4f}, {seconds:.0f} s "
        f"({cpu_seconds:.0f} CPU s)"
    )
    return str(run_dir), seconds, cpu_seconds


def run_seed(args: argparse.Namespace, seed: int, folder: Path) -> dict[str, Any]:
    record: dict[str, Any] = {"seed": seed, "method": args.method, "target": args.target}
    if not args.no_scratch:
        # The bound: the same PPO on the symbolic state (positions as numbers), which is all a
        # perfect frozen encoder could hand it. An encoder cannot beat scratch in steps where
        # this does not.
        state = train_to_target(
            run_config(args.agent, seed, args.steps, obs_mode="symbolic"),
            args.target,
            args.every,
        )
        print(f"  symbolic state: {state}", flush=True)
        record["state"] = state
        scratch = train_to_target(run_config(args.agent, seed, args.steps), args.target, args.every)
        print(f"  scratch: {scratch}", flush=True)
        record["scratch"] = scratch
    encoder, pretrain_seconds, pretrain_cpu = pretrain_encoder(args, seed, folder)
    config = run_config(args.agent, seed, args.steps, encoder, args.agent_set)
    frozen = train_to_target(config, args.target, args.every)
    frozen["pretrain_seconds"] = pretrain_seconds
    frozen["total_seconds"] = pretrain_seconds + frozen["seconds"]
    frozen["pretrain_cpu_seconds"] = pretrain_cpu
    frozen["total_cpu_seconds"] = pretrain_cpu + frozen["cpu_seconds"]
    print(f"  frozen {args.method}: {frozen}", flush=True)
    record["frozen"] = frozen
    return record


def table(records: list[dict[str, Any]]) -> str:
    """Markdown: per seed, steps, wall seconds and CPU seconds to the target for both sides,
    the pretrained side's seconds as pretraining + RL = total, and the ratios."""

    def mark(side: dict[str, Any], text: str) -> str:
        return text if side["reached"] else f">{text} (not reached)"

    def total(side: dict[str, Any], prefix: str) -> str:
        pre, rl = side[f"pretrain_{prefix}seconds"], side[f"{prefix}seconds"]
        return mark(side, f"{pre:.0f} + {rl:.0f} = {pre + rl:.0f}")

    lines = [
        "| seed | symbolic state steps (the bound) | scratch steps | pretrained steps | ratio | "
        "scratch wall s | pretrained wall s (pretrain + RL) | ratio | scratch CPU s | "
        "pretrained CPU s (pretrain + RL) | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {"steps": [], "wall": [], "cpu": []}
    for r in records:
        scratch, frozen = r.get("scratch"), r["frozen"]
        state = r.get("state")
        row = [str(r["seed"]), mark(state, f"{state['steps']:,}") if state else "-"]
        if scratch is None:
            row += ["-", mark(frozen, f"{frozen['steps']:,}"), "-", "-", total(frozen, ""), "-"]
            row += ["-", total(frozen, "cpu_"), "-"]
            lines.append("| " + " | ".join(row) + " |")
            continue
        steps = scratch["steps"] / frozen["steps"]
        wall = scratch["seconds"] / frozen["total_seconds"]
        cpu = scratch["cpu_seconds"] / frozen["total_cpu_seconds"]
        for key, value in (("steps", steps), ("wall", wall), ("cpu", cpu)):
            ratios[key].append(value)
        row += [mark(scratch, f"{scratch['steps']:,}"), mark(frozen, f"{frozen['steps']:,}")]
        row += [f"{steps:.2f}", mark(scratch, f"{scratch['seconds']:.0f}"), total(frozen, "")]
        row += [f"{wall:.2f}", mark(scratch, f"{scratch['cpu_seconds']:.0f}")]
        row += [total(frozen, "cpu_"), f"{cpu:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    if ratios["steps"]:
        medians = {key: statistics.median(values) for key, values in ratios.items()}
        lines.append(
            f"| median | | | | {medians['steps']:.2f} | | | {medians['wall']:.2f} | | | "
            f"{medians['cpu']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--agent", default="a2c", choices=("ppo", "a2c"))
    parser.add_argument("--method", default="ae", choices=("ae", "dae", "mae", "simclr", "byol"))
    parser.add_argument("--frames", type=int, default=2000, help="pretraining frames")
    parser.add_argument("--epochs", type=int, default=10, help="pretraining epochs")
    parser.add_argument("--policy", default="expert", help="who plays for the frames")
    parser.add_argument(
        "--set", nargs="*", default=PRETRAIN_SETTINGS, help="pretraining settings key=value"
    )
    parser.add_argument(
        "--agent-set", nargs="*", default=[], help="the pretrained side's agent settings"
    )
    parser.add_argument("--target", type=float, default=0.95, help="success rate to reach")
    parser.add_argument("--every", type=int, default=32768, help="evaluate every N env steps")
    parser.add_argument("--steps", type=int, default=1_000_000, help="budget of each RL run")
    parser.add_argument("--no-scratch", action="store_true", help="only the pretrained side")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: does it run?")
    parser.add_argument("--out", help="append one JSON line per seed to this file")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.every, args.frames, args.epochs = 4096, 2048, 200, 1
    torch.set_num_threads(1)
    records = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            print(f"seed {seed}", flush=True)
            record = run_seed(args, seed, Path(folder))
            records.append(record)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(record) + "\n")
    print(
        f"\n{args.agent} on {ENV_ID} pixels to success >= {args.target} ({EVAL_EPISODES} "
        f"eval episodes every {args.every} steps): from scratch vs. a frozen {args.method} encoder "
        f"({args.frames} {args.policy} frames, {args.epochs} epochs); ratio = scratch / "
        "pretrained\n"
    )
    print(table(records))


if __name__ == "__main__":
    main()
