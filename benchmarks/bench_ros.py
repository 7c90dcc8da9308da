"""The cost of driving the tabletop through rosbridge instead of in-process: loopback, the PyBullet-backed
rosbridge-protocol server of the tests (tests/ros_server.py), the real roslibpy client.

Measures the connect time, the round trip of one small motion goal and of one gripper goal (including the wait
for fresh state after it), a perception read, and one whole `stack-blocks` episode (reference policy, dry run on
the twin included) over the wire vs. on the in-process simulator (sandboxes warmed up first). The server
publishes state at 20 Hz and a fresh read waits for the second message after a motion. Prints JSON.

Run: .venv/bin/python benchmarks/bench_ros.py [--goals 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ros_server import SimRobotServer  # noqa: E402


def _ms(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(1000 * statistics.median(samples), 2), "max_ms": round(1000 * max(samples), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--goals", type=int, default=20)
    args = parser.parse_args()
    from cap.evals.tabletop import TabletopSession, reference_program
    from cap.robot_session import RosSession
    from robot_api.ros import connect

    out: dict[str, object] = {}
    with SimRobotServer("stack-blocks", 0) as server:
        url = f"ros://127.0.0.1:{server.port}"
        t = time.perf_counter()
        arm = connect(url)
        out["connect_s"] = round(time.perf_counter() - t, 3)
        moves, grips, reads = [], [], []
        for i in range(args.goals):
            t = time.perf_counter()
            arm.robot.move_to((0.0, -0.5, 0.2 + 0.01 * (i % 2)))
            moves.append(time.perf_counter() - t)
            t = time.perf_counter()
            arm.perception.object_names()
            reads.append(time.perf_counter() - t)
            t = time.perf_counter()
            arm.robot.gripper_open()
            grips.append(time.perf_counter() - t)
        out["move_goal_1cm"] = _ms(moves)
        out["perception_read_after_motion"] = _ms(reads)
        out["gripper_open_goal"] = _ms(grips)
        arm.close()
    code = reference_program("stack-blocks")
    with SimRobotServer("stack-blocks", 0) as server, RosSession(f"ros://127.0.0.1:{server.port}") as session:
        session.sandbox.run("pass")  # the sandbox's warm-up is not the wire's cost
        inst = session.setup("stack-blocks", 0)
        ep = session.episode(code, {"task": dict(inst.attributes)})
        out["episode_over_rosbridge"] = {
            "status": ep.status,
            "task_success": ep.task_success,
            "seconds": round(ep.seconds, 3),
            "dry_run_seconds": ep.dry_run.get("seconds"),
            "motion_goals": server.move_goals,
        }
    with TabletopSession() as sim_session:
        sim_session.sandbox.run("pass")
        inst = sim_session.setup("stack-blocks", 0)
        ep = sim_session.episode(code, {"task": dict(inst.attributes)})
        out["episode_in_process_sim"] = {
            "status": ep.status,
            "task_success": ep.task_success,
            "seconds": round(ep.seconds, 3),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
