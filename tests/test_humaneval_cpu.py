"""The CPU monitor tells busy sandbox runs (descendants of this process) from sleeping ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from cap.evals.humaneval.cpu import CpuMonitor

# A stand-in for a sandbox worker: a child of ours with spinning and sleeping children of its own, all on one
# core, so that each spinning one gets only a small share of it.
WORKER = """
import os, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
pids = []
for busy in [True] * int(sys.argv[1]) + [False] * int(sys.argv[2]):
    pid = os.fork()
    if pid == 0:
        os.setsid()  # as a sandbox run does
        if busy:
            while True:
                pass
        time.sleep(60)
        os._exit(0)
    pids.append(pid)
print(" ".join(map(str, pids)), flush=True)
time.sleep(60)
"""


def _worker(busy: int, sleeping: int) -> tuple[subprocess.Popen, list[int]]:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(busy), str(sleeping)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    return worker, [int(p) for p in worker.stdout.readline().split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_counts_busy_descendants_even_when_starved():
    monitor = CpuMonitor()
    assert monitor.available
    worker, pids = _worker(busy=6, sleeping=2)  # six spinning on one core: a sixth of it each
    try:
        assert monitor.busy_runs() == 9  # first look: not measured yet, so all count, the worker too
        time.sleep(0.5)
        # a busy loop starved by its neighbours still counts: it would take CPU if a core were free
        assert monitor.busy_runs() == 6
        assert [monitor.asleep(p) for p in pids] == [False] * 6 + [True] * 2
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@pytest.mark.exclusive
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_demoted_run_yields_the_core():
    """Demoted, a busy loop stops counting and leaves the core to its neighbour, also where the kernel first
    shares CPU between sessions (autogroup), which a plain nice value would not change."""
    monitor = CpuMonitor()
    worker, pids = _worker(busy=2, sleeping=0)  # two spinning on one core
    try:
        monitor.busy_runs()
        assert monitor.demote(pids[0])
        time.sleep(0.1)
        monitor.busy_runs()
        before = monitor.cpu_seconds(pids[1])
        time.sleep(0.5)
        assert monitor.busy_runs() == 1
        assert monitor.cpu_seconds(pids[1]) - before >= 0.4  # nearly all of 0.5 s, not the half of it
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
