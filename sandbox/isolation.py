"""OS isolation for sandbox workers, layer by layer, each one detected rather than assumed.

- process: code runs in a forked child with an empty environment and no inherited descriptors but its channel;
- rlimits: address space, CPU seconds, open files, file size, core dumps;
- landlock: the worker may read only the Python installation and write nowhere; signals and abstract sockets
  outside the worker are out of reach (via `sandlock.confine`);
- seccomp: no sockets, no exec, no new processes, no ptrace, no signals to others, no namespaces (filter built with libseccomp once,
  exported as BPF and loaded by every child with one prctl, so a run pays microseconds, not milliseconds).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import signal
import stat
import sys
import sysconfig
import tempfile
from typing import Any

DENIED_SYSCALLS = (
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "execve",
    "execveat",
    "fork",
    "vfork",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "io_uring_setup",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "chroot",
    "pivot_root",
    "kexec_load",
    "reboot",
    "swapon",
    "swapoff",
    "init_module",
    "finit_module",
    "delete_module",
    "personality",
    "open_by_handle_at",
    "name_to_handle_at",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "memfd_create",
    "pidfd_open",
    "pidfd_getfd",
    "process_madvise",
    # Signals: the child may not signal its warm parent (or anything else); Landlock's signal scope, where
    # present, only separates the worker from the host, and the child shares the worker's domain.
    "kill",
    "tkill",
    "tgkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_send_signal",
    # Metadata of files Landlock lets it read (Landlock governs reads and writes, not these) and calls only
    # an administrator makes; as an unprivileged user the child fails them anyway, this holds where it is not.
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "utime",
    "utimes",
    "futimesat",
    "utimensat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "sethostname",
    "setdomainname",
    "syslog",
    "fanotify_init",
    "inotify_init",
    "inotify_init1",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "acct",
    "quotactl",
    "iopl",
    "ioperm",
    "mknod",
    "mknodat",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    "migrate_pages",
    "move_pages",
    "mbind",
    "kcmp",
    "getsockopt",  # SO_PEERCRED would name the host's pid
    "getpeername",
)
# Calls that are harmless on the process itself and harmful on any other: allowed only with pid 0 ("me").
SELF_ONLY_SYSCALLS = (
    ("prlimit64", 0),
    ("sched_setaffinity", 0),
    ("sched_setscheduler", 0),
    ("sched_setparam", 0),
    ("sched_setattr", 0),
    ("ioprio_set", 1),
)
PRIO_PROCESS = 0
# The allow-list: every other system call fails with EPERM. Both profiles run Python, numpy and shapely and
# talk to the host over the channel they inherited; paths are Landlock's to decide, so the program profile
# may also try to create, rename and remove (and gets EACCES from Landlock, as before, not a new error).
ALLOWED_SYSCALLS = """
read write readv writev pread64 pwrite64 close close_range fstat newfstatat statx lseek mmap munmap mremap
mprotect madvise brk msync mincore futex set_robust_list get_robust_list rseq clock_gettime clock_getres
clock_nanosleep nanosleep gettimeofday time getpid gettid getppid getuid geteuid getgid getegid getresuid
getresgid getgroups getpgrp getpgid getsid getrusage times sysinfo uname getrandom rt_sigaction
rt_sigprocmask rt_sigreturn rt_sigpending rt_sigtimedwait rt_sigsuspend sigaltstack restart_syscall
sched_yield sched_getaffinity sched_getparam sched_getscheduler sched_get_priority_max
sched_get_priority_min getpriority exit exit_group sendto recvfrom sendmsg recvmsg poll ppoll select pselect6
epoll_create1 epoll_ctl epoll_wait epoll_pwait fcntl dup dup2 dup3 ioctl getcwd arch_prctl set_tid_address
membarrier capget setitimer getitimer alarm timer_create timer_settime timer_gettime timer_getoverrun
timer_delete wait4 waitid openat open access faccessat faccessat2 readlink readlinkat getdents64 stat lstat
statfs fstatfs umask flock fsync fdatasync pause prctl fadvise64 getcpu sched_rr_get_interval epoll_pwait2
getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr sync_file_range
""".split()
PROGRAM_SYSCALLS = """
mkdir mkdirat rmdir unlink unlinkat rename renameat renameat2 link linkat symlink symlinkat truncate
ftruncate fallocate chdir fchdir pipe pipe2 eventfd2 sendfile copy_file_range splice tee
""".split()
CLONE_THREAD = 0x00010000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


SYSTEM_LIBRARY_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache")


@functools.cache  # computed once in the zygote, before any worker confines itself with it
def readable_paths() -> tuple[str, ...]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths |= {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    # An editable install imports the sandbox package from the source tree: that package, not the tree (which
    # may hold transcripts, caches and keys).
    paths.add(os.path.dirname(os.path.abspath(__file__)))
    # Shared libraries that extension modules load (libstdc++ for numpy, libsqlite3 for sqlite3): public
    # system files, needed to import such a module inside a run rather than only in the warm worker.
    paths |= set(SYSTEM_LIBRARY_DIRS)
    # Never the root or a home directory: a path here opens everything below it for reading.
    too_wide = {"/", os.path.expanduser("~"), "/root", "/home", "/etc", "/tmp"}
    return tuple(sorted(p for p in paths if os.path.exists(p) and os.path.abspath(p) not in too_wide))


def landlock_abi() -> int | None:
    try:
        import sandlock

        abi = sandlock.landlock_abi_version()
        return abi if abi and abi > 0 else None
    except Exception:
        return None


def apply_landlock() -> None:
    import sandlock

    sandlock.confine(sandlock.Sandbox(fs_readable=readable_paths()))


def build_seccomp_bpf(profile: str = "program") -> bytes | None:
    """The seccomp program of a profile as raw BPF, or None when libseccomp is missing: an allow-list
    (ALLOWED_SYSCALLS, and PROGRAM_SYSCALLS for the program profile), the calls that are safe only on the
    process itself allowed only with pid 0, new threads but no new processes."""
    try:
        import pyseccomp as sc
    except Exception:
        return None
    try:
        f = sc.SyscallFilter(defaction=sc.ERRNO(errno.EPERM))
        allowed = ALLOWED_SYSCALLS + (PROGRAM_SYSCALLS if profile == "program" else [])
        for name in allowed:
            if name not in DENIED_SYSCALLS:
                _rule(f, sc.ALLOW, name)
        for name in ("clone3", "openat2"):
            _rule(f, sc.ERRNO(errno.ENOSYS), name)  # glibc falls back to clone / openat, which we can inspect
        f.add_rule(sc.ALLOW, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, CLONE_THREAD))  # threads only
        for name, pid_arg in SELF_ONLY_SYSCALLS:
            _rule(f, sc.ALLOW, name, sc.Arg(pid_arg, sc.EQ, 0))
        # setpriority(which, who, prio): only (PRIO_PROCESS, 0), this process.
        f.add_rule(sc.ALLOW, "setpriority", sc.Arg(0, sc.EQ, PRIO_PROCESS), sc.Arg(1, sc.EQ, 0))
        with tempfile.TemporaryFile() as tmp:
            f.export_bpf(tmp)
            tmp.seek(0)
            return tmp.read()
    except Exception:
        return None


def _rule(f: Any, action: Any, name: str, *args: Any) -> None:
    try:
        f.add_rule(action, name, *args)
    except Exception:
        pass  # not a system call on this architecture


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class SeccompLoader:
    """Everything ctypes needs to install the filter, prepared once in the warm worker, so each forked child
    pays two prctl calls (about 10 µs) instead of loading libc and building structures (about 1 ms)."""

    def __init__(self, bpf: bytes):
        self.prctl = _LIBC.prctl
        self.buf = ctypes.create_string_buffer(bpf, len(bpf))
        self.prog = _SockFprog(len(bpf) // 8, ctypes.addressof(self.buf))
        self.prog_ref = ctypes.byref(self.prog)

    def load(self) -> None:
        if self.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if self.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self.prog_ref, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(SECCOMP) failed")


_LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (the parent must be single-threaded: the
    signal follows the thread that forked), so nothing a sandbox started outlives the host: the zygote ends
    when the host goes, its workers with it, their children with them. Exits if the parent is gone already."""
    if _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


NOBODY = 65534
CAP_DAC_READ_SEARCH = 2
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


@functools.cache  # decided in the zygote, before Landlock (inside its mount namespace, if it has one)
def unprivileged_can_read_python() -> bool:
    """Whether a user with no rights of its own can reach every readable path (the Python installation may
    live under a private home directory, e.g. /root/.pyenv): each must be readable by others (a directory
    also searchable) and every ancestor searchable. In the sandbox's mount namespace the ancestors are
    directories of its own root, searchable by anyone."""
    for path in readable_paths():
        here = os.path.abspath(path)
        try:
            mode = os.stat(here).st_mode
        except OSError:
            continue
        needed = 0o005 if stat.S_ISDIR(mode) else 0o004
        if mode & needed != needed:
            return False
        while here != "/":
            here = os.path.dirname(here)
            try:
                mode = os.stat(here).st_mode
            except OSError:
                break
            if not mode & 0o001:
                return False
    return True


def drop_privileges() -> str:
    """Run as nobody with no capabilities (if this process is root; an unprivileged host's uid is already
    what the child gets). The rights root keeps over the system (chmod/chown of any file, signals and limits
    of any process, sethostname, ...) go with the uid. Where the Python installation can be read only by
    root, the child keeps exactly one capability, reading and searching directories (Landlock still
    decides which), so imports keep working. Returns what the child runs as."""
    if os.geteuid() != 0:
        _no_ambient()
        return f"uid {os.geteuid()} (unprivileged host)"
    keep_read = not unprivileged_can_read_python()
    os.setgroups([])
    if keep_read:
        _LIBC.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    if keep_read:
        bit = 1 << CAP_DAC_READ_SEARCH
        header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)(_CapData(bit, bit, 0), _CapData(0, 0, 0))
        if _LIBC.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")
        _LIBC.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)
    _no_ambient()
    return "nobody" + (" (+CAP_DAC_READ_SEARCH: Python is readable by root only)" if keep_read else "")


def drop_all_capabilities() -> None:
    """Empty effective, permitted and inheritable sets (and no ambient ones): what a process keeps after it
    needs no privilege at all."""
    _no_ambient()
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)(_CapData(0, 0, 0), _CapData(0, 0, 0))
    if _LIBC.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


PR_SET_DUMPABLE = 4


def not_dumpable() -> None:
    """No core dumps and, above all, no ptrace or /proc access by processes of the same uid: a run child
    waiting for its program must be out of reach of the child running now (seccomp forbids ptrace too)."""
    if _LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def _no_ambient() -> None:
    _LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def load_seccomp(bpf: bytes) -> None:
    SeccompLoader(bpf).load()


def mapped_bytes() -> int:
    """Virtual memory mapped by this process now (read before Landlock hides /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def apply_fixed_limits(seccomp: bool = False) -> None:
    """The limits every run child has, whatever its program: set while it waits for one. RLIMIT_NPROC counts
    every process and thread of the user (nobody: all sandbox children at once): with seccomp refusing new
    processes it only has to leave room for threads; without, it is what stops a fork."""
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 64)
    _limit(resource.RLIMIT_NPROC, 4096 if seccomp else 0)


def apply_run_limits(memory_mb: int | None, cpu_seconds: float | None, baseline_bytes: int) -> None:
    """The limits a run asks for: address space and CPU seconds."""
    if memory_mb:
        # The child starts as a copy of the warm worker: the budget is on top of what is already mapped.
        _limit(resource.RLIMIT_AS, baseline_bytes + memory_mb * 1024 * 1024)
    if cpu_seconds:
        # SIGXCPU at the soft limit (so the outcome can say "CPU time limit"), SIGKILL a second later for
        # code that catches it. Counted from now: a spare child used some CPU getting ready.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(cpu_seconds + usage.ru_utime + usage.ru_stime) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1 if hard == resource.RLIM_INFINITY else hard))


def apply_rlimits(
    memory_mb: int | None, cpu_seconds: float | None, baseline_bytes: int, seccomp: bool = False
) -> None:
    """All of a child's limits at once (`apply_fixed_limits`, then `apply_run_limits`)."""
    apply_fixed_limits(seccomp)
    apply_run_limits(memory_mb, cpu_seconds, baseline_bytes)


def limit_cpu_from_now(cpu_seconds: float | None) -> None:
    """A session child runs several programs: each gets `cpu_seconds` more than what was used before it (a
    soft limit: SIGXCPU ends the child; the hard limit stays the worker's)."""
    if not cpu_seconds:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + int(cpu_seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def probe() -> dict[str, Any]:
    """Which layers work here, found by trying them in a throwaway child (never guessed from versions)."""
    report: dict[str, Any] = {"process": sys.platform.startswith("linux"), "rlimits": True}
    report["landlock_abi"] = landlock_abi()
    bpf = build_seccomp_bpf()
    report["landlock"] = report["landlock_abi"] is not None and works_in_child(apply_landlock)
    report["seccomp"] = bpf is not None and works_in_child(lambda: load_seccomp(bpf))
    return report


def works_in_child(apply) -> bool:
    pid = os.fork()
    if pid == 0:
        try:
            apply()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
