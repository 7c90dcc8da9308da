"""The CPU monitor tells busy sandbox runs (grandchildren of this process) from sleeping ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from cap.evals.humaneval_cpu import CpuMonitor

# A stand-in for a sandbox worker: a child of ours with spinning and sleeping children of its own, all on one
# core, so that each spinning one gets only a small share of it.
WORKER = """
import os, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
pids = []
for busy in [True] * int(sys.argv[1]) + [False] * int(sys.argv[2]):
    pid = os.fork()
    if pid == 0:
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
def test_counts_busy_grandchildren_even_when_starved():
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
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demoted_runs_stop_counting():
    monitor = CpuMonitor()
    worker, pids = _worker(busy=2, sleeping=0)
    try:
        monitor.busy_runs()
        assert monitor.demote(pids[0])
        time.sleep(0.2)
        assert monitor.busy_runs() == 1
        assert monitor.cpu_seconds(pids[1]) > 0
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
