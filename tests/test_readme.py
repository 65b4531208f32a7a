"""The README's examples run as written, each with a tiny budget.

Every ``rlsuite ...`` line of the README's bash blocks runs in a fresh folder, with its step
budget shrunk (``--steps``, or ``--steps`` added); ``--resume`` examples get twice the run's
budget, so they continue it as the README means. The Python example runs with 2,000 steps.
A README edit that breaks an example fails here.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "cli"))
from cli_helpers import run_rlsuite  # noqa: E402

README = Path(__file__).parent.parent / "README.md"
TINY = 1024  # steps of every example training run
QUICK_START_RUN = "runs/CartPole-v1__ppo__s0__20261125-140000"  # the run the examples refer to


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def readme_commands() -> list[list[str]]:
    """Each ``rlsuite ...`` command of the bash blocks (after ``&&`` where it is chained)."""
    commands = []
    for block in readme_blocks("bash"):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part)
                if words and words[0] == "rlsuite":
                    commands.append(words[1:])
    return commands


def with_tiny_budget(args: list[str]) -> list[str]:
    """`args` with --steps set to TINY (twice TINY when resuming a run of TINY steps)."""
    if args[0] != "train":
        return args
    steps = str(2 * TINY if "--resume" in args else TINY)
    if "--steps" in args:
        args = list(args)
        args[args.index("--steps") + 1] = steps
        return args
    return [*args, "--steps", steps]


def test_the_readme_has_examples() -> None:
    commands = readme_commands()
    assert sum(args[0] == "train" for args in commands) >= 4
    assert any("--resume" in args for args in commands)
    assert any(args[0] == "watch" for args in commands)


@pytest.mark.parametrize("args", readme_commands(), ids=shlex.join)
def test_a_readme_command_runs_as_written(args: list[str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    uses_run = QUICK_START_RUN in args
    if uses_run:  # the run the quick start made, by the name the README shows
        made = run_rlsuite("train", "--run-dir", QUICK_START_RUN, "--steps", str(TINY))
        assert made.returncode == 0, made.stderr
    result = run_rlsuite(*with_tiny_budget(args), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if args[0] == "train":
        assert "finished at" in result.stdout
    if "--record" in args:
        assert (tmp_path / args[args.index("--record") + 1]).stat().st_size > 0


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch) -> None:
    (code,) = [block for block in readme_blocks("python") if "make_agent" in block]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code.replace("50_000", "2_000"), "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["actions"].shape == (8,)
