"""The ``rlsuite`` command: parse the arguments, then call library functions (no logic here).

Subcommands live in one table, ``COMMANDS``: a new one is a name, a help line, a function that
adds its arguments and a function that runs it. Every user mistake reaches ``main`` as one
``RlsuiteError`` and is printed as a single ``rlsuite: error: ...`` line (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from rlsuite import __version__, config
from rlsuite.errors import RlsuiteError

# rlsuite.runs and rlsuite.playback load torch (about 2 s): each command imports them when it
# needs them, so `play` and `expert` never wait for torch, and `watch` checks for a display first.

DEFAULT_ENV_ID = "CartPole-v1"  # what `rlsuite train` trains on with no ENV_ID
DEFAULT_AGENT = "ppo"  # and with which agent, when --agent is not given


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line: ``rlsuite train: error: ... (see --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def count(text: str) -> int:
    """An argparse type for step counts that also reads 1e6 and 100_000."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of steps: {text!r}") from None
    if not value.is_integer() or value < 0:
        raise argparse.ArgumentTypeError(f"not a whole, non-negative number: {text!r}")
    return int(value)


def add_env_kwargs_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--env-kwargs",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="keyword arguments for the env constructor, values read as YAML "
        "(e.g. reward_mode=shaped obs_mode=pixels)",
    )


def add_device_argument(p: argparse.ArgumentParser, what: str, default: str | None = "auto"):
    p.add_argument(
        "--device",
        choices=config.DEVICES,
        default=default,
        help=f"{what}: auto (CUDA when torch sees a GPU, else the CPU), cpu or cuda",
    )


def add_set_argument(p: argparse.ArgumentParser, what: str) -> None:
    """``--set KEY=VALUE ...``, gathered in ``args.settings``; ``what`` says what it sets."""
    p.add_argument(
        "--set",
        dest="settings",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help=what,
    )


def add_run_folder_arguments(p: argparse.ArgumentParser, default_name: str, bar: str) -> None:
    """``--run-dir``, ``--progress`` and ``--force`` of the commands that write a run folder."""
    p.add_argument("--run-dir", metavar="DIR", help=f"run folder (default: runs/{default_name})")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"show a progress bar {bar} (default: on when stderr is a terminal)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="delete an existing run folder of the same name and start over",
    )


# ------------------------------------------------------------------------------------------------
# rlsuite train
# ------------------------------------------------------------------------------------------------


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "env_id",
        nargs="?",
        metavar="ENV_ID",
        help="a registered Gymnasium id: rlsuite/KeyDoor-8x8-v0, CartPole-v1, Acrobot-v1, "
        f"MountainCar-v0, or another package's after --import (default: {DEFAULT_ENV_ID})",
    )
    p.add_argument(
        "--agent",
        metavar="NAME",
        help=f"agent to train, in any case (default: {DEFAULT_AGENT}); `rlsuite agents` lists them",
    )
    p.add_argument(
        "--steps",
        type=count,
        metavar="N",
        help="total environment steps, all parallel envs together; 1e6 works; training stops "
        "after the update that reaches it (default: the per-task entry's n_timesteps, else the "
        "agent's default_steps; with --resume: "
        "the total to reach)",
    )
    p.add_argument(
        "--n-envs",
        type=int,
        metavar="K",
        help="parallel environments in the vector env (default: the per-task entry's, else 8)",
    )
    p.add_argument(
        "--seed", type=int, metavar="S", help="random seed of envs and agent (default 0)"
    )
    p.add_argument(
        "--defaults",
        action="store_true",
        help="skip the per-task entry of rlsuite/hyperparams: the agent's built-in defaults "
        "(what an id without an entry gets)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="YAML or JSON file with the keys of a run's config.yaml (read as data); "
        "command-line options override it",
    )
    add_set_argument(
        p,
        "override a setting: any field of the agent's Config (e.g. "
        "learning_rate=3e-4, hidden_sizes=64,64) or a run setting: vec=auto|sync|async|"
        "vector_entry_point, eval_episodes, checkpoint_every (0: only last.pt), torch_threads; "
        "every value is checked before anything is written",
    )
    add_env_kwargs_argument(p)
    add_curiosity_arguments(p)
    p.add_argument(
        "--wrapper",
        dest="wrappers",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="a Gymnasium wrapper class (taking only the env) applied to each env, e.g. "
        "gymnasium.wrappers:NormalizeObservation; repeat the option for more, applied in "
        "order; implies vec=sync",
    )
    p.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (it registers more env ids); repeat for more",
    )
    p.add_argument(
        "--demos",
        metavar="FILE.npz",
        help="demonstrations for the imitation agents (bc, dagger, gail, airl, maxent-irl): "
        "from `rlsuite demos`, `rlsuite expert --record` or `rlsuite play --record`",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue RUN_DIR from checkpoints/last.pt with its saved config: same "
        "step count, same TensorBoard curves; only --steps and --progress apply",
    )
    p.add_argument(
        "--eval-every",
        type=count,
        metavar="N",
        help="evaluate every N env steps on separate envs, logging eval/mean_reward "
        "and keeping checkpoints/best.pt (default: 10 times per run; 0: never)",
    )
    add_device_argument(p, "where the networks train (default auto)", default=None)
    p.add_argument(
        "--encoder",
        metavar="RUN_DIR",
        help="start from a pretrained image encoder (a `rlsuite pretrain` or `rlsuite fit` "
        "run folder, or its encoder.pt) instead of a fresh CNN; an MLP of hidden_sizes follows "
        "(ICM's phi takes one with --set curiosity_encoder=RUN_DIR)",
    )
    p.add_argument(
        "--freeze-encoder",
        action="store_true",
        default=None,
        help="keep the --encoder's weights fixed: its features are computed without gradients "
        "(cheaper acting and learning)",
    )
    add_run_folder_arguments(
        p, "<env>__<agent>__s<seed>__<YYYYmmdd-HHMMSS>", "with steps, fps and ep_rew_mean"
    )


def add_curiosity_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "curiosity (a2c, ppo)",
        "intrinsic rewards for exploring sparse-reward games; more settings (intrinsic_gamma, "
        "icm_eta, icm_beta, rnd_warmup_steps, ...) with --set",
    )
    g.add_argument(
        "--curiosity",
        choices=("icm", "rnd", "count"),
        help="add an intrinsic reward: icm (forward-model surprise), rnd (random network "
        "distillation) or count (1/sqrt N(s))",
    )
    g.add_argument(
        "--intrinsic-coef",
        metavar="X",
        help="weight of the intrinsic advantage (default: 0.5 for icm, falling linearly to 0 "
        "over --steps unless --set intrinsic_schedule=constant; 1 for rnd and count)",
    )
    g.add_argument(
        "--extrinsic-coef", metavar="X", help="weight of the env reward's advantage (default 2)"
    )
    g.add_argument(
        "--no-extrinsic",
        action="store_true",
        help="curiosity alone: learn nothing from the env's reward (extrinsic_coef=0)",
    )


def curiosity_settings(args: argparse.Namespace) -> list[str]:
    """The curiosity options as ``--set`` pairs (an explicit ``--set`` overrides them)."""
    pairs = {
        "curiosity": args.curiosity,
        "intrinsic_coef": args.intrinsic_coef,
        "extrinsic_coef": "0" if args.no_extrinsic else args.extrinsic_coef,
    }
    return [f"{key}={value}" for key, value in pairs.items() if value is not None]


# Options that would change a run's saved config, which --resume keeps as it is.
RESUME_CONFLICTS = {
    "env_id": "ENV_ID",
    "agent": "--agent",
    "n_envs": "--n-envs",
    "seed": "--seed",
    "run_dir": "--run-dir",
    "config": "--config",
    "defaults": "--defaults",
    "settings": "--set",
    "env_kwargs": "--env-kwargs",
    "wrappers": "--wrapper",
    "imports": "--import",
    "eval_every": "--eval-every",
    "device": "--device",
    "demos": "--demos",
    "encoder": "--encoder",
    "freeze_encoder": "--freeze-encoder",
    "force": "--force",
    "curiosity": "--curiosity",
    "intrinsic_coef": "--intrinsic-coef",
    "extrinsic_coef": "--extrinsic-coef",
    "no_extrinsic": "--no-extrinsic",
}


def run_train(args: argparse.Namespace) -> int:
    from rlsuite import runs

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.resume is not None:
        given = [flag for key, flag in RESUME_CONFLICTS.items() if getattr(args, key)]
        if given:
            raise RlsuiteError(
                f"--resume keeps the run's saved config; drop {', '.join(given)} "
                "(only --steps and --progress apply)"
            )
        result = runs.resume(args.resume, steps=args.steps, progress=progress)
    else:
        run_config = config.resolve_config(
            args.env_id,
            args.agent,
            steps=args.steps,
            n_envs=args.n_envs,
            seed=args.seed,
            eval_every=args.eval_every,
            device=args.device,
            demos=args.demos,
            encoder=args.encoder,
            freeze_encoder=args.freeze_encoder,
            config_file=args.config,
            settings=[*curiosity_settings(args), *args.settings],
            env_kwargs=args.env_kwargs,
            wrappers=args.wrappers,
            imports=args.imports,
            default_env_id=DEFAULT_ENV_ID,
            default_agent=DEFAULT_AGENT,
            per_task=not args.defaults,
        )
        if run_config.hyperparams:
            print(
                f"hyperparameters: {run_config.hyperparams} (--config and --set override them)",
                flush=True,
            )
        result = runs.train(run_config, args.run_dir, force=args.force, progress=progress)
    print(runs.describe_run(result))
    return result.exit_code


# ------------------------------------------------------------------------------------------------
# rlsuite eval / watch
# ------------------------------------------------------------------------------------------------


def add_target_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        metavar="RUN_DIR|CHECKPOINT",
        help="a run folder (uses checkpoints/best.pt, else last.pt) or a .pt file",
    )
    p.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help="seed of the episodes (default: the one the run's evaluations used)",
    )
    add_device_argument(p, "where the agent's network runs")
    actions = p.add_mutually_exclusive_group()
    actions.add_argument(
        "--deterministic",
        dest="deterministic",
        action="store_true",
        default=True,
        help="take the most likely action, as the run's evaluations do (the default)",
    )
    actions.add_argument(
        "--stochastic",
        dest="deterministic",
        action="store_false",
        help="sample each action from the policy instead",
    )


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    add_target_argument(p)
    p.add_argument(
        "--episodes", type=int, default=10, metavar="N", help="episodes to run (default 10)"
    )
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")


def run_eval(args: argparse.Namespace) -> int:
    from rlsuite import playback

    result = playback.evaluate_run(
        args.target, args.episodes, args.deterministic, args.seed, args.device
    )
    print(json.dumps(result) if args.json else playback.format_evaluation(result))
    return 0


def add_watch_arguments(p: argparse.ArgumentParser) -> None:
    add_target_argument(p)
    p.add_argument(
        "--episodes", type=int, default=3, metavar="N", help="episodes to play (default 3)"
    )
    p.add_argument(
        "--fps", type=float, metavar="F", help="frames per second (default: the env's render_fps)"
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        help="write the episodes to FILE.gif or FILE.mp4 instead of opening a window "
        "(no display needed)",
    )


def run_watch(args: argparse.Namespace) -> int:
    with window_or_hint("watch", needed=args.record is None):
        from rlsuite import playback

        playback.watch_run(
            args.target,
            args.episodes,
            args.fps,
            args.record,
            args.deterministic,
            args.seed,
            device=args.device,
        )
    return 0


# What to do instead when a command's window cannot be shown.
NO_WINDOW_HINTS = {
    "watch": "record the episodes to a file instead: --record FILE.gif",
    "play": "play needs a screen and a keyboard",
    "expert": "run without --watch (the expert plays and reports all the same)",
}


@contextmanager
def window_or_hint(command: str, needed: bool = True) -> Iterator[None]:
    """Where no window can be seen, stop at once with one line that says so and what to do."""
    from rlsuite.envs.render import NoDisplayError, check_display

    try:
        if needed:
            check_display()  # before anything slow (torch, the agent) is loaded
        yield
    except NoDisplayError as exc:
        raise RlsuiteError(f"{exc.reason}; {NO_WINDOW_HINTS[command]}") from None


# ------------------------------------------------------------------------------------------------
# rlsuite envs / agents
# ------------------------------------------------------------------------------------------------


def add_envs_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "contains", nargs="?", metavar="TEXT", help="only ids containing TEXT (e.g. rlsuite/)"
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="also list ids that cannot be made here (a package is missing), with the reason",
    )


def run_envs(args: argparse.Namespace) -> int:
    from rlsuite import playback

    print("id | observation space | action space | reward modes")
    for row in playback.list_envs(args.contains, args.all):
        print(" | ".join(row), flush=True)
    return 0


def run_agents(args: argparse.Namespace) -> int:
    from rlsuite import playback
    from rlsuite.agents import agent_class
    from rlsuite.hyperparams import hyperparams_file

    if args.name is None:
        print_names(playback.list_agents())
        return 0
    cls = agent_class(args.name)
    per_task = hyperparams_file(cls.name)
    usage = f"rlsuite train --agent {cls.name} --set key=value"
    if per_task.exists():
        usage += f"; rlsuite/hyperparams/{per_task.name} sets some per env id"
    others = f"run settings, also --set: {', '.join(config.RUN_SETTINGS)} (rlsuite train --help)"
    print_settings(cls, usage, others)
    return 0


def add_name_argument(what: str) -> Callable[[argparse.ArgumentParser], None]:
    """`rlsuite agents [NAME]` / `rlsuite models [NAME]`: one of them, with its settings."""

    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("name", nargs="?", metavar="NAME", help=f"show this {what}'s settings")

    return add


def print_names(rows: list[tuple[str, str]]) -> None:
    """`rlsuite agents` / `rlsuite models`: one name and its description per line, aligned."""
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")


def print_settings(cls: type, usage: str, others: str) -> None:
    """`rlsuite agents NAME` / `rlsuite models NAME`: the agent's or model's description, then
    each setting of its Config with its default and what it must be, then the `others` line."""
    print(f"{cls.name}: {cls.description}")
    print(f"settings ({usage}):")
    rows = [("setting", "default", "must be"), *config.settings_table(cls.Config)]
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    for name, default, kind in rows:
        print(f"  {name:<{widths[0]}}  {default:<{widths[1]}}  {kind}")
    print(others)


# ------------------------------------------------------------------------------------------------
# rlsuite play / expert: a person or the scripted expert plays a game, optionally recorded
# ------------------------------------------------------------------------------------------------


def add_game_arguments(p: argparse.ArgumentParser, episodes: int) -> None:
    p.add_argument("env_id", metavar="ENV_ID", help="an rlsuite game id (`rlsuite envs rlsuite/`)")
    p.add_argument(
        "--episodes",
        type=int,
        default=episodes,
        metavar="N",
        help=f"episodes to play (default {episodes})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="episode i is reset with seed S + i (default 0)",
    )
    p.add_argument(
        "--record",
        metavar="FILE.npz",
        help="save the finished episodes as demonstrations (.npz) for imitation learning",
    )
    add_env_kwargs_argument(p)


def add_play_arguments(p: argparse.ArgumentParser) -> None:
    add_game_arguments(p, episodes=3)
    p.add_argument(
        "--fps",
        type=float,
        metavar="F",
        help="speed of real-time games (default: the game's render_fps); grid games wait for keys",
    )


def _game_request(args: argparse.Namespace) -> dict:
    """Check the id and the record path before a window opens, so no play is wasted."""
    config.check_env_id(args.env_id)
    if args.record is not None and not args.record.endswith(".npz"):
        raise RlsuiteError(f"--record writes a .npz demonstration file, got {args.record!r}")
    if args.episodes <= 0:
        raise RlsuiteError(f"--episodes must be positive, got {args.episodes}")
    return config.parse_pairs(args.env_kwargs, "--env-kwargs")


def run_play(args: argparse.Namespace) -> int:
    from rlsuite.envs.play import play

    env_kwargs = _game_request(args)
    try:
        with window_or_hint("play"):
            summary = play(args.env_id, args.episodes, args.seed, args.fps, env_kwargs, args.record)
    except ValueError as exc:  # not a game, bad game option
        raise RlsuiteError(str(exc)) from None
    print(f"played {summary['episodes']} episode(s); mean return {summary['mean_return']}")
    if "record" in summary:
        print(f"demonstrations saved to {summary['record']}")
    elif args.record is not None:
        print("no episode was finished, so nothing was recorded")
    return 0


def add_expert_arguments(p: argparse.ArgumentParser) -> None:
    add_game_arguments(p, episodes=10)
    p.add_argument(
        "--watch", action="store_true", help="show the expert playing in a window (needs a display)"
    )


def run_expert(args: argparse.Namespace) -> int:
    from rlsuite.envs.experts import run_expert as play_expert

    env_kwargs = _game_request(args)
    render_mode = "human" if args.watch else None
    try:
        with window_or_hint("expert", needed=args.watch):
            result = play_expert(
                args.env_id,
                args.episodes,
                args.seed,
                env_kwargs,
                args.record is not None,
                render_mode,
            )
    except ValueError as exc:  # not a game, bad game option
        raise RlsuiteError(str(exc)) from None
    print(
        f"scripted expert on {args.env_id}: {args.episodes} episodes, "
        f"mean return {result.returns.mean():.3f} +/- {result.returns.std():.3f}, "
        f"success rate {result.successes.mean():.2f}, mean length {result.lengths.mean():.1f}"
    )
    if result.demos is not None:
        print(f"demonstrations saved to {result.demos.save(args.record)}")
    return 0


# ------------------------------------------------------------------------------------------------
# rlsuite demos / reward: demonstrations for imitation, and the reward inverse RL learned
# ------------------------------------------------------------------------------------------------


def add_demos_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("env_id", metavar="ENV_ID", help="the environment the expert plays")
    p.add_argument(
        "--expert",
        required=True,
        metavar="scripted|RUN_DIR",
        help="`scripted` (the game's own expert) or a trained run folder "
        "(its best.pt, else last.pt)",
    )
    p.add_argument(
        "--episodes", type=int, default=10, metavar="N", help="episodes to record (default 10)"
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="episode i is reset with seed S + i"
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE.npz", help="the demonstration file to write"
    )
    p.add_argument(
        "--stochastic",
        action="store_true",
        help="a trained run samples its actions (default: the most likely action)",
    )
    add_env_kwargs_argument(p)


def run_demos(args: argparse.Namespace) -> int:
    from rlsuite.agents.imitation.experts import record_demos

    config.check_env_id(args.env_id)
    if not args.output.endswith(".npz"):
        raise RlsuiteError(f"-o writes a .npz demonstration file, got {args.output!r}")
    if args.episodes <= 0:
        raise RlsuiteError(f"--episodes must be positive, got {args.episodes}")
    env_kwargs = config.parse_pairs(args.env_kwargs, "--env-kwargs")
    demos, result = record_demos(
        args.env_id, args.expert, args.episodes, args.seed, not args.stochastic, env_kwargs
    )
    text = (
        f"{demos.source} on {args.env_id}: {demos.n_episodes} episodes, {len(demos.actions)} "
        f"steps, mean return {result.returns.mean():.3f}"
    )
    if demos.successes.any() or "rlsuite/" in args.env_id:
        text += f", success rate {result.successes.mean():.2f}"
    print(text)
    print(f"demonstrations saved to {demos.save(args.output)}")
    return 0


def add_reward_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a gail, airl or maxent-irl run folder")
    p.add_argument(
        "--plot", required=True, metavar="FILE.png", help="draw the learned reward to FILE.png"
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="the layout shown (the env's reset seed)"
    )


def run_reward(args: argparse.Namespace) -> int:
    from rlsuite.agents.imitation.reward_plot import plot_run_reward

    path = plot_run_reward(args.run_dir, args.plot, args.seed)
    print(f"learned reward drawn to {path}")
    return 0


# ------------------------------------------------------------------------------------------------
# rlsuite sweep / plot: many seeds and settings on Ray Tune, and their curves side by side
# ------------------------------------------------------------------------------------------------


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "sweep_file",
        nargs="?",
        metavar="SWEEP.yaml",
        help="the sweep: env, agent, budget, seeds, search space (rlsuite sweep --example)",
    )
    p.add_argument(
        "--example",
        action="store_true",
        help="print a complete, commented sweep file (2 settings x 2 seeds, about a minute)",
    )
    p.add_argument(
        "--address",
        metavar="auto|HOST:PORT",
        help="run on this Ray cluster (auto: the one `ray start` made here); default: a local Ray",
    )
    p.add_argument(
        "--num-samples",
        type=int,
        metavar="N",
        help="draws of the search's random keys (choice, uniform, loguniform); overrides the file",
    )
    p.add_argument(
        "--max-concurrent",
        type=int,
        metavar="K",
        help="at most K trials at once (default: as many as there are CPUs)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep folder: finished trials are not trained again, unfinished "
        "ones continue from their last checkpoint",
    )
    p.add_argument(
        "--force", action="store_true", help="delete an existing sweep folder and start over"
    )


def run_sweep(args: argparse.Namespace) -> int:
    from rlsuite import sweeps

    if args.example:
        print(sweeps.EXAMPLE, end="")
        return 0
    if args.sweep_file is None:
        raise RlsuiteError("give a sweep file (rlsuite sweep --example > sweep.yaml)")
    if args.resume and args.force:
        raise RlsuiteError("--resume continues a sweep and --force starts it over: give one")
    sweep = sweeps.read_sweep(args.sweep_file, num_samples=args.num_samples)
    result = sweeps.run_sweep(
        sweep,
        address=args.address,
        max_concurrent=args.max_concurrent,
        resume=args.resume,
        force=args.force,
    )
    print(sweeps.format_results(result, args.sweep_file))
    return result.exit_code


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="+",
        metavar="RUN_OR_SWEEP_DIR",
        help="run folders, sweep folders or any folders holding run folders",
    )
    p.add_argument(
        "--tag",
        default="rollout/ep_rew_mean",
        help="the TensorBoard scalar to draw (default rollout/ep_rew_mean; e.g. "
        "eval/mean_reward, rollout/success_rate)",
    )
    p.add_argument(
        "-o",
        "--output",
        default="curves.png",
        metavar="FILE.png",
        help="the picture (.png, .pdf or .svg); the numbers go beside it as .csv "
        "(default curves.png)",
    )
    p.add_argument("--title", help="the figure's title (default: the tag)")


def run_plot(args: argparse.Namespace) -> int:
    from rlsuite import plots

    written = plots.plot_runs(args.paths, args.tag, args.output, title=args.title)
    for line in plots.describe(written):
        print(line)
    return 0


# ------------------------------------------------------------------------------------------------
# rlsuite fit / models: supervised and self-supervised models (rlsuite/supervised/)
# ------------------------------------------------------------------------------------------------


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", nargs="?", metavar="MODEL", help="a model to train; `rlsuite models` lists them"
    )
    p.add_argument(
        "--data",
        default="digits",
        metavar="DATA",
        help="digits (scikit-learn's handwritten digits), reverse or sort (synthetic sequences), "
        "a .npz file (images, optional labels) or a folder of images (sub-folders: classes); "
        "fixed 70/10/20%% train/val/test split (default: digits)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="passes over the training split (default: the model's)",
    )
    p.add_argument(
        "--seed", type=int, metavar="S", help="random seed of weights and batches (default 0)"
    )
    add_set_argument(
        p,
        "a setting of the model's Config (e.g. learning_rate=3e-4, channels=32,64) or of the "
        "fit: torch_threads, label (the .npz array used as labels)",
    )
    add_device_argument(p, "where the model trains (default auto)", default=None)
    p.add_argument(
        "--eval-only",
        metavar="RUN_DIR",
        help="print the held-out test metrics of a fit run's best.pt instead of training",
    )
    p.add_argument("--json", action="store_true", help="with --eval-only: print one JSON object")
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a fit run from its last.pt, exactly (--epochs N: to N epochs in all)",
    )
    add_run_folder_arguments(p, "fit__<model>__<data>__s<seed>__<YYYYmmdd-HHMMSS>", "over epochs")


def run_fit(args: argparse.Namespace) -> int:
    from rlsuite.supervised import fit

    if args.eval_only is not None:
        if args.model is not None:
            raise RlsuiteError("--eval-only reads the model from the run folder; drop MODEL")
        result = fit.evaluate_checkpoint(args.eval_only)
        print(json.dumps(result) if args.json else fit.describe_evaluation(result))
        return 0
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.resume is not None:
        if args.model is not None or args.settings or args.json:
            raise RlsuiteError("--resume takes the run's own settings; give only --epochs N")
        result = fit.resume(args.resume, args.epochs, progress=progress)
        print(fit.describe_fit(result))
        return result.exit_code
    if args.model is None:
        raise RlsuiteError("give a MODEL to train (`rlsuite models` lists them) or --eval-only")
    if args.json:
        raise RlsuiteError("--json goes with --eval-only")
    fit_config = fit.resolve_fit_config(
        args.model,
        args.data,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        settings=config.parse_pairs(args.settings, "--set", parse_values=False),
    )
    result = fit.fit(fit_config, args.run_dir, force=args.force, progress=progress)
    print(fit.describe_fit(result))
    return result.exit_code


def run_models(args: argparse.Namespace) -> int:
    from rlsuite.supervised.fit import FIT_SETTINGS
    from rlsuite.supervised.registry import list_models, model_class

    if args.name is None:
        print_names(list_models())
        return 0
    cls = model_class(args.name)
    others = f"fit settings, also --set: {', '.join(FIT_SETTINGS)} (rlsuite fit --help)"
    print_settings(cls, f"rlsuite fit {cls.name} --set key=value", others)
    return 0


# ------------------------------------------------------------------------------------------------
# rlsuite dataset / pretrain: game frames, and encoders pretrained on them (perception)
# ------------------------------------------------------------------------------------------------


def add_frames_arguments(p: argparse.ArgumentParser, default_frames: int) -> None:
    p.add_argument("env_id", metavar="ENV_ID", help="an rlsuite game id (`rlsuite envs rlsuite/`)")
    p.add_argument(
        "--frames",
        type=count,
        default=default_frames,
        metavar="N",
        help=f"frames to collect (default {default_frames})",
    )
    p.add_argument(
        "--policy",
        default="random",
        metavar="random|expert|RUN_DIR",
        help="who plays: random actions, the game's scripted expert, or a trained agent's run "
        "folder (default random)",
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of games and policy (default 0)"
    )
    add_env_kwargs_argument(p)


def add_dataset_arguments(p: argparse.ArgumentParser) -> None:
    add_frames_arguments(p, default_frames=10_000)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE.npz",
        help="where to write the frames, their state labels (label_*) and trajectory indices",
    )


def run_dataset(args: argparse.Namespace) -> int:
    from rlsuite.supervised.frames import POLICIES, collect_frames

    config.check_env_id(args.env_id)
    if not args.output.endswith(".npz"):
        raise RlsuiteError(f"-o writes a .npz file, got {args.output!r}")
    if args.policy not in POLICIES and not Path(args.policy).exists():
        raise RlsuiteError(
            f"--policy must be {', '.join(POLICIES)} or a run folder, not {args.policy!r}"
        )
    env_kwargs = config.parse_pairs(args.env_kwargs, "--env-kwargs")
    data = collect_frames(
        args.env_id, args.frames, args.policy, seed=args.seed, env_kwargs=env_kwargs
    )
    path = data.save(args.output)
    episodes = len(set(data.episode.tolist()))
    print(
        f"{len(data)} frames {data.frames.shape[1:]} of {args.env_id} from {episodes} episodes "
        f"({args.policy} policy) saved to {path}"
    )
    print(f"labels: {', '.join(f'label_{name}' for name in data.labels)}")
    return 0


def add_pretrain_arguments(p: argparse.ArgumentParser) -> None:
    add_frames_arguments(p, default_frames=20_000)
    p.add_argument(
        "--method",
        required=True,
        metavar="METHOD",
        help="ae (auto-encoder), dae (denoising), mae (masked modelling), simclr or byol",
    )
    p.add_argument("--epochs", type=int, metavar="N", help="passes over the frames (default 10)")
    add_set_argument(
        p, "a setting of the method (e.g. learning_rate=3e-4, features=256, mask_ratio=0.6)"
    )
    add_run_folder_arguments(
        p, "pretrain__<game>__<method>__s<seed>__<YYYYmmdd-HHMMSS>", "over epochs"
    )


def run_pretrain(args: argparse.Namespace) -> int:
    from rlsuite.supervised import pretrain

    request = pretrain.resolve_pretrain(
        args.env_id,
        args.method,
        frames=args.frames,
        policy=args.policy,
        seed=args.seed,
        epochs=args.epochs,
        env_kwargs=config.parse_pairs(args.env_kwargs, "--env-kwargs"),
        settings=config.parse_pairs(args.settings, "--set", parse_values=False),
    )
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    result, seconds = pretrain.pretrain(request, args.run_dir, force=args.force, progress=progress)
    print(pretrain.describe(result, seconds, request))
    return result.exit_code


# ------------------------------------------------------------------------------------------------
# The table of subcommands and main()
# ------------------------------------------------------------------------------------------------


class Command(NamedTuple):
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "train": Command("train an agent; writes a run folder", add_train_arguments, run_train),
    "eval": Command(
        "evaluate a saved agent: mean/std return, success rate, episode length",
        add_eval_arguments,
        run_eval,
    ),
    "watch": Command(
        "watch a saved agent play in a window, or --record a .gif/.mp4",
        add_watch_arguments,
        run_watch,
    ),
    "envs": Command(
        "list environment ids with their spaces and reward modes", add_envs_arguments, run_envs
    ),
    "agents": Command(
        "list the agents, or one agent's settings", add_name_argument("agent"), run_agents
    ),
    "play": Command(
        "play a game with the keyboard; --record saves demonstrations", add_play_arguments, run_play
    ),
    "expert": Command(
        "let a game's scripted expert play; --record saves demonstrations",
        add_expert_arguments,
        run_expert,
    ),
    "demos": Command(
        "record demonstrations of a scripted expert or a trained run, for imitation",
        add_demos_arguments,
        run_demos,
    ),
    "reward": Command(
        "draw the reward an inverse-RL run learned (a heatmap over the grid)",
        add_reward_arguments,
        run_reward,
    ),
    "sweep": Command(
        "train many settings x seeds with Ray Tune; a table of mean ± std per setting",
        add_sweep_arguments,
        run_sweep,
    ),
    "plot": Command(
        "draw runs' curves (mean over seeds with a band) from their TensorBoard files; also CSV",
        add_plot_arguments,
        run_plot,
    ),
    "fit": Command(
        "train a supervised or self-supervised model on data; writes a run folder",
        add_fit_arguments,
        run_fit,
    ),
    "models": Command(
        "list the models of `rlsuite fit`, or one model's settings",
        add_name_argument("model"),
        run_models,
    ),
    "dataset": Command(
        "collect a game's pixel frames with state labels and trajectories into a .npz",
        add_dataset_arguments,
        run_dataset,
    ),
    "pretrain": Command(
        "pretrain an image encoder self-supervised on a game's frames (for --encoder)",
        add_pretrain_arguments,
        run_pretrain,
    ),
}


def build_parser() -> Parser:
    parser = Parser(
        prog="rlsuite",
        description="Reinforcement learning on games: train, evaluate and watch agents.",
        epilog="Run `rlsuite COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"rlsuite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(p)
        p.set_defaults(run=command.run, command_parser=p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rlsuite`` console script; returns the exit status."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # told by the command's own parser, which names its own --help
        (args.command_parser if args.command else parser).error(
            f"unrecognized arguments: {' '.join(unknown)}"
        )
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except RlsuiteError as exc:
        print(f"rlsuite: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        from rlsuite.runs import EXIT_SIGINT

        print("rlsuite: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except BrokenPipeError:
        return stop_writing()


EXIT_SIGPIPE = 141  # the shell's 128 + SIGPIPE, as a Unix tool whose reader has gone


def stop_writing() -> int:
    """The reader of our output has gone (``rlsuite envs | head``): stop quietly, as Unix tools
    do. Output still buffered goes to /dev/null, so Python's flush at exit raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
