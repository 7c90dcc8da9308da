"""One run of a policy, as every command reports it.

`status` is the sandbox's ("ok", "error", "violation", "timeout", "resource") or "infra_error": the episode
failed for a reason outside the model (see `cap.llm_episode`) and measures nothing. `attempts` lists every
program tried for an LLM command (`lmp.program.Attempt.record`), in order; empty for `cap exec`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Episode:
    task: str | None
    seed: int | None
    command: str
    status: str
    task_success: bool | None
    reason: str = ""
    error: str = ""
    stdout: str = ""
    said: list[str] = field(default_factory=list)
    seconds: float = 0.0
    code: str = ""
    functions: list[str] = field(default_factory=list)
    llm_calls: int = 0
    # tokens the model processed for this episode, {"prompt": n, "completion": m} (cached answers excluded)
    llm_tokens: dict[str, int] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    executed: bool = True  # False when the code was only generated and shown (--no-exec, :debug on)
    extra: dict[str, Any] = field(default_factory=dict)  # keys a session adds (a robot: "robot", "dry_run")

    @property
    def infra_error(self) -> bool:
        return self.status == "infra_error"

    def pinned(self) -> dict[str, Any]:
        """The JSON object `cap exec`/`cap run --json` print (ARCHITECTURE.md): the pinned keys in their order,
        then the extensions `attempts` (every program tried), `said` (every `say` message, in order) and `executed`."""
        return {
            "status": self.status,
            "task": self.task,
            "seed": self.seed,
            "task_success": self.task_success,
            "error": self.error,
            "stdout": self.stdout,
            "functions": self.functions,
            "llm_calls": self.llm_calls,
            "seconds": round(self.seconds, 3),
            "attempts": self.attempts,  # extension
            "said": list(self.said),
            "executed": self.executed,
            **self.extra,
        }

    def record(self) -> dict[str, Any]:
        return asdict(self)
