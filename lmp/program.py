"""An LMP with its function generator and an injected executor: query in, code generated, code run.

`lmp` has no idea what runs the code (a sandbox, a robot, a test double): the executor is any callable
`(code, return_name, inputs) -> result` whose result has `status` ("ok" or anything else), `value` and
`error`. A `Program` called like a function is how nested LMPs (`parse_obj_name(...)`) look to a policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lmp.fgen import FunctionGenerator
from lmp.library import GeneratedFunction
from lmp.lmp import LMP, Generation, LMPError


class ExecResult(Protocol):
    status: str
    value: Any
    error: str


class Executor(Protocol):
    def __call__(self, code: str, return_name: str | None, inputs: Mapping[str, Any]) -> ExecResult: ...


class NestedLMPError(LMPError):
    """A nested LMP's own code failed; the calling policy sees this as the error of its call."""


@dataclass
class Run:
    """One command carried through: what was generated, which functions were made, and how it ran."""

    generation: Generation
    functions: list[GeneratedFunction] = field(default_factory=list)
    program: str = ""  # exactly what was executed: library definitions, then context and code
    outcome: Any = None

    @property
    def ok(self) -> bool:
        return self.outcome is not None and self.outcome.status == "ok"


class Program:
    def __init__(self, lmp: LMP, fgen: FunctionGenerator | None = None, executor: Executor | None = None):
        self.lmp = lmp
        self.fgen = fgen
        self.executor = executor

    @property
    def name(self) -> str:
        return self.lmp.name

    def prepare(self, query: str, context: str = "") -> Run:
        """Generate the code and every function it needs; nothing runs yet."""
        generation = self.lmp.generate(query, context)
        functions = self.fgen.resolve(generation.to_exec) if self.fgen else []
        library = self.fgen.library.source() if self.fgen else ""
        program = f"{library}\n\n{generation.to_exec}" if library else generation.to_exec
        return Run(generation, functions, program)

    def run(self, query: str, context: str = "", inputs: Mapping[str, Any] | None = None) -> Run:
        """Generate, then execute with the executor; the outcome is in `run.outcome`."""
        if self.executor is None:
            raise LMPError(f"LMP {self.name} has no executor bound to run its code")
        prepared = self.prepare(query, context)
        prepared.outcome = self.executor(
            prepared.program, self.lmp.config.return_val_name, dict(inputs or {})
        )
        return prepared

    def __call__(self, query: str, context: str = "", **inputs: Any) -> Any:
        """Run as a nested LMP: return the value of `return_val_name`, or raise with the code's error."""
        run = self.run(query, context, inputs)
        if not run.ok:
            raise NestedLMPError(f"{self.name}({query!r}) failed: {run.outcome.error}")
        return run.outcome.value
