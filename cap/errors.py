"""User-facing failures: a clear message and a hint, never a traceback."""

from __future__ import annotations


class CapError(Exception):
    """An error the CLI reports as `error: <message>` (+ `hint: ...`) and exits non-zero for."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 2):
        super().__init__(message)
        self.hint = hint
        self.exit_code = exit_code
