"""One control episode: the environment steps on the host, the generated controller runs in the sandbox.

Every step is one program in one sandbox `Session` (one isolated child process per episode, each step a fresh
namespace in it, ~0.2 ms instead of a ~2 ms fork): the definitions plus `action = controller(<obs>)`. The
observation enters as plain floats; what comes back is hostile data, checked to be one of the environment's
actions before it touches the environment. benchmarks/bench_control.py measures the per-episode overhead.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from cap.evals.control.tasks import ControlTask

# What a step program imports: what the controller prompt shows (numpy), and math; each step validates the
# whole program, so a shorter one is a cheaper step.
IMPORTS = "import numpy as np\nimport math"


@dataclass
class EpisodeResult:
    status: str  # "ok" | "error" (the controller raised, timed out, ...) | "bad_action"
    success: bool
    steps: int
    error: str = ""
    sandbox_seconds: float = 0.0  # wall time spent in the sandbox runs of this episode

    def record(self) -> dict[str, Any]:
        return asdict(self)


def step_program(task: ControlTask, definitions: str) -> str:
    return f"{IMPORTS}\n{definitions.rstrip()}\naction = {task.function}({', '.join(task.observation)})\n"


def as_action(value: Any, count: int) -> int | None:
    """The action `value` names, or None when it is not one of 0..count-1 (bools and integral floats count)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < count:
        return value
    return None


def run_episode(task: ControlTask, definitions: str, seed: int, sandbox: Any) -> EpisodeResult:
    """Run one episode of `task` from `seed` with the controller in `definitions`, in a session of `sandbox`."""
    import gymnasium

    env = gymnasium.make(task.env_id)
    program = step_program(task, definitions)
    spent = 0.0
    try:
        obs, _ = env.reset(seed=seed)
        with sandbox.session() as session:
            for step in range(task.max_steps):
                inputs = {name: float(v) for name, v in zip(task.observation, obs, strict=True)}
                started = time.perf_counter()
                outcome = session.run(program, return_name="action", inputs=inputs)
                spent += time.perf_counter() - started
                if outcome.status != "ok":
                    return EpisodeResult("error", False, step, f"{outcome.status}: {outcome.error}", spent)
                action = as_action(outcome.value, task.actions)
                if action is None:
                    shown = repr(outcome.value)[:60]
                    return EpisodeResult(
                        "bad_action",
                        False,
                        step,
                        f"step {step}: {shown} is not an action 0..{task.actions - 1}",
                        spent,
                    )
                obs, _reward, terminated, truncated, _ = env.step(action)
                if terminated or truncated:
                    steps = step + 1
                    if task.success == "survive":
                        success = not terminated and steps >= task.max_steps
                    else:
                        success = bool(terminated)
                    return EpisodeResult("ok", success, steps, "", spent)
        return EpisodeResult("ok", task.success == "survive", task.max_steps, "", spent)
    finally:
        env.close()
