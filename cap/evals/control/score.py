"""One control episode: the environment steps on the host, the generated controller runs in the sandbox.

The whole episode is one sandbox run (one isolated child process): a driver loop, appended to the generated
definitions, calls the controller on each observation and hands the action to `env_step`, a host function
reached by RPC (~30 us). Per step that is one controller call in the sandbox and one round trip, instead of a
validated program per step (benchmarks/bench_control.py measures both). The host counts the steps and judges
success from the environment alone; every action that comes back is hostile data, checked to be one of the
environment's actions before it touches the environment; code that calls `env_step` itself only takes real
steps, which the host counts like any other.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from cap.evals.control.tasks import ControlTask

# What the episode program imports: what the controller prompt shows (numpy), and math.
IMPORTS = "import numpy as np\nimport math"


@dataclass
class EpisodeResult:
    status: str  # "ok" | "error" (the controller raised, timed out, ...) | "bad_action"
    success: bool
    steps: int
    error: str = ""
    sandbox_seconds: float = 0.0  # wall time of the episode's run minus the environment's own stepping

    def record(self) -> dict[str, Any]:
        return asdict(self)


def as_action(value: Any, count: int) -> int | None:
    """The action `value` names, or None when it is not one of 0..count-1 (bools and integral floats count)."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < count:
        return value
    return None


class EnvDriver:
    """The host side of episodes: owns the current environment; `step` is the sandbox's `env_step`."""

    def __init__(self) -> None:
        self.env: Any = None
        self.task: ControlTask | None = None
        self.steps = 0
        self.terminated = False
        self.done = True
        self.bad_action = ""
        self.env_seconds = 0.0

    def start(self, task: ControlTask, seed: int) -> list[float]:
        import gymnasium

        self.close()
        self.env = gymnasium.make(task.env_id)
        self.task, self.steps, self.terminated, self.done, self.bad_action = task, 0, False, False, ""
        self.env_seconds = 0.0
        obs, _ = self.env.reset(seed=seed)
        return [float(v) for v in obs]

    def step(self, action: Any) -> tuple[list[float], bool]:
        """Apply one action; (observation, episode over). Raises once the episode is over or on a non-action."""
        if self.done or self.task is None:
            raise RuntimeError("the episode is over")
        chosen = as_action(action, self.task.actions)
        if chosen is None:
            self.done = True
            self.bad_action = (
                f"step {self.steps}: {repr(action)[:60]} is not an action 0..{self.task.actions - 1}"
            )
            raise ValueError(self.bad_action)
        started = time.perf_counter()
        obs, _reward, terminated, truncated, _ = self.env.step(chosen)
        self.env_seconds += time.perf_counter() - started
        self.steps += 1
        self.terminated = bool(terminated)
        self.done = bool(terminated or truncated or self.steps >= self.task.max_steps)
        return [float(v) for v in obs], self.done

    def success(self) -> bool:
        assert self.task is not None
        if self.task.success == "survive":
            return not self.terminated and self.steps >= self.task.max_steps
        return self.terminated

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


def episode_program(task: ControlTask, definitions: str) -> str:
    """The generated definitions, then the driver loop (ours) that calls the controller every step."""
    args = ", ".join(f"cap_obs[{i}]" for i in range(len(task.observation)))
    return (
        f"{IMPORTS}\n{definitions.rstrip()}\n\n"
        "cap_obs = cap_first_obs\ncap_done = False\nwhile not cap_done:\n"
        f"    cap_obs, cap_done = env_step({task.function}({args}))\n"
    )


def run_episode(
    task: ControlTask, definitions: str, seed: int, sandbox: Any, driver: EnvDriver
) -> EpisodeResult:
    """Run one episode of `task` from `seed` with the controller in `definitions`; `sandbox` exposes
    `driver.step` as `env_step`."""
    first = driver.start(task, seed)
    started = time.perf_counter()
    try:
        outcome = sandbox.run(episode_program(task, definitions), inputs={"cap_first_obs": first})
    finally:
        spent = time.perf_counter() - started - driver.env_seconds
        driver.close()
    if driver.bad_action:
        return EpisodeResult("bad_action", False, driver.steps, driver.bad_action, spent)
    if outcome.status != "ok":
        return EpisodeResult("error", False, driver.steps, f"{outcome.status}: {outcome.error}", spent)
    if not driver.done:
        return EpisodeResult("error", False, driver.steps, "the program ended before the episode did", spent)
    return EpisodeResult("ok", driver.success(), driver.steps, "", spent)
