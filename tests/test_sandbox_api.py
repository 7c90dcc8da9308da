"""The sandbox contract: statuses, values, stdout, API bridge, errors with policy line numbers, nesting."""

import time

import numpy as np
import pytest

from sandbox import STATUSES, Sandbox

pytestmark = pytest.mark.xdist_group("sandbox")


class SafetyError(Exception):
    pass


def test_api_round_trip_values_and_exceptions():
    calls = []

    def move(xy, speed=1.0):
        calls.append((xy, speed))
        if xy[0] > 1:
            raise SafetyError("outside the workspace")
        return np.asarray(xy) * 2

    api = {"move": move, "names": lambda: ["red block", "blue bowl"]}
    code = """
import numpy as np
a = move([0.1, 0.2], speed=0.5)
try:
    move((5, 0))
except SafetyError as e:
    print("refused:", e)
ret_val = {"a": a, "n": names(), "t": (1, 2.5, None, True)}
"""
    with Sandbox(api=api, errors=[SafetyError]) as sb:
        out = sb.run(code, return_name="ret_val")
    assert out.status == "ok", out
    assert np.allclose(out.value["a"], [0.2, 0.4])
    assert out.value["n"] == ["red block", "blue bowl"] and out.value["t"] == (1, 2.5, None, True)
    assert out.stdout == "refused: outside the workspace\n"
    assert calls == [([0.1, 0.2], 0.5), ((5, 0), 1.0)]


def test_uncaught_api_error_names_type_and_policy_line():
    def fail():
        raise SafetyError("would hit the table")

    with Sandbox(api={"fail": fail}, errors=[SafetyError]) as sb:
        out = sb.run("x = 1\ny = 2\nfail()\n")
    assert out.status == "error"
    assert out.error == "SafetyError: would hit the table (line 3)"
    assert out.line == 3 and "Traceback" not in out.error


def test_inputs_and_fresh_namespace_each_run():
    with Sandbox() as sb:
        assert sb.run("y = x * 2", inputs={"x": 21}, return_name="y").value == 42
        assert sb.run("z = y", return_name="z").status == "error"  # nothing leaks between runs


def test_unserializable_return_is_a_clear_error():
    with Sandbox() as sb:
        out = sb.run("ret_val = lambda: 1", return_name="ret_val")
    assert out.status == "error" and "cannot" in out.error


def test_nested_run_from_an_api_function():
    """A nested LMP is an API function that runs more sandboxed code while the outer run waits."""
    holder = {}

    def nested(expr):
        return holder["sb"].run(f"ret_val = {expr}", return_name="ret_val").value

    with Sandbox(api={"nested": nested}) as sb:
        holder["sb"] = sb
        out = sb.run("ret_val = nested('6 * 7') + 1", return_name="ret_val")
    assert out.status == "ok" and out.value == 43


def test_program_profile_reports_base_exceptions_exactly():
    with Sandbox(profile="program") as sb:
        assert sb.run("import sys\nsys.exit(3)").error_message == "3"
        out = sb.run("raise KeyboardInterrupt('stop')")
        assert (out.status, out.error_type, out.error_message) == ("error", "KeyboardInterrupt", "stop")
        out = sb.run("x = input()")
        assert out.status == "error" and out.error_type == "EOFError"
        assert sb.run("import collections, re, itertools\nprint(re.sub('a', 'b', 'aa'))").stdout == "bb\n"


def test_statuses_are_the_contract():
    assert STATUSES == ("ok", "violation", "error", "timeout", "resource")


def test_syntax_error_has_line():
    with Sandbox() as sb:
        out = sb.run("x = 1\ny = (\n")
    assert out.status == "error" and out.error_type == "SyntaxError" and out.line is not None


def test_refuses_to_run_unisolated(monkeypatch):
    from sandbox import SandboxUnavailable

    monkeypatch.delenv("CAP_ALLOW_UNISOLATED", raising=False)
    with pytest.raises(SandboxUnavailable, match="CAP_ALLOW_UNISOLATED"):
        Sandbox(landlock=False, seccomp=False)
    with Sandbox(landlock=False, seccomp=False, allow_unisolated=True) as sb:
        assert sb.layers["landlock"] is False and sb.run("x = 1").status == "ok"


def test_api_exceptions_keep_their_name_without_declaring_them():
    class Busy(KeyError):
        pass

    def grab(name):
        if name == "busy":
            raise Busy(name)
        raise SafetyError(f"cannot reach {name}")

    code = """
caught = []
try:
    grab("far block")
except SafetyError as e:
    caught.append(("SafetyError", str(e)))
try:
    grab("busy")
except KeyError as e:
    caught.append(("KeyError", str(e), isinstance(e, Busy), isinstance(e, ApiError)))
ret_val = caught
"""
    with Sandbox(api={"grab": grab}) as sb:
        out = sb.run(code, return_name="ret_val")
    assert out.status == "ok", out
    assert out.value == [("SafetyError", "cannot reach far block"), ("KeyError", "'busy'", True, True)]


HOSTILE_CHANNEL = """
import os, socket, stat, time
fd = [f for f in range(3, 64) if _is_sock(f)][0]
os.write(fd, {payload})  # the child cannot make a socket object of it (getsockopt is refused)
time.sleep(30)
"""
IS_SOCK = "def _is_sock(f):\n    try:\n        return stat.S_ISSOCK(os.fstat(f).st_mode)\n    except OSError:\n        return False\n"


@pytest.mark.parametrize(
    "payload,status",
    [
        ("b'\\x00\\x00\\x10\\x00{\"op\"'", "timeout"),  # half a frame, then a stall
        ("b'\\x00\\x00\\x00\\x02[]'", "error"),  # a frame that is not a message
        ("b'\\xff\\xff\\xff\\xff'", "error"),  # an absurd frame length
        ('b\'\\x00\\x00\\x00\\x0c{"op": "no"}\'', "error"),  # an unknown operation
    ],
    ids=["half_frame_stall", "not_a_message", "huge_length", "unknown_op"],
)
def test_hostile_child_on_the_channel_cannot_hang_the_host(payload, status):
    code = HOSTILE_CHANNEL.replace("fd = [", IS_SOCK + "fd = [").format(payload=payload)
    with Sandbox(profile="program", timeout=1.0) as sb:
        out = sb.run(code)
        assert out.status == status, out
        assert sb.run("ret_val = 2", return_name="ret_val").value == 2  # the next run is unaffected


def test_definitions_then_code_share_a_namespace_with_honest_line_numbers():
    defs = "def double(x):\n    return 2 * x\n\ndef broken(x):\n    return x / 0\n"
    with Sandbox() as sb:
        assert sb.define(defs).status == "ok"
        assert sb.run("ret_val = double(21)", return_name="ret_val").value == 42
        out = sb.run("y = 1\nbroken(y)")
        assert (out.status, out.line) == ("error", 5)
        assert out.error == "ZeroDivisionError: division by zero (line 5 of definition 1)"
        assert sb.define("import os").status == "violation"  # refused and not kept
        assert sb.run("ret_val = double(1)", return_name="ret_val").value == 2
        sb.clear_definitions()
        assert sb.run("double(1)").error_type == "NameError"
        # The simplest use: one concatenated program; lines count from its first line.
        out = sb.run(defs + "\nz = double(3)\nbroken(z)\n")
        assert (out.line, out.error) == (5, "ZeroDivisionError: division by zero (line 5)")


def test_bad_arguments_are_clear_errors():
    with Sandbox() as sb:
        with pytest.raises(TypeError, match="code must be a str"):
            sb.run(b"x = 1")
        with pytest.raises(ValueError, match="cannot cross"):
            sb.run("x = 1", inputs={"f": object()})
        with pytest.raises(ValueError, match="identifier"):
            sb.run("x = 1", inputs={"__builtins__": {}})
    with pytest.raises(ValueError, match="unknown sandbox profile"):
        Sandbox(profile="nope")


def test_abandoned_run_leaves_no_process_behind():
    """Ctrl-C in the host (here: an API call raising KeyboardInterrupt) must not orphan a spinning child."""
    import time

    pids = []

    def interrupt(pid):
        pids.append(pid)
        raise KeyboardInterrupt

    with Sandbox(api={"interrupt": interrupt}, profile="program", timeout=30) as sb:
        with pytest.raises(KeyboardInterrupt):
            sb.run("import os\ntry:\n    interrupt(os.getpid())\nfinally:\n    while True:\n        pass\n")
        assert sb.run("x = 1").status == "ok"  # the sandbox still works
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pids[0]}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"child {pids[0]} is still running after the host abandoned the run")


def test_program_profile_imports_extension_modules_needing_system_libraries():
    """Landlock (and the mount namespace) let a run read the shared-library directories (numpy needs
    libstdc++, sqlite3 libsqlite3), and still nothing else outside the Python installation."""
    code = (
        "import numpy, sqlite3\n"
        "X = [int(numpy.arange(4).sum()), sqlite3.connect(':memory:').execute('select 1 + 1').fetchone()[0]]\n"
        "try:\n    open('/etc/passwd').read()\n    X.append('read')\nexcept (PermissionError, FileNotFoundError):\n    X.append('denied')\n"
    )
    with Sandbox(profile="program", modules=()) as sb:
        out = sb.run(code, return_name="X")
    assert out.status == "ok", out.error
    assert out.value == [6, 2, "denied"]


def test_time_in_api_calls_is_off_the_clock_only_when_asked():
    """The tabletop's policies wait on nested model calls; with count_api_time=False that wait is the host's,
    so a slow model neither cuts the policy off nor makes its replay (answers in no time) end differently."""

    def slow() -> int:
        time.sleep(1.5)
        return 1

    code = "X = slow() + slow()"  # 3 s in the API, milliseconds of its own
    with Sandbox(api={"slow": slow}, timeout=2.0, count_api_time=False) as sb:
        assert sb.run(code, return_name="X").value == 2
        assert sb.run("while True:\n    pass", timeout=0.5, cpu_seconds=30).status == "timeout"
    with Sandbox(api={"slow": slow}, timeout=2.0) as sb:
        assert sb.run(code, return_name="X").status == "timeout"


def test_a_policy_drawing_from_numpy_random_draws_the_same_in_every_run_and_every_sandbox():
    """A dry run must predict the real run, and a replay its recording: numpy's global generator starts from
    the same state in each policy run, not from what the worker (or its parent) happened to have."""
    draw = "import numpy as np\nx = [int(v) for v in np.random.randint(10**9, size=3)]"
    values = []
    for _ in range(2):
        with Sandbox(modules=("numpy",), profile="policy") as sb:
            values += [sb.run(draw, return_name="x").value for _ in range(2)]
    assert values[0] is not None and all(v == values[0] for v in values), values
