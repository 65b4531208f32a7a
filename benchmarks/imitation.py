"""Imitation beside its expert: issue #10's acceptance table (seeds 0-2).

Every imitator is trained as ``rlsuite train ENV --agent X --demos FILE --seed S`` trains it
(``runs.train`` on ``config.resolve_config``: the per-task entries of
``rlsuite/hyperparams/<agent>.yaml`` apply), from demonstrations recorded as ``rlsuite demos``
records them. Expert and imitator are then evaluated on the same 50 episodes (deterministic
actions, a vector env of 8 reset with seed ``20_000 + S``: layouts and traffic neither saw in
training), from the run's ``last.pt`` (not ``best.pt``, which was chosen on evaluations).

Rows (target in brackets):

- ``bc-cartpole``: the expert is an rlsuite ``ppo`` run (``rlsuite train CartPole-v1 --agent ppo
  --seed S``), 10 of its episodes are the demonstrations [BC return >= 0.95 x expert's];
- ``bc-racer``: 200 episodes of Racer's scripted expert [success >= 0.95 x expert's];
- ``dagger-racer``: DAgger vs BC at the same number of expert-labelled states: the ``bc-racer``
  run (200 episodes) against DAgger from 20 episodes plus its queries up to the same count
  [DAgger > BC where BC falls short]; both end points are printed;
- ``gail-cartpole``, ``airl-cartpole``: from the same 10 ppo episodes [return >= 0.9 x expert's];
- ``gail-keydoor``, ``airl-keydoor``: 50 scripted KeyDoor-5x5 episodes [success >= 0.9];
- ``airl-reward-keydoor``: a fresh ``a2c`` (its KeyDoor-5x5 settings, 100k steps) trained from
  scratch on the AIRL run's recovered reward only (``adversarial.RecoveredReward``): ``g(s)``, the
  acceptance row, and ``f = g + gamma h(s') - h(s)`` beside it [success >= 0.8 x expert's];
- ``maxent-keydoor``: MaxEnt IRL from the 50 episodes: correlation of the learned reward with
  the game's (1 on reaching the goal) over 16 unseen layouts [>= 0.8], and the share of those
  layouts whose optimal policy under the learned reward (greedy in its soft Q) reaches the goal.

    python benchmarks/imitation.py                          # every row, seeds 0-2
    python benchmarks/imitation.py --rows keydoor --seeds 0  # rows whose name has "keydoor"
    python benchmarks/imitation.py --out imitation.jsonl    # also append each result as JSON
    python benchmarks/imitation.py --combine imitation.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import rlsuite
from rlsuite.agents import evaluate, make_agent
from rlsuite.agents.imitation.adversarial import RecoveredReward
from rlsuite.agents.imitation.experts import record_demos
from rlsuite.agents.imitation.grid_mdp import build_mdp
from rlsuite.agents.imitation.maxent_irl import soft_value_iteration
from rlsuite.config import resolve_config
from rlsuite.envs.experts import ScriptedExpert
from rlsuite.runs import train
from rlsuite.vector import make_vector_env

EVAL_SEED, EVAL_EPISODES = 20_000, 50
CARTPOLE, RACER, KEYDOOR = "CartPole-v1", "rlsuite/Racer-v0", "rlsuite/KeyDoor-5x5-v0"


def run(env_id: str, agent: str, seed: int, folder: Path, **options: Any) -> Path:
    """``rlsuite train env_id --agent agent --seed seed ...`` into `folder`; its last.pt."""
    settings = [f"{k}={v}" for k, v in options.pop("settings", {}).items()]
    config = resolve_config(env_id, agent, seed=seed, settings=settings, **options)
    train(config, folder, force=True)
    return folder / "checkpoints" / "last.pt"


def score(policy, env_id: str, seed: int, **env_kwargs: Any) -> dict[str, Any]:
    """50 deterministic episodes on 8 envs reset with 20_000 + seed."""
    envs = make_vector_env(env_id, 8, **env_kwargs)
    try:
        return evaluate(policy, envs, EVAL_EPISODES, True, EVAL_SEED + seed)
    finally:
        envs.close()


def scripted_score(env_id: str, seed: int) -> dict[str, Any]:
    """The scripted expert on the same 50 episodes (it reads the games' state)."""
    envs = make_vector_env(env_id, 8)
    expert = ScriptedExpert(envs)
    try:
        return evaluate(lambda obs, det: expert(obs), envs, EVAL_EPISODES, True, EVAL_SEED + seed)
    finally:
        envs.close()


def cartpole_expert(seed: int, work: Path) -> Path:
    """The rlsuite ppo run that is CartPole's expert for this seed (trained once)."""
    folder = work / f"cartpole_ppo_s{seed}"
    if not (folder / "checkpoints" / "last.pt").exists():
        run(CARTPOLE, "ppo", seed, folder)
    return folder


def demos_file(env_id: str, expert: str, episodes: int, seed: int, work: Path) -> Path:
    path = work / f"{env_id.replace('/', '-')}_{Path(expert).name}_{episodes}_s{seed}.npz"
    if not path.exists():
        demos, _ = record_demos(env_id, expert, episodes, seed=1000 * (seed + 1))
        demos.save(path)
    return path


def ratio_row(name: str, metric: str, expert: float, ours: float, target: float, **extra):
    return {
        "row": name,
        "metric": metric,
        "expert": expert,
        "imitator": ours,
        "ratio": ours / expert if expert else float("nan"),
        "target": target,
        **extra,
    }


# ------------------------------------------------------------------------------------------------
# The rows: each takes (seed, work folder) and returns a result dict
# ------------------------------------------------------------------------------------------------


def bc_cartpole(seed: int, work: Path) -> dict:
    expert = cartpole_expert(seed, work)
    demos = demos_file(CARTPOLE, str(expert), 10, seed, work)
    last = run(CARTPOLE, "bc", seed, work / f"bc_cartpole_s{seed}", demos=demos)
    expert_return = score(rlsuite.load(expert / "checkpoints" / "last.pt"), CARTPOLE, seed)
    ours = score(rlsuite.load(last), CARTPOLE, seed)
    return ratio_row(
        "bc-cartpole", "return", expert_return["mean_return"], ours["mean_return"], 0.95
    )


RACER_EPISODES, DAGGER_START = 200, 20  # BC's demonstrations; DAgger's before its queries


def bc_racer_run(seed: int, work: Path) -> tuple[Path, Path]:
    """BC from 200 scripted Racer episodes (trained once per seed): (last.pt, demos file)."""
    demos = demos_file(RACER, "scripted", RACER_EPISODES, seed, work)
    last = work / f"bc_racer_s{seed}" / "checkpoints" / "last.pt"
    if not last.exists():
        run(RACER, "bc", seed, work / f"bc_racer_s{seed}", demos=demos)
    return last, demos


def bc_racer(seed: int, work: Path) -> dict:
    last, _ = bc_racer_run(seed, work)
    expert, ours = scripted_score(RACER, seed), score(rlsuite.load(last), RACER, seed)
    return ratio_row("bc-racer", "success", expert["success_rate"], ours["success_rate"], 0.95)


def dagger_racer(seed: int, work: Path) -> dict:
    """BC from 200 episodes vs DAgger from 20 episodes + queries to the same labelled count."""
    bc_last, bc_demos = bc_racer_run(seed, work)
    labels = len(np.load(bc_demos)["actions"])
    start = demos_file(RACER, "scripted", DAGGER_START, seed, work)
    queries = labels - len(np.load(start)["actions"])
    # DAgger's steps are env steps, all labelled (dagger.yaml: 8 envs x n_steps per iteration).
    folder = work / f"dagger_racer_s{seed}"
    dagger_last = run(RACER, "dagger", seed, folder, demos=start, steps=queries)
    expert = scripted_score(RACER, seed)
    bc = score(rlsuite.load(bc_last), RACER, seed)
    dagger = score(rlsuite.load(dagger_last), RACER, seed)
    return ratio_row(
        "dagger-racer",
        "success",
        expert["success_rate"],
        dagger["success_rate"],
        0.0,
        bc=bc["success_rate"],
        labelled_states=labels,
        dagger_labelled=len(np.load(start)["actions"]) + _dagger_queries(folder),
    )


def _dagger_queries(folder: Path) -> int:
    """The states DAgger asked its expert about (its summary's env steps: all labelled)."""
    return int(json.loads((folder / "summary.json").read_text())["num_steps"])


def adversarial(agent: str, env_id: str, seed: int, work: Path) -> tuple[dict, Path]:
    if env_id == CARTPOLE:
        expert_run = cartpole_expert(seed, work)
        demos = demos_file(env_id, str(expert_run), 10, seed, work)
        expert = score(rlsuite.load(expert_run / "checkpoints" / "last.pt"), env_id, seed)
    else:
        demos = demos_file(env_id, "scripted", 50, seed, work)
        expert = scripted_score(env_id, seed)
    short = "cartpole" if env_id == CARTPOLE else "keydoor"
    folder = work / f"{agent}_{short}_s{seed}"
    last = run(env_id, agent, seed, folder, demos=demos)
    ours = score(rlsuite.load(last), env_id, seed)
    if env_id == CARTPOLE:
        row = ratio_row(
            f"{agent}-{short}", "return", expert["mean_return"], ours["mean_return"], 0.9
        )
    else:
        row = ratio_row(
            f"{agent}-{short}", "success", expert["success_rate"], ours["success_rate"], 0.9
        )
        row["absolute_target"] = 0.9  # success >= 0.9
    return row, last


def gail_cartpole(seed, work):
    return adversarial("gail", CARTPOLE, seed, work)[0]


def airl_cartpole(seed, work):
    return adversarial("airl", CARTPOLE, seed, work)[0]


def gail_keydoor(seed, work):
    return adversarial("gail", KEYDOOR, seed, work)[0]


def airl_keydoor(seed, work):
    return adversarial("airl", KEYDOOR, seed, work)[0]


def airl_reward_keydoor(seed: int, work: Path) -> dict:
    """A fresh a2c trained only on the reward the AIRL run recovered."""
    last = work / f"airl_keydoor_s{seed}" / "checkpoints" / "last.pt"
    if not last.exists():
        _, last = adversarial("airl", KEYDOOR, seed, work)
    airl = rlsuite.load(last, device="cpu")
    results = {}
    for form in ("g", "f"):
        # The a2c's KeyDoor-5x5 settings and budget, as `rlsuite train` would pick them.
        config = resolve_config(KEYDOOR, "a2c", seed=seed)
        envs = RecoveredReward(make_vector_env(KEYDOOR, config.n_envs), airl, form)
        agent = make_agent("a2c", envs, config.agent_config, seed=seed)
        agent.learn(config.steps)
        results[form] = score(agent, KEYDOOR, seed)["success_rate"]
        envs.close()
    expert = scripted_score(KEYDOOR, seed)["success_rate"]
    return ratio_row(
        "airl-reward-keydoor", "success", expert, results["g"], 0.8, with_f=results["f"]
    )


def maxent_keydoor(seed: int, work: Path) -> dict:
    demos = demos_file(KEYDOOR, "scripted", 50, seed, work)
    last = run(KEYDOOR, "maxent-irl", seed, work / f"maxent_keydoor_s{seed}", demos=demos)
    agent = rlsuite.load(last, device="cpu")
    env = gym.make(KEYDOOR)
    learned, true, reached = [], [], []
    for layout in range(16):
        mdp = build_mdp(env, EVAL_SEED + 100 * seed + layout)
        reward = agent.state_reward(mdp)
        arrival = np.zeros(mdp.n_states)
        np.maximum.at(arrival, mdp.next_state.ravel(), mdp.task_reward.ravel())
        learned.append(reward)
        true.append(arrival)
        reached.append(greedy_reaches_goal(mdp, reward, agent.config.gamma))
    env.close()
    correlation = float(np.corrcoef(np.concatenate(learned), np.concatenate(true))[0, 1])
    success = score(agent, KEYDOOR, seed)["success_rate"]
    return {
        "row": "maxent-keydoor",
        "metric": "reward correlation",
        "expert": 1.0,
        "imitator": correlation,
        "ratio": correlation,
        "target": 0.8,
        "optimal_policy_reaches_goal": float(np.mean(reached)),
        "distilled_policy_success": success,
    }


def greedy_reaches_goal(mdp, reward: np.ndarray, gamma: float) -> bool:
    """Does acting greedily in the soft Q of the learned reward reach the goal in time?"""
    policies, _ = soft_value_iteration(mdp, reward, gamma, mdp.horizon)
    state = mdp.start
    for t in range(mdp.horizon):
        action = int(policies[t, state].argmax())
        if mdp.terminal[state, action]:
            return bool(mdp.task_reward[state, action] > 0)
        state = int(mdp.next_state[state, action])
    return False


ROWS: dict[str, Callable[[int, Path], dict]] = {
    "bc-cartpole": bc_cartpole,
    "bc-racer": bc_racer,
    "dagger-racer": dagger_racer,
    "gail-keydoor": gail_keydoor,
    "airl-keydoor": airl_keydoor,
    "airl-reward-keydoor": airl_reward_keydoor,
    "maxent-keydoor": maxent_keydoor,
    "gail-cartpole": gail_cartpole,
    "airl-cartpole": airl_cartpole,
}


def print_table(results: list[dict]) -> None:
    """Per row: expert and imitator (mean over seeds), their ratio, the target, per-seed values."""
    print(f"{'row':<22}{'metric':<20}{'expert':>8}{'ours':>8}{'ratio':>7}{'target':>8}  seeds")
    for name in ROWS:
        rows = [r for r in results if r["row"] == name]
        if not rows:
            continue
        expert = statistics.mean(r["expert"] for r in rows)
        ours = statistics.mean(r["imitator"] for r in rows)
        ratio = statistics.mean(r["ratio"] for r in rows)
        seeds = ", ".join(f"s{r['seed']}: {r['imitator']:.3g}" for r in rows)
        print(
            f"{name:<22}{rows[0]['metric']:<20}{expert:>8.3g}{ours:>8.3g}{ratio:>7.2f}"
            f"{rows[0]['target']:>8}  {seeds}"
        )
        for key in ("bc", "with_f", "optimal_policy_reaches_goal", "distilled_policy_success"):
            if key in rows[0]:
                values = ", ".join(f"s{r['seed']}: {r[key]:.3g}" for r in rows)
                print(f"{'':<22}{key:<20}{statistics.mean(r[key] for r in rows):>16.3g}  {values}")
        if "labelled_states" in rows[0]:
            values = ", ".join(
                f"s{r['seed']}: BC {r['labelled_states']} / DAgger {r['dagger_labelled']}"
                for r in rows
            )
            print(f"{'':<22}{'labelled states':<20}{'':>16}  {values}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=None, help="rows whose name has any of these")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--work", default=None, help="folder for runs and demos (default: temp)")
    parser.add_argument("--out", default=None, help="append each result to this JSONL file")
    parser.add_argument("--combine", nargs="+", default=None, help="print a table of saved results")
    args = parser.parse_args()
    if args.combine:
        results = [
            json.loads(line)
            for path in args.combine
            for line in Path(path).read_text().splitlines()
        ]
        print_table(results)
        return
    torch.set_num_threads(1)
    work = Path(args.work or tempfile.mkdtemp(prefix="imitation-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    names = [n for n in ROWS if args.rows is None or any(part in n for part in args.rows)]
    results = []
    for name in names:
        for seed in args.seeds:
            start = time.perf_counter()
            try:
                result = {**ROWS[name](seed, work), "seed": seed}
            except Exception as exc:  # one broken row must not lose the others' hours
                print(f"{name} seed {seed} failed: {type(exc).__name__}: {exc}", flush=True)
                continue
            result["seconds"] = round(time.perf_counter() - start, 1)
            print(json.dumps(result), flush=True)
            results.append(result)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(result) + "\n")
    print_table(results)


if __name__ == "__main__":
    main()
