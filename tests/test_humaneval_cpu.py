"""The CPU monitor tells busy sandbox runs (grandchildren of this process) from sleeping ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from cap.evals.humaneval_cpu import CpuMonitor

# A stand-in for a sandbox worker: a child of ours with one spinning and two sleeping children of its own.
WORKER = """
import os, time
for busy in (True, False, False):
    if os.fork() == 0:
        if busy:
            while True:
                pass
        time.sleep(60)
        os._exit(0)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_counts_only_busy_grandchildren():
    monitor = CpuMonitor()
    assert monitor.available
    worker = subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert worker.stdout.readline().strip() == b"ready"
        assert monitor.busy_runs() == 3  # first look: not measured yet, so all count as busy
        time.sleep(0.5)
        assert monitor.busy_runs() == 1
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
