"""The three ways in, as a person uses them: the REPL through a pseudo-terminal, `make demo`'s script, and the
embedding example."""

import json
import sys
from pathlib import Path

import pexpect
import pytest

from cap.policy_stack import scene_context
from robot_api.tasks import get_task

pytestmark = pytest.mark.xdist_group("sim")
ROOT = Path(__file__).resolve().parents[1]
DEMO_REPLAY = ROOT / "cap" / "data" / "reference_replay.jsonl"  # hand-written reference answers


def spawn_repl(tmp_path, *args):
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "CAP_CACHE": str(tmp_path / "c.sqlite"),
        "TERM": "dumb",
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "cap", "repl", *args], cwd=str(ROOT), env=env, encoding="utf-8", timeout=90
    )
    child.expect_exact("cap> ")
    return child


def test_repl_session_through_a_terminal(tmp_path):
    child = spawn_repl(tmp_path, "--task", "stack-blocks", "--replay", str(DEMO_REPLAY))
    child.sendline("stack all the blocks")
    child.expect("success")
    child.expect_exact("cap> ")
    child.sendline(":functions")
    child.expect_exact("def stack_objects_in_order")
    child.expect_exact("cap> ")
    child.sendline(":code")
    child.expect_exact("parse_obj_name")
    child.expect_exact("cap> ")
    png = tmp_path / "scene.png"
    child.sendline(f":png {png}")
    child.expect_exact("wrote")
    child.expect_exact("cap> ")
    child.sendline("do a backflip")  # not in the replay: a clear error, and the REPL goes on
    child.expect("no answer")
    child.expect_exact("cap> ")
    child.sendline(":task no-such-task")
    child.expect("unknown task")
    child.expect_exact("cap> ")
    child.sendline(f":save {tmp_path / 'session'}")
    child.expect_exact("wrote")
    child.expect_exact("cap> ")
    child.sendcontrol("c")  # Ctrl-C at the prompt does not leave
    child.expect_exact("cap> ")
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    assert png.read_bytes()[:4] == b"\x89PNG"
    records = [json.loads(line) for line in (tmp_path / "session.jsonl").read_text().splitlines()]
    assert {r["lmp"] for r in records} >= {"tabletop_ui", "fgen"}
    assert "def stack_objects_in_order" in (tmp_path / "session_functions.py").read_text()
    assert "stack all the blocks" in (tmp_path / ".cache" / "cap" / "repl_history").read_text()


def test_ctrl_c_stops_a_running_policy_and_keeps_the_repl(tmp_path):
    inst = get_task("stack-blocks").instance(0)
    objects = [name for name, _ in inst.objects]
    replay = tmp_path / "spin.jsonl"
    record = {
        "lmp": "tabletop_ui",
        "query": f"{scene_context(objects)}\n# spin forever.",
        "response": "while True:\n    pass",
        "model": "hand-written-test",
    }
    replay.write_text(json.dumps(record) + "\n")
    child = spawn_repl(tmp_path, "--task", "stack-blocks", "--replay", str(replay))
    child.sendline("spin forever")
    child.expect_exact("spin forever")
    import time

    time.sleep(1.5)
    child.sendcontrol("c")
    child.expect("stopped")
    child.expect_exact("cap> ")
    child.sendline(":quit")
    child.expect(pexpect.EOF)


def test_demo_without_the_local_model_says_why_and_replays_the_recording(tmp_path):
    import os
    import subprocess

    out = subprocess.run(
        [sys.executable, str(ROOT / "demos" / "demo.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CAP_HOME": str(tmp_path / "no-model-here")},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Replayed demo" in out.stdout and "not installed" in out.stdout
    assert "recorded from the local model" in out.stdout
    assert out.stderr.count("success") == 3
    for i, task in enumerate(["pick-place", "stack-blocks", "blocks-in-matching-bowls"], 1):
        assert (tmp_path / f"{i}-{task}.png").stat().st_size > 1000
        assert (tmp_path / f"{i}-{task}.gif").read_bytes()[:3] == b"GIF"


def test_embedding_example(capsys):
    sys.path.insert(0, str(ROOT / "demos"))
    try:
        import embed_robot_app
    finally:
        sys.path.pop(0)
    assert embed_robot_app.main([]) == 0
    out = capsys.readouterr().out
    assert "gray block rejected" in out
    assert "placed red block at [0.25, -0.25]" in out and "placed gray block at [0.25, -0.75]" in out
