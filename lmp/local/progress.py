"""Progress for long installs: a rich bar on a terminal, a line every few seconds in logs (CI, `make`)."""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """`total=None` is a heartbeat with elapsed time (a build that prints nothing for minutes)."""

    def __init__(self, label: str, total: int | None, stream: Any = None, every_s: float = 15.0):
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.done = 0
        self._bar: Any = None
        self._task: Any = None
        self._started = time.monotonic()
        self._last_line = self._started

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
            if self.total:
                columns += [BarColumn(), DownloadColumn(), TimeRemainingColumn()]
            columns.append(TimeElapsedColumn())
            from rich.console import Console

            self._bar = RichProgress(*columns, console=Console(file=self.stream), transient=False)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def advance(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.advance(self._task, n)
        else:
            self._maybe_line()

    def tick(self) -> None:
        if self._bar is not None:
            self._bar.refresh()
        else:
            self._maybe_line()

    def _maybe_line(self) -> None:
        now = time.monotonic()
        if now - self._last_line >= self.every_s:
            self._last_line = now
            print(self._line(now), file=self.stream, flush=True)

    def _line(self, now: float) -> str:
        elapsed = now - self._started
        if self.total:
            return f"  {self.label}: {100 * self.done / self.total:.0f}% ({elapsed:.0f} s)"
        return f"  {self.label}: still working ({elapsed:.0f} s)"

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif exc[0] is None and time.monotonic() - self._started > 2:
            print(f"  {self.label}: done in {time.monotonic() - self._started:.0f} s", file=self.stream)
