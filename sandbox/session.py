"""Sessions: programs run one after another in one isolated child (see Session and sandbox/README.md)."""

from __future__ import annotations

import select
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sandbox import wire
from sandbox.outcome import Outcome

if TYPE_CHECKING:
    from sandbox.sandbox import Sandbox
    from sandbox.worker_handle import Worker


class Session:
    """Programs run one after another in one isolated child, each in a fresh namespace.

    Forking a child per program costs about 2 ms (fork, copy-on-write faults, exit); a session pays it once.
    What a program leaves outside its namespace carries over to the next one: attributes it sets on modules,
    `sys` settings, imports, random state. Use a session only for programs that cannot change anything a later
    one could see (the HumanEval evaluator checks each program's syntax first; see cap/evals/humaneval/sharing.py),
    or whose authors you would let share a process. The OS layers, the memory limit and the wall-clock
    limit hold as for `Sandbox.run`; the CPU limit is per program. A program that times out, crashes or ends
    its process ends the child, and the next program starts a fresh one.
    """

    def __init__(self, sandbox: Sandbox):
        self._sandbox = sandbox
        self._worker: Worker | None = None
        self.children = 0  # child processes started so far (one per program would mean no sharing)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def child_pid(self) -> int | None:
        """The process running (or waiting for) this session's programs, if any: for watching its CPU use."""
        worker = self._worker
        return worker.child_pid if worker is not None and not worker.exiting else None

    @property
    def child_cpu(self) -> float | None:
        """CPU seconds the child had used when its last program ended (None before it has reported). As the
        child reports it, it is only as trustworthy as the programs it ran: use it for scheduling, not limits."""
        worker = self._worker
        return worker.child_cpu if worker is not None and worker.child_pid is not None else None

    @property
    def alive(self) -> bool:
        """Whether a child is waiting for the next program."""
        worker = self._worker
        return worker is not None and worker.child_pid is not None and not worker.exiting and worker.alive()

    def run(
        self,
        code: str,
        return_name: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        alone: bool = False,
        cpu_seconds: float | None = None,
    ) -> Outcome:
        """Like `Sandbox.run`, in this session's child (started now if there is none). `alone=True` runs
        `code` in a child of its own instead, as `Sandbox.run` would, on this session's worker (so no other
        worker has to start): for a program that must not share a process."""
        sandbox = self._sandbox
        started = time.perf_counter()
        request = sandbox._request(code, return_name, inputs, timeout, started, cpu_seconds)
        if isinstance(request, Outcome):
            return request
        if alone:
            self._end_child()
        else:
            request["session"] = True
            if self.alive:
                assert self._worker is not None
                try:
                    wire.send_nowait_or(self._worker.data, request, request["timeout"])
                    return sandbox._finish(self._worker, request, started, keep_worker=True)
                except OSError:
                    self._end_child()
        worker = self._worker
        if worker is not None and not worker.alive():
            sandbox._discard(worker)
            worker = None
        self._worker = sandbox._start_child(request, worker)
        self.children += 1
        return sandbox._finish(self._worker, request, started, keep_worker=True)

    def close(self) -> None:
        """End the child and give the worker back."""
        self._end_child()
        worker, self._worker = self._worker, None
        if worker is not None:
            self._sandbox._release(worker) if worker.alive() else self._sandbox._discard(worker)

    def _end_child(self) -> None:
        """Ask the child to exit and wait for the worker to say it has (a worker that does not is replaced)."""
        worker = self._worker
        if worker is None or worker.child_pid is None or worker.exiting:
            return  # no child, or one already ending (read before the worker's next run)
        try:
            wire.send(worker.data, {"op": "end"})
            exited = self._await_exit(worker, deadline=time.perf_counter() + 1.0)
        except (OSError, EOFError, wire.WireError):
            exited = False
        if exited:
            worker.child_pid = None
        else:
            self._worker = None
            self._sandbox._discard(worker)

    @staticmethod
    def _await_exit(worker: Worker, deadline: float) -> bool:
        while True:
            wait = deadline - time.perf_counter()
            if wait <= 0 or not select.select([worker.ctl], [], [], wait)[0]:
                return False
            for message in worker.read_ctl():
                if message.get("op") == "exited":
                    worker.data_reader.discard_available()
                    return True
