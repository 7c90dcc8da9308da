"""`cap run/exec/doctor --robot ros://...` end to end, over a real WebSocket, against a rosbridge-protocol
server backed by the PyBullet tabletop (tests/ros_server.py), plus the faults a real robot link has.

The cap side runs as the real CLI in a subprocess (roslibpy, twisted, the sandbox, all real). LLM answers come
from the bundled transcript of hand-written reference answers (cap/data/reference_replay.jsonl), so nothing is online.
After every fault the robot side must be at rest: `server.moving` is False only if cap told it to stop (a hung
or dropped motion of the server goes on otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("roslibpy")
pytest.importorskip("websockets")

from ros_server import SimRobotServer, write_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "cap" / "data" / "reference_replay.jsonl")
pytestmark = pytest.mark.slow


def cap(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cap", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=_env(),
    )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OPENAI_BASE_URL", None)
    env.pop("OPENAI_API_KEY", None)
    return env


def stack_over_the_wire(server: SimRobotServer, config: str, *extra: str) -> subprocess.CompletedProcess:
    url = f"ros://127.0.0.1:{server.port}"
    return cap(
        "run", "stack all the blocks", "--task", "stack-blocks", "--robot", url,
        "--robot-config", config, "--replay", DEMO, "--json", *extra,
    )  # fmt: skip


def last_json(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stacked_on_server(server: SimRobotServer) -> tuple[bool, str]:
    from robot_api.tasks import get_task

    task = get_task(server.task)
    return server.sim_call(lambda sim: task.check(sim, server.instance))


def wait_until(predicate, seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_run_stacks_all_the_blocks_over_the_wire_with_fragments(tmp_path):
    with SimRobotServer("stack-blocks", 0, fragment_size=600) as server:
        proc = stack_over_the_wire(server, write_config(tmp_path / "robot.toml"))
        assert proc.returncode == 0, proc.stderr
        out = last_json(proc)
        assert out["status"] == "ok" and out["task_success"] is True, out
        assert out["dry_run"]["status"] == "ok"
        assert out["robot"] == f"ros://127.0.0.1:{server.port}"
        assert stacked_on_server(server)[0], "the server's own simulator must show the stack"
        assert server.move_goals >= 6 and server.gripper_goals >= 4
        assert server.fragments_sent > 0, "messages larger than 600 bytes went out as rosbridge fragments"
        assert {"subscribe", "send_action_goal"} <= set(server.ops)
        assert not server.moving


def test_noise_malformed_json_binary_frames_and_bad_messages_are_ignored(tmp_path):
    with SimRobotServer("stack-blocks", 0, fault="malformed") as server:
        proc = stack_over_the_wire(server, write_config(tmp_path / "robot.toml"))
        assert proc.returncode == 0, proc.stderr
        assert last_json(proc)["task_success"] is True
        assert "Traceback" not in proc.stderr
        assert stacked_on_server(server)[0]


@pytest.mark.parametrize(
    ("fault", "fault_goal", "config", "message"),
    [
        ("drop", 2, {}, "was lost during the motion goal on /move_action; reconnected and sent the stop"),
        ("goal_error", 2, {}, "failed: status ABORTED"),
        ("never_answer", 1, {"safety": {"goal_timeout": 2.0}}, "within 2 s (watchdog)"),
        ("malformed_result", 1, {"safety": {"goal_timeout": 2.0}}, "within 2 s (watchdog)"),
    ],
)
def test_faults_end_the_run_cleanly_and_leave_the_robot_stopped(tmp_path, fault, fault_goal, config, message):
    with SimRobotServer("stack-blocks", 0, fault=fault, fault_goal=fault_goal) as server:
        proc = stack_over_the_wire(server, write_config(tmp_path / "robot.toml", **config))
        assert proc.returncode == 1, proc.stderr
        out = last_json(proc)
        assert out["status"] == "error" and message in out["error"], out
        assert out["dry_run"]["status"] == "ok"
        assert "Traceback" not in proc.stderr
        assert server.move_goals == fault_goal, "no motion goal may be sent after the failure"
        assert not server.moving, "the robot was left moving"
        assert server.stops >= 1, "cap must send the stop event"
        assert "advertise" in server.ops, "the stop topic is advertised before it is published"
        if fault == "drop":
            assert server.connections >= 2, "the stop went out on a new connection"
        if fault in ("never_answer", "malformed_result"):
            assert server.cancels >= 1, "the watchdog cancels the goal"


def test_a_robot_that_vanishes_mid_motion_is_reported_honestly(tmp_path):
    with SimRobotServer("stack-blocks", 0, fault="vanish", fault_goal=2) as server:
        config = write_config(tmp_path / "robot.toml", safety={"reconnect_timeout": 2.0})
        proc = stack_over_the_wire(server, config)
        assert proc.returncode == 1, proc.stderr
        out = last_json(proc)
        assert "was lost during the motion goal" in out["error"], out
        assert (
            "could not reconnect within 2 s to send the stop" in out["error"]
            and "CHECK THE ROBOT" in out["error"]
        )
        assert "Traceback" not in proc.stderr
        assert server.move_goals == 2


def _start_hung_run(tmp_path, server, *extra: str) -> subprocess.Popen:
    config = write_config(tmp_path / "robot.toml")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cap",
            "run",
            "stack all the blocks",
            "--robot",
            f"ros://127.0.0.1:{server.port}",
            "--robot-config",
            config,
            "--replay",
            DEMO,
            "--json",
            *extra,
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
    )


def test_ctrl_c_during_a_motion_stops_the_robot(tmp_path):
    with SimRobotServer("stack-blocks", 0, fault="never_answer", fault_goal=1) as server:
        proc = _start_hung_run(tmp_path, server)
        try:
            assert wait_until(lambda: server.moving, 120), "the robot never started the motion"
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert wait_until(lambda: not server.moving, 10), "Ctrl-C left the robot moving"
        assert server.stops >= 1


def test_the_run_time_limit_stops_a_motion_that_never_ends(tmp_path):
    with SimRobotServer("stack-blocks", 0, fault="never_answer", fault_goal=1) as server:
        proc = _start_hung_run(tmp_path, server, "--timeout", "15")
        out, err = proc.communicate(timeout=200)
        assert proc.returncode == 1, err
        result = json.loads(out.strip().splitlines()[-1])
        assert result["status"] in ("timeout", "error") and "time" in result["error"], result
        assert server.move_goals == 1 and not server.moving and server.stops >= 1


UNSAFE_POLICY = "put_first_on_second('blue block', 'green block')\ngoto_pos([0.0, -0.5, 0.6])\n"


def test_nothing_moves_when_the_dry_run_fails_and_no_dry_run_skips_it(tmp_path):
    policy = tmp_path / "policy.py"
    policy.write_text(UNSAFE_POLICY)
    config = write_config(tmp_path / "robot.toml")
    with SimRobotServer("stack-blocks", 0) as server:
        url = f"ros://127.0.0.1:{server.port}"
        proc = cap("exec", str(policy), "--robot", url, "--robot-config", config, "--json")
        assert proc.returncode == 1, proc.stderr
        out = last_json(proc)
        assert "dry run on the PyBullet twin failed, nothing was sent to the robot" in out["error"], out
        assert "SafetyError" in out["dry_run"]["error"] and "workspace" in out["dry_run"]["error"]
        assert server.move_goals == 0 and server.gripper_goals == 0

        proc = cap("exec", str(policy), "--robot", url, "--robot-config", config, "--no-dry-run", "--json")
        assert proc.returncode == 1, proc.stderr
        out = last_json(proc)
        assert out["dry_run"] == {"skipped": True}
        assert "SafetyError" in out["error"] and "z = 0.600" in out["error"], out
        assert server.move_goals >= 6, "without the dry run the first put ran on the robot"
        assert not server.moving


def test_exec_a_reference_policy_on_the_robot_with_a_task_check(tmp_path):
    config = write_config(tmp_path / "robot.toml")
    ref = ROOT / "robot_api" / "data" / "reference" / "stack-blocks.py"
    with SimRobotServer("stack-blocks", 1) as server:
        url = f"ros://127.0.0.1:{server.port}"
        proc = cap(
            "exec",
            str(ref),
            "--task",
            "stack-blocks",
            "--seed",
            "1",
            "--robot",
            url,
            "--robot-config",
            config,
            "--json",
        )
        assert proc.returncode == 0, proc.stderr
        assert last_json(proc)["task_success"] is True
        assert stacked_on_server(server)[0]


def test_doctor_lists_what_the_robot_offers_and_what_is_missing(tmp_path):
    with SimRobotServer("stack-blocks", 0) as server:
        url = f"ros://127.0.0.1:{server.port}"
        proc = cap("doctor", "--robot", url, "--robot-config", write_config(tmp_path / "ok.toml"), "--json")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["works"] and report["connected"]
        checks = {c["what"]: c for c in report["checks"]}
        assert checks["detections"]["detail"].startswith("4 objects: blue block")
        assert checks["joint states"]["detail"] == "7 joints"
        assert "/move_action" in report["action_servers"]

        wrong = write_config(tmp_path / "wrong.toml", gripper={"action": "/robotiq/gripper_cmd"})
        proc = cap("doctor", "--robot", url, "--robot-config", wrong)
        assert proc.returncode == 1
        assert "MISSING gripper action" in proc.stdout and "/robotiq/gripper_cmd" in proc.stdout


def test_a_robot_without_detections_is_a_clear_error(tmp_path):
    config = write_config(
        tmp_path / "robot.toml", perception={"detections": "/nothing", "fresh_timeout": 1.0}
    )
    with SimRobotServer("stack-blocks", 0) as server:
        proc = stack_over_the_wire(server, config)
        assert proc.returncode == 2, proc.stderr
        assert "robot: no fresh detections on /nothing within 1 s" in proc.stderr, proc.stderr
        assert "cap doctor --robot" in proc.stderr and "Traceback" not in proc.stderr
        assert server.move_goals == 0
        proc = subprocess.run(
            [sys.executable, "-m", "cap", "repl", "--robot", f"ros://127.0.0.1:{server.port}", "--robot-config", config,
             "--replay", DEMO, "--history", str(tmp_path / "h"), "--transcript", str(tmp_path / "t.jsonl")],
            input=":quit\n", capture_output=True, text=True, timeout=300, cwd=ROOT, env=_env(),
        )  # fmt: skip
        assert proc.returncode == 2 and "robot: no fresh detections" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_no_rosbridge_there_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write_config(tmp_path / "robot.toml", safety={"connect_timeout": 1.0})
    proc = cap(
        "run",
        "stack all the blocks",
        "--robot",
        f"ros://127.0.0.1:{port}",
        "--robot-config",
        config,
        "--replay",
        DEMO,
    )
    assert proc.returncode == 2
    assert "cannot connect to rosbridge" in proc.stderr and "cap doctor --robot" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = cap("doctor", "--robot", f"ros://127.0.0.1:{port}", "--robot-config", config, "--json")
    assert proc.returncode == 1 and not json.loads(proc.stdout)["connected"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--robot", "http://robot:9090"], "is not of the form ros://HOST:PORT"),
        (["--robot", "ros://127.0.0.1:9", "--robot-config", "/nonexistent.toml"], "cannot read robot config"),
        (["--robot", "ros://127.0.0.1:9", "--gif", "x.gif"], "--gif show the simulation"),
    ],
)
def test_bad_robot_options_are_clear_errors(args, message):
    proc = cap("run", "stack all the blocks", "--replay", DEMO, *args, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_repl_on_the_robot_with_a_picture_of_the_perceived_scene(tmp_path):
    png = tmp_path / "scene.png"
    with SimRobotServer("stack-blocks", 0) as server:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "cap",
                "repl",
                "--robot",
                f"ros://127.0.0.1:{server.port}",
                "--robot-config",
                write_config(tmp_path / "robot.toml"),
                "--replay",
                DEMO,
                "--history",
                str(tmp_path / "history"),
                "--transcript",
                str(tmp_path / "t.jsonl"),
            ],  # fmt: skip
            input=f"stack all the blocks\n:png {png}\n:quit\n",
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
            env=_env(),
        )
        assert proc.returncode == 0, proc.stderr
        assert "task stack-blocks (seed 0): success" in proc.stderr
        assert proc.stderr.count("robot says: Stacking 3 blocks") == 1, "the dry run's say() is not repeated"
        assert png.stat().st_size > 1000
        assert stacked_on_server(server)[0]


def test_consensus_on_the_robot_rehearses_every_sample_on_the_twin_and_performs_the_agreed_one(tmp_path):
    """Three sampled programs (a replayed, hand-written recording): one puts the green block on the orange
    bowl, two on the green bowl. Each runs on a PyBullet twin of the perceived scene; the robot does only the
    pair's program, and the server's own check sees the block on the green bowl."""
    reference = json.loads((ROOT / "cap" / "data" / "reference_replay.jsonl").read_text().splitlines()[0])
    command = reference["query"].splitlines()[-1].removeprefix("# ").removesuffix(".")
    programs = ["'orange bowl'", "'green bowl'", "'green bowl'"]
    transcript = tmp_path / "samples.jsonl"
    transcript.write_text(
        "".join(
            json.dumps(
                reference
                | {"sample": i, "response": f"```python\nput_first_on_second('green block', {b})\n```"}
            )
            + "\n"
            for i, b in enumerate(programs)
        )
    )
    config = write_config(tmp_path / "robot.toml")
    with SimRobotServer("pick-place", 0) as server:
        url = f"ros://127.0.0.1:{server.port}"
        proc = cap(
            "run", command, "--task", "pick-place", "--robot", url, "--robot-config", config,
            "--replay", str(transcript), "--samples", "3", "--select", "consensus", "--json",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        out = last_json(proc)
        assert [a["agree"] for a in out["attempts"]] == [1, 2, 2]
        assert out["task_success"] is True
        assert stacked_on_server(server)[0]
        assert not server.moving
