"""Where a benchmark's work runs: in this process, or on a Ray cluster (`--ray`), behind one small interface.

A benchmark cuts its work into *tasks* (one episode, one trial, a batch of samples: whatever is worth sending
to a machine), each with a key that names it. A *worker* is what runs tasks and keeps its expensive parts
warm between them (a simulator, a sandbox, an LLM client); a `WorkerSpec` is the picklable recipe that opens
one where it is to run. An `Executor` runs tasks on workers and yields each result as it arrives; the
benchmark's own loop (on the driver, the only process that writes the journal) records it, drives the
progress bar and builds the final report, so a local run and a Ray run share everything but the executor.

`LocalExecutor` runs tasks one after another on one worker in this process, in the order given.
`cap.evals.common.ray_pool.RayPool` runs them on Ray actors, retrying a task whose worker died elsewhere.
Either yields each task exactly once, or raises: a result is only ever recorded once.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Task:
    """One unit of work: `key` names it (unique within a run), `payload` is what the worker needs (picklable)."""

    key: Hashable
    payload: Any


class Worker(Protocol):
    def run(self, payload: Any) -> Any:
        """Run one task's payload; the result must be picklable (it may cross machines)."""
        ...

    def close(self) -> None: ...


class WorkerSpec(Protocol):
    """A picklable recipe for a worker; `open` runs in the process (maybe on the machine) that will use it."""

    def open(self) -> Worker: ...


class Executor(Protocol):
    remote: bool  # tasks cross processes/machines (so a benchmark may batch them)

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Any]]:
        """(task, result) for every task, each exactly once, in whatever order they finish."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class LocalExecutor:
    """Tasks one after another on one worker in this process (opened from `spec` on first use, or given)."""

    remote = False  # tasks are not worth batching: nothing crosses a process boundary

    def __init__(self, spec: WorkerSpec | None = None, worker: Worker | None = None, own: bool | None = None):
        if spec is None and worker is None:
            raise ValueError("LocalExecutor needs a spec or a worker")
        self._spec = spec
        self._worker = worker
        self._own = worker is None if own is None else own

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Any]]:
        for task in tasks:
            if self._worker is None:
                assert self._spec is not None
                self._worker = self._spec.open()
            yield task, self._worker.run(task.payload)

    def close(self) -> None:
        if self._own and self._worker is not None:
            self._worker.close()
            self._worker = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class RayOptions:
    """`--ray [ADDRESS]` and its companions, as typed options (None address: Ray's own default, see below)."""

    address: str | None = None
    workers: int | None = None  # actors; default: one per CPU of the cluster
    cpus_per_worker: float = 1.0


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """The `--ray` options every distributable benchmark takes."""
    group = parser.add_argument_group("distribution (Ray)")
    group.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="run the episodes/samples as tasks on a Ray cluster: ADDRESS is the head's host:port (or "
        "ray://host:10001, or 'auto'); without ADDRESS, $RAY_ADDRESS or a cluster started on this machine, "
        "else a local one is started for this run. Needs `pip install cap[ray]`",
    )
    group.add_argument(
        "--ray-workers",
        type=int,
        metavar="N",
        help="Ray worker actors, each with its own warm simulator/sandbox (default: one per cluster CPU)",
    )


def ray_options(args: argparse.Namespace) -> RayOptions | None:
    """The typed Ray options of a command line, or None for a local run."""
    from cap.errors import CapError

    if getattr(args, "ray", None) is None:
        if getattr(args, "ray_workers", None) is not None:
            raise CapError("--ray-workers needs --ray", hint="add --ray [ADDRESS]")
        return None
    workers = getattr(args, "ray_workers", None)
    if workers is not None and workers < 1:
        raise CapError(f"--ray-workers must be at least 1, got {workers}")
    return RayOptions(address=args.ray or None, workers=workers)


def open_executor(spec: WorkerSpec, ray: RayOptions | None, local: Worker | None = None) -> Executor:
    """The executor of a run: a Ray pool when `ray` is set, else `local` (a worker already open here, not
    closed by the executor) or one opened from `spec` in this process."""
    if ray is None:
        return LocalExecutor(spec=spec, worker=local, own=local is None)
    from cap.evals.common.ray_pool import RayPool

    return RayPool(spec, ray)


def absolute(path: str | os.PathLike[str] | None) -> str | None:
    """A path that still names the same file in a worker process, whose working directory is Ray's."""
    return None if path is None else os.path.abspath(os.fspath(path))
