"""A runaway policy ends on its own CPU budget, not on the wall-clock limit (robot motion does not count)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("program", ["while True:\n    pass\n", "x = 10 ** 10 ** 8\n"])
@pytest.mark.parametrize("scene", [[], ["--task", "pick-place"]])
def test_a_runaway_policy_ends_on_its_cpu_budget(tmp_path, program, scene):
    policy = tmp_path / "runaway.py"
    policy.write_text(program)
    done = subprocess.run(
        [sys.executable, "-m", "cap", "exec", str(policy), *scene, "--cpu-seconds", "1", "--timeout", "600",
         "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = json.loads(done.stdout)
    assert done.returncode == 1
    assert out["status"] == "resource" and "CPU time limit" in out["error"]


def test_the_cpu_budget_must_be_positive(tmp_path):
    policy = tmp_path / "p.py"
    policy.write_text("say('hi')\n")
    done = subprocess.run(
        [sys.executable, "-m", "cap", "exec", str(policy), "--cpu-seconds", "0"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--cpu-seconds must be positive" in done.stderr
