"""The host's handle on a sandbox's zygote: the process every worker is forked from (see sandbox/worker.py).

It is started once per `Sandbox` as `python -m sandbox.worker FD`, imports and confines itself, and forks a
worker for each pair of channels it is sent; nothing untrusted ever runs in it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import Any


class SandboxUnavailable(RuntimeError):
    """No OS isolation layer works here and the caller did not opt in to running without one."""


def _worker_stderr() -> int | Any:
    """Worker stderr is discarded unless CAP_SANDBOX_DEBUG names a file to append it to."""
    path = os.environ.get("CAP_SANDBOX_DEBUG")
    return open(path, "ab") if path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child


class Zygote:
    """The process every worker of a sandbox is forked from (see sandbox/worker.py)."""

    def __init__(self, modules: tuple[str, ...], env_extra: Mapping[str, str]):
        host_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "CAP_SANDBOX_MODULES": ",".join(modules),
            "PYTHONHASHSEED": "0",
            **env_extra,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.worker", str(zygote_end.fileno())],
            pass_fds=(zygote_end.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=_worker_stderr(),
            env=env,
            cwd="/",
            start_new_session=True,
        )
        zygote_end.close()
        self.control = host_end
        self._lock = threading.Lock()
        try:
            ready = self.control.recv(64)  # blocking is fine: nothing untrusted runs in the zygote
        except OSError:
            ready = b""
        if ready != b"ready":
            self.close()
            raise SandboxUnavailable("the sandbox worker failed to start")

    def spawn(self, ctl: socket.socket, *data: socket.socket) -> int:
        """Fork a worker serving these channels (control, then data); its pid."""
        with self._lock:
            socket.send_fds(self.control, [b"spawn"], [ctl.fileno(), *(d.fileno() for d in data)])
            answer = self.control.recv(64)
        if not answer.isdigit():
            raise OSError("the sandbox zygote did not fork a worker")
        return int(answer)

    def reap(self, pid: int) -> None:
        try:
            with self._lock:
                self.control.send(b"reap %d" % pid)
        except OSError:
            pass  # the zygote is gone, and its zombies with it

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        self.control.close()  # the zygote exits when it reads the end of its channel
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
