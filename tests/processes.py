"""Reading the process tree from /proc, for tests that check nothing is left running."""

from __future__ import annotations

import os
import time


def descendants(pid: int) -> list[int]:
    """All processes below `pid`, through every thread's children."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as handle:
                    children = [int(p) for p in handle.read().split()]
            except OSError:
                continue
            found.extend(children)
            queue.extend(children)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie only waits for its parent, or init, to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def all_gone(pids: list[int] | set[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
