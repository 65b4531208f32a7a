"""The games know nothing of who plays them: importing them, and letting a scripted expert play
and record demonstrations, never loads torch (about 1.5 s, and a dependency a game has no use for).
Each check runs in a fresh interpreter, since this one has long imported torch."""

from __future__ import annotations

import subprocess
import sys


def python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_importing_the_games_imports_no_torch():
    result = python("-X", "importtime", "-c", "import rlsuite.envs")
    # Lines read "import time: self [us] | cumulative | <indent>module".
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "rlsuite.envs" in imported and "gymnasium" in imported
    assert [m for m in imported if m.split(".")[0] == "torch"] == []


RECORD_EXPERT = """
import sys
from rlsuite.demos import load_demos
from rlsuite.envs.experts import run_expert

result = run_expert("rlsuite/KeyDoor-5x5-v0", episodes=3, seed=0, record=True)
demos = load_demos(result.demos.save(sys.argv[1]))
print(demos.n_episodes, int(result.successes.sum()))
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "rlsuite"))))
"""


def test_a_scripted_expert_records_demonstrations_without_torch(tmp_path):
    result = python("-c", RECORD_EXPERT, str(tmp_path / "demos.npz"))
    counts, modules = result.stdout.splitlines()
    assert counts == "3 3"  # it really played and recorded
    modules = modules.split()
    assert "rlsuite.envs.experts" in modules and "rlsuite.demos" in modules
    assert [m for m in modules if m.split(".")[0] == "torch"] == []
    assert [m for m in modules if m.startswith("rlsuite.agents")] == []


EXPERT_COMMAND = """
import sys
from rlsuite.cli import main

assert main(["expert", "rlsuite/Maze-2Rooms-v0", "--episodes", "2", "--record", sys.argv[1]]) == 0
print(" ".join(m for m in sys.modules if m.split(".")[0] == "torch"))
"""


def test_the_expert_command_loads_no_torch(tmp_path):
    result = python("-c", EXPERT_COMMAND, str(tmp_path / "demos.npz"))
    *report, torch_modules = result.stdout.splitlines()
    assert "success rate 1.00" in report[0] and "demonstrations saved" in report[1]
    assert torch_modules == ""
