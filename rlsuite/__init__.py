"""rlsuite: reinforcement learning on games, written from scratch to be read.

Importing rlsuite registers its games with Gymnasium (``gym.make("rlsuite/KeyDoor-8x8-v0")``).
``rlsuite.load(RUN_DIR_OR_FILE)`` gives back a trained agent to ``predict`` with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

from rlsuite import envs as _envs  # noqa: E402,F401  (registers the games)

if TYPE_CHECKING:
    from rlsuite.agents import Agent


def load(target: str | Path, device: str = "auto") -> Agent:
    """The trained agent in a run folder (its best.pt, else last.pt), a checkpoint file or a file
    written by ``agent.save``, ready to act: ``agent.predict(obs, deterministic=True)``.

    No environment is made. ``predict`` takes observations as the run's env gives them (one, or
    a batch): a game's ``frame_stack`` is part of its observation, and the saved normalisation
    statistics are applied inside the agent. The network runs on `device` ("auto": CUDA when
    torch sees a GPU, else "cpu"). torch is imported here, not at ``import rlsuite``.
    """
    from rlsuite.playback import load_agent

    return load_agent(target, device)
