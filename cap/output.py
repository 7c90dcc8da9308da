"""Printing results for people (colors, highlighted code) or machines (one JSON object)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.syntax import Syntax

err = Console(stderr=True, highlight=False)


def show_code(code: str, title: str = "") -> None:
    """Generated code, syntax-highlighted on a terminal, plain otherwise; to stderr so --json stays clean."""
    if title:
        err.print(f"[bold]{title}[/bold]")
    if err.is_terminal:
        err.print(Syntax(code.rstrip(), "python", theme="ansi_dark", line_numbers=False))
    else:
        print(code.rstrip(), file=sys.stderr)


def print_json(obj: Any) -> None:
    print(json.dumps(obj))


def show_episode(ep: Any) -> None:
    if not getattr(ep, "executed", True):
        err.print("[yellow]not executed[/yellow] (generated only: --no-exec / :debug on)")
    color = "green" if ep.status == "ok" else "red"
    err.print(f"status: [{color}]{ep.status}[/{color}]" + (f"  ({ep.error})" if ep.error else ""))
    for line in ep.said:
        err.print(f"robot says: {line}")
    if ep.stdout:
        err.print(f"stdout:\n{ep.stdout.rstrip()}")
    if ep.task_success is not None:
        mark = "[green]success[/green]" if ep.task_success else "[red]failure[/red]"
        err.print(f"task {ep.task} (seed {ep.seed}): {mark} - {ep.reason}")
    err.print(f"{ep.seconds:.2f} s")
