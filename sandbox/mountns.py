"""The filesystem a sandbox's processes see: a root of their own holding only what they may read.

Landlock decides reads and writes, not lookups: under Landlock alone `stat`, `access`, `readlink` and the
error of a failed `open` (ENOENT or EACCES) still tell whether any path on the machine exists. So the zygote,
once, before Landlock (which forbids changing the mount topology afterwards), enters a mount namespace of its
own (as root directly, as any other user through a user namespace) and pivots into a fresh tmpfs that holds,
at their usual paths, read-only bind mounts of exactly what Landlock lets it read (the Python installation,
the `sandbox` package, the shared-library directories) plus the directories and symlinks leading to them.
Every other path is simply absent: ENOENT for all. Every worker and run child inherits that root.
"""

from __future__ import annotations

import ctypes
import os
import platform
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
# A read-only bind mount must keep the flags the kernel locked on its source (in a user namespace a remount
# that drops one fails): statvfs flag -> mount flag.
_KEPT_FLAGS = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)
# Where the new root may be built: a tmpfs mounted over one of these in the private namespace (the host's
# directory is not touched).
_BASES = ("/tmp", "/mnt", "/media", "/srv", "/opt", "/var/tmp")

_LIBC = ctypes.CDLL(None, use_errno=True)


@dataclass
class Plan:
    """What the new root holds: directories to create, symlinks to recreate, paths to bind (found on the
    host's view, before anything is mounted)."""

    dirs: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    binds: list[tuple[str, bool]] = field(default_factory=list)  # path, is a directory
    _seen: dict[str, str] = field(default_factory=dict)

    def base(self) -> str:
        """Where to build the root: an existing directory (of the host's, covered by a tmpfs only in the
        private namespace) that holds none of the paths to bind."""
        for candidate in _BASES:
            prefix = candidate + "/"
            usable = os.path.isdir(candidate) and not os.path.islink(candidate)
            if usable and not any(p == candidate or p.startswith(prefix) for p, _ in self.binds):
                return candidate
        raise OSError("no directory to build the sandbox's root in")


def plan(paths: Iterable[str]) -> Plan:
    """The new root for `paths` (absolute), each reachable at the same path as on the host: a symlink on the
    way (`/lib -> usr/lib`) is recreated and its target bound, a path inside one already bound is covered."""
    result = Plan()
    for path in sorted({os.path.normpath(p) for p in paths}):
        _add(result, path, depth=0)
    return result


def _add(result: Plan, path: str, depth: int) -> None:
    if depth > 16:
        raise OSError(f"too many symlinks on the way to {path}")
    parts = [p for p in path.split("/") if p]
    here = ""
    for index, part in enumerate(parts):
        here += "/" + part
        kind = result._seen.get(here)
        if kind == "bind":
            return  # inside a path bound already
        info = os.lstat(here)
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(here)
            if kind is None:
                result.links.append((here, target))
                result._seen[here] = "link"
            rest = "/".join(parts[index + 1 :])
            resolved = os.path.normpath(os.path.join(os.path.dirname(here), target, rest))
            _add(result, resolved, depth + 1)
            return
        if index == len(parts) - 1:
            if kind is None:
                result.binds.append((here, stat.S_ISDIR(info.st_mode)))
                result._seen[here] = "bind"
        elif kind is None:
            result.dirs.append(here)
            result._seen[here] = "dir"


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    ret = _LIBC.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(ret, f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter(paths: Iterable[str]) -> str:
    """Enter a mount namespace whose root holds only `paths` (read-only), and return how (for the report).
    Must run in a single-threaded process, before Landlock. Raises OSError where the kernel refuses; the
    process then still sees the host's filesystem (the layer is reported missing, not faked)."""
    pivot = _SYS_PIVOT_ROOT.get(platform.machine())
    if pivot is None:
        raise OSError(f"pivot_root is not wired for {platform.machine()}")
    result = plan(paths)  # on the host's view, with the host's rights (a root-only /root included)
    base = result.base()
    userns = os.geteuid() != 0
    uid, gid = os.getuid(), os.getgid()
    if not userns:
        _check(_LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        how = "mount namespace"
    else:  # a user namespace owns the mount namespace; the uid stays the host's (mapped to itself)
        _check(_LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER | CLONE_NEWNS)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        how = "mount namespace in a user namespace"
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here propagates to the host
    # Sources are opened in the new namespace (a bind needs a mount of the caller's own namespace), before
    # the tmpfs covers `base`, which holds none of them.
    sources = [os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW) for path, _ in result.binds]
    try:
        _mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
        try:
            _build(result, base, sources)
        except BaseException:
            _LIBC.umount2(base.encode(), MNT_DETACH)  # back to the host's view, reported as missing
            raise
    finally:
        for fd in sources:
            os.close(fd)
    os.chdir(base)
    # pivot_root(".", "."): the old root ends up stacked on the new one and is detached right away.
    _check(_LIBC.syscall(ctypes.c_long(pivot), b".", b"."), "pivot_root")
    _check(_LIBC.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if userns:
        _drop_namespace_capabilities()
    return how


def _build(result: Plan, base: str, sources: list[int]) -> None:
    for path in result.dirs:
        os.mkdir(base + path, 0o755)
        os.chmod(base + path, 0o755)  # whatever the umask: searchable by the run's user
    for path, target in result.links:
        os.symlink(target, base + path)
    for (path, is_dir), fd in zip(result.binds, sources, strict=True):
        target = base + path
        if is_dir:
            os.mkdir(target, 0o755)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        kept = os.fstatvfs(fd).f_flag
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        flags |= sum(ms for st, ms in _KEPT_FLAGS if kept & st)
        _mount(None, target, None, flags)


def _drop_namespace_capabilities() -> None:
    """In a user namespace the process holds every capability over it (its mounts, for one): none is needed
    once the root is built, so none is kept (children inherit the empty sets; `no_new_privs` follows)."""
    from sandbox.isolation import drop_all_capabilities

    drop_all_capabilities()
