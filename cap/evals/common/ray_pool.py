"""Benchmark tasks on a Ray cluster: one actor per CPU, each keeping its worker (simulator, sandbox, LLM
client) warm across the tasks it runs; results stream back to the driver, which alone writes the journal.

Faults are the cluster's, not the benchmark's: a task whose actor died (process killed, node lost) is put
back at the head of the queue and runs again on another actor (a replacement is started for the dead one),
up to `MAX_ATTEMPTS` times; the dead actor's results never arrived, so nothing is counted twice, and none is
lost. An exception raised by the task itself (a model that cannot be reached, a bad input) is the benchmark's
and is re-raised on the driver as it was raised in the worker, as a local run would. If the cluster itself
goes away the driver stops; everything recorded so far is on disk and rerunning the command resumes.
CAP_RAY_DEBUG=1 adds Ray's own account of each lost worker to the message.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cap.errors import CapError
from cap.evals.common.executor import RayOptions, Task, WorkerSpec

MAX_ATTEMPTS = 3  # per task: a task that took down its worker this often is not retried again
IN_FLIGHT = 2  # tasks queued on one actor, so its next task is there when the last one ends
CLOSE_SECONDS = 10.0  # a worker gets this long to close its simulator/sandbox before it is killed
TICK_SECONDS = 2.0  # while waiting for results, the cluster's head is checked this often ...
LOST_TICKS = 3  # ... and this many failed checks in a row mean it is gone
# What a worker's LLM client reads from the environment, passed on from the driver's (a worker's own
# environment is its node's, set when `ray start` ran there). Nothing else crosses.
FORWARDED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CAP_MODEL", "CAP_LOCAL_SIZE", "CAP_SANDBOX_DEBUG")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise CapError(
            "--ray needs the ray package, which is not installed",
            hint="pip install 'cap[ray]' (and install the same cap on every node of the cluster)",
        ) from None
    return ray


def _actor_class(ray: Any) -> Any:
    class CapWorker:
        """A Ray actor holding one open worker; tasks run on it one after another."""

        def __init__(self, spec: WorkerSpec):
            self._spec = spec
            self._worker: Any = None

        def run(self, payload: Any) -> Any:
            if self._worker is None:
                self._worker = self._spec.open()  # in the actor: the simulator/sandbox live here
            return self._worker.run(payload)

        def where(self) -> str:
            return f"{ray.util.get_node_ip_address()} pid {os.getpid()}"

        def close(self) -> None:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    return ray.remote(max_restarts=0, max_task_retries=0)(CapWorker)


def _cluster_messages_to_stderr(ray: Any) -> None:
    """Ray prints the cluster's error messages ("a worker died ...") on the driver's stdout, where a
    benchmark's --json output goes: send them to stderr. (Ray has no option for it; if its internals move,
    they simply stay on stdout.)"""
    worker = getattr(getattr(ray, "_private", None), "worker", None)
    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "_cap_stderr", False):
        return

    def to_stderr(data: dict, ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    to_stderr._cap_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def answers(address: str, seconds: float) -> bool:
    """Whether something accepts TCP connections at HOST:PORT."""
    import socket

    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=seconds):
            return True
    except (OSError, ValueError):
        return False


def check_reachable(address: str, seconds: float = 10.0) -> None:
    """Fail fast on a HOST:PORT nobody listens at (Ray itself retries for minutes before giving up)."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return  # 'auto', ray://..., or something for Ray itself to judge
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=seconds):
            pass
    except OSError as exc:
        raise CapError(
            f"no Ray cluster answers at {address}: {exc.strerror or exc}",
            hint="start one with `ray start --head --port PORT` there, or pass the head's HOST:PORT",
        ) from None


def connect(ray: Any, address: str | None) -> bool:
    """Connect to the cluster at `address` (None: Ray's default lookup, else a local cluster is started);
    True when this call connected (and so `ray.shutdown` is ours to call)."""
    if ray.is_initialized():
        return False
    if address:
        check_reachable(address)
    _cluster_messages_to_stderr(ray)
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    kwargs: dict[str, Any] = {
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "runtime_env": {"env_vars": env} if env else None,
    }
    if address is None and not os.environ.get("RAY_ADDRESS"):
        kwargs["include_dashboard"] = False
    try:
        try:
            ray.init(address=address, **kwargs)
        except ValueError as exc:  # found a running cluster after all: it has its own dashboard setting
            if "include_dashboard" not in str(exc):
                raise
            kwargs.pop("include_dashboard")
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise CapError(
            f"cannot connect to the Ray cluster at {address or '(default)'}: {exc}".splitlines()[0],
            hint="start one with `ray start --head` (then pass --ray HOST:6379), or check the address",
        ) from None
    return True


class RayPool:
    """An `Executor` on Ray actors (see the module docstring for what happens on faults)."""

    remote = True

    def __init__(
        self,
        spec: WorkerSpec,
        options: RayOptions,
        on_event: Callable[[str], None] | None = None,
    ):
        self._ray = import_ray()
        self._spec = spec
        self._options = options
        self._on_event = on_event or (lambda text: print(f"ray: {text}", file=sys.stderr))
        self._connected = connect(self._ray, options.address)
        self._actor_cls = _actor_class(self._ray)
        self._actors: list[Any] = []
        self._where: dict[Any, Any] = {}
        self.retries = 0  # tasks run again because their worker was lost (read by tests and benchmarks)
        cpus = self._ray.cluster_resources().get("CPU", 0.0)
        if cpus < options.cpus_per_worker:
            self.close()
            raise CapError(
                f"the Ray cluster has {cpus:g} CPUs, a worker needs {options.cpus_per_worker:g}",
                hint="add nodes with `ray start --address HEAD:PORT --num-cpus N`",
            )
        self.size = options.workers or max(1, int(cpus // options.cpus_per_worker))
        self._lost = False  # the cluster stopped answering: nothing more is asked of it
        try:
            self._head: str | None = self._ray.get_runtime_context().gcs_address
        except Exception:
            self._head = None  # (Ray client mode: no head address to watch)
        nodes = sum(1 for node in self._ray.nodes() if node.get("Alive"))
        self._on_event(f"{self.size} workers on a cluster of {nodes} nodes, {cpus:g} CPUs")

    def _start_actor(self) -> Any:
        actor = self._actor_cls.options(num_cpus=self._options.cpus_per_worker).remote(self._spec)
        self._where[actor] = actor.where.remote()
        self._actors.append(actor)
        return actor

    def _describe(self, actor: Any) -> str:
        try:
            return str(self._ray.get(self._where[actor], timeout=1.0))
        except Exception:
            return "a worker"

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, Any]]:
        ray = self._ray
        from ray.exceptions import ObjectLostError, RayActorError, RayTaskError, WorkerCrashedError

        lost_errors = (RayActorError, WorkerCrashedError, ObjectLostError)
        queue: deque[Task] = deque(tasks)
        if not queue:
            return
        attempts: dict[Any, int] = {}
        finished: set[Any] = set()
        while len(self._actors) < min(self.size, len(queue)):  # actors stay warm across calls of run
            self._start_actor()
        live = list(self._actors)
        loads = {actor: 0 for actor in live}
        in_flight: dict[Any, tuple[Any, Task]] = {}  # object ref -> (actor, task)
        replacements = 2 * len(live) + 2
        while queue or in_flight:
            # fill idle actors first, then queue a second task on each while there is plenty left
            for depth in range(1, IN_FLIGHT + 1):
                for actor in live:
                    if not queue or (depth > 1 and len(queue) <= len(live)):
                        break
                    if loads[actor] < depth:
                        task = queue.popleft()
                        attempts[task.key] = attempts.get(task.key, 0) + 1
                        in_flight[actor.run.remote(task.payload)] = (actor, task)
                        loads[actor] += 1
            ready = self._wait(list(in_flight))
            for ref in ready:
                actor, task = in_flight.pop(ref)
                if actor in loads:
                    loads[actor] -= 1
                try:
                    result = ray.get(ref)
                except RayTaskError as exc:
                    cause = exc.cause if isinstance(exc.cause, BaseException) else None
                    if cause is None or isinstance(cause, lost_errors):
                        raise CapError(f"a Ray task failed: {exc}".splitlines()[0]) from None
                    raise cause from None
                except lost_errors as exc:
                    if attempts[task.key] >= MAX_ATTEMPTS:
                        raise CapError(
                            f"task {task.key} lost its Ray worker {attempts[task.key]} times; giving up",
                            hint="finished results are saved; check the cluster and rerun the same command "
                            "to continue",
                        ) from None
                    if actor in loads:  # first news of this death: replace the actor
                        self._on_event(
                            f"{self._describe(actor)} was lost ({type(exc).__name__}); its tasks run again "
                            "on another worker" + (f"\n{exc}" if os.environ.get("CAP_RAY_DEBUG") else "")
                        )
                        del loads[actor]
                        live.remove(actor)
                        self._kill(actor)
                        if replacements > 0:
                            replacements -= 1
                            fresh = self._start_actor()
                            live.append(fresh)
                            loads[fresh] = 0
                        if not live:
                            raise CapError(
                                "every Ray worker was lost", hint="check the cluster, then rerun to continue"
                            ) from None
                    self.retries += 1
                    queue.appendleft(task)
                    continue
                if task.key in finished:
                    continue  # cannot happen (a task is resubmitted only when its result was lost); be sure
                finished.add(task.key)
                yield task, result

    def _wait(self, refs: list[Any]) -> list[Any]:
        """The refs that are ready (at least one), watching meanwhile that the cluster's head still answers:
        when it has gone, say so and stop, rather than leave Ray to end the process a minute later."""
        failures = 0
        while True:
            ready, _ = self._ray.wait(refs, num_returns=1, timeout=TICK_SECONDS)
            if ready:
                return ready
            if self._head is None:
                continue
            failures = 0 if answers(self._head, 1.0) else failures + 1
            if failures >= LOST_TICKS:
                self._lost = True
                raise CapError(
                    f"the Ray cluster at {self._head} stopped answering",
                    hint="every result that arrived is saved; rerun the same command (with --ray ADDRESS of a "
                    "running cluster, or without --ray) to continue",
                )

    def _kill(self, actor: Any) -> None:
        try:
            self._ray.kill(actor, no_restart=True)
        except Exception:
            pass
        if actor in self._actors:
            self._actors.remove(actor)

    def close(self) -> None:
        ray = self._ray
        if self._lost:  # a dead cluster cannot be asked to close anything; the process exits soon
            self._actors.clear()
            return
        if self._actors and ray.is_initialized():
            closing = [actor.close.remote() for actor in self._actors]
            try:
                ray.wait(closing, num_returns=len(closing), timeout=CLOSE_SECONDS)
            except Exception:
                pass
            for actor in list(self._actors):
                self._kill(actor)
        self._actors.clear()
        if self._connected and ray.is_initialized():
            ray.shutdown()
            self._connected = False

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
