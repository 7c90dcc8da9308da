"""Episodes on the simulated tabletop: build a task's scene, run policy code in the sandbox, check success.

One `TabletopSession` owns one simulator and one sandbox and reuses them across episodes, so a benchmark pays
for start-up once. Code for an episode comes from a *policy source*: reference programs, a file, or an LLM.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from cap.episode import Episode
from robot_api.pybullet_sim import PyBulletTabletop
from robot_api.tabletop import ERRORS, TabletopAPI
from robot_api.tasks import Instance, Task, get_task
from sandbox import Outcome, Sandbox


def reference_program(family: str) -> str:
    """The hand-written reference policy of a family (package data; not model output)."""
    path = resources.files("robot_api") / "data" / "reference" / f"{family}.py"
    return path.read_text(encoding="utf-8")


class TabletopSession:
    """A simulator + a sandbox exposing the tabletop API (plus any extra host callables, e.g. nested LMPs)."""

    def __init__(
        self,
        extra_api: Mapping[str, Callable[..., Any]] | None = None,
        timeout: float = 120.0,
        memory_mb: int = 1024,
        gui: bool = False,
        on_say: Callable[[str], None] | None = None,
    ):
        self.sim = PyBulletTabletop(gui=gui)
        self.api = TabletopAPI(self.sim, self.sim, on_say=on_say)
        functions = {**self.api.functions(), **dict(extra_api or {})}
        self.sandbox = Sandbox(api=functions, timeout=timeout, memory_mb=memory_mb, errors=ERRORS)
        self.instance: Instance | None = None
        self.task: Task | None = None

    def close(self) -> None:
        self.sandbox.close()
        self.sim.close()

    def __enter__(self) -> TabletopSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def setup(self, task_name: str, seed: int) -> Instance:
        self.task = get_task(task_name)
        self.instance = self.task.instance(seed)
        self.sim.reset(self.instance.objects)
        self.api.said.clear()
        return self.instance

    def run_code(self, code: str, inputs: Mapping[str, Any] | None = None) -> Outcome:
        return self.sandbox.run(code, inputs=inputs)

    def check(self) -> tuple[bool | None, str]:
        if self.task is None or self.instance is None:
            return None, "no task"
        return self.task.check(self.sim, self.instance)

    def episode(self, code: str, inputs: Mapping[str, Any] | None = None) -> Episode:
        """Run `code` on the current scene and check the task."""
        started = time.perf_counter()
        said_before = len(self.api.said)
        outcome = self.run_code(code, inputs)
        self.sim.stop()
        success, reason = self.check() if self.task else (None, "")
        inst = self.instance
        return Episode(
            task=inst.task if inst else None,
            seed=inst.seed if inst else None,
            command=inst.command if inst else "",
            status=outcome.status,
            task_success=success,
            reason=reason,
            error=outcome.error,
            stdout=outcome.stdout,
            said=self.api.said[said_before:],
            seconds=time.perf_counter() - started,
            code=code,
        )

    def reference_episode(self, task_name: str, seed: int) -> Episode:
        inst = self.setup(task_name, seed)
        assert self.task is not None
        return self.episode(reference_program(self.task.family), inputs={"task": inst.params})


def summarize(episodes: list[Episode]) -> dict[str, Any]:
    """The pinned `cap bench tabletop --json` shape, plus per-split rates."""
    from robot_api.tasks import TASKS

    families: dict[str, dict[str, Any]] = {}
    for ep in episodes:
        fam = TASKS[ep.task].family if ep.task in TASKS else str(ep.task)
        f = families.setdefault(fam, {"episodes": 0, "successes": 0, "seconds": 0.0, "split": {}})
        f["episodes"] += 1
        f["successes"] += bool(ep.task_success)
        f["seconds"] += ep.seconds
        split = "seen" if TASKS[ep.task].seen else "unseen"
        s = f["split"].setdefault(split, [0, 0])
        s[0] += bool(ep.task_success)
        s[1] += 1
    total = len(episodes)
    return {
        "episodes": total,
        "success_rate": (sum(bool(e.task_success) for e in episodes) / total) if total else 0.0,
        "families": {
            name: {
                "episodes": f["episodes"],
                "success_rate": f["successes"] / f["episodes"],
                "seconds_per_episode": round(f["seconds"] / f["episodes"], 3),
                "splits": {k: v[0] / v[1] for k, v in f["split"].items()},
            }
            for name, f in families.items()
        },
    }
