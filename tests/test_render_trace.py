"""The executing policy line: instrumentation keeps line numbers, and the host learns each line as it runs."""

from __future__ import annotations

import ast

import pytest

from cap.policy_trace import MARKER, LineTracker, Mark, TracingSession, describe, instrument

PROGRAM = """import numpy as np
def helper(names):
    for n in names:
        put_first_on_second(n, 'middle')
    return len(names)

names = get_obj_names()
x = 1; y = helper(names[:1])
if x: say('one-liner')
text = '''a
b'''
say(text)"""


def test_instrumented_program_keeps_every_line_number():
    out = instrument(PROGRAM)
    assert len(out.split("\n")) == len(PROGRAM.split("\n"))
    ast.parse(out)
    before = {(type(n).__name__, n.lineno) for n in ast.walk(ast.parse(PROGRAM)) if isinstance(n, ast.stmt)}
    after = {
        (type(n).__name__, n.lineno)
        for n in ast.walk(ast.parse(out))
        if isinstance(n, ast.stmt) and not (isinstance(n, ast.Expr) and MARKER in ast.unparse(n))
    }
    assert before == after
    marked = [i + 1 for i, line in enumerate(out.split("\n")) if MARKER in line]
    # calls are marked; the import, the loop header, `return len(...)` (a call), the one-liner's header not
    assert marked == [4, 5, 7, 8, 12]
    assert out.split("\n")[3] == f"        {MARKER}(4); put_first_on_second(n, 'middle')"


def test_unparsable_code_is_left_for_the_sandbox_to_report():
    assert instrument("def (:") == "def (:"


def test_other_line_breaks_run_untraced_rather_than_shifted():
    for program in ("a = 1\rb = f()", "a = 1\r\nb = f()", "a = 1\x0c\nb = f()"):
        assert instrument(program) == program


def test_tracker_ignores_hostile_marks():
    t = LineTracker()
    t.reset(PROGRAM)
    for bad in ("4", -1, 0, True, 2.5, None, [4]):
        t.mark(bad)
    assert t.current() == Mark(None, None) and t.history == []
    t.mark(7)
    t.mark(4)
    assert t.current() == Mark(7, 4)  # line 4 is inside helper(): the policy's own line stays 7


def test_describe_names_the_code_line_and_the_helper_line():
    code = "names = get_obj_names()\nstack(names)"
    program = "def stack(names):\n    put_first_on_second(names[0], names[1])\n\n" + code
    assert describe(program, code, Mark(5, 2)) == (
        "line 2:  stack(names)\nin stack():  put_first_on_second(names[0], names[1])"
    )
    assert describe(program, code, Mark(4, 4)) == "line 1:  names = get_obj_names()"
    assert describe(program, code, None) == ""


@pytest.mark.slow
def test_a_sandboxed_policy_reports_its_lines_while_the_robot_moves():
    from robot_api.render import GifRecorder

    with TracingSession(timeout=60) as session:
        session.setup("pick-place", 0)
        names = session.api.get_obj_names()
        block = next(n for n in names if n.endswith("block"))
        code = f"names = get_obj_names()\nsay('go')\nmove_it({block!r})\nsay('done')"
        program = f"def move_it(b):\n    put_first_on_second(b, 'middle')\n\n{code}"
        with GifRecorder(session.sim, marker=session.tracker.current) as rec:
            ep = session.episode(program)
        assert ep.status == "ok", ep.error
        assert session.tracker.history == [4, 5, 6, 2, 7]
        texts = {session.describe(code, m) for _, m in rec.frames}
        assert f"line 3:  move_it({block!r})\nin move_it():  put_first_on_second(b, 'middle')" in texts
        # an error still points at its own line of the program (nothing was added above it)
        bad = session.episode("x = 1\ny = undefined_name + 1")
        assert bad.status == "error" and "line 2" in bad.error
