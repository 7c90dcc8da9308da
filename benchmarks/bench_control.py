"""Sandbox overhead of a control episode: 500-step CartPole-v1 episodes with a hand-written PD controller (not
model output), as `cap bench control` runs them (one sandbox run per episode, the environment stepped by RPC),
and, for comparison, with one validated program per step in a sandbox session.

Prints one JSON object: sandbox seconds per 500-step episode (median and max over episodes; the environment's
own stepping subtracted), per step, and the same controller called in-process.
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

from cap.evals.control.score import IMPORTS, EnvDriver, run_episode  # noqa: E402
from cap.evals.control.tasks import TASKS  # noqa: E402
from sandbox import Sandbox  # noqa: E402

PD = """\
def cartpole_controller(x, x_dot, theta, theta_dot):
    u = 10.0 * theta + 1.5 * theta_dot + 0.1 * x + 0.3 * x_dot
    return 1 if u > 0 else 0
"""


def session_per_step(sb: Sandbox, seed: int) -> float:
    """The alternative: every step one program (definitions + call) in one session child."""
    import gymnasium

    task = TASKS["cartpole"]
    program = f"{IMPORTS}\n{PD}\naction = cartpole_controller(x, x_dot, theta, theta_dot)\n"
    env = gymnasium.make(task.env_id)
    obs, _ = env.reset(seed=seed)
    spent = 0.0
    with sb.session() as session:
        for _ in range(task.max_steps):
            started = time.perf_counter()
            out = session.run(
                program,
                return_name="action",
                inputs=dict(zip(task.observation, map(float, obs), strict=True)),
            )
            spent += time.perf_counter() - started
            obs, _r, terminated, truncated, _ = env.step(int(out.value))
            if terminated or truncated:
                break
    env.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=5)
    args = parser.parse_args()
    task = TASKS["cartpole"]
    driver = EnvDriver()
    per_episode, per_episode_session, successes = [], [], 0
    with Sandbox(api={"env_step": driver.step}, profile="policy", timeout=10.0) as sb:
        run_episode(task, PD, 0, sb, driver)  # warm-up
        for seed in range(args.episodes):
            result = run_episode(task, PD, seed, sb, driver)
            per_episode.append(result.sandbox_seconds * task.max_steps / max(1, result.steps))
            successes += result.success
        for seed in range(args.episodes):
            per_episode_session.append(session_per_step(sb, seed))
    namespace: dict = {}
    exec(PD, namespace)
    fn = namespace["cartpole_controller"]
    started = time.perf_counter()
    for _ in range(task.max_steps):
        fn(0.01, 0.0, 0.02, 0.0)
    plain = time.perf_counter() - started
    median = statistics.median(per_episode)
    print(
        json.dumps(
            {
                "episodes": args.episodes,
                "successes": successes,
                "sandbox_seconds_per_500_steps": round(median, 4),
                "sandbox_seconds_per_500_steps_max": round(max(per_episode), 4),
                "sandbox_ms_per_step": round(median / task.max_steps * 1000, 4),
                "session_per_step_seconds_per_500_steps": round(statistics.median(per_episode_session), 4),
                "in_process_seconds_per_500_steps": round(plain, 6),
                "goal_seconds_per_500_steps": 1.0,
                "goal_met": median < 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
