"""rlsuite's PPO beside Stable-Baselines3's PPO on Invaders pixels: env steps per second.

Both train ``rlsuite/Invaders-v0`` (``obs_mode="pixels"``, ``reward_mode="shaped"``, 64x64x3
uint8 frames) for the same number of env steps at SB3's PPO ``CnnPolicy`` settings: 8 envs,
n_steps 128, batch 256, 4 epochs, one torch thread, actor and critic on one shared CNN trunk.
The whole ``learn`` call is timed (rollouts, updates, logging), each run in a Python process of
its own (as a user runs either library), median over repeats; the runs alternate so that machine
load hits both alike.

rlsuite builds the env as ``rlsuite train`` does (the game's native vector env) and logs to
TensorBoard as ``rlsuite train`` does. SB3 runs the game through Gymnasium, as its users would:
``make_vec_env`` (DummyVecEnv + Monitor); ``CnnPolicy`` adds its VecTransposeImage.

The networks differ, so the table has three rows:

- ``rlsuite``: rlsuite's default image trunk (nets.py ``CNNEncoder``): conv 4x4 stride 4 (16;
  one step per 4-pixel cell) -> conv 3x3 stride 2 (32) -> linear 256;
- ``SB3 CnnPolicy``: SB3's default, NatureCNN (Mnih et al. 2015, made for 84x84 Atari):
  conv 8x8/4 (32) -> 4x4/2 (64) -> 3x3/1 (64) -> linear 512. This is the issue's yardstick;
- ``SB3, rlsuite's CNN``: SB3's PPO with rlsuite's trunk as its ``features_extractor_class``
  (same layers, same sizes), so the ratio against it is the pipeline's alone, network aside.

    python benchmarks/ppo_pixels_vs_sb3.py              # 20k steps, median of 3 repeats
    python benchmarks/ppo_pixels_vs_sb3.py --quick      # 1 repeat of 8k steps
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import gymnasium as gym
import torch
from torch import nn

import rlsuite  # noqa: F401  (registers the games)
from rlsuite.agents import make_agent, make_config
from rlsuite.agents.common.nets import CNNEncoder
from rlsuite.logger import Logger
from rlsuite.vector import make_vector_env

ENV_ID = "rlsuite/Invaders-v0"
ENV_KWARGS = {"obs_mode": "pixels", "reward_mode": "shaped"}
# SB3 PPO CnnPolicy's settings (rl-zoo's Atari entry) where they decide the work per step.
N_ENVS, N_STEPS, BATCH_SIZE, N_EPOCHS = 8, 128, 256, 4
SETTINGS = {"n_steps": N_STEPS, "batch_size": BATCH_SIZE, "n_epochs": N_EPOCHS}


def rlsuite_steps_per_second(steps: int, seed: int) -> tuple[float, float]:
    """(env steps per wall-clock second, per CPU second of this process) of one ``learn``."""
    envs = make_vector_env(ENV_ID, N_ENVS, **ENV_KWARGS)
    with tempfile.TemporaryDirectory() as log_dir:
        logger = Logger(log_dir)  # TensorBoard, as `rlsuite train` writes it
        agent = make_agent("ppo", envs, SETTINGS, seed=seed, logger=logger)
        wall, cpu = time.perf_counter(), time.process_time()
        agent.learn(steps)
        result = steps_per_second(agent.num_steps, wall, cpu)
        logger.close()
    return result


class RlsuiteCNN(nn.Module):
    """rlsuite's image trunk as an SB3 features extractor (SB3 hands it float NCHW in [0, 1])."""

    def __init__(self, observation_space: gym.Space, features_dim: int = 256):
        super().__init__()
        # SB3 has transposed the space to (C, H, W); our encoder is built from (H, W, C).
        channels, height, width = observation_space.shape
        hwc = gym.spaces.Box(0, 255, (height, width, channels), dtype="uint8")
        self.encoder = CNNEncoder(hwc, features_dim)
        self.features_dim = features_dim  # what SB3's policy reads

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.encoder.forward_chw(obs)


def sb3_steps_per_second(steps: int, seed: int, our_cnn: bool = False) -> tuple[float, float]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    config = make_config("ppo", SETTINGS)  # no rlsuite agent in SB3's process (in_own_process)
    envs = make_vec_env(ENV_ID, n_envs=N_ENVS, seed=seed, env_kwargs=ENV_KWARGS)
    policy_kwargs = {"features_extractor_class": RlsuiteCNN} if our_cnn else None
    model = PPO(
        "CnnPolicy",  # one NatureCNN shared by actor and critic, unless our_cnn
        envs,
        n_steps=N_STEPS,
        batch_size=BATCH_SIZE,
        n_epochs=N_EPOCHS,
        learning_rate=lambda progress: config.learning_rate * progress,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(steps)
    return steps_per_second(model.num_timesteps, wall, cpu)


def steps_per_second(steps: int, wall: float, cpu: float) -> tuple[float, float]:
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


RUNNERS: dict[str, Callable[[int, int], tuple[float, float]]] = {
    "rlsuite": rlsuite_steps_per_second,
    "SB3 CnnPolicy": sb3_steps_per_second,
    "SB3, rlsuite's CNN": lambda steps, seed: sb3_steps_per_second(steps, seed, our_cnn=True),
}


def in_own_process(label: str, steps: int, seed: int) -> tuple[float, float]:
    """Run ``RUNNERS[label]`` in a fresh Python process, as a user runs either library.

    A process of its own keeps each library's process-wide settings (rlsuite asks glibc to keep
    freed memory, nets.keep_freed_memory) and its imports from touching the other's runs.
    """
    command = [sys.executable, __file__, "--one", label, "--steps", str(steps), "--seed", str(seed)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    wall, cpu = output.split()[-2:]
    return float(wall), float(cpu)


def load() -> str:
    """The 1-minute load average, e.g. "1.3"."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat of 8k steps")
    parser.add_argument("--steps", type=int, default=20_480, help="env steps per learn call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--one", choices=list(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.one is not None:  # a child process: one measurement
        print(*RUNNERS[args.one](args.steps, args.seed))
        return
    steps, repeats = (8_192, 1) if args.quick else (args.steps, args.repeats)

    results: dict[str, list[tuple[float, float]]] = {label: [] for label in RUNNERS}
    loads = [load()]
    for repeat in range(repeats):
        for label in RUNNERS:
            results[label].append(in_own_process(label, steps, seed=repeat))
            loads.append(load())
    print(
        f"\nPPO on {ENV_ID} pixels (shaped): {N_ENVS} envs x {N_STEPS} steps, batch {BATCH_SIZE},"
        f" {N_EPOCHS} epochs, one torch thread; {steps} steps, median of {repeats}"
    )
    print(f"1-minute load average on {os.cpu_count()} cores during the runs: {', '.join(loads)}")
    print("(per CPU second of the process too: it does not count time lost to other jobs)")
    medians = {
        label: [statistics.median(run[i] for run in runs) for i in (0, 1)]
        for label, runs in results.items()
    }
    ours = medians["rlsuite"]
    header = ("steps/s wall", "rlsuite / it", "steps/s CPU", "rlsuite / it")
    print(f"{'':20} {header[0]:>12} {header[1]:>13} {header[2]:>12} {header[3]:>13}")
    for label, (wall, cpu) in medians.items():
        print(f"{label:20} {wall:12.0f} {ours[0] / wall:12.2f}x {cpu:12.0f} {ours[1] / cpu:12.2f}x")
    print("target: rlsuite >= 3.00x SB3 CnnPolicy (wall)")


if __name__ == "__main__":
    main()
