"""Session variables (the original's maintain_session), piece by piece: which names are carried, the bounds
on what the sandboxed code may hand to the host, and what the appended collector does inside the sandbox."""

from __future__ import annotations

import numpy as np

from cap.policy_globals import PRELUDE
from cap.session_vars import KEEP, MAX_VALUE_BYTES, SessionVars, top_level_assigned, top_level_functions
from sandbox import Sandbox


def test_only_module_level_names_are_carried():
    code = """
pts = np.zeros(2)
for i, name in enumerate(['a']):
    last = name
def helper(x):
    inner = x
    return inner
squares = [k * k for k in range(3)]
if (n := len(squares)) > 1:
    big = True
with_lambda = lambda q: q
try:
    pass
except ValueError as err:
    pass
"""
    assert top_level_assigned(code) == [
        "pts",
        "i",
        "name",
        "last",
        "squares",
        "n",
        "big",
        "with_lambda",
        "err",
    ]
    assert list(top_level_functions(code)) == ["helper"]


def test_keep_takes_only_announced_names_within_bounds():
    vars_ = SessionVars(reserved={"say"})
    vars_.program("x = 1\nsay('hi')", "x = 1\nsay = 2\nbig = 0")
    vars_.keep("x", 1)
    vars_.keep("say", 2)  # reserved: never shadows the API
    vars_.keep("other", 3)  # not assigned by this command
    vars_.keep("big", np.zeros(MAX_VALUE_BYTES // 4))  # too large once encoded
    vars_.commit()
    assert vars_.inputs() == {"x": 1}
    vars_.keep("x", 5)  # after commit nothing is expected any more
    vars_.commit()
    assert vars_.inputs() == {"x": 1}


def test_a_failed_command_carries_nothing():
    vars_ = SessionVars()
    vars_.program("", "y = 2")
    vars_.keep("y", 2)
    vars_.program("", "y = 3")  # the next command starts before the first one committed: dropped
    vars_.commit()
    assert vars_.inputs() == {}


def test_collector_hands_plain_values_over_and_skips_the_rest():
    vars_ = SessionVars(reserved={"say"})
    code = "pts = np.ones((2, 2))\npoly = Polygon([(0, 0), (1, 0), (0, 1)])\nlabel = 'tri'\nif False:\n    never = 1"
    with Sandbox(api={KEEP: vars_.keep, "say": print}, timeout=20, profile="policy") as sb:
        out = sb.run(vars_.program(f"{PRELUDE}\n{code}", code))
        assert out.status == "ok", out.error
        vars_.commit()
        kept = vars_.inputs()
        assert set(kept) == {"pts", "label"}  # a geometry cannot cross; `never` was never assigned
        assert np.array_equal(kept["pts"], np.ones((2, 2)))
        nxt = "total = float(np.sum(pts)) + len(label)"
        out = sb.run(vars_.program(f"{PRELUDE}\n{nxt}", nxt), return_name="total", inputs=vars_.inputs())
        assert out.status == "ok" and out.value == 7.0, out.error


def test_an_error_in_the_code_is_still_the_code_error():
    vars_ = SessionVars()
    code = "a = 1\nb = 1 / 0"
    with Sandbox(api={KEEP: vars_.keep}, timeout=20, profile="policy") as sb:
        out = sb.run(vars_.program(code, code))
    assert out.status == "error" and "ZeroDivisionError" in out.error and "(line 2)" in out.error
