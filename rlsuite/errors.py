"""The one error type a user sees, and how an exception becomes one line.

Every mistake in the user's input or files becomes an :class:`RlsuiteError` with a one-line
message; the CLI prints it as ``rlsuite: error: ...`` and exits with status 2. This module
imports nothing of rlsuite, so every other module can import it without a cycle.
"""

from __future__ import annotations

import sys
import traceback


class RlsuiteError(Exception):
    """A mistake in the user's input or files: shown as one line, never as a traceback."""


class ConfigError(RlsuiteError, ValueError):
    """A setting of the wrong type or out of range, an unknown setting or agent name.

    Also a ValueError, so that Python users of ``make_agent``/``Config(...)`` catch what they
    would expect from a bad argument, while the CLI prints it as one line like any RlsuiteError.
    """


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message; when it has none (a bare ``assert`` in an env
    or a wrapper), its type's name and where it was raised, with that line of code."""
    text = str(exc).strip().splitlines()
    return text[0] if text else f"{type(exc).__name__}{_raised_at(exc)}"


def _raised_at(exc: BaseException) -> str:
    """`` at gymnasium/wrappers/x.py:298 (the code there)`` for the innermost frame, or ""."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    where = frame.filename.split("site-packages/")[-1]
    return f" at {where}:{frame.lineno} ({frame.line})" if frame.line else f" at {where}"


_warned: set[str] = set()


def warn(message: str) -> None:
    """Print ``rlsuite: warning: ...`` to stderr, once per message."""
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"rlsuite: warning: {message}\n")
