"""The host side: the pool of warm workers, the API bridge, the wall-clock limit, and outcomes.

Layers, top to bottom: `Sandbox` (this module) hands runs to warm workers (sandbox/worker_handle.py) forked
by the sandbox's zygote (sandbox/zygote.py); `Session` (sandbox/session.py) keeps one child for several
programs; the processes themselves run sandbox/worker.py.

API callables run here, in the calling thread; sandboxed code reaches them only by RPC with plain data.
A nested run (an API function that itself runs code, e.g. a nested LMP) takes another warm worker.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox import api_errors, wire
from sandbox.outcome import STATUSES, Outcome
from sandbox.session import Session
from sandbox.validate import Violation, validate
from sandbox.worker_handle import Worker, kill_group, valid_pid
from sandbox.zygote import SandboxUnavailable, Zygote

PROFILES = ("policy", "program")
__all__ = ["PROFILES", "Sandbox", "SandboxUnavailable", "Session"]


class Sandbox:
    """Runs untrusted code in an isolated child of a warm worker; see ARCHITECTURE.md for the contract.

    profile="policy": validated code, restricted builtins, allow-listed modules, the given API.
    profile="program": general Python (stdlib imports), contained by the OS layers alone.
    workers: warm workers to start now, side by side (the first is awaited, so a missing layer fails here).
    timeout: wall-clock seconds a run may take (time spent in API calls, e.g. a robot moving, included).
    count_api_time: False leaves the time the host spends answering API calls off that clock, so the limit
    bounds the code's own time, not the host's: a policy whose nested model calls are slow (a local model on
    a busy machine) is not cut off, and a replay of a recorded run (answers in no time) ends the same way.
    cpu_seconds: CPU seconds the code itself may use per run (None: as many as `timeout`); a runaway loop
    ends after these, however long the wall-clock limit is. The kernel counts whole seconds, so the limit
    takes effect between `cpu_seconds` and `cpu_seconds + 1`.
    landlock, seccomp, mount_namespace: turn a layer off (for tests and for comparing; each is on by default
    and reported in `layers` where the kernel refuses it).
    """

    def __init__(
        self,
        api: Mapping[str, Callable[..., Any]] | None = None,
        modules: Iterable[str] = ("numpy", "shapely", "math"),
        timeout: float = 10.0,
        memory_mb: int | None = 1024,
        profile: str = "policy",
        errors: Iterable[type[BaseException] | str] = (),
        max_output: int = 1_000_000,
        allow_unisolated: bool | None = None,
        landlock: bool = True,
        seccomp: bool = True,
        workers: int = 1,
        cpu_seconds: float | None = None,
        mount_namespace: bool = True,
        count_api_time: bool = True,
    ):
        if profile not in PROFILES:
            raise ValueError(f"unknown sandbox profile {profile!r}: use one of {PROFILES}")
        self.api = dict(api or {})
        self.modules = tuple(modules)
        self.timeout = timeout
        self.count_api_time = count_api_time
        self.cpu_seconds = cpu_seconds
        self.memory_mb = memory_mb
        self.profile = profile
        self.max_output = max_output
        # API exception names bound in the sandbox from the start; any other is bound when first raised.
        self.errors = sorted({e if isinstance(e, str) else e.__name__ for e in errors})
        if allow_unisolated is None:
            allow_unisolated = os.environ.get("CAP_ALLOW_UNISOLATED") == "1"
        self.allow_unisolated = allow_unisolated
        self._env = {
            "CAP_SANDBOX_LANDLOCK": "1" if landlock else "0",
            "CAP_SANDBOX_SECCOMP": "1" if seccomp else "0",
            "CAP_SANDBOX_MOUNTNS": "1" if mount_namespace else "0",
            "CAP_SANDBOX_PROFILE": profile,
        }
        self._definitions: list[str] = []
        self._idle: list[Worker] = []
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)  # notified when a worker becomes idle
        self._starting = 0  # workers `warm` is starting
        self._closed = False
        self._zygote = Zygote(self.modules, self._env)
        self.warm(workers - 1)  # the others start in the background, alongside the first
        self._release(self._spawn())  # start warm now, and fail now if isolation is missing

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
            workers, self._all, self._idle = self._all, [], []
        for w in workers:
            w.close()
        self._zygote.close()

    @property
    def layers(self) -> dict[str, Any]:
        """The isolation layers active in this sandbox's workers."""
        with self._lock:
            return dict(self._all[0].layers) if self._all else {}

    def warm(self, count: int) -> None:
        """Start workers, all at once and in the background, until there are `count`: for callers about to run
        that many programs concurrently, who would otherwise wait for each start (about 0.1 s) in turn. A run
        that finds no idle worker while these start waits for one of them rather than starting another."""
        with self._lock:
            missing = count - len(self._all) - self._starting
            self._starting += max(missing, 0)
        for _ in range(missing):
            threading.Thread(target=self._start_one_idle, daemon=True).start()

    def _start_one_idle(self) -> None:
        worker = None
        try:
            worker = self._spawn()
        except SandboxUnavailable:
            pass  # the next run that needs a worker reports it
        finally:
            with self._ready:
                self._starting -= 1
                closed = self._closed
                if worker is not None and not closed:
                    self._idle.append(worker)
                self._ready.notify()
        if worker is not None and closed:
            worker.close()

    def _spawn(self) -> Worker:
        with self._lock:
            if not self._zygote.alive() and not self._closed:  # killed (e.g. out of memory): start another
                self._zygote.close()
                self._zygote = Zygote(self.modules, self._env)
            zygote = self._zygote
        worker = Worker(zygote)
        if not (worker.layers.get("landlock") or worker.layers.get("seccomp")) and not self.allow_unisolated:
            worker.close()
            raise SandboxUnavailable(
                "neither Landlock nor seccomp works on this machine, so generated code would run without OS "
                "isolation. Run `cap doctor` for details; to run anyway, set CAP_ALLOW_UNISOLATED=1."
            )
        with self._lock:
            self._all.append(worker)
        return worker

    def _acquire(self) -> Worker:
        with self._ready:
            while True:
                if self._closed:
                    raise RuntimeError("this sandbox is closed")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._all.remove(worker)
                    worker.close()
                if not self._starting:
                    break
                self._ready.wait()  # a worker `warm` is starting will be idle soon
        return self._spawn()

    def _release(self, worker: Worker) -> None:
        with self._ready:
            if self._closed:
                worker.close()
            else:
                self._idle.append(worker)
                self._ready.notify()

    def _discard(self, worker: Worker) -> None:
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        worker.close()

    # -- running -----------------------------------------------------------------------------------
    def define(self, code: str) -> Outcome:
        """Keep `code` (typically generated function definitions) to run before every later `run`, in the
        same fresh namespace, so the main program can call what it defines. Checked now: a violation or syntax
        error comes back as the outcome and the code is not kept. Errors inside it are reported as
        "line N of definition K". Callers may instead concatenate definitions and code into one program;
        line numbers then refer to the concatenated text.
        """
        started = time.perf_counter()
        refused = self._check(code, started)
        if refused is not None:
            return refused
        with self._lock:
            self._definitions.append(code)
        return Outcome("ok", seconds=time.perf_counter() - started)

    def clear_definitions(self) -> None:
        with self._lock:
            self._definitions.clear()

    def _check(self, code: str, started: float) -> Outcome | None:
        """The outcome refusing `code` before it runs, or None when it may run."""
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, not {type(code).__name__}")
        if self.profile != "policy":
            return None
        try:
            validate(code, self.modules)
        except Violation as v:
            return Outcome(
                "violation",
                error=f"violation: {v}",
                error_type="Violation",
                error_message=v.construct,
                line=v.line,
                seconds=time.perf_counter() - started,
            )
        except SyntaxError as exc:
            return Outcome(
                "error",
                error=f"SyntaxError: {exc.msg} (line {exc.lineno})",
                error_type="SyntaxError",
                error_message=exc.msg or "",
                line=exc.lineno,
                seconds=time.perf_counter() - started,
            )
        except (RecursionError, MemoryError, ValueError) as exc:
            return Outcome(
                "violation",
                error=f"violation: code too deeply nested or invalid ({type(exc).__name__})",
                error_type=type(exc).__name__,
                seconds=time.perf_counter() - started,
            )
        return None

    def run(
        self,
        code: str,
        return_name: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        cpu_seconds: float | None = None,
    ) -> Outcome:
        """Run `code` in a fresh namespace (after any `define`d code); never raises for anything the code does.

        `inputs` are extra plain values bound as globals; `return_name` names the variable whose value comes
        back as `Outcome.value`. `timeout` and `cpu_seconds` override the sandbox's for this run.
        """
        started = time.perf_counter()
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, not {type(code).__name__}")
        request = self._request(code, return_name, inputs, timeout, started, cpu_seconds, check=False)
        assert isinstance(request, dict)
        worker = self._start_child(request)
        # Checked here while the child compiles: the child checks the same program (with its definitions,
        # never less strictly) before it runs any of it, so a program refused here has not run there either.
        refused = self._check(code, started)
        if refused is not None:
            self._drop_run(worker)
            return refused
        return self._finish(worker, request, started, keep_worker=False)

    def _drop_run(self, worker: Worker) -> None:
        """End the child of a run that is not to be served (its exit is read before the worker's next run)."""
        worker.exiting = True
        self._kill(worker.child_pid)
        self._release(worker)

    def session(self) -> Session:
        """A run of programs one after another in one child process (see Session): much cheaper per program
        than `run`, for programs that cannot change what a later one sees."""
        return Session(self)

    def _request(
        self,
        code: str,
        return_name: str | None,
        inputs: Mapping[str, Any] | None,
        timeout: float | None,
        started: float,
        cpu_seconds: float | None = None,
        check: bool = True,
    ) -> dict[str, Any] | Outcome:
        """The run request for `code`, or the outcome refusing it (when `check`)."""
        refused = self._check(code, started) if check else None
        if refused is not None:
            return refused
        inputs = dict(inputs or {})
        for key in inputs:
            if not (isinstance(key, str) and key.isidentifier() and not key.startswith("_")):
                raise ValueError(f"input name {key!r} must be an identifier not starting with '_'")
        try:
            encoded_inputs = wire.encode(inputs)
        except wire.WireError as exc:
            raise ValueError(f"inputs cannot cross into the sandbox: {exc}") from None
        wall = self.timeout if timeout is None else timeout
        cpu = cpu_seconds if cpu_seconds is not None else self.cpu_seconds
        cpu = wall if cpu is None else cpu
        return {
            "op": "run",
            "code": code,
            "profile": self.profile,
            "modules": list(self.modules),
            "api": sorted(self.api),
            "errors": self.errors,
            "return_name": return_name,
            "inputs": encoded_inputs,
            "definitions": list(self._definitions),
            "timeout": wall,
            "cpu_seconds": cpu,
            "memory_mb": self.memory_mb,
            "max_output": self.max_output,
        }

    def _start_child(self, request: dict[str, Any], worker: Worker | None = None) -> Worker:
        """Have a warm worker (this one if given and alive) fork a child for `request`."""
        for attempt in range(2):
            worker = worker or self._acquire()
            try:
                if not worker.begin():
                    raise OSError("the sandbox worker did not report its last child's exit")
                request["channel"] = worker.channel
                wire.send(worker.ctl, request)
            except OSError:  # the worker died since its last run (e.g. out of memory): take a fresh one
                self._discard(worker)
                worker = None
                if attempt:
                    raise SandboxUnavailable("sandbox workers keep dying before they can run code") from None
                continue
            return worker
        raise AssertionError("unreachable")

    def _finish(self, worker: Worker, request: dict[str, Any], started: float, keep_worker: bool) -> Outcome:
        """Serve the run to its end; give the worker back unless a session keeps it."""
        keep_child = bool(request.get("session"))
        try:
            outcome = self._serve(worker, request, started + request["timeout"], keep_child)
        except BaseException:
            self._discard(worker)
            raise
        outcome.seconds = time.perf_counter() - started
        if not worker.alive():
            self._discard(worker)
        elif not keep_worker:
            self._release(worker)
        return outcome

    def _serve(
        self, worker: Worker, request: dict[str, Any], deadline: float, keep_child: bool = False
    ) -> Outcome:
        """Answer API calls until the worker reports the child's exit (or, with `keep_child`, until the child
        sends its result and waits for more); enforce the deadline with SIGKILL. `worker.child_pid` is the
        child afterwards, None once it has gone.

        Nothing here blocks on the child: frames are read without blocking, replies are sent with a timeout,
        and the child's pid comes from the worker, so a child that lies, floods or stalls only ends its run.
        """
        data = worker.data_reader
        timeout_outcome = Outcome(
            "timeout", error=f"timed out after {request['timeout']:g}s", error_type="Timeout"
        )
        child_pid: int | None = worker.child_pid
        result: dict[str, Any] | None = None
        exit_report: dict[str, Any] | None = None
        pending_exit: dict[str, Any] | None = None
        timed_out = False
        protocol_error = ""
        while exit_report is None:
            if (
                keep_child
                and result is not None
                and child_pid
                and not pending_exit
                and not result.get("ended")
            ):
                return self._outcome(result)  # the child lives on, waiting for the next program
            if result is not None and not keep_child and not pending_exit:
                # The child has nothing left to do: end it now and read its exit report before the worker's
                # next use of its channel (Worker.begin), not on this run's clock. Until then its pid stays a zombie.
                self._kill(child_pid)
                worker.child_pid = child_pid
                worker.exiting = True
                return self._outcome(result)
            now = time.perf_counter()
            if now >= deadline and not timed_out and result is None:
                timed_out = True
                self._kill(child_pid)
            waiting_for_exit = timed_out or result is not None or bool(protocol_error)
            wait = 0 if pending_exit else (5.0 if waiting_for_exit else deadline - now)
            ready, _, _ = select.select([worker.data, worker.ctl], [], [], max(wait, 0))
            if not ready:
                if pending_exit:  # everything the child wrote before it exited has been read
                    exit_report = pending_exit
                elif waiting_for_exit:  # the worker itself is stuck: give up on it
                    worker.abandon()
                    return (
                        timeout_outcome
                        if timed_out
                        else Outcome(
                            "error", error="the sandbox worker stopped answering", error_type="WorkerDied"
                        )
                    )
                continue
            if worker.ctl in ready:
                try:
                    for message in worker.read_ctl():
                        if message.get("op") == "forked":
                            child_pid = worker.child_pid = self._valid_pid(message.get("pid"))
                            if timed_out:
                                self._kill(child_pid)
                        elif message.get("op") == "exited":
                            pending_exit = message
                except (EOFError, OSError, wire.WireError):
                    worker.abandon()
                    return (
                        timeout_outcome
                        if timed_out
                        else Outcome("error", error="the sandbox worker died", error_type="WorkerDied")
                    )
            if worker.data in ready:
                try:
                    messages = data.read_available()
                except (EOFError, OSError):
                    worker.abandon()
                    return Outcome("error", error="the sandbox worker died", error_type="WorkerDied")
                except wire.WireError as exc:
                    protocol_error = protocol_error or f"broken channel from the sandbox: {exc}"
                    self._kill(child_pid)
                    data.discard_available()
                    continue
                for message in messages:
                    if timed_out or result is not None or protocol_error:
                        continue  # what a finished or killed child left behind
                    op = message.get("op")
                    if op == "call":
                        answered, in_api = self._answer_call(worker.data, message, deadline)
                        deadline += in_api
                        if not answered:
                            protocol_error = "the sandbox stopped reading API replies"
                            self._kill(child_pid)
                    elif op == "done":
                        result = message
                        cpu = message.get("process_cpu")
                        worker.child_cpu = float(cpu) if isinstance(cpu, int | float) else None
                    else:
                        protocol_error = f"unexpected message {op!r} from the sandbox"
                        self._kill(child_pid)
        worker.child_pid = None  # its exit was reported: nothing left to kill
        data.discard_available()
        if timed_out:
            return Outcome("timeout", error=f"timed out after {request['timeout']:g}s", error_type="Timeout")
        if protocol_error:
            return Outcome("error", error=protocol_error, error_type="ProtocolError")
        if result is None:
            sig = exit_report.get("signal")
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                what = "CPU time limit" if sig == signal.SIGXCPU else "killed (memory or resource limit)"
                return Outcome("resource", error=f"resource: {what}", error_type="ResourceLimit")
            if sig:
                return Outcome(
                    "resource",
                    error=f"resource: the code crashed its process ({signal.Signals(sig).name})",
                    error_type="Crash",
                )
            return Outcome(
                "error",
                error=f"the code ended its process (exit code {exit_report.get('code')})",
                error_type="ProcessExit",
            )
        return self._outcome(result)

    @staticmethod
    def _outcome(result: dict[str, Any]) -> Outcome:
        """The child's result as an Outcome; any field of the wrong type makes it a ProtocolError (the child
        wrote it, so it is hostile input, not something to pass on to callers)."""
        try:
            value = wire.decode(result.get("value"))
        except wire.WireError as exc:
            return Outcome(
                "error", error=f"broken result from the sandbox: {exc}", error_type="ProtocolError"
            )
        texts = [result.get(k, "") for k in ("stdout", "error", "error_type", "error_message")]
        line = result.get("line")
        status = result.get("status")
        if (
            status not in STATUSES
            or not all(type(t) is str for t in texts)
            or not (line is None or (type(line) is int and 0 <= line < 2**31))
        ):
            return Outcome("error", error="malformed result from the sandbox", error_type="ProtocolError")
        return Outcome(status, value, *texts, line=line)

    def _answer_call(
        self, sock: socket.socket, message: dict[str, Any], deadline: float
    ) -> tuple[bool, float]:
        """Run one API call in the host and send the reply. Returns whether the child took the reply, and the
        seconds the deadline moves by: the time in the API function when it is off the clock, else 0."""
        began = time.perf_counter()
        name = message.get("name")
        fn = self.api.get(name) if isinstance(name, str) else None
        try:
            if fn is None:
                raise NameError(f"{name!r} is not part of the API")
            args = wire.decode(message.get("args"))
            kwargs = wire.decode(message.get("kwargs"))
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise wire.WireError("malformed API call")
            value = fn(*args, **{str(k): v for k, v in kwargs.items()})
            reply = {"op": "ret", "value": wire.encode(value)}
        except Exception as exc:  # the policy sees the API's exception, by name, and may catch it
            reply = {"op": "raise", **api_errors.describe(exc)}
        in_api = 0.0 if self.count_api_time else time.perf_counter() - began
        try:
            wire.send_nowait_or(sock, reply, deadline + in_api - time.perf_counter())
        except OSError:
            return False, in_api
        return True, in_api

    _valid_pid = staticmethod(valid_pid)

    _kill = staticmethod(kill_group)
