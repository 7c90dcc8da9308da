"""The mount namespace layer: a run sees a root of its own holding only what it may read, so whether any other
path exists cannot be observed (Landlock alone answers stat/access/readlink, and tells ENOENT from EACCES).
Each test plants a canary outside the readable tree and fails if the run can tell it is there."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from sandbox import Sandbox, isolation

pytestmark = pytest.mark.xdist_group("sandbox")

# Every way the program profile could ask about a path, each answered without raising, so the answers for an
# existing path and a missing one can be compared whole.
PROBE = """
import os
def answer(action):
    try:
        return repr(action())
    except OSError as exc:
        return type(exc).__name__
def ask(path):
    return {
        "stat": answer(lambda: os.stat(path).st_size),
        "lstat": answer(lambda: os.lstat(path).st_size),
        "exists": os.path.exists(path),
        "lexists": os.path.lexists(path),
        "access": os.access(path, os.F_OK),
        "readlink": answer(lambda: os.readlink(path)),
        "open": answer(lambda: open(path).close()),
        "listdir_parent": answer(lambda: sorted(os.listdir(os.path.dirname(path)))),
        "scandir_parent": answer(lambda: [e.name for e in os.scandir(os.path.dirname(path))]),
        "stat_parent": answer(lambda: os.stat(os.path.dirname(path)).st_mode),
    }
R = {name: ask(path) for name, path in PATHS.items()}
"""


@pytest.fixture(scope="module")
def program_sb():
    with Sandbox(profile="program", modules=(), timeout=20.0, memory_mb=512) as sb:
        yield sb


def _canaries(tmp_path):
    """A file, a symlink and a directory outside the readable tree, and the same names that do not exist."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "canary.txt").write_text("canary")
    os.symlink("/etc/passwd", secret / "link")
    (secret / "dir").mkdir()
    return {
        "file": str(secret / "canary.txt"),
        "link": str(secret / "link"),
        "dir": str(secret / "dir"),
        "missing_file": str(tmp_path / "nothing" / "canary.txt"),
        "missing_link": str(tmp_path / "nothing" / "link"),
        "missing_dir": str(tmp_path / "nothing" / "dir"),
        "etc_passwd": "/etc/passwd",
        "etc_missing": "/etc/no-such-file-here",
    }


def test_whether_a_path_outside_exists_is_unobservable_in_the_program_profile(program_sb, tmp_path):
    paths = _canaries(tmp_path)
    out = program_sb.run(PROBE, return_name="R", inputs={"PATHS": paths})
    assert out.status == "ok", out
    answers = out.value
    for kind in ("file", "link", "dir"):  # the canary gets exactly the answers of a path that is not there
        assert answers[kind] == answers[f"missing_{kind}"], (kind, answers[kind])
    assert answers["etc_passwd"] == answers["etc_missing"], answers["etc_passwd"]
    assert answers["file"]["exists"] is False and answers["file"]["stat"] == "FileNotFoundError", answers
    assert os.path.exists(paths["file"]) and os.path.lexists(paths["link"])  # they are there, on the host


def test_a_run_cannot_list_or_write_its_root_and_sees_the_python_installation(program_sb):
    code = (
        "import os, json\n"
        "def err(action):\n"
        "    try:\n"
        "        action()\n"
        "        return 'done'\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
        "R = [err(lambda: os.listdir('/')), err(lambda: open(os.__file__, 'a')), os.path.exists(os.__file__),\n"
        "     json.dumps([1])]\n"
    )
    out = program_sb.run(code, return_name="R")
    assert out.status == "ok", out
    listed, written, python, imported = out.value
    assert listed == "PermissionError" and written in ("PermissionError", "OSError"), out.value
    assert python is True and imported == "[1]"


def _child_root(sb_session) -> str:
    pid = sb_session.child_pid
    assert pid
    return f"/proc/{pid}/root"


@pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's root through /proc needs root")
@pytest.mark.parametrize("profile", ["policy", "program"])
def test_the_run_child_root_holds_only_the_readable_paths(profile, tmp_path):
    """Seen from the host: the child of either profile (policy code cannot even name `os`) lives in another
    mount namespace, whose root holds the readable paths and nothing else; the canary is not in it."""
    canary = tmp_path / "canary.txt"
    canary.write_text("canary")
    with Sandbox(profile=profile, timeout=20.0) as sb, sb.session() as session:
        assert session.run("x = 1").status == "ok"
        root = _child_root(session)
        assert os.readlink(f"/proc/{session.child_pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        assert not os.path.lexists(root + str(canary)) and canary.exists()
        assert not os.path.lexists(root + "/etc/passwd") and not os.path.lexists(root + "/proc/self")
        assert os.path.exists(root + os.__file__)
        tops = {p.split("/")[1] for p in isolation.readable_paths()}
        assert set(os.listdir(root)) <= tops, os.listdir(root)


def test_without_the_layer_the_sandbox_says_so(tmp_path):
    """Turned off (as where the kernel refuses namespaces), the layer is reported missing and Landlock alone
    stands: the canary cannot be read but its existence shows, as the README says."""
    canary = tmp_path / "canary.txt"
    canary.write_text("canary")
    with Sandbox(profile="program", modules=(), mount_namespace=False) as sb:
        assert sb.layers["mount_namespace"] is False
        out = sb.run(
            "import os\ntry:\n    open(P).read()\n    R = 'read'\nexcept OSError as e:\n"
            "    R = [type(e).__name__, os.path.exists(P)]",
            return_name="R",
            inputs={"P": str(canary)},
        )
    assert out.value == ["PermissionError", True], out


NON_ROOT_HOST = """
import ctypes, json, os, sys
from sandbox import Sandbox
canary = sys.argv[1]
code = '''
import ctypes, os
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
ctypes.CDLL(None).capget(ctypes.byref(header), data)
def err(action):
    try:
        action()
        return "done"
    except OSError as exc:
        return type(exc).__name__
R = {
    "uid": [os.getuid(), os.geteuid(), os.getgid()],
    "caps": [data[0].effective, data[0].permitted, data[1].effective, data[1].permitted],
    "canary": [os.path.exists(P), err(lambda: os.stat(P))],
    "passwd": os.path.exists("/etc/passwd"),
    "signal_host": err(lambda: os.kill(HOST, 0)),
}
'''
with Sandbox(profile="program", modules=(), timeout=30.0) as sb:
    out = sb.run(code, return_name="R", inputs={"P": canary, "HOST": os.getpid()})
    print(json.dumps({"layers": sb.layers, "status": out.status, "error": out.error, "value": out.value,
                      "host_uid": os.getuid()}))
"""


@pytest.fixture
def public_dir():
    """A directory nobody can enter (pytest's own temporary directories are private to root)."""
    path = tempfile.mkdtemp(prefix="cap-nobody-")
    os.chmod(path, 0o755)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def _can_run_as_nobody() -> str:
    if os.geteuid() != 0:
        return "needs root to start a host as another user"
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return "needs util-linux unshare and setpriv"
    return ""


@pytest.mark.slow
@pytest.mark.skipif(bool(_can_run_as_nobody()), reason=_can_run_as_nobody() or "runs")
def test_a_non_root_host_gets_the_mount_namespace_through_a_user_namespace(public_dir):
    """The host runs as nobody (uid 65534, no capabilities at all): the zygote builds its root inside a user
    namespace, the run keeps the host's uid with no capabilities, and the canary is unobservable. The Python
    installation here lives under /root (mode 0700), which nobody cannot enter, so the host is started in a
    private mount namespace where a tmpfs (mode 0755) over /root holds a bind mount of /root/.pyenv at the
    same path; nothing else changes."""
    tmp_path = public_dir
    canary = tmp_path / "canary.txt"
    canary.write_text("canary")
    script = tmp_path / "host.py"
    script.write_text(NON_ROOT_HOST)
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    hidden = tmp_path / "pyenv"
    hidden.mkdir()
    prefix = sys.base_prefix
    cover = ""
    if prefix.startswith("/root/"):  # make /root enterable in the test's own namespace only
        top = "/root/" + prefix.split("/")[2]
        cover = textwrap.dedent(f"""
            mount --bind {top} {hidden}
            mount -t tmpfs -o mode=755 tmpfs /root
            mkdir {top}
            mount --bind {hidden} {top}
        """)
    shell = cover + (
        f"cd {project} && exec setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all "
        f"--bounding-set=-all env -i PATH=/usr/bin:/bin {sys.executable} {script} {canary}\n"
    )
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-ec", shell],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["host_uid"] == 65534
    layers = report["layers"]
    assert layers["mount_namespace"] is True, layers
    assert layers["mount_namespace_detail"] == "mount namespace in a user namespace"
    assert report["status"] == "ok", report
    value = report["value"]
    assert value["uid"] == [65534, 65534, 65534]
    assert value["caps"] == [0, 0, 0, 0], value  # nothing left of the user namespace's capabilities
    assert value["canary"] == [False, "FileNotFoundError"] and value["passwd"] is False
    assert value["signal_host"] == "PermissionError"  # seccomp: no signals, even to a process of its uid
