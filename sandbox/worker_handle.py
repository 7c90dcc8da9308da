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
    """The host's end of one worker. Runs alternate between two data channels: a run may start on one while
    the child of the run before it still ends on the other (its exit report is read before that channel is
    used again), so no run waits for the previous child to tear down."""

    def __init__(self, zygote: Zygote):
        host_ctl, worker_ctl = socket.socketpair()
        pairs = [socket.socketpair() for _ in range(2)]
        self._zygote = zygote
        try:
            self.pid = zygote.spawn(worker_ctl, *(theirs for _, theirs in pairs))
        except OSError:
            for s in (host_ctl, *(ours for ours, _ in pairs)):
                s.close()
            raise SandboxUnavailable("the sandbox worker failed to start") from None
        finally:
            worker_ctl.close()
            for _, theirs in pairs:
                theirs.close()
        # A pidfd names this process and no other, even after it exits (the zygote reaps it only on `close`).
        self._pidfd = os.pidfd_open(self.pid)
        self._pidfd_lock = threading.RLock()  # a lane and `Sandbox.close` may close a worker at once
        self._exited = False
        self.ctl = host_ctl
        self.channels = [ours for ours, _ in pairs]
        self.readers = [wire.FrameReader(ours) for ours in self.channels]
        self.channel = 0  # the channel of the current (or last) run: `data`, `data_reader`
        self.child_pid: int | None = None  # the child running a program right now, if any
        # The last run's child sent its result and was told to go (SIGKILL); its exit report is read later
        # (`begin`), so the outcome never waits for a process to tear down.
        self.exiting = False
        # Channel -> the child ending on it (None: its pid is not known yet), until its exit report is read.
        self.ending: dict[int, int | None] = {}
        self.child_cpu: float | None = None  # CPU seconds that child had used when it last reported
        self.abandoned = False
        self.ctl_reader = wire.FrameReader(host_ctl)
        try:
            ready = wire.recv(self.ctl)  # blocking is fine: nothing untrusted has run in the worker yet
        except (EOFError, OSError, wire.WireError):
            self.close()
            raise SandboxUnavailable("the sandbox worker failed to start") from None
        self.layers: dict[str, Any] = ready.get("layers", {})

    @property
    def data(self) -> socket.socket:
        return self.channels[self.channel]

    @property
    def data_reader(self) -> wire.FrameReader:
        return self.readers[self.channel]

    def read_ctl(self) -> list[dict[str, Any]]:
        """The worker's reports about the current channel's child; reports about a child ending on the other
        channel are taken care of here (its pid noted and killed, its exit recorded). Raises as
        FrameReader.read_available does."""
        mine = []
        for message in self.ctl_reader.read_available():
            channel = message.get("channel")
            if channel in self.ending:
                self._ended(channel, message)
            elif channel == self.channel:
                mine.append(message)
        return mine

    def _ended(self, channel: int, message: dict[str, Any]) -> None:
        if message.get("op") == "forked":
            self.ending[channel] = valid_pid(message.get("pid"))
            kill_group(self.ending[channel])
        elif message.get("op") == "exited":
            del self.ending[channel]
            self.readers[channel].discard_available()  # what that child wrote after its result

    def begin(self, grace: float = 2.0) -> bool:
        """Before sending a run request: if the last run's child is still ending, leave it to end on its
        channel and take the other one, once the child that used that one last has been reported gone (it
        normally has, long ago). Returns the channel to use; False when the worker does not report in time
        (it is then of no further use)."""
        if self.exiting:
            self.ending[self.channel] = self.child_pid
            kill_group(self.child_pid)
            self.child_pid, self.exiting = None, False
            self.channel = 1 - self.channel
        deadline = time.perf_counter() + grace
        killed = False
        while self.channel in self.ending:
            try:
                for message in self.ctl_reader.read_available():
                    channel = message.get("channel")
                    if channel in self.ending:
                        self._ended(channel, message)
            except (EOFError, OSError, wire.WireError):
                return False
            if self.channel not in self.ending:
                break
            wait = deadline - time.perf_counter()
            if wait <= 0:
                if killed:
                    return False
                kill_group(self.ending[self.channel])
                killed, deadline, wait = True, time.perf_counter() + 5.0, 5.0
            select.select([self.ctl], [], [], wait)
        return True

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
        for pid in (self.child_pid, *self.ending.values()):
            kill_group(pid)
        self.child_pid = None
        for s in (self.ctl, *self.channels):
            s.close()
        with self._pidfd_lock:
            if self._pidfd < 0:
                return
            self._kill()
            self._has_exited(wait=None)
            os.close(self._pidfd)
            self._pidfd = -1
        self._zygote.reap(self.pid)
