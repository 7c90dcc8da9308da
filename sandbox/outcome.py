"""What running a piece of code came to: one status callers can branch on, and a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "violation", "error", "timeout", "resource"]
STATUSES: tuple[str, ...] = ("ok", "violation", "error", "timeout", "resource")


@dataclass
class Outcome:
    status: Status
    value: Any = None
    stdout: str = ""
    error: str = ""  # short: "<Type>: <message> (line N)"; never a host traceback
    error_type: str = ""
    error_message: str = ""  # str(exc), exactly
    line: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"
