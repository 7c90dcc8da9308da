"""Episodes on the simulated tabletop: build a task's scene, run policy code in the sandbox, check success.

One `TabletopSession` owns one simulator and one sandbox (policy profile) and reuses them across episodes, so a
benchmark pays for start-up once. Policies always run inside the sandbox; the tabletop API runs in this
process, where PyBullet lives, and policy calls reach it by RPC.

`run_episodes` is the benchmark loop for any *policy source*: a function from a task instance to the code to
run (reference programs here; an LLM stack for model-driven runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from cap.episode import Episode
from cap.policy_globals import bind_globals
from robot_api.pybullet_sim import PyBulletTabletop
from robot_api.tabletop import ERRORS, TabletopAPI
from robot_api.tasks import TASKS, Instance, Task, get_task
from sandbox import Outcome, Sandbox

POLICY_MODULES = ("numpy", "shapely", "math")


@dataclass
class Policy:
    """Code to run for one instance, with the names it may read (`inputs`) and how it was made."""

    code: str
    inputs: dict[str, Any] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    llm_calls: int = 0


PolicySource = Callable[[Instance], "Policy | str"]


def reference_program(family: str) -> str:
    """The hand-written reference policy of a family (package data; not model output)."""
    path = resources.files("robot_api") / "data" / "reference" / f"{family}.py"
    return path.read_text(encoding="utf-8")


def reference_policy(instance: Instance) -> Policy:
    """The family's reference program, reading what the command says from the dict `task`."""
    return Policy(reference_program(TASKS[instance.task].family), {"task": dict(instance.attributes)})


# CPU seconds the policy code itself may use per run. Robot motion, perception and nested LMPs run on the
# host while the policy waits, so they do not count: only the policy's own computing does, and a runaway
# (`while True: pass`, `10 ** 10 ** 8`) ends in seconds instead of running out the wall-clock limit.
POLICY_CPU_SECONDS = 5.0


class TabletopSession:
    """A simulator + a sandbox exposing the tabletop API (plus any extra host callables, e.g. nested LMPs)."""

    def __init__(
        self,
        extra_api: Mapping[str, Callable[..., Any]] | None = None,
        timeout: float = 120.0,
        memory_mb: int = 1024,
        gui: bool = False,
        on_say: Callable[[str], None] | None = None,
        cpu_seconds: float | None = POLICY_CPU_SECONDS,
    ):
        self.sim = PyBulletTabletop(gui=gui)
        self.api = TabletopAPI(self.sim, self.sim, on_say=on_say)
        functions = {**self.api.functions(), **dict(extra_api or {})}
        try:
            self.sandbox = Sandbox(
                api=functions,
                modules=POLICY_MODULES,
                timeout=timeout,
                count_api_time=False,  # nested LMPs answer on the host's time, not the policy's
                cpu_seconds=cpu_seconds,
                memory_mb=memory_mb,
                profile="policy",
                errors=ERRORS,
            )
            bind_globals(self.sandbox)  # np and the shapely names, as the original's fixed_vars
        except BaseException:
            self.sim.close()
            raise
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
        """Build the scene of `task_name` for `seed` (a KeyError with suggestions for an unknown task)."""
        self.task = get_task(task_name)
        self.instance = self.task.instance(seed)
        self.sim.reset(self.instance.objects)
        self.api.said.clear()
        return self.instance

    def run_code(self, code: str, inputs: Mapping[str, Any] | None = None) -> Outcome:
        return self.sandbox.run(code, inputs=inputs)

    def rehearse(
        self,
        code: str,
        inputs: Mapping[str, Any] | None = None,
        observe: Callable[[], None] | None = None,
    ) -> Outcome:
        """Run `code` on the scene as it is and put everything back (`PyBulletTabletop.trial`): nothing
        moves for real and nothing is said to anyone (a live `say` listener is muted meanwhile). `observe`
        is called after the run, before the scene is put back, to look at the world the run left."""
        said_before = len(self.api.said)
        with self.api.muted(), self.sim.trial():
            try:
                outcome = self.run_code(code, inputs)
            finally:
                self.sim.stop()
                del self.api.said[said_before:]
            if observe is not None:
                observe()
            return outcome

    def perform(self, code: str, inputs: Mapping[str, Any] | None = None) -> Outcome:
        """Run `code` for real; the arm stops at the end, however the code ended."""
        try:
            return self.run_code(code, inputs)
        finally:
            self.sim.stop()

    def extras(self) -> dict[str, Any]:
        """Keys this session adds to an episode's JSON (a robot session names the robot and its dry run)."""
        return {}

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

    def run_policy(self, task_name: str, seed: int, source: PolicySource) -> Episode:
        """Set up the task, ask `source` for the code, run and check it. Seconds include producing the code."""
        started = time.perf_counter()
        inst = self.setup(task_name, seed)
        policy = source(inst)
        if isinstance(policy, str):
            policy = Policy(policy)
        ep = self.episode(policy.code, policy.inputs)
        ep.functions, ep.llm_calls = list(policy.functions), policy.llm_calls
        ep.seconds = time.perf_counter() - started
        return ep

    def reference_episode(self, task_name: str, seed: int) -> Episode:
        return self.run_policy(task_name, seed, reference_policy)


def run_episodes(
    jobs: Iterable[tuple[str, int]],
    source: PolicySource,
    session: TabletopSession | None = None,
    on_episode: Callable[[Episode], None] | None = None,
) -> list[Episode]:
    """Every (task, seed) job with code from `source`, in one session (made here unless given)."""
    own = session is None
    session = session or TabletopSession()
    episodes = []
    try:
        for task_name, seed in jobs:
            ep = session.run_policy(task_name, seed, source)
            episodes.append(ep)
            if on_episode:
                on_episode(ep)
    finally:
        if own:
            session.close()
    return episodes


def summarize(episodes: list[Episode]) -> dict[str, Any]:
    """The pinned `cap bench tabletop --json` shape; each family also carries "splits", its success rate per
    seen/unseen attribute split (an extension other commands and tests read)."""
    families: dict[str, dict[str, Any]] = {}
    for ep in episodes:
        task = TASKS.get(str(ep.task))
        fam = task.family if task else str(ep.task)
        f = families.setdefault(
            fam, {"episodes": 0, "successes": 0, "seconds": 0.0, "split": {}, "prompt": 0, "completion": 0}
        )
        f["episodes"] += 1
        f["successes"] += bool(ep.task_success)
        f["seconds"] += ep.seconds
        f["prompt"] += int((ep.llm_tokens or {}).get("prompt", 0))
        f["completion"] += int((ep.llm_tokens or {}).get("completion", 0))
        split = f["split"].setdefault("seen" if task is None or task.seen else "unseen", [0, 0])
        split[0] += bool(ep.task_success)
        split[1] += 1
    total = len(episodes)
    return {
        "episodes": total,
        "success_rate": (sum(bool(e.task_success) for e in episodes) / total) if total else 0.0,
        "seconds_per_episode": round(sum(e.seconds for e in episodes) / total, 3) if total else 0.0,
        "tokens_per_episode": {
            k: round(sum(int((e.llm_tokens or {}).get(k, 0)) for e in episodes) / total, 1) if total else 0.0
            for k in ("prompt", "completion")
        },
        "families": {
            name: {
                "episodes": f["episodes"],
                "success_rate": f["successes"] / f["episodes"],
                "seconds_per_episode": round(f["seconds"] / f["episodes"], 3),
                "tokens_per_episode": {
                    "prompt": round(f["prompt"] / f["episodes"], 1),
                    "completion": round(f["completion"] / f["episodes"], 1),
                },
                "splits": {k: v[0] / v[1] for k, v in f["split"].items()},
            }
            for name, f in families.items()
        },
    }
