"""Workers are forked from the sandbox's zygote: cheap to start, replaced when they (or the zygote) die, and
nothing of them is left once the sandbox closes."""

from __future__ import annotations

import os
import signal
import time

import pytest
from processes import all_gone, descendants, running

from sandbox import Sandbox, isolation

pytestmark = pytest.mark.xdist_group("sandbox")


def test_workers_are_forks_of_one_zygote_and_leave_nothing_behind():
    before = set(descendants(os.getpid()))
    with Sandbox(profile="program", workers=3) as sb:
        deadline = time.monotonic() + 5
        while len(sb._all) < 3 and time.monotonic() < deadline:  # all but the first start in the background
            time.sleep(0.01)
        started = set(descendants(os.getpid())) - before
        zygote = sb._zygote.proc.pid
        workers = {w.pid for w in sb._all}
        assert len(workers) == 3 and zygote in started and workers <= started
        for pid in workers:  # children of the zygote, not of the host
            with open(f"/proc/{pid}/stat") as handle:
                assert int(handle.read().rsplit(")", 1)[1].split()[1]) == zygote
        assert sb.run("x = 6 * 7", return_name="x").value == 42
    assert all_gone(started)


def test_a_killed_worker_is_replaced():
    with Sandbox(profile="program") as sb:
        (worker,) = sb._all
        os.kill(worker.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while worker.alive() and time.monotonic() < deadline:  # the pidfd tells, though not our child
            time.sleep(0.01)
        assert not worker.alive()
        assert sb.run("x = 1", return_name="x").value == 1
        assert worker not in sb._all


def test_a_killed_zygote_is_replaced():
    with Sandbox(profile="program") as sb:
        old = sb._zygote.proc.pid
        os.kill(old, signal.SIGKILL)
        sb._zygote.proc.wait()
        (worker,) = sb._all
        os.kill(worker.pid, signal.SIGKILL)  # so the next run needs a new worker, hence a new zygote
        worker._has_exited(wait=5)
        assert sb.run("x = 2", return_name="x").value == 2
        assert sb._zygote.proc.pid != old


HOST = """
import sys, threading
from sandbox import Sandbox
sb = Sandbox(profile="program")
pid = sb.run("import os\\nPID = os.getpid()", return_name="PID").value  # a run child's pid, for the format
worker = sb._all[0]
threading.Thread(target=sb.run, args=("import time\\nwhile True:\\n    try:\\n        time.sleep(60)\\n"
                 "    except BaseException:\\n        pass\\n",), daemon=True).start()
while worker.child_pid is None:
    pass
print(sb._zygote.proc.pid, worker.pid, worker.child_pid, flush=True)
sys.stdin.read()
"""


def test_nothing_outlives_a_killed_host():
    """A host killed outright (no close) leaves no zygote, worker or run child behind, even a child that
    swallows every signal it can and sleeps: the zygote sees the host's end of its channel close, and each
    process below it dies with its parent."""
    import subprocess
    import sys

    host = subprocess.Popen([sys.executable, "-c", HOST], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        pids = [int(p) for p in host.stdout.readline().split()]
        assert len(pids) == 3
        assert all(os.path.exists(f"/proc/{p}") for p in pids)
    finally:
        host.kill()
        host.wait()
    assert all_gone(pids)


@pytest.mark.skipif((isolation.landlock_abi() or 0) < 6, reason="Landlock signal scoping needs ABI 6")
def test_a_run_cannot_signal_another_workers_run_without_seccomp():
    """Workers share the zygote's Landlock domain but each nests one of its own, so with seccomp off (which
    forbids signals anyway) scoping still keeps a run from signalling a run on another worker."""
    with Sandbox(profile="program", seccomp=False, workers=2) as sb:
        first, second = sb.session(), sb.session()
        pid = first.run("import os\nP = os.getpid()", return_name="P").value
        probe = f"import os\ntry:\n    os.kill({pid}, 0)\n    R = 'signalled'\nexcept OSError as e:\n    R = type(e).__name__"
        assert second.run(probe, return_name="R").value == "PermissionError"
        first.close()
        second.close()


@pytest.mark.skipif((isolation.landlock_abi() or 0) < 6, reason="Landlock signal scoping needs ABI 6")
def test_a_run_cannot_signal_the_child_waiting_for_the_next_program_without_seccomp():
    """Each worker forks the next run's child ahead of time, while a program runs: that child nests a Landlock
    domain of its own, so with seccomp off (which forbids signals anyway) the running program, whose uid it
    shares, can neither stop nor kill it. The run tries every nearby pid: only itself answers."""
    probe = (
        "import os\nme = os.getpid()\nR = []\nfor pid in range(max(me - 200, 2), me + 200):\n"
        "    try:\n        os.kill(pid, 0)\n        R.append(pid)\n    except OSError:\n        pass\n"
        "R = [R, me]"
    )
    with Sandbox(profile="program", modules=(), seccomp=False) as sb:
        for _ in range(3):
            out = sb.run(probe, return_name="R")
            assert out.status == "ok", out
            reachable, me = out.value
            assert reachable == [me], out.value


def test_each_run_starts_from_the_worker_not_from_the_run_before():
    """The child that runs a program was forked (and warmed up) before it: what the previous program did to
    its own process (a module attribute, its limits, its priority, the CPU it burnt) never reaches the next
    one, back to back or after a pause (when the waiting child has warmed up)."""
    dirty = (
        "import json, os, resource\njson.MARK = 1\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (10, 10))\nos.setpriority(os.PRIO_PROCESS, 0, 19)\n"
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n"
    )
    clean = (
        "import json, os, resource, time\n"
        "R = [hasattr(json, 'MARK'), resource.getrlimit(resource.RLIMIT_NOFILE)[0],\n"
        "     os.getpriority(os.PRIO_PROCESS, 0), time.process_time() < 0.25]"
    )
    with Sandbox(profile="program", modules=()) as sb:
        expected = sb.run(clean, return_name="R").value
        assert expected[:2] == [False, 64] and expected[3] is True, expected
        for pause in (0, 0.2):
            assert sb.run(dirty).status == "ok"
            time.sleep(pause)
            assert sb.run(clean, return_name="R").value == expected


def _spares(worker_pid: int) -> list[int]:
    """The worker's live children now (the last run's child stays a zombie until the next run): between runs,
    only the one waiting for the next program."""
    return [p for p in descendants(worker_pid) if running(p)]


def test_a_waiting_child_that_dies_is_replaced_and_the_run_still_happens():
    """The child waiting for the next program may die before it gets one (the OOM killer, an operator):
    the worker sees it is gone and forks a fresh one for the program, and the outcome is the program's."""
    with Sandbox(profile="program", modules=()) as sb:
        assert sb.run("x = 1", return_name="x").value == 1
        (worker,) = sb._all
        deadline = time.monotonic() + 5
        while len(_spares(worker.pid)) != 1 and time.monotonic() < deadline:  # the last child has ended
            time.sleep(0.01)
        (spare,) = _spares(worker.pid)
        os.kill(spare, signal.SIGKILL)
        time.sleep(0.05)
        out = sb.run("import os\nx = os.getpid()", return_name="x")
        assert out.status == "ok" and out.value != spare, out
        assert sb.run("x = 2", return_name="x").value == 2
