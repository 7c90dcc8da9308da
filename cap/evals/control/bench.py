"""control as a `TrialBenchmark`: every (task, seed) episode under each condition (with or without the hint)."""

from __future__ import annotations

from typing import Any

from cap.evals.common.llm import WatchedClient
from cap.evals.control import generate as gen
from cap.evals.control.score import EnvDriver, run_episode
from cap.evals.control.tasks import TASKS, Episode, episodes

PAPER = {"hint": "solved (qualitative)"}
PAPER_NOTE = (
    "paper: a PD controller written by fgen from a hint keeps the cart-pole up (a demonstration, no rate); "
    "success here is the environment's own (CartPole-v1: 500 steps; MountainCar-v0: the flag within 200)."
)


class Control:
    name = "control"
    conditions = gen.CONDITIONS
    paper = PAPER

    def __init__(
        self,
        client: Any,
        api: str = "chat",
        tasks: tuple[str, ...] = tuple(TASKS),
        seeds: int = 5,
        timeout: float = 10.0,
    ):
        self.client = WatchedClient(client)
        self.lmp = gen.make_lmp(self.client, api)
        self.tasks = tasks
        self.seeds = seeds
        self.timeout = timeout
        self._controllers: dict[tuple[str, str], tuple[str, list[str], str]] = {}
        self._sandbox: Any = None
        self._driver = EnvDriver()

    def items(self) -> list[Episode]:
        return episodes(self.tasks, self.seeds)

    def __enter__(self) -> Control:
        from sandbox import Sandbox

        self._sandbox = Sandbox(api={"env_step": self._driver.step}, profile="policy", timeout=self.timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sandbox is not None:
            self._sandbox.close()

    def controller(self, condition: str, task: str) -> tuple[str, list[str], str]:
        """The generated controller of `task` under `condition` (asked once per run, shared by its seeds)."""
        key = (condition, task)
        if key not in self._controllers:
            self._controllers[key] = gen.generate(TASKS[task], condition, self.lmp, self.client)
        return self._controllers[key]

    def batch_key(self, condition: str, item: Episode) -> tuple[str, str]:
        """Trials that share one generated controller: a distributed run sends them to one worker together."""
        return condition, item.task

    def attempt(self, condition: str, item: Episode) -> dict[str, Any]:
        code, functions, error = self.controller(condition, item.task)
        record: dict[str, Any] = {"code": code, "functions": functions}
        if error:
            return {**record, "status": "no_code", "correct": False, "steps": 0, "error": error}
        result = run_episode(TASKS[item.task], code, item.seed, self._sandbox, self._driver)
        return {
            **record,
            "status": result.status,
            "correct": result.success,
            "steps": result.steps,
            "error": result.error,
            "sandbox_seconds": round(result.sandbox_seconds, 4),
        }
