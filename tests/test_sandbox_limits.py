"""A policy's CPU budget is its own, separate from the wall-clock limit: a runaway loop ends after its CPU
seconds, however long the wall-clock limit (which covers the robot moving) is. No wall-clock bound is
asserted: on a busy machine two CPU seconds may take many more."""

import pytest

from sandbox import Sandbox

pytestmark = pytest.mark.xdist_group("sandbox")


@pytest.mark.parametrize(
    "code", ["while True:\n    pass", "x = 10 ** 10 ** 8"], ids=["busy_loop", "huge_power"]
)
def test_a_runaway_policy_ends_on_its_cpu_budget_not_the_wall_clock(code):
    with Sandbox(timeout=600.0, cpu_seconds=1, memory_mb=512) as sb:
        out = sb.run(code)
        assert out.status == "resource", out
        assert "CPU time limit" in out.error, out
        assert sb.run("x = 1", return_name="x").value == 1


def test_cpu_seconds_can_be_given_per_run_and_default_to_the_timeout():
    with Sandbox(timeout=600.0, memory_mb=512) as sb:
        out = sb.run("while True:\n    pass", cpu_seconds=1)
        assert out.status == "resource" and "CPU time limit" in out.error, out
    with Sandbox(timeout=1.0, memory_mb=512) as sb:  # no cpu_seconds: the wall-clock limit ends it first
        out = sb.run("while True:\n    pass")
        assert out.status in ("timeout", "resource"), out
