"""rlsuite beside Stable-Baselines3 on our games and on Gymnasium tasks: success, wall time, ratio.

Issue #7's acceptance table. Each row is one env, observation mode and agent. The rlsuite side is
exactly what ``rlsuite train ID --agent X --seed S`` runs with no other flags (pixel rows add
``--env-kwargs obs_mode=pixels``): the per-task settings of ``rlsuite/hyperparams/<agent>.yaml``,
their budget (``n_timesteps``) and env kwargs (``reward_mode=shaped``, ``frame_stack``), the
agent's gamma as ``shaping_gamma``, a TensorBoard logger as ``rlsuite train`` writes one. The SB3
side is SB3's PPO / A2C with the same settings translated (``sb3_model``), on the same env kwargs
and budget, with the run's torch threads (``torch_threads``: 1, 2 for the pixel entries that
set it), on SB3's own vector env (``make_vec_env``) as its users run it; on
pixels it is ``CnnPolicy`` (NatureCNN, where rlsuite has its own smaller CNN). Both are evaluated
alike: deterministic episodes on 8 fresh envs, the same seeds, scored by success rate (our
games) or mean return (Gymnasium tasks): 50 per seed, 500 on the pixel rows, which run one seed
(at a success rate near 0.9, 50 episodes have a standard error of about 0.04, too coarse to place
one run against a 0.9 target; 500 give 0.013). Wall time is training only (``learn``), median over
seeds; the ratio is SB3's time over rlsuite's. The sparse column is the rlsuite run again with
``reward_mode=sparse`` (``--sparse``).

    python benchmarks/games_learning.py --out games.jsonl             # every row (hours)
    python benchmarks/games_learning.py --rows KeyDoor-8x8 --sparse   # rows whose name has it
    python benchmarks/games_learning.py --rows pixels --agents ppo --no-sb3
    python benchmarks/games_learning.py --rows Invaders-v0 --agents ppo --only-sb3 --out sb3.jsonl
    python benchmarks/games_learning.py --quick --rows Racer          # 4096 steps: does it run?
    python benchmarks/games_learning.py --combine a.jsonl b.jsonl     # one table from saved runs
    python benchmarks/games_learning.py --time-to 0.9                 # KeyDoor-16x16: time to 0.9
    python benchmarks/games_learning.py --rows "Racer-v0 pixels" --only-sb3 --sb3-save sb3/

``--sb3-save DIR`` saves SB3's training every 100k steps and takes it up again when the same
command is run after an interruption (an SB3 ``CnnPolicy`` row of 2M steps takes hours here); its
wall time is the sum of the pieces, and a resumed run starts new episodes at the break.

Rows are named ``ENV OBS AGENT`` (e.g. ``rlsuite/Invaders-v0 pixels ppo``); pixel rows run seed 0
unless ``--seeds`` is given. ``--out`` appends one JSON line per finished run, so partial runs
(on several machines, or after an interruption) combine into one table with ``--combine``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.vec_env import VecEnv, VecNormalize
from torch import nn

from rlsuite.agents import Agent, evaluate
from rlsuite.agents.common.nets import is_image_space
from rlsuite.config import RunConfig, resolve_config
from rlsuite.logger import Logger
from rlsuite.runs import build_agent, resolve_device, run_envs
from rlsuite.threads import use_threads
from rlsuite.vector import make_vector_env

EVAL_SEED = 10_000  # evaluation envs are reset with EVAL_SEED + the training seed
GAMES = ["KeyDoor-8x8", "KeyDoor-16x16", "Maze-4Rooms", "Invaders", "Racer"]
PIXEL_GAMES = ["KeyDoor-8x8", "Invaders", "Racer", "Forage"]
# Gymnasium tasks: (env id, agent, target mean return)
GYM_TASKS = [
    ("Pendulum-v1", "ppo", -250.0),
    ("CartPole-v1", "ppo", 475.0),
    ("Acrobot-v1", "a2c", -100.0),
    ("CartPole-v1", "a2c", 475.0),
]
Predict = Callable[[np.ndarray, bool], np.ndarray]


@dataclass(frozen=True)
class Row:
    """One line of the table: an env, its observation mode and an agent."""

    env_id: str
    obs: str  # "symbolic" or "pixels" (our games), "-" (Gymnasium tasks)
    agent: str
    target: float  # success rate (our games) or mean return (Gymnasium tasks)

    @property
    def name(self) -> str:
        return f"{self.env_id} {self.obs} {self.agent}"

    def env_kwargs(self, sparse: bool = False) -> list[str]:
        """The row's ``--env-kwargs`` (the per-task entry supplies the rest)."""
        pairs = ["obs_mode=pixels"] if self.obs == "pixels" else []
        return pairs + (["reward_mode=sparse"] if sparse else [])


def all_rows() -> list[Row]:
    """Our games on symbolic observations (ppo, a2c), on pixels (ppo), then Gymnasium tasks."""
    rows = [Row(f"rlsuite/{g}-v0", "symbolic", a, 0.9) for g in GAMES for a in ("ppo", "a2c")]
    rows += [Row(f"rlsuite/{g}-v0", "pixels", "ppo", 0.9) for g in PIXEL_GAMES]
    return rows + [Row(env_id, "-", agent, target) for env_id, agent, target in GYM_TASKS]


def run_config(row: Row, seed: int, steps: int | None, scale: float, sparse: bool) -> RunConfig:
    """What ``rlsuite train`` resolves for the row; `steps` or `scale` changes its budget."""
    config = resolve_config(row.env_id, row.agent, seed=seed, env_kwargs=row.env_kwargs(sparse))
    return dataclasses.replace(config, steps=steps or max(int(config.steps * scale), 1))


def eval_envs(config: RunConfig, n: int = 8) -> gym.vector.VectorEnv:
    """Fresh envs for evaluation: the run's env kwargs, our vector env for both libraries."""
    return make_vector_env(config.env_id, n, **config.env_kwargs)


def score(result: dict[str, Any]) -> float:
    """Success rate where the env reports one, else the mean return."""
    success = result.get("success_rate")
    return result["mean_return"] if success is None else success


# ---- rlsuite -----------------------------------------------------------------------------------


def make_rlsuite(config: RunConfig, logger: Logger) -> Agent:
    """The agent ``rlsuite train`` builds: the run's vector env, its agent config and device."""
    return build_agent(config, run_envs(config, config.n_envs), logger)


def train_rlsuite(config: RunConfig) -> tuple[Predict, float]:
    """Train as ``rlsuite train`` does (logger on, no periodic evaluation); (policy, seconds)."""
    with tempfile.TemporaryDirectory() as log_dir:
        logger = Logger(log_dir)
        agent = make_rlsuite(config, logger)
        start = time.perf_counter()
        agent.learn(config.steps)
        seconds = time.perf_counter() - start
        logger.close()
    return agent.predict, seconds


# ---- Stable-Baselines3 -------------------------------------------------------------------------


class SharedMLP(nn.Module):
    """One MLP trunk for actor and critic (rlsuite's ``shared_trunk=true`` on vectors), as an SB3
    features extractor: SB3 2.x's ``net_arch`` no longer has shared layers."""

    def __init__(self, observation_space, hidden_sizes=(64, 64), activation=nn.Tanh):
        super().__init__()
        layers, width = [nn.Flatten()], int(np.prod(observation_space.shape))
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), activation()]
            width = size
        self.net, self.features_dim = nn.Sequential(*layers), width  # SB3 reads features_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


def policy_kwargs(agent: dict[str, Any], image: bool) -> dict[str, Any]:
    """Network shape in SB3's terms: images on one CNN (NatureCNN) shared unless told otherwise;
    vectors on two MLP trunks (or one, `shared_trunk`) of `hidden_sizes`."""
    shared = agent["shared_trunk"] if agent["shared_trunk"] is not None else image
    activation = {"tanh": nn.Tanh, "relu": nn.ReLU}[agent["activation"]]
    kwargs: dict[str, Any] = {"activation_fn": activation, "log_std_init": agent["log_std_init"]}
    if image:
        kwargs["share_features_extractor"] = shared
    elif shared:
        extractor = {"hidden_sizes": agent["hidden_sizes"], "activation": activation}
        kwargs.update(features_extractor_class=SharedMLP, features_extractor_kwargs=extractor)
        kwargs["net_arch"] = []
    else:
        sizes = list(agent["hidden_sizes"])
        kwargs["net_arch"] = {"pi": sizes, "vf": sizes}
    if "rms_alpha" in agent:  # A2C: rlsuite's RMSprop, stated explicitly (SB3 fixes alpha 0.99)
        kwargs["optimizer_class"] = RMSpropTFLike if agent["rms_tf_like"] else torch.optim.RMSprop
        kwargs["optimizer_kwargs"] = {"alpha": agent["rms_alpha"], "eps": agent["rms_eps"]}
    return kwargs


def sb3_model(config: RunConfig, envs: VecEnv, image: bool) -> A2C | PPO:
    """SB3's PPO or A2C with the run's settings translated."""
    agent = config.agent_config
    lr = agent["learning_rate"]
    # SB3 calls a schedule with the fraction of training left: 1 -> 0, as rlsuite's linear decay.
    schedule = (lambda remaining: lr * remaining) if agent["lr_schedule"] == "linear" else lr
    common = {
        "n_steps": agent["n_steps"],
        "gamma": agent["gamma"],
        "gae_lambda": agent["gae_lambda"],
        "learning_rate": schedule,
        "ent_coef": agent["ent_coef"],
        "vf_coef": agent["vf_coef"],
        "max_grad_norm": agent["max_grad_norm"],
        "normalize_advantage": agent["normalize_advantage"],
        "policy_kwargs": policy_kwargs(agent, image),
        "seed": config.seed,
        "device": resolve_device(config.device),
        "verbose": 0,
    }
    policy = "CnnPolicy" if image else "MlpPolicy"
    if config.agent == "a2c":
        return A2C(policy, envs, **common)
    ppo_only = ("batch_size", "n_epochs", "clip_range", "clip_range_vf", "target_kl")
    return PPO(policy, envs, **common, **{key: agent[key] for key in ppo_only})


def make_sb3(config: RunConfig) -> tuple[A2C | PPO, VecNormalize | None]:
    """(model, VecNormalize or None) on SB3's own vector env (DummyVecEnv + Monitor)."""
    envs = make_vec_env(
        config.env_id, n_envs=config.n_envs, seed=config.seed, env_kwargs=config.env_kwargs
    )
    image = is_image_space(envs.observation_space)
    agent, normalizer = config.agent_config, None
    if agent["normalize_obs"] or agent["normalize_reward"]:
        normalizer = envs = VecNormalize(
            envs,
            norm_obs=agent["normalize_obs"] and not image,  # rlsuite leaves frames as they are
            norm_reward=agent["normalize_reward"],
            gamma=agent["gamma"],
            clip_obs=10.0,
        )
    return sb3_model(config, envs, image), normalizer


def sb3_predict(model: A2C | PPO, normalizer: VecNormalize | None) -> Predict:
    """SB3's policy as ``predict(obs, deterministic)``, observations normalised by frozen stats."""

    def predict(obs: np.ndarray, deterministic: bool) -> np.ndarray:
        if normalizer is not None:
            obs = normalizer.normalize_obs(obs)  # reads the statistics, never updates them
        return model.predict(obs, deterministic=deterministic)[0]

    return predict


def train_sb3(config: RunConfig, save_dir: Path | None = None) -> tuple[Predict, float]:
    """Train SB3's side of the run with the run's torch threads; (policy, seconds of ``learn``).

    With `save_dir`, the training is saved there every `SB3_SAVE_EVERY` env steps and taken up
    from there when the folder holds a save (see `SB3Save`)."""
    use_threads(config.torch_threads)
    model, normalizer = make_sb3(config)
    if save_dir is None:
        start = time.perf_counter()
        model.learn(config.steps)
        return sb3_predict(model, normalizer), time.perf_counter() - start
    save = SB3Save(save_dir, model, normalizer, config)
    save.load()
    # reset_num_timesteps=False: the learning rate decays over the whole budget, not the rest
    model.learn(config.steps - model.num_timesteps, callback=save, reset_num_timesteps=False)
    save.save()
    return sb3_predict(model, normalizer), save.seconds


SB3_SAVE_EVERY = 100_000


def numpy_rng_state() -> list[Any]:
    """numpy's global RNG state (SB3 shuffles minibatches with it) in types torch.load reads
    back with ``weights_only=True``."""
    _, keys, position, has_gauss, gauss = np.random.get_state()
    return [torch.as_tensor(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)]


class SB3Save(BaseCallback):
    """A resumable SB3 run for the long pixel rows (hours on 2 cores): the policy's and
    optimiser's weights, the VecNormalize statistics, torch's and numpy's RNG, the step count and
    the training seconds so far, saved between two rollouts (after an update, before the next
    rollout), with ``torch.save`` and read back with ``weights_only=True`` (SB3's own ``save``
    zip is read back with cloudpickle). The envs themselves cannot be saved: a resumed run starts
    new episodes, reseeded by the step count, which an uninterrupted run does not. A save is
    taken up only by a run of the same settings (`config`)."""

    def __init__(
        self, folder: Path, model: A2C | PPO, normalizer: VecNormalize | None, config: RunConfig
    ) -> None:
        super().__init__()
        self.folder, self.model_, self.normalizer = folder, model, normalizer
        self.settings = json.dumps(config.to_dict(), sort_keys=True)
        self.seconds, self.saved_at = 0.0, 0  # training seconds, env steps at the last save
        self.started = 0.0  # set when learn() starts

    @property
    def path(self) -> Path:
        return self.folder / "sb3_state.pt"

    def load(self) -> None:
        """Take up a saved run, if the folder holds one."""
        if not self.path.exists():
            return
        state = torch.load(self.path, weights_only=True)
        self.check_settings(state)
        model = self.model_
        model.policy.load_state_dict(state["policy"])
        model.policy.optimizer.load_state_dict(state["optimizer"])
        model.num_timesteps = int(state["num_timesteps"])
        self.seconds = float(state["seconds"])
        torch.set_rng_state(state["torch_rng"])
        keys, position, has_gauss, gauss = state["numpy_rng"]
        np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), position, has_gauss, gauss))
        for name, stats in self.statistics():
            stats.mean, stats.var = (state[f"{name}_{k}"].numpy() for k in ("mean", "var"))
            stats.count = float(state[f"{name}_count"])
        model.env.seed(model.seed + model.num_timesteps)
        self.saved_at = model.num_timesteps
        print(f"SB3: resumed at {model.num_timesteps:,} steps, {self.seconds:.0f} s", flush=True)

    def save(self) -> None:
        """Write the state, then rename: a kill while writing leaves the last save whole."""
        model, now = self.model_, time.perf_counter()
        self.seconds += now - self.started
        self.started = now
        state: dict[str, Any] = {
            "policy": model.policy.state_dict(),
            "optimizer": model.policy.optimizer.state_dict(),
            "num_timesteps": model.num_timesteps,
            "seconds": self.seconds,
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": numpy_rng_state(),
            "settings": self.settings,
        }
        for name, stats in self.statistics():
            state[f"{name}_mean"] = torch.as_tensor(stats.mean)
            state[f"{name}_var"] = torch.as_tensor(stats.var)
            state[f"{name}_count"] = float(stats.count)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        torch.save(state, partial)
        partial.replace(self.path)
        self.saved_at = model.num_timesteps

    def check_settings(self, state: dict[str, Any]) -> None:
        """Refuse a save made with other settings (saves from before this check hold none)."""
        if "settings" not in state:
            return
        saved, ours = json.loads(state["settings"]), json.loads(self.settings)
        differ = sorted(k for k in ours.keys() | saved.keys() if saved.get(k) != ours.get(k))
        if differ:
            raise SystemExit(
                f"error: {self.path} was saved by a run with other settings ({', '.join(differ)}); "
                "remove it or give --sb3-save another folder"
            )

    def statistics(self) -> list[tuple[str, Any]]:
        """VecNormalize's running statistics in use (it makes only those it normalises by)."""
        norm = self.normalizer
        if norm is None:
            return []
        names = (["obs_rms"] if norm.norm_obs else []) + (["ret_rms"] if norm.norm_reward else [])
        return [(name, getattr(norm, name)) for name in names]

    def _on_training_start(self) -> None:
        self.started = time.perf_counter()

    def _on_rollout_start(self) -> None:
        if self.model_.num_timesteps // SB3_SAVE_EVERY > self.saved_at // SB3_SAVE_EVERY:
            self.save()  # the last rollout crossed a multiple of SB3_SAVE_EVERY

    def _on_step(self) -> bool:
        return True


# ---- the table ---------------------------------------------------------------------------------


def run_one(
    row: Row, side: str, config: RunConfig, episodes: int, sb3_save: Path | None = None
) -> dict[str, Any]:
    """Train one side ("rlsuite", "sb3" or "sparse") on one seed and evaluate it: one record.
    `sb3_save`: a folder under which SB3's training is saved and resumed (one per row, seed)."""
    if side == "sb3":
        name = f"{row.name}__s{config.seed}".replace("/", "_").replace(" ", "_")
        predict, seconds = train_sb3(config, None if sb3_save is None else sb3_save / name)
    else:
        predict, seconds = train_rlsuite(config)
    envs = eval_envs(config)
    result = evaluate(predict, envs, episodes, deterministic=True, seed=EVAL_SEED + config.seed)
    envs.close()
    run = {"side": side, "seed": config.seed, "steps": config.steps, "wall_s": seconds}
    return {"row": row.name, **dataclasses.asdict(row), **run, "score": score(result), **result}


def markdown_table(records: list[dict[str, Any]]) -> str:
    """One line per row: scores per seed and median for each side, wall times and their ratio."""
    lines = [
        "| env | obs | agent | budget | target | rlsuite (seeds) | median | SB3 (seeds) | median "
        "| rlsuite wall s | SB3 wall s | SB3 / rlsuite | sparse, rlsuite (seeds) |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in dict.fromkeys(r["row"] for r in records):
        mine = [r for r in records if r["row"] == name]
        first = mine[0]
        side = {s: by_seed(r for r in mine if r["side"] == s) for s in ("rlsuite", "sb3", "sparse")}
        walls = {s: statistics.median(r["wall_s"] for r in rs) for s, rs in side.items() if rs}
        both = "rlsuite" in walls and "sb3" in walls
        cells = [first["env_id"], first["obs"], first["agent"], f"{first['steps']:,}"]
        cells += [f"{first['target']:g}", seeds_cell(side["rlsuite"]), median_cell(side["rlsuite"])]
        cells += [seeds_cell(side["sb3"]), median_cell(side["sb3"])]
        cells += [f"{walls[s]:.1f}" if s in walls else "-" for s in ("rlsuite", "sb3")]
        cells += [f"{walls['sb3'] / walls['rlsuite']:.2f}x" if both else "-"]
        lines.append("| " + " | ".join(cells + [seeds_cell(side["sparse"])]) + " |")
    return "\n".join(lines)


def by_seed(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per seed (the latest where combined files repeat a run), in seed order."""
    return sorted({r["seed"]: r for r in records}.values(), key=lambda r: r["seed"])


def seeds_cell(records: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['score']:.2f}" for r in records) or "-"


def median_cell(records: list[dict[str, Any]]) -> str:
    return f"{statistics.median(r['score'] for r in records):.2f}" if records else "-"


# ---- time to a success rate (KeyDoor-16x16) ----------------------------------------------------


class TimeToTarget:
    """Evaluate every `every` env steps (20 deterministic episodes); stop training at the first
    success rate >= `target`. The clock counts training only: evaluations are taken out."""

    def __init__(self, predict: Predict, config: RunConfig, target: float, every: int) -> None:
        self.predict, self.target, self.every = predict, target, every
        self.envs, self.seed = eval_envs(config), EVAL_SEED + config.seed
        self.next_eval, self.eval_seconds = every, 0.0
        self.reached: tuple[float, int] | None = None  # (training seconds, env steps)
        self.start = time.perf_counter()

    def keep_training(self, steps: int) -> bool:
        if steps < self.next_eval:
            return True
        self.next_eval = (steps // self.every + 1) * self.every
        paused = time.perf_counter()
        result = evaluate(self.predict, self.envs, 20, deterministic=True, seed=self.seed)
        if result["success_rate"] >= self.target:
            self.reached = (paused - self.start - self.eval_seconds, steps)
        self.eval_seconds += time.perf_counter() - paused
        return self.reached is None


class _SB3Stop(BaseCallback):
    """SB3's side of `TimeToTarget`: asked after every vector step."""

    def __init__(self, clock: TimeToTarget) -> None:
        super().__init__()
        self.clock = clock

    def _on_step(self) -> bool:
        return self.clock.keep_training(self.num_timesteps)


def time_to(config: RunConfig, target: float, every: int) -> dict[str, tuple[float, int] | None]:
    """rlsuite's and SB3's training seconds and env steps to a success rate of `target`."""
    reached: dict[str, tuple[float, int] | None] = {}
    with tempfile.TemporaryDirectory() as log_dir:
        logger = Logger(log_dir)
        agent = make_rlsuite(config, logger)
        clock = TimeToTarget(agent.predict, config, target, every)
        agent.learn(config.steps, callback=lambda a: clock.keep_training(a.num_steps))
        reached["rlsuite"] = clock.reached
        logger.close()
    model, normalizer = make_sb3(config)
    sb3_clock = TimeToTarget(sb3_predict(model, normalizer), config, target, every)
    model.learn(config.steps, callback=_SB3Stop(sb3_clock))
    reached["sb3"] = sb3_clock.reached
    return reached


def print_time_to(args: argparse.Namespace, steps: int | None) -> None:
    """ppo on KeyDoor-16x16 (shaped), rlsuite then SB3: one table line per seed."""
    row = Row("rlsuite/KeyDoor-16x16-v0", "symbolic", "ppo", args.time_to)
    every = 2048 if args.quick else args.eval_every
    print("| seed | budget | rlsuite s | rlsuite steps | SB3 s | SB3 steps | SB3 / rlsuite |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for seed in args.seeds or [0]:
        config = run_config(row, seed, steps, args.budget_scale, sparse=False)
        reached = time_to(config, args.time_to, every)
        ours, theirs = reached["rlsuite"], reached["sb3"]
        cells = [f"{r[0]:.1f} | {r[1]:,}" if r else "not reached | -" for r in (ours, theirs)]
        ratio = f"{theirs[0] / ours[0]:.2f}x" if ours and theirs else "-"
        print(f"| {seed} | {config.steps:,} | {cells[0]} | {cells[1]} | {ratio} |", flush=True)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=[], help="substrings of row names to run")
    parser.add_argument("--seeds", type=int, nargs="+", help="default 0 1 2 (pixel rows: 0)")
    parser.add_argument("--agents", nargs="+", default=["ppo", "a2c"])
    sides = parser.add_mutually_exclusive_group()
    sides.add_argument("--no-sb3", action="store_true", help="rlsuite only")
    sides.add_argument("--only-sb3", action="store_true", help="SB3 only (combine with --out)")
    parser.add_argument("--sparse", action="store_true", help="also train with reward_mode=sparse")
    parser.add_argument("--quick", action="store_true", help="4096 steps, 8 eval episodes")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="times n_timesteps")
    parser.add_argument(
        "--episodes", type=positive_int, help="evaluation episodes (default 50; pixel rows 500)"
    )
    parser.add_argument("--out", type=Path, help="append one JSON line per finished run")
    parser.add_argument("--combine", type=Path, nargs="+", help="print the table of saved runs")
    parser.add_argument(
        "--sb3-save", type=Path, help="save SB3's training here and resume it (long pixel rows)"
    )
    parser.add_argument("--time-to", type=float, help="KeyDoor-16x16: time to this success")
    parser.add_argument("--eval-every", type=int, default=50_000, help="with --time-to")
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = 4096 if args.quick else None
    if args.combine:
        records = [
            json.loads(line) for path in args.combine for line in path.open() if line.strip()
        ]
        print(markdown_table(records))
        return
    if args.time_to is not None:
        print_time_to(args, steps)
        return

    rows = [r for r in all_rows() if r.agent in args.agents]
    rows = [r for r in rows if not args.rows or any(s in r.name for s in args.rows)]
    sides = [] if args.only_sb3 else ["rlsuite"]
    sides += [] if args.no_sb3 else ["sb3"]
    records = []
    for row in rows:
        seeds = args.seeds or ([0] if row.obs == "pixels" else [0, 1, 2])
        with_sparse = args.sparse and row.obs != "-"
        default_episodes = 500 if row.obs == "pixels" else 50
        episodes = 8 if args.quick else (args.episodes or default_episodes)
        for seed in seeds:
            for side in sides + (["sparse"] if with_sparse else []):
                config = run_config(row, seed, steps, args.budget_scale, sparse=side == "sparse")
                record = run_one(row, side, config, episodes, args.sb3_save)
                records.append(record)
                seconds = record["wall_s"]
                print(
                    f"{row.name} {side} seed {seed}: {record['score']:.2f}, {seconds:.1f} s",
                    flush=True,
                )
                if args.out is not None:
                    with args.out.open("a") as file:
                        file.write(json.dumps(record) + "\n")
    print()
    print(markdown_table(records))


if __name__ == "__main__":
    main()
