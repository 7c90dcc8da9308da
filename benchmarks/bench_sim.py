"""Simulator speed: seconds and physics steps per reference episode per family (run in the sandbox, scene set-up
included), raw physics steps per second, and the wall time of a 3-block stack through the tabletop API.

Prints one JSON object. Goal: a 3-block stack in under 2 s wall, headless.
    .venv/bin/python benchmarks/bench_sim.py [--seeds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cap.evals.tabletop import TabletopSession  # noqa: E402
from robot_api.pybullet_sim import PyBulletTabletop  # noqa: E402
from robot_api.tabletop import TabletopAPI  # noqa: E402
from robot_api.tasks import FAMILIES  # noqa: E402


def three_block_stack(reps: int = 5) -> float:
    """Wall seconds for two put_first_on_second calls that stack three blocks (scene set-up excluded)."""
    sim = PyBulletTabletop()
    api = TabletopAPI(sim, sim)
    times = []
    for _ in range(reps):
        sim.reset([("red block", (0.1, -0.4)), ("green block", (-0.1, -0.6)), ("blue block", (0.0, -0.5))])
        start = time.perf_counter()
        api.put_first_on_second("red block", "blue block")
        api.put_first_on_second("green block", "red block")
        times.append(time.perf_counter() - start)
    sim.close()
    return statistics.median(times)


def steps_per_second(steps: int = 5000) -> float:
    sim = PyBulletTabletop()
    sim.reset(
        [(f"{c} block", (x, -0.5)) for c, x in [("red", -0.1), ("green", 0.0), ("blue", 0.1)]]
        + [("gray bowl", (0.0, -0.7))]
    )
    start = time.perf_counter()
    for _ in range(steps):
        sim._step()
    elapsed = time.perf_counter() - start
    sim.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per task (seen and unseen split each)")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    per_family = {}
    with TabletopSession() as session:
        for family in FAMILIES:
            secs, steps, ok = [], [], 0
            for task in (family, f"{family}-unseen"):
                for seed in range(args.seeds):
                    before = session.sim.steps
                    ep = session.reference_episode(task, seed)
                    secs.append(ep.seconds)
                    steps.append(session.sim.steps - before)
                    ok += bool(ep.task_success)
            per_family[family] = {
                "seconds_per_episode": round(statistics.mean(secs), 3),
                "physics_steps_per_episode": round(statistics.mean(steps)),
                "success": f"{ok}/{len(secs)}",
            }
    stack = three_block_stack()
    all_secs = [f["seconds_per_episode"] for f in per_family.values()]
    print(
        json.dumps(
            {
                "three_block_stack_s": round(stack, 3),
                "goal_three_block_stack_s": 2.0,
                "goal_met": stack < 2.0,
                "physics_steps_per_s": round(steps_per_second()),
                "mean_seconds_per_episode": round(statistics.mean(all_secs), 3),
                "families": per_family,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
