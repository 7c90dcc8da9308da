"""The sandbox contract: statuses, values, stdout, API bridge, errors with policy line numbers, nesting."""

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
