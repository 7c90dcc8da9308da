"""Which isolation layers protect sandboxed code on this machine, checked by trying them, not by versions.

`cap doctor` prints this; `Sandbox` refuses to start when neither Landlock nor seccomp works (unless the caller
opts in), so this report is how a user learns why and what is missing.
"""

from __future__ import annotations

import platform
from typing import Any

# Runs inside a program-profile sandbox: each probe reports whether the layer actually stopped something.
_PROBE = """
import os, resource, socket
def refused(action):
    try:
        action()
    except PermissionError:
        return True
    except OSError:
        return False
    return False
def refused_or_absent(action):
    try:
        action()
    except (PermissionError, FileNotFoundError):
        return True
    except OSError:
        return False
    return False
ret_val = {
    "landlock": refused(lambda: os.listdir("/")) and refused_or_absent(lambda: open("/etc/hostname").close()),
    "mount_namespace": not any(os.path.lexists(p) for p in ("/etc/passwd", "/etc/hostname", "/proc/self", "/dev/null")),
    "seccomp": refused(lambda: socket.socket()) and refused(os.fork),
    "rlimits": resource.getrlimit(resource.RLIMIT_FSIZE)[0] == 0 and resource.getrlimit(resource.RLIMIT_NOFILE)[0] <= 64,
    "privileges": os.geteuid() != 0 and refused(lambda: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE)),
    "environment": sorted(k for k in os.environ if not k.startswith(("CAP_", "OPENBLAS_", "OMP_", "MKL_", "PYTHONHASHSEED", "LC_CTYPE"))) == [],
}
"""

LAYERS = {
    "process": "code runs in a forked child of a warm worker, killed with its process group at the deadline",
    "rlimits": "address space, CPU seconds, open files, file size 0, no new processes",
    "landlock": "reads only the Python installation, writes nowhere (Linux 5.13+; signal scoping 6.12+)",
    "seccomp": "an allow-list of system calls: no sockets, exec, new processes, ptrace, signals; limits and "
    "priorities of the process itself only",
    "privileges": "runs as an unprivileged user (nobody when the host is root), no capabilities",
    "mount_namespace": "a root of its own holding only what Landlock lets it read (read-only): every other "
    "path is absent, so stat/access/readlink cannot tell what exists (a user namespace where not root)",
}


def isolation_report() -> dict[str, Any]:
    """The active layers (`True`/`False` per layer in LAYERS), whether each one bites, and the kernel."""
    from sandbox import isolation
    from sandbox.sandbox import Sandbox, SandboxUnavailable

    report: dict[str, Any] = {
        "kernel": platform.release(),
        "python": platform.python_version(),
        "landlock_abi": isolation.landlock_abi(),
        "layers": {},
        "verified": {},
        "problems": [],
    }
    try:
        with Sandbox(profile="program", modules=(), allow_unisolated=True, timeout=20.0) as sb:
            layers = sb.layers
            out = sb.run(_PROBE, return_name="ret_val")
    except SandboxUnavailable as exc:
        report["problems"].append(str(exc))
        return report
    report["layers"] = {name: bool(layers.get(name)) for name in LAYERS}
    report["privileges"] = layers.get("privileges_detail", "")
    report["mount_namespace"] = layers.get("mount_namespace_detail", "")
    for name in ("landlock", "mount_namespace"):
        if layers.get(f"{name}_error"):
            report["problems"].append(f"{name}: {layers[f'{name}_error']}")
    if out.status == "ok" and isinstance(out.value, dict):
        report["verified"] = {k: bool(v) for k, v in out.value.items()}
    else:
        report["problems"].append(f"the probe did not run: {out.error}")
    for name in ("landlock", "seccomp", "rlimits", "mount_namespace"):
        if report["layers"].get(name) and not report["verified"].get(name):
            report["problems"].append(f"{name} reported active but did not stop the probe")
    report["isolated"] = bool(
        (report["layers"].get("landlock") and report["verified"].get("landlock"))
        or (report["layers"].get("seccomp") and report["verified"].get("seccomp"))
    )
    return report
