"""rlsuite's A2C beside Stable-Baselines3's A2C on CartPole-v1: speed, then learning.

Speed: both train for the same number of env steps with the same settings (8 envs, n_steps 5,
two 64-64 tanh trunks for actor and critic, RMSprop, one torch thread); env steps per second,
median over repeats, run alternately so machine load hits both alike. rlsuite uses the env
exactly as ``rlsuite train CartPole-v1 --agent a2c`` builds it (CartPole's native vector env);
SB3 uses its own ``make_vec_env`` (DummyVecEnv + Monitor), as its users do.

Learning: rlsuite's A2C with its default Config for 100k steps on 5 seeds, then a deterministic
evaluation of 20 episodes each. Target: mean return >= 475 on at least 4 of 5 seeds.

    python benchmarks/a2c_vs_sb3_cartpole.py            # speed (5 repeats) + learning (5 seeds)
    python benchmarks/a2c_vs_sb3_cartpole.py --quick    # speed (1 repeat) + learning (2 seeds)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import gymnasium as gym
import torch

from rlsuite.agents import evaluate, make_agent
from rlsuite.logger import Logger

ENV_ID = "CartPole-v1"


def rlsuite_steps_per_second(steps: int, seed: int) -> tuple[float, float]:
    """(env steps per wall-clock second, per CPU second of this process)."""
    envs = gym.make_vec(ENV_ID, 8, vectorization_mode="vector_entry_point")
    with tempfile.TemporaryDirectory() as log_dir:
        # TensorBoard logging included, as `rlsuite train` writes it (SB3 keeps its default).
        logger = Logger(log_dir)
        agent = make_agent("a2c", envs, {"n_steps": 5}, seed=seed, logger=logger)
        wall, cpu = time.perf_counter(), time.process_time()
        agent.learn(steps)
        result = steps_per_second(agent.num_steps, wall, cpu)
        logger.close()
    return result


def sb3_steps_per_second(steps: int, seed: int) -> tuple[float, float]:
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    config = make_agent("a2c", gym.make_vec(ENV_ID, 8, vectorization_mode="vector_entry_point"))
    config = config.config
    envs = make_vec_env(ENV_ID, n_envs=8, seed=seed)
    # The same settings as ours: n_steps 5, two 64-64 tanh trunks (SB3's MlpPolicy), RMSprop,
    # our learning rate and its linear decay, advantage normalisation, the same loss weights and
    # gradient clip.
    model = A2C(
        "MlpPolicy",
        envs,
        n_steps=config.n_steps,
        learning_rate=lambda progress: config.learning_rate * progress,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm,
        rms_prop_eps=config.rms_eps,
        normalize_advantage=config.normalize_advantage,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(steps)
    return steps_per_second(model.num_timesteps, wall, cpu)


def steps_per_second(steps: int, wall: float, cpu: float) -> tuple[float, float]:
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 speed repeat, 2 learning seeds")
    parser.add_argument("--speed-steps", type=int, default=50_000)
    parser.add_argument("--learn-steps", type=int, default=100_000)
    parser.add_argument("--skip-learning", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 1 if args.quick else 5
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]

    ours, theirs = [], []
    for r in range(repeats):
        ours.append(rlsuite_steps_per_second(args.speed_steps, seed=r))
        theirs.append(sb3_steps_per_second(args.speed_steps, seed=r))
    print(f"\nA2C on {ENV_ID}, 8 envs x 5 steps, {args.speed_steps} steps, median of {repeats}")
    print("(per CPU second of the process too: it does not count time lost to other jobs)")
    print(f"{'':12} {'steps/s wall':>13} {'steps/s CPU':>12}")
    medians = {}
    for label, runs in (("rlsuite", ours), ("SB3", theirs)):
        medians[label] = [statistics.median(r[i] for r in runs) for i in (0, 1)]
        print(f"{label:12} {medians[label][0]:13.0f} {medians[label][1]:12.0f}")
    ratios = [medians["rlsuite"][i] / medians["SB3"][i] for i in (0, 1)]
    print(f"{'ratio':12} {ratios[0]:12.2f}x {ratios[1]:11.2f}x   (target >= 3.00x)")
    if args.skip_learning:
        return

    print(
        f"\nrlsuite A2C, default Config, {args.learn_steps} steps, deterministic eval 20 episodes"
    )
    print(f"{'seed':>4} {'eval mean':>10} {'>= 475':>7} {'train s':>8}")
    passed = 0
    for seed in seeds:
        envs = gym.make_vec(ENV_ID, 8, vectorization_mode="vector_entry_point")
        agent = make_agent("a2c", envs, {}, seed=seed)
        start = time.perf_counter()
        agent.learn(args.learn_steps)
        seconds = time.perf_counter() - start
        result = evaluate(agent, ENV_ID, episodes=20, deterministic=True, seed=1000 + seed)
        ok = result["mean_return"] >= 475
        passed += ok
        print(f"{seed:>4} {result['mean_return']:10.1f} {'yes' if ok else 'no':>7} {seconds:8.1f}")
    need = 4 if len(seeds) == 5 else len(seeds)
    print(f"passed {passed}/{len(seeds)} seeds (target {need}/{len(seeds)})")


if __name__ == "__main__":
    main()
