"""Sandbox overhead of a control episode: a 500-step CartPole-v1 episode with a hand-written PD controller
(not model output) run in a sandbox session, one program per step, as `cap bench control` runs it.

Prints one JSON object: seconds of sandbox runs per 500-step episode (median over episodes), per step, the
same controller called in-process for comparison, and the share of a step spent validating the program.
Goal: well under 1 s of sandbox overhead per 500-step episode.
    .venv/bin/python benchmarks/bench_control.py [--episodes N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cap.evals.control.episode import run_episode, step_program  # noqa: E402
from cap.evals.control.tasks import TASKS  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from sandbox.validate import validate  # noqa: E402

PD = """\
def cartpole_controller(x, x_dot, theta, theta_dot):
    u = 10.0 * theta + 1.5 * theta_dot + 0.1 * x + 0.3 * x_dot
    return 1 if u > 0 else 0
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=5)
    args = parser.parse_args()
    task = TASKS["cartpole"]
    per_episode, steps, successes = [], 0, 0
    with Sandbox(profile="policy", timeout=2.0) as sb:
        run_episode(task, PD, 0, sb)  # warm-up
        for seed in range(args.episodes):
            result = run_episode(task, PD, seed, sb)
            per_episode.append(result.sandbox_seconds * 500 / max(1, result.steps))
            steps += result.steps
            successes += result.success
    program = step_program(task, PD)
    started = time.perf_counter()
    for _ in range(500):
        validate(program, ("numpy", "shapely", "math"))
    validate_s = time.perf_counter() - started
    namespace: dict = {}
    exec(PD, namespace)
    fn = namespace["cartpole_controller"]
    started = time.perf_counter()
    for _ in range(500):
        fn(0.01, 0.0, 0.02, 0.0)
    plain_s = time.perf_counter() - started
    median = statistics.median(per_episode)
    print(
        json.dumps(
            {
                "episodes": args.episodes,
                "successes": successes,
                "steps": steps,
                "sandbox_seconds_per_500_steps": round(median, 4),
                "sandbox_seconds_per_500_steps_max": round(max(per_episode), 4),
                "sandbox_ms_per_step": round(median / 500 * 1000, 4),
                "validate_seconds_per_500_steps": round(validate_s, 4),
                "in_process_seconds_per_500_steps": round(plain_s, 6),
                "goal_seconds_per_500_steps": 1.0,
                "goal_met": median < 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
