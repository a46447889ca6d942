"""One exception type for bad user input, so the CLI can print one line and exit non-zero.

Everything a user can get wrong (flags, files, arch strings, metric tables) raises
``RobotRayError`` with a message that says what was expected, what arrived and how to fix it.
Internal invariants keep using ``assert``.
"""

from __future__ import annotations


class RobotRayError(ValueError):
    """A problem with the user's input or environment, with the fix in the message."""


class RunInterrupted(Exception):
    """A run stopped by SIGINT/SIGTERM before its end: a state to resume, not a result.

    The CLI prints how to resume and exits 130 (143 after SIGTERM); no summary is written.
    """

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code
