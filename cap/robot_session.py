"""Episodes on a real robot over rosbridge, with the same face as `TabletopSession` (api, sandbox, setup,
episode, check), so `cap run`, `cap exec` and `cap repl` drive a ROS arm unchanged.

The gate: before a program may move the robot, it runs on a PyBullet twin of the scene the robot perceives
right now (`robot_api.twin`), behind the same safety limits. Only when that dry run ends `ok` does the same
program run on the robot; otherwise nothing is sent and the episode reports the dry run's failure.
`dry_run=False` (`--no-dry-run`) skips the gate. Whatever ends a run (an error, the time limit, Ctrl-C), the
robot is told to stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from cap.episode import Episode
from cap.errors import CapError
from robot_api.protocols import SafetyError
from robot_api.ros.bridge import RobotError
from robot_api.ros.safety import Guarded
from robot_api.tabletop import TabletopAPI
from robot_api.tasks import Instance, Task, get_task
from robot_api.twin import Switch, build_twin
from sandbox import Outcome, Sandbox

POLICY_MODULES = ("numpy", "shapely", "math")
ERRORS = (SafetyError, RobotError)


class RosSession:
    def __init__(
        self,
        url: str,
        config: Any = None,
        extra_api: Mapping[str, Callable[..., Any]] | None = None,
        timeout: float = 120.0,
        memory_mb: int = 1024,
        on_say: Callable[[str], None] | None = None,
        dry_run: bool = True,
    ):
        from robot_api.ros import connect

        self.url, self.timeout, self.dry_run = url, timeout, dry_run
        self.last_dry_run: dict[str, Any] | None = None
        self._rehearsed: tuple[str, str] | None = None
        self.arm = connect(url, config)
        self.robot, self.perception = self.arm.robot, self.arm.perception
        self.switch = Switch(self.robot, self.perception)
        self._rehearsing = False
        self.api = TabletopAPI(
            self.switch,
            self.switch,
            on_say=(lambda text: None if self._rehearsing else on_say(text)) if on_say else None,
        )
        self._rehearsal = Rehearsal()
        try:
            self.sandbox = Sandbox(
                api={**self.api.functions(), **self._rehearsal.wrap(dict(extra_api or {}))},
                modules=POLICY_MODULES,
                timeout=timeout,
                count_api_time=False,  # nested LMPs answer on the host's time, not the policy's
                memory_mb=memory_mb,
                profile="policy",
                errors=ERRORS,
            )
        except BaseException:
            self.arm.close()
            raise
        self.instance: Instance | None = None
        self.task: Task | None = None

    def close(self) -> None:
        try:
            self.sandbox.close()
        finally:
            self.arm.close()

    def __enter__(self) -> RosSession:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close()
        if isinstance(
            exc, RobotError
        ):  # e.g. no detections to read the scene from: a clear error, no traceback
            raise CapError(
                f"robot: {exc}", hint=f"check the robot with: cap doctor --robot {self.url}"
            ) from None

    @property
    def sim(self) -> RobotView:
        """What commands treat as "the simulator": `stop()` stops the robot; anything else (pictures) is
        answered by a PyBullet twin of the scene as perceived when first asked."""
        return RobotView(self)

    def setup(self, task_name: str, seed: int) -> Instance:
        """The task's command and checker. The scene is the robot's own: nothing is reset or moved."""
        self.task = get_task(task_name)
        self.instance = self.task.instance(seed)
        self.api.said.clear()
        try:  # a robot that cannot see is a clear error now, before any command is generated
            self.perception.object_names()
        except RobotError as exc:
            raise CapError(
                f"robot: {exc}", hint=f"check the robot with: cap doctor --robot {self.url}"
            ) from None
        return self.instance

    def check(self) -> tuple[bool | None, str]:
        """The task's checker on the perceived scene; a robot that cannot be read leaves it undecided."""
        return self._check_safely()

    def _check(self) -> tuple[bool | None, str]:
        """The task's checker on the perceived scene, when the robot sees the task's objects."""
        if self.task is None or self.instance is None:
            return None, "no task"
        expected = sorted(name for name, _ in self.instance.objects)
        seen = sorted(self.perception.object_names())
        if seen != expected:
            return False, f"the robot sees {seen}, not this task's objects {expected}"
        return self.task.check(self.perception, self.instance)

    def run_code(self, code: str, inputs: Mapping[str, Any] | None = None) -> Outcome:
        return self.sandbox.run(code, inputs=inputs)

    def episode(self, code: str, inputs: Mapping[str, Any] | None = None) -> Episode:
        """`perform` (the twin's dry run gates the robot run), then check the task."""
        started = time.perf_counter()
        said_before = len(self.api.said)
        outcome = self.perform(code, inputs)
        success, reason = self._check_safely() if self.task else (None, "")
        inst = self.instance
        return Episode(
            task=inst.task if inst and self.task else None,
            seed=inst.seed if inst and self.task else None,
            command=inst.command if inst else "",
            status=outcome.status,
            task_success=success,
            reason=reason,
            error=outcome.error,
            stdout=outcome.stdout,
            said=self.api.said[said_before:],
            seconds=time.perf_counter() - started,
            code=code,
            extra=self.extras(),
        )

    def _dry_run(self, code: str, inputs: Mapping[str, Any] | None) -> dict[str, Any]:
        return self._rehearse(code, inputs)[1]

    def _rehearse(
        self, code: str, inputs: Mapping[str, Any] | None, observe: Callable[[], None] | None = None
    ) -> tuple[Outcome, dict[str, Any]]:
        started = time.perf_counter()
        twin = build_twin(self.perception, self.robot.ee_pose()[0])
        try:
            self.switch.point_at(Guarded(twin, self.robot.limits), twin)
            self._rehearsing = self._rehearsal.recording = True
            out = self.sandbox.run(code, inputs=inputs)
            if observe is not None:
                observe()  # the API still reads the twin
        finally:
            self._rehearsing = self._rehearsal.recording = False
            self.switch.point_at(self.robot, self.perception)
            twin.close()
        dry = {"status": out.status, "error": out.error, "seconds": round(time.perf_counter() - started, 3)}
        self.last_dry_run = dry
        return out, dry

    # -- the face `cap.llm_episode` drives (attempts rehearsed, the clean one performed) ---------------
    def rehearse(
        self,
        code: str,
        inputs: Mapping[str, Any] | None = None,
        observe: Callable[[], None] | None = None,
    ) -> Outcome:
        """A run on a PyBullet twin of the perceived scene: the robot does not move, nothing is said.
        `observe` is called after the run while the API still reads the twin (the world the run left)."""
        said_before = len(self.api.said)
        self._rehearsal.start()
        try:
            out, dry = self._rehearse(code, inputs, observe)
        finally:
            del self.api.said[said_before:]
        self._rehearsed = (code, dry["status"])
        return out

    def perform(self, code: str, inputs: Mapping[str, Any] | None = None) -> Outcome:
        """The run on the robot, behind the gate: unless this very program was just rehearsed cleanly (and
        the dry run is not switched off), it is rehearsed on the twin first and nothing moves if that fails."""
        rehearsed, self._rehearsed = self._rehearsed, None
        if self.dry_run and rehearsed != (code, "ok"):
            out = self.rehearse(code, inputs)
            self._rehearsed = None
            if out.status != "ok":
                return Outcome(
                    out.status,
                    error=f"dry run on the PyBullet twin failed, nothing was sent to the robot: {out.error}",
                )
        elif not self.dry_run:
            self.last_dry_run = {"skipped": True}
        return self._on_robot(code, inputs)

    def extras(self) -> dict[str, Any]:
        return {"robot": self.url, "dry_run": self.last_dry_run or {"skipped": True}}

    def _on_robot(self, code: str, inputs: Mapping[str, Any] | None) -> Outcome:
        self.robot.rearm(deadline=time.monotonic() + self.timeout)
        outcome = None
        try:
            outcome = self.sandbox.run(code, inputs=inputs)
        finally:
            if outcome is None or outcome.status != "ok" or self.robot.halted:
                self.robot.stop()  # an error, the time limit, Ctrl-C: the robot holds still
        if outcome.status == "ok" and self.robot.halted:  # the policy swallowed a robot failure
            return Outcome(
                "error", error=f"the robot was stopped: {self.robot.halted}", stdout=outcome.stdout
            )
        return outcome

    def _check_safely(self) -> tuple[bool | None, str]:
        try:
            return self._check()
        except RobotError as exc:
            return None, f"could not check the task: {exc}"


class RobotView:
    """`session.sim` for a robot session: stop() reaches the robot; rendering reads a twin built on demand."""

    def __init__(self, session: RosSession):
        self._session = session
        self._twin: Any = None

    def stop(self) -> None:
        self._session.robot.stop()

    def close(self) -> None:
        if self._twin is not None:
            self._twin.close()
            self._twin = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._twin is None:
            s = self._session
            self._twin = build_twin(s.perception, s.robot.ee_pose()[0])
        return getattr(self._twin, name)


class Rehearsal:
    """The extra API (nested LMPs: `parse_obj_name`, ...) answers the robot run exactly as it answered the dry
    run: calls are recorded while rehearsing and replayed, in order, for the same arguments. So the robot runs
    the program that was rehearsed, not a fresh sample of it; a call the dry run never made goes through."""

    def __init__(self) -> None:
        self.recording = False
        self._answers: dict[tuple[str, str], list[Any]] = {}

    def start(self) -> None:
        self._answers = {}

    def wrap(self, functions: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
        return {name: self._wrap(name, fn) for name, fn in functions.items()}

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            key = (name, repr((args, sorted(kwargs.items()))))
            if self.recording:
                value = fn(*args, **kwargs)
                self._answers.setdefault(key, []).append(value)
                return value
            recorded = self._answers.get(key)
            return recorded.pop(0) if recorded else fn(*args, **kwargs)

        call.__name__ = getattr(fn, "__name__", name)
        call.__doc__ = fn.__doc__
        return call
