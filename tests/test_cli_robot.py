"""`cap tasks`, `cap exec` and `cap bench tabletop --reference` as a user runs them."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.xdist_group("sim")

STACK = """
blocks = [n for n in get_obj_names() if n.endswith("block")]
for upper, lower in zip(blocks[1:], blocks):
    put_first_on_second(upper, lower)
"""


def cap(*args, check=False):
    return subprocess.run(
        [sys.executable, "-m", "cap", *args], capture_output=True, text=True, timeout=300, check=check
    )


def test_tasks_json_shape():
    rows = json.loads(cap("tasks", "--json", check=True).stdout)
    names = {r["name"] for r in rows}
    for stable in [
        "pick-place",
        "stack-blocks",
        "blocks-in-matching-bowls",
        "blocks-to-corner",
        "line-of-blocks",
        "blocks-in-circle",
    ]:
        assert stable in names
    assert all({"name", "family", "description", "seen"} <= set(r) for r in rows)
    assert {r["seen"] for r in rows} == {True, False}


def test_exec_on_task_prints_pinned_json_and_writes_png(tmp_path):
    policy = tmp_path / "stack.py"
    policy.write_text(STACK)
    png = tmp_path / "scene.png"
    out = cap("exec", str(policy), "--task", "stack-blocks", "--seed", "2", "--png", str(png), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert list(result)[:9] == [  # the pinned keys, in order; extensions after them
        "status",
        "task",
        "seed",
        "task_success",
        "error",
        "stdout",
        "functions",
        "llm_calls",
        "seconds",
    ]
    assert result["attempts"] == []  # the extension: programs an LLM command tried (none for exec)
    assert list(result)[9:] == ["attempts", "said", "executed"]
    assert (
        result["status"] == "ok"
        and result["task_success"] is True
        and result["functions"] == []
        and result["llm_calls"] == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exec_without_task_and_failures(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("say('hello')\nprint(6 * 7)\n")
    result = json.loads(cap("exec", str(ok), "--json", check=True).stdout)
    assert result["status"] == "ok" and result["stdout"] == "42\n" and result["task_success"] is None
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\n")
    out = cap("exec", str(bad), "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["status"] == "violation"
    missing = cap("exec", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    unknown = cap("exec", str(ok), "--task", "stak-blocks")
    assert unknown.returncode == 2 and "stack-blocks" in unknown.stderr
    negative = cap("exec", str(ok), "--task", "stack-blocks", "--seed", "-1")
    assert negative.returncode == 2 and "--seed" in negative.stderr and "Traceback" not in negative.stderr


def test_bench_reference_json(tmp_path):
    out = cap(
        "bench",
        "tabletop",
        "--reference",
        "--seeds",
        "1",
        "--tasks",
        "pick-place",
        "line-of-blocks-unseen",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    # The pinned keys, plus the timing and token counts added since (the contract may be extended).
    assert {"episodes", "success_rate", "families"} <= set(summary)
    assert summary["seconds_per_episode"] > 0
    assert summary["episodes"] == 2 and summary["success_rate"] == 1.0
    assert set(summary["families"]) == {"pick-place", "line-of-blocks"}
    for fam in summary["families"].values():
        assert {"episodes", "success_rate", "seconds_per_episode"} <= set(fam) - {"splits"}
        assert fam["episodes"] == 1 and fam["success_rate"] == 1.0 and fam["seconds_per_episode"] > 0
