"""The host's handle on one warm worker: its two channels, its pidfd, the child it is running.

A worker is named by a pidfd (never by a pid that could be reused) and killed through it; the child of the
moment leads its own process group, which `kill_group` ends.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import threading
import time
from typing import Any

from sandbox import wire
from sandbox.zygote import SandboxUnavailable, Zygote


def valid_pid(pid: Any) -> int | None:
    """A pid the worker reported, if it is one the host may signal (never 0, 1, -1 or the host itself)."""
    return pid if type(pid) is int and pid > 1 and pid != os.getpid() else None


def kill_group(pid: int | None) -> None:
    """SIGKILL the process group led by `pid` (a run child), and `pid` itself."""
    if pid:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class Worker:
    def __init__(self, zygote: Zygote):
        host_ctl, worker_ctl = socket.socketpair()
        host_data, worker_data = socket.socketpair()
        self._zygote = zygote
        try:
            self.pid = zygote.spawn(worker_ctl, worker_data)
        except OSError:
            for s in (host_ctl, host_data):
                s.close()
            raise SandboxUnavailable("the sandbox worker failed to start") from None
        finally:
            worker_ctl.close()
            worker_data.close()
        # A pidfd names this process and no other, even after it exits (the zygote reaps it only on `close`).
        self._pidfd = os.pidfd_open(self.pid)
        self._pidfd_lock = threading.RLock()  # a lane and `Sandbox.close` may close a worker at once
        self._exited = False
        self.ctl, self.data = host_ctl, host_data
        self.child_pid: int | None = None  # the child running a program right now, if any
        # The last run's child sent its result and was told to go (SIGKILL); its exit report is read before
        # the worker's next run (`settle`), so the outcome never waits for a process to tear down.
        self.exiting = False
        self.child_cpu: float | None = None  # CPU seconds that child had used when it last reported
        self.abandoned = False
        self.ctl_reader = wire.FrameReader(host_ctl)
        self.data_reader = wire.FrameReader(host_data)
        try:
            ready = wire.recv(self.ctl)  # blocking is fine: nothing untrusted has run in the worker yet
        except (EOFError, OSError, wire.WireError):
            self.close()
            raise SandboxUnavailable("the sandbox worker failed to start") from None
        self.layers: dict[str, Any] = ready.get("layers", {})

    def settle(self, grace: float = 2.0) -> bool:
        """Read the exit report of the child the last run left exiting (and its pid, if the result came before
        it), then drop whatever that child wrote after its result, so the next run reads only its own child.
        False when the worker does not report in time (it is then of no further use)."""
        if not self.exiting:
            return True
        deadline = time.perf_counter() + grace
        killed = False
        while True:
            try:
                messages = self.ctl_reader.read_available()
            except (EOFError, OSError, wire.WireError):
                return False
            for message in messages:
                if message.get("op") == "forked":
                    self.child_pid = valid_pid(message.get("pid"))
                    kill_group(self.child_pid)
                elif message.get("op") == "exited":
                    self.exiting = False
                    self.child_pid = None
                    self.data_reader.discard_available()
                    return True
            wait = deadline - time.perf_counter()
            if wait <= 0:
                if killed:
                    return False
                kill_group(self.child_pid)
                killed, deadline, wait = True, time.perf_counter() + 5.0, 5.0
            select.select([self.ctl], [], [], wait)

    def _has_exited(self, wait: float | None = 0) -> bool:
        with self._pidfd_lock:
            if not self._exited and self._pidfd >= 0:
                self._exited = bool(select.select([self._pidfd], [], [], wait)[0])
            return self._exited

    def alive(self) -> bool:
        return not self.abandoned and not self._has_exited()

    def _kill(self) -> None:
        with self._pidfd_lock:
            if self._pidfd >= 0 and not self._has_exited():
                try:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def abandon(self) -> None:
        """Kill a worker that broke its protocol or died; its child (if any) goes with `close`."""
        self.abandoned = True
        self._kill()

    def close(self) -> None:
        # The running child (if any) leads its own process group, so killing the worker alone would leave it
        # running, e.g. when the host abandons a run on Ctrl-C.
        if self.child_pid:
            kill_group(self.child_pid)
            self.child_pid = None
        for s in (self.ctl, self.data):
            s.close()
        with self._pidfd_lock:
            if self._pidfd < 0:
                return
            self._kill()
            self._has_exited(wait=None)
            os.close(self._pidfd)
            self._pidfd = -1
        self._zygote.reap(self.pid)
