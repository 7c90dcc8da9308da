"""The progress bar every long benchmark shows: on stderr, only on a terminal, gone when done."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def progress_bar(enabled: bool | None = None) -> Progress:
    """A rich Progress on stderr (so --json output stays clean); disabled when stderr is not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not (sys.stderr.isatty() if enabled is None else enabled),
    )
