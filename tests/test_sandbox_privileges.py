"""Least privilege in the run child: an unprivileged user with no rights over files or processes it does not
own, and seccomp argument checks that keep limits, priorities and signals to the process itself. Each test
watches something outside the sandbox (a canary file, a loopback listener, the worker) and fails if the
child could change it."""

import os
import socket
import subprocess
import sys
import time

import pytest

from sandbox import Sandbox

pytestmark = pytest.mark.xdist_group("sandbox")

TRY = """
import os, resource, socket, stat
results = {}
def attempt(name, action):
    try:
        action()
        results[name] = "done"
    except OSError as exc:
        results[name] = type(exc).__name__
"""


@pytest.fixture(scope="module")
def sb():
    with Sandbox(profile="program", timeout=20.0, memory_mb=512) as sb:
        yield sb


def test_the_child_cannot_change_metadata_of_a_file_it_may_read(sb, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("canary")
    canary.chmod(0o644)
    os.utime(canary, (1_000_000, 1_000_000))
    before = os.stat(canary)
    # the canary is in a directory Landlock does not open to the child; metadata calls ignore that
    code = TRY + (
        "p = PATH\n"
        "attempt('chmod', lambda: os.chmod(p, 0o777))\n"
        "attempt('chown', lambda: os.chown(p, 65534, 65534))\n"
        "attempt('utime', lambda: os.utime(p, (2_000_000, 2_000_000)))\n"
        "attempt('setxattr', lambda: os.setxattr(p, 'user.cap', b'x'))\n"
        "ret_val = results\n"
    ).replace("PATH", repr(str(canary)))
    out = sb.run(code, return_name="ret_val")
    assert out.status == "ok", out
    after = os.stat(canary)
    assert (after.st_mode, after.st_uid, after.st_gid, after.st_mtime) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
        before.st_mtime,
    ), out.value
    assert set(out.value.values()) <= {"PermissionError", "OSError"}, out.value


@pytest.fixture
def listener():
    """Another process on this machine: a loopback TCP server that answers b'alive' to each connection."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket\n"
            "s = socket.create_server(('127.0.0.1', 0))\n"
            "print(s.getsockname()[1], flush=True)\n"
            "while True:\n"
            "    c, _ = s.accept()\n"
            "    c.sendall(b'alive')\n"
            "    c.close()\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(server.stdout.readline())
    yield server, port
    server.kill()
    server.wait()


def _alive(port: int) -> bool:
    for _ in range(3):  # a fresh connection each time: accept() needs a free descriptor in the server
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            if c.recv(16) != b"alive":
                return False
    return True


def _limits(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as f:
        return f.read()


def test_the_child_cannot_limit_deprioritize_or_signal_another_process(sb, listener):
    server, port = listener
    limits, priority = _limits(server.pid), os.getpriority(os.PRIO_PROCESS, server.pid)
    code = TRY + (
        "pid = PID\n"
        "attempt('prlimit_nofile', lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3)))\n"
        "attempt('prlimit_cpu', lambda: resource.prlimit(pid, resource.RLIMIT_CPU, (0, 0)))\n"
        "attempt('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, pid, 19))\n"
        "attempt('setpriority_group', lambda: os.setpriority(os.PRIO_PGRP, 0, 19))\n"
        "attempt('setpriority_user', lambda: os.setpriority(os.PRIO_USER, 0, 19))\n"
        "attempt('kill', lambda: os.kill(pid, 9))\n"
        "attempt('own_limit', lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32)))\n"
        "attempt('own_priority', lambda: os.setpriority(os.PRIO_PROCESS, 0, min(os.getpriority(os.PRIO_PROCESS, 0) + 1, 19)))\n"
        "ret_val = results\n"
    ).replace("PID", str(server.pid))
    out = sb.run(code, return_name="ret_val")
    assert out.status == "ok", out
    time.sleep(0.2)
    assert server.poll() is None, out.value
    assert _alive(port), out.value
    assert _limits(server.pid) == limits, out.value
    assert os.getpriority(os.PRIO_PROCESS, server.pid) == priority, out.value
    theirs = {k: v for k, v in out.value.items() if not k.startswith("own_")}
    assert set(theirs.values()) <= {"PermissionError"}, out.value
    assert out.value["own_limit"] == out.value["own_priority"] == "done", out.value  # itself: still allowed


def test_the_child_cannot_lower_its_workers_limits(sb):
    code = TRY + (
        "attempt('worker_as', lambda: resource.prlimit(os.getppid(), resource.RLIMIT_AS, (1 << 24, 1 << 24)))\n"
        "attempt('worker_nofile', lambda: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (0, 0)))\n"
        "ret_val = results\n"
    )
    out = sb.run(code, return_name="ret_val")
    assert out.status == "ok" and set(out.value.values()) == {"PermissionError"}, out
    for _ in range(3):  # the same worker forks the next children, with its limits intact
        again = sb.run("import json\nret_val = json.dumps(list(range(100000)))[:5]", return_name="ret_val")
        assert again.status == "ok" and again.value == "[0, 1", again


def test_the_child_holds_no_administrator_rights_and_cannot_name_the_host(sb):
    code = TRY + (
        "attempt('sethostname', lambda: socket.sethostname(socket.gethostname()))\n"
        "fd = [f for f in range(3, 64) if _sock(f)][0]\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, fd)\n"
        "attempt('peercred', lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))\n"
        "s.detach()\n"
        "ret_val = [results, os.getuid(), os.geteuid()]\n"
    )
    code = code.replace(
        "results = {}\n",
        "results = {}\ndef _sock(f):\n    try:\n        return stat.S_ISSOCK(os.fstat(f).st_mode)\n"
        "    except OSError:\n        return False\n",
    )
    out = sb.run(code, return_name="ret_val")
    assert out.status == "ok", out
    results, uid, euid = out.value
    assert results == {"sethostname": "PermissionError", "peercred": "PermissionError"}, out.value
    if os.geteuid() == 0:
        assert uid != 0 and euid != 0, out.value
    assert sb.layers.get("privileges"), sb.layers


def test_a_system_call_outside_the_allow_list_fails(sb):
    """seccomp allows a list of calls, not all but a list: mlock (harmless, and allowed to any user within
    RLIMIT_MEMLOCK) is on no list, so it fails inside and works outside."""
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "buf = ctypes.create_string_buffer(4096)\n"
        "r = libc.mlock(buf, 4096)\n"
        "ret_val = [r, ctypes.get_errno()]\n"
    )
    outside: dict = {}
    exec(code, outside)
    assert outside["ret_val"][0] == 0
    out = sb.run(code, return_name="ret_val")
    assert out.status == "ok", out
    assert out.value == [-1, 1], out.value  # EPERM
