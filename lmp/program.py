"""An LMP with its function generator and an injected executor: query in, code generated, code run.

`lmp` has no idea what runs the code (a sandbox, a robot, a test double): the executor is any callable
`(code, return_name, inputs) -> result` whose result has `status` ("ok" or anything else), `value`, `error`
and, optionally, `line` (the failing line of the code it was given). A `Program` called like a function is how
nested LMPs (`parse_obj_name(...)`) look to a policy.

Execution feedback (`solve`, and nested calls with `repair > 0`): when a program fails as it runs (an
exception, a refused motion, a sandbox violation) or cannot be assembled (a helper that could not be
generated), the code, the error and its line go back to the model for a corrected program, for a bounded
number of rounds; a failure inside a generated helper goes to the function generator for a corrected helper.
Best-of-K draws K programs and keeps the first that runs cleanly, or the one a selector picks among the
clean ones. Every try is an `Attempt`. Only the outcome of running the code is feedback; whoever judges
success (a task checker) never is. A model that cannot be reached (`LLMUnavailable`) ends the search at
once: it is not a failure of the program.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lmp.fgen import FunctionGenerator, definitions_only
from lmp.library import GeneratedFunction
from lmp.lmp import LMP, Failure, Generation, LLMUnavailable, LMPError

RESAMPLE_TEMPERATURE = 0.8  # a fix after the greedy one repeated the failed program or gave no code


def same_program(a: str, b: str) -> bool:
    """The same statements, comments, blank lines and `say(...)` messages aside."""
    return _statements(a) == _statements(b)


def _statements(code: str) -> list[str]:
    lines = (line.rstrip() for line in code.splitlines())
    return [x for x in lines if x.strip() and not x.lstrip().startswith(("#", "say("))]


_LINE_SUFFIX = re.compile(r" \(line \d+( of [^)]*)?\)$")


class ExecResult(Protocol):
    status: str
    value: Any
    error: str


class Executor(Protocol):
    def __call__(self, code: str, return_name: str | None, inputs: Mapping[str, Any]) -> ExecResult: ...


RunProgram = Callable[[str], Any]  # the whole program text -> an ExecResult
Select = Callable[[list["Attempt"]], "Attempt"]  # clean attempts -> the one to keep


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


@dataclass
class Attempt:
    """One program tried: how it was obtained, and how running it went.

    kind: "generate" (the answer to the query), "sample" (one of K, best-of-K), "fix" (a corrected program
    after a failure), "fix-helper" (the same code with a corrected generated helper). status: the executor's
    status ("ok", "error", "violation", "timeout", "resource"), or "no_code" when no runnable program came of
    the answer (no code, a syntax error, a helper that could not be generated).
    """

    kind: str
    code: str = ""
    sample: int = 0
    round: int = 0
    functions: list[str] = field(default_factory=list)  # helpers generated for this attempt
    status: str = "pending"
    error: str = ""
    line: int | None = None  # the failing line, in `code` (or in the helper `where` names)
    where: str = ""  # "" (the code itself), "helper NAME", "context"
    fixed_helper: str = ""  # for "fix-helper": the helper that was regenerated
    nested: list[dict[str, Any]] = field(
        default_factory=list
    )  # nested LMP calls that needed more than one try
    run: Run | None = field(default=None, repr=False, compare=False)
    failure: Failure | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def record(self) -> dict[str, Any]:
        """The JSON form (episode records and `--json` output)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "round": self.round,
            "sample": self.sample,
            "status": self.status,
            "error": self.error,
            "line": self.line,
            "where": self.where,
            "code": self.code,
            "functions": list(self.functions),
        }
        if self.fixed_helper:
            out["fixed_helper"] = self.fixed_helper
        if self.nested:
            out["nested"] = list(self.nested)
        return out


@dataclass
class Solution:
    """What `solve` found: the attempts in order, and the run of the clean one it kept (None if none ran cleanly)."""

    attempts: list[Attempt]
    run: Run | None

    @property
    def ok(self) -> bool:
        return self.run is not None


class Program:
    """An LMP, the function generator for what its code calls, and the executor its code runs with.

    `repair` bounds the fix rounds of a nested call (`__call__`); `solve` takes its own bounds. `journal`, when
    given, receives one record per nested call that needed more than one attempt or failed; `nested_records`,
    when given, is called after each attempt of this program ran and returns (and forgets) the records its
    nested calls journaled meanwhile, which become `Attempt.nested`.
    """

    def __init__(
        self,
        lmp: LMP,
        fgen: FunctionGenerator | None = None,
        executor: Executor | None = None,
        repair: int = 0,
        journal: Callable[[dict[str, Any]], None] | None = None,
        nested_records: Callable[[], list[dict[str, Any]]] | None = None,
    ):
        if repair < 0:
            raise ValueError("repair rounds must be >= 0")
        self.lmp = lmp
        self.fgen = fgen
        self.executor = executor
        self.repair = repair
        self.journal = journal
        self.nested_records = nested_records  # drains what nested calls journaled while an attempt ran
        self._memo: dict[tuple[str, str], str] = {}  # (query, context) -> a program that ran cleanly
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.lmp.name

    def forget(self) -> None:
        """Drop the programs remembered from earlier calls (a new command, or a new scene, starts here)."""
        with self._lock:
            self._memo.clear()

    # -- one program --------------------------------------------------------------------------------
    def prepare(self, query: str, context: str = "") -> Run:
        """Generate the code and every function it needs; nothing runs yet."""
        return self._assemble(self.lmp.generate(query, context))

    def _assemble(self, generation: Generation) -> Run:
        functions = self.fgen.resolve(generation.to_exec) if self.fgen else []
        return Run(generation, functions, self._program(generation))

    def _program(self, generation: Generation) -> str:
        library = self.fgen.library.source() if self.fgen else ""
        return f"{library}\n\n{generation.to_exec}" if library else generation.to_exec

    def run(self, query: str, context: str = "", inputs: Mapping[str, Any] | None = None) -> Run:
        """Generate, then execute with the executor; the outcome is in `run.outcome` (no repair)."""
        if self.executor is None:
            raise LMPError(f"LMP {self.name} has no executor bound to run its code")
        prepared = self.prepare(query, context)
        prepared.outcome = self.executor(
            prepared.program, self.lmp.config.return_val_name, dict(inputs or {})
        )
        return prepared

    def __call__(self, query: str, context: str = "", **inputs: Any) -> Any:
        """Run as a nested LMP: return the value of `return_val_name`, or raise with the code's error.

        With `repair > 0` a failing answer is fixed up to that many rounds. A program that ran cleanly is
        remembered for its (query, context) until `forget`, so asking the same thing again (a loop, or the real
        run after a dry run) runs the same code without asking the model.
        """
        if self.executor is None:
            raise LMPError(f"LMP {self.name} has no executor bound to run its code")
        executor, return_name = self.executor, self.lmp.config.return_val_name

        def execute(program: str) -> Any:
            return executor(program, return_name, dict(inputs))

        with self._lock:
            remembered = self._memo.get((query, context))
        if remembered is not None:
            outcome = execute(remembered)
            if outcome.status == "ok":
                return outcome.value
        solution = self.solve(query, context, execute, rounds=self.repair)
        last = solution.attempts[-1]
        if self.journal is not None and (len(solution.attempts) > 1 or not solution.ok):
            self.journal(
                {"lmp": self.name, "query": query, "attempts": [a.record() for a in solution.attempts]}
            )
        if solution.run is None:
            tried = f" (after {len(solution.attempts)} attempts)" if len(solution.attempts) > 1 else ""
            raise NestedLMPError(f"{self.name}({query!r}) failed{tried}: {last.error}")
        with self._lock:
            self._memo[(query, context)] = solution.run.program
        return solution.run.outcome.value

    # -- attempts, samples and fixes ----------------------------------------------------------------
    def solve(
        self,
        query: str,
        context: str,
        execute: RunProgram,
        rounds: int = 0,
        samples: int = 1,
        select: Select | None = None,
    ) -> Solution:
        """Find a program for `query` that runs cleanly under `execute`: `samples` programs first, then up to
        `rounds` fixes of the first one that had code, each fed the last failure.

        Among samples, the first clean one wins, unless `select` is given: then every sample runs and
        `select(clean_attempts)` picks the winner. Running cleanly says a program did not fail, not that it
        did the right thing; a selector can weigh what the clean ones did (e.g. keep the outcome most of them
        agree on), which the first-clean rule cannot. It sees only what `execute` saw, never a checker.

        `execute` decides where attempts run (a dry run on a simulated copy, for a robot); the caller runs the
        winning `Solution.run.program` for real if it needs to. Raises LLMUnavailable if the model cannot be
        reached; every other failure is an attempt in the solution.
        """
        attempts: list[Attempt] = []
        if samples > 1:
            candidates: list[Generation | LMPError] = self.lmp.samples(query, context, samples)
            kind = "sample"
        else:
            try:
                candidates = [self.lmp.generate(query, context)]
            except LLMUnavailable:
                raise
            except LMPError as exc:
                candidates = [exc]
            kind = "generate"
        for index, candidate in enumerate(candidates):
            attempt = self._attempt(candidate, execute, kind, sample=index)
            attempts.append(attempt)
            if attempt.ok and (select is None or samples == 1):
                return Solution(attempts, attempt.run)
        clean = [a for a in attempts if a.ok]
        if clean:
            chosen = select(clean) if select is not None else clean[0]
            if not any(chosen is a for a in clean):
                raise ValueError("select must return one of the clean attempts it was given")
            return Solution(attempts, chosen.run)
        base = next((a for a in attempts if a.run is not None), None)
        helpers = True  # a failure in a helper is fixed in the helper, unless fixing it gave no code
        sampled = False  # the greedy fix of `base` was asked for already and gave nothing to run
        for round_ in range(1, rounds + 1):
            if base is None or base.failure is None:
                break
            attempt = self._fix(base, execute, round_, helpers, sampled)
            attempts.append(attempt)
            if attempt.ok:
                return Solution(attempts, attempt.run)
            if attempt.run is not None:
                base, helpers, sampled = attempt, True, False
            elif attempt.kind == "fix":  # no usable code: next round, a sampled fix of the same program
                sampled = True
            else:  # the helper could not be fixed: next round, fix the code that calls it
                helpers = False
        return Solution(attempts, None)

    def attempt(self, candidate: Generation | LMPError, execute: RunProgram, sample: int = 0) -> Attempt:
        """One try of a program chosen elsewhere: its helpers generated, then run under `execute`, with no
        repair. For measuring programs one by one (e.g. each of K samples for pass@k), not for solving."""
        return self._attempt(candidate, execute, "sample", sample=sample)

    def _attempt(
        self,
        candidate: Generation | LMPError,
        execute: RunProgram,
        kind: str,
        sample: int = 0,
        round_: int = 0,
    ) -> Attempt:
        if isinstance(candidate, LMPError):
            return Attempt(kind, sample=sample, round=round_, status="no_code", error=str(candidate))
        before = set(self.fgen.library.names()) if self.fgen else set()
        attempt = Attempt(kind, candidate.code, sample=sample, round=round_)
        try:
            run = self._assemble(candidate)
        except LLMUnavailable:
            raise
        except (LMPError, SyntaxError) as exc:
            attempt.status, attempt.error = "no_code", f"the helper functions could not be generated: {exc}"
            attempt.functions = self._new_functions(before)
            attempt.run = Run(candidate, [], self._program(candidate))
            attempt.failure = Failure(attempt.error)
            return attempt
        attempt.functions = [fn.name for fn in run.functions]
        return self._execute(attempt, run, execute)

    def _execute(self, attempt: Attempt, run: Run, execute: RunProgram) -> Attempt:
        attempt.run = run
        try:
            run.outcome = execute(run.program)
        finally:
            if self.nested_records is not None:
                attempt.nested = self.nested_records()
        attempt.status = str(run.outcome.status)
        if attempt.ok:
            return attempt
        attempt.failure, attempt.where, attempt.line = self._locate(run, run.outcome)
        attempt.error = attempt.failure.error  # its line is `line`, counted in the code `where` names
        return attempt

    def _new_functions(self, before: set[str]) -> list[str]:
        return [n for n in self.fgen.library.names() if n not in before] if self.fgen else []

    def _locate(self, run: Run, outcome: Any) -> tuple[Failure, str, int | None]:
        """The failure as the model is told it: the error, and which line of which code it is on."""
        error = _LINE_SUFFIX.sub("", str(outcome.error))
        line = getattr(outcome, "line", None)
        if not isinstance(line, int) or line < 1:
            return Failure(error), "", None
        lines = run.program.splitlines()
        text = lines[line - 1] if line <= len(lines) else ""
        generation = run.generation
        # the program is `library + "\n\n" + to_exec`, the library as it was when the program was built
        # (nested calls may have added functions to the library since)
        prefix = run.program[: len(run.program) - len(generation.to_exec)]
        library = prefix[:-2] if prefix.endswith("\n\n") else prefix
        library_lines = len(prefix.splitlines())  # the library's lines and the blank line after them
        if line <= library_lines and library:
            name, first = _function_at(library, line)
            if name:
                where = f"the helper function `{name}`"
                return Failure(error, line - first + 1, text, where), f"helper {name}", line - first + 1
            return Failure(error), "", None
        rest = line - library_lines
        context_lines = (
            len(generation.context.splitlines())
            if self.lmp.config.include_context and generation.context
            else 0
        )
        if rest <= context_lines:
            return Failure(error, None, "", "the context"), "context", None
        code_line = rest - context_lines
        return Failure(error, code_line, text), "", code_line

    def _fix(
        self,
        base: Attempt,
        execute: RunProgram,
        round_: int,
        helpers: bool = True,
        sampled: bool = False,
    ) -> Attempt:
        assert base.run is not None and base.failure is not None
        helper = base.where[len("helper ") :] if base.where.startswith("helper ") else ""
        if helper and helpers and self.fgen is not None and self.fgen.library.get(helper) is not None:
            return self._fix_helper(base, helper, execute, round_)
        generation, failure = base.run.generation, base.failure
        try:
            fixed = None if sampled else self.lmp.fix(generation, failure)
            if fixed is None or same_program(fixed.code, generation.code):
                # A greedy model often answers a fix request with the failed code itself (every fix of the
                # completions API in our tuning runs): running it again would only fail again, so draw one
                # sampled answer instead; and after a fix with no usable code (a sampled answer can be
                # empty), asking greedily again would repeat the same, so only a sampled one is drawn. The
                # transcript keeps each (same key, in order), so replays agree.
                fixed = self.lmp.fix(generation, failure, temperature=RESAMPLE_TEMPERATURE)
        except LLMUnavailable:
            raise
        except LMPError as exc:
            return Attempt("fix", round=round_, status="no_code", error=str(exc))
        return self._attempt(fixed, execute, "fix", round_=round_)

    def _fix_helper(self, base: Attempt, name: str, execute: RunProgram, round_: int) -> Attempt:
        """Regenerate the generated helper the failure is in (fgen's fix request), keep the caller's code."""
        assert self.fgen is not None and base.run is not None and base.failure is not None
        old = self.fgen.library.get(name)
        assert old is not None
        fgen_lmp = self.fgen.lmp
        use_query, _ = fgen_lmp.query_text(old.signature or f"{name}()")
        shown = Generation(fgen_lmp.name, old.signature or f"{name}()", "", use_query, old.source, old.source)
        attempt = Attempt("fix-helper", base.code, round=round_, fixed_helper=name)
        before = set(self.fgen.library.names())
        try:
            fixed = fgen_lmp.fix(shown, base.failure)
            source = definitions_only(fixed.code)
            defined = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
            if name not in defined:
                raise LMPError(
                    f"the fixed helper does not define {name!r} (it defines {defined or 'nothing'})"
                )
            self.fgen.library.add(GeneratedFunction(name, source, old.signature, old.depth, old.caller))
            made = self.fgen.resolve(source)
        except LLMUnavailable:
            raise
        except (LMPError, SyntaxError) as exc:
            attempt.status, attempt.error = "no_code", f"fixing helper {name!r} failed: {exc}"
            attempt.functions = self._new_functions(before)
            return attempt
        attempt.functions = [name, *(fn.name for fn in made)]
        generation = base.run.generation
        return self._execute(attempt, Run(generation, [], self._program(generation)), execute)


def _function_at(library: str, line: int) -> tuple[str, int]:
    """(name, first line) of the top-level function of `library` that holds `line`, or ("", 0)."""
    try:
        tree = ast.parse(library)
    except SyntaxError:
        return "", 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or node.lineno):
            return node.name, node.lineno
    return "", 0
