"""Finding, starting and sharing the local model server process.

One server per model file per user: its address is in `<cap home>/server/<hash>.json`, written by the server
once the model is loaded. A cap process reuses a live server of the same model hash (checked over /health),
else starts one under a file lock (two processes starting at once get one server), and holds a lease
connection to it for as long as it runs; the server leaves a few seconds after the last lease closed.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lmp.local.install import cap_home


class ServerError(RuntimeError):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class ServerInfo:
    host: str
    port: int
    pid: int
    sha256: str
    model: str

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


@dataclass(frozen=True)
class ServerSettings:
    model_path: str
    name: str
    sha256: str
    linger_s: float = 10.0
    ctx: int = 8192
    threads: int = 0
    cache_mb: int = 1024
    disk_cache_mb: int = 2048
    prompt_lookup: int = 0
    start_timeout_s: float = 180.0


def server_dir() -> Path:
    return cap_home() / "server"


def state_file(sha256: str) -> Path:
    return server_dir() / f"{sha256[:16]}.json"


def log_file(sha256: str) -> Path:
    return server_dir() / f"{sha256[:16]}.log"


def disk_cache_dir(sha256: str) -> Path:
    return cap_home() / "prompt-cache" / sha256[:16]


def health(host: str, port: int, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=timeout) as resp:
            body = json.loads(resp.read())
            return body if isinstance(body, dict) else None
    except (OSError, ValueError, urllib.error.URLError):
        return None


def running(sha256: str) -> ServerInfo | None:
    """The live server of this model, if one answers on the address it wrote."""
    try:
        data = json.loads(state_file(sha256).read_text())
        info = ServerInfo(data["host"], int(data["port"]), int(data["pid"]), data["sha256"], data["model"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    status = health(info.host, info.port)
    if status is None or status.get("sha256") != sha256:
        return None
    return info


def ensure_server(settings: ServerSettings) -> ServerInfo:
    """A live server for the model: the one already running, or a new one (waited for until it answers)."""
    found = running(settings.sha256)
    if found is not None:
        return found
    server_dir().mkdir(parents=True, exist_ok=True)
    with open(server_dir() / f"{settings.sha256[:16]}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time; the others find its server afterwards
        found = running(settings.sha256)
        if found is not None:
            return found
        return _start(settings)


def _start(settings: ServerSettings) -> ServerInfo:
    state = state_file(settings.sha256)
    state.unlink(missing_ok=True)
    log = open(log_file(settings.sha256), "ab")  # noqa: SIM115 - handed to the child
    cmd = [
        sys.executable,
        "-m",
        "lmp.local.server",
        "--model-path",
        settings.model_path,
        "--name",
        settings.name,
        "--sha256",
        settings.sha256,
        "--state-file",
        str(state),
        "--linger",
        str(settings.linger_s),
        "--ctx",
        str(settings.ctx),
        "--threads",
        str(settings.threads),
        "--cache-mb",
        str(settings.cache_mb),
        "--disk-cache-dir",
        str(disk_cache_dir(settings.sha256)),
        "--disk-cache-mb",
        str(settings.disk_cache_mb),
        "--prompt-lookup",
        str(settings.prompt_lookup),
    ]
    # Its own session: Ctrl-C in a terminal reaches cap, not the server other processes may share.
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    deadline = time.monotonic() + settings.start_timeout_s
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise ServerError(
                f"the local model server exited while starting (code {code}): {_log_tail(settings.sha256)}",
                hint="check the model file with `cap model status --verify`; reinstall with `cap model install`",
            )
        found = running(settings.sha256)
        if found is not None:
            # Reap it whenever it exits (after its last user, or killed): no zombie behind a long-lived cap.
            threading.Thread(target=proc.wait, name="reap-local-model-server", daemon=True).start()
            return found
        time.sleep(0.1)
    proc.kill()
    raise ServerError(
        f"the local model server did not answer within {settings.start_timeout_s:.0f} s",
        hint=f"see its log, {log_file(settings.sha256)}",
    )


def _log_tail(sha256: str, lines: int = 6) -> str:
    try:
        text = log_file(sha256).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def stop_server(sha256: str, timeout: float = 10.0) -> bool:
    """Ask a running server to exit (SIGTERM); True when one was stopped."""
    info = running(sha256)
    if info is None:
        return False
    try:
        os.kill(info.pid, 15)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running(sha256) is not None:
        time.sleep(0.1)
    return True


class Lease:
    """An open connection that tells the server this process still uses it (closed by the kernel at exit)."""

    _held: dict[tuple[str, int], Lease] = {}
    _lock = threading.Lock()

    def __init__(self, info: ServerInfo):
        self.info = info
        self.sock = socket.create_connection((info.host, info.port), timeout=5)
        self.sock.sendall(f"GET /lease HTTP/1.1\r\nHost: {info.host}\r\n\r\n".encode())
        self.sock.settimeout(None)

    @classmethod
    def hold(cls, info: ServerInfo) -> None:
        key = (info.host, info.port)
        with cls._lock:
            lease = cls._held.get(key)
            if lease is not None and lease.info.pid == info.pid:
                return
            cls._held[key] = cls(info)

    @classmethod
    def release_all(cls) -> None:
        with cls._lock:
            for lease in cls._held.values():
                try:
                    lease.sock.close()
                except OSError:
                    pass
            cls._held.clear()


atexit.register(Lease.release_all)
