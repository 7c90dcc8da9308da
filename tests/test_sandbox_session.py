"""Sessions: programs one after another in one isolated child, each in a fresh namespace; what a program leaves
outside its namespace carries over (documented), a dead child is replaced, limits hold per program."""

from __future__ import annotations

import time

import pytest

from sandbox import Sandbox

pytestmark = pytest.mark.xdist_group("sandbox")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(profile="program", modules=(), timeout=5.0) as sandbox:
        yield sandbox


def test_programs_share_one_child_but_not_their_namespace(sb):
    with sb.session() as session:
        first = session.run("import os\nX = os.getpid()\nSECRET = 1", return_name="X")
        second = session.run("import os\nX = (os.getpid(), 'SECRET' in globals())", return_name="X")
        assert first.status == second.status == "ok"
        assert second.value == (first.value, False)
        assert session.children == 1


def test_a_program_that_changes_shared_state_ends_its_child(sb):
    """The integrity check after each program: builtins, sys.modules and the preloaded modules as they were
    (but names disabled, i.e. set to None, the same way by every program), else the next program starts in a
    fresh child."""
    with sb.session() as session:
        for _ in range(3):  # a harness that disables the same names before every program keeps its child
            assert session.run("import builtins, os\nbuiltins.help = None\nos.kill = None").status == "ok"
        assert session.children == 1
        changes = [
            "import builtins\nbuiltins.len = lambda x: 0",
            "import sys, math\nsys.modules['math'] = None",
            "import sys\nsys.modules['json'] = 5",
            "import statistics\nstatistics.mean = max",
            "import builtins\ndel builtins.abs",
            "import builtins\nbuiltins.sum = None",  # one more disabled name than the others
            "import sys\nsys.excepthook = print",
        ]
        for n, change in enumerate(changes, 2):
            session.run("import builtins, os\nbuiltins.help = None\nos.kill = None\n" + change)
            check = session.run(
                "import builtins, os\nbuiltins.help = None\nos.kill = None\n"
                "import math, json, statistics, sys, builtins\n"
                "X = [len([1, 2]), math.sqrt(4), json.dumps(1), statistics.mean([1, 3]), abs(-1), sum([1]),"
                " sys.excepthook is sys.__excepthook__, builtins.help]",
                return_name="X",
            )
            assert check.value == [2, 2.0, "1", 2, 1, 1, True, None], (change, check)
            assert session.children == n, change


def test_module_state_carries_over_within_a_session_only(sb):
    with sb.session() as session:
        session.run("import shlex\nshlex.TOUCHED = True")
        assert session.run("import shlex\nX = hasattr(shlex, 'TOUCHED')", return_name="X").value is True
        # a program run alone gets a child of its own: nothing the session's programs did is there
        alone = session.run("import shlex\nX = hasattr(shlex, 'TOUCHED')", return_name="X", alone=True)
        assert alone.value is False
        # and the session goes on in a new child
        after = session.run("import shlex\nX = hasattr(shlex, 'TOUCHED')", return_name="X")
        assert after.value is False
    assert sb.run("import shlex\nX = hasattr(shlex, 'TOUCHED')", return_name="X").value is False


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("while True:\n    pass", "timeout"),
        ("import os\nos._exit(3)", "error"),
        ("import os, signal\nos.abort()", "resource"),
    ],
)
def test_a_program_that_ends_its_child_is_followed_by_a_fresh_one(sb, code, status):
    with sb.session() as session:
        assert session.run("X = 1", return_name="X").value == 1
        ended = session.run(code, timeout=0.5)
        assert ended.status == status
        assert not session.alive
        assert session.run("X = 2", return_name="X").value == 2
        assert session.children == 2


def test_cpu_limit_is_per_program(sb):
    # each program burns 0.45 s of CPU; the CPU limit is 1-2 s per program, which five in a row exceed. The
    # wall-clock limit is far away, so a busy machine (0.45 CPU s taking several seconds) changes nothing.
    # Each program has at least 0.55 s to spare: the kernel checks RLIMIT_CPU against CPU time sampled at
    # timer ticks, which on a contended machine was seen up to 25% above the exact time the limit is
    # computed from (0.6 s programs then failed the fourth).
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.45:\n    pass\nX = 1"
    with sb.session() as session:
        outcomes = [session.run(burn, return_name="X", timeout=120, cpu_seconds=1) for _ in range(5)]
    assert [o.status for o in outcomes] == ["ok"] * 5
    assert session.children == 1
    # and the limit is there: a program that burns more than its CPU seconds ends as a resource outcome
    with sb.session() as session:
        session.run("X = 1")
        over = session.run(burn.replace("0.45", "5"), timeout=120, cpu_seconds=1)
    assert over.status == "resource" and "CPU" in over.error, over


def test_a_session_runs_many_programs_in_one_child(sb):
    # the speed itself is measured by benchmarks (no wall-clock bound here: the machine may be busy)
    with sb.session() as session:
        outcomes = [session.run("pass") for _ in range(50)]
    assert [o.status for o in outcomes] == ["ok"] * 50
    assert session.children == 1


def test_closing_gives_the_worker_back(sb):
    session = sb.session()
    session.run("X = 1")
    session.close()
    assert not session.alive
    assert sb.run("X = 3", return_name="X").value == 3


def test_a_reply_the_killed_child_never_read_does_not_reach_the_next_child():
    def slow() -> str:
        time.sleep(0.4)  # answers after the caller's deadline: the reply lands in the channel, unread
        return "slow"

    with Sandbox(api={"slow": slow, "echo": lambda v: v}, timeout=5.0) as sandbox:
        assert sandbox.run("slow()", timeout=0.2).status == "timeout"
        assert sandbox.run("X = echo(42)", return_name="X").value == 42
