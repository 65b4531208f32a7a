"""rlsuite: reinforcement learning on games, written from scratch to be read.

Importing rlsuite registers its games with Gymnasium (``gym.make("rlsuite/KeyDoor-8x8-v0")``).
"""

__version__ = "0.1.0"

from rlsuite import envs as _envs  # noqa: E402,F401  (registers the games)
