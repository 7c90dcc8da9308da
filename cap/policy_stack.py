"""The Code as Policies LMP stack for the tabletop, wired: tabletop_ui, the nested LMPs, fgen, one library.

`lmp` knows nothing of robots or sandboxes; this module is where they meet. The nested LMPs
(`parse_obj_name`, `parse_position`, `parse_question`, `transform_shape_pts`) become plain callables handed
to the sandbox as API functions: a policy calls one, the call crosses to the host, the nested LMP generates
its code there, and that code runs in the sandbox too (returning `ret_val`). All LMPs share one LLM client
(cached, transcribed) and one `FunctionLibrary`, so a helper generated for one is reused by the others.

The sandbox is created with the nested callables already in its API, so the executor is bound afterwards:

    stack = PolicyStack(client, TabletopAPI.describe())
    session = TabletopSession(extra_api=stack.nested_functions())
    stack.bind(session.sandbox.run)

Execution feedback (`StackOptions.repair`, `samples`): `solve` tries programs for a command with an executor
the caller chooses (a dry run on a simulated copy of the scene, see `cap.llm_episode`), feeding failures back;
nested LMPs repair their own answers the same way while a policy runs. Every LLM call goes through a
`FailureWatch`, so a model that could not be reached is known even when the policy caught the error a nested
call raised: that episode is an infrastructure failure, not the model's.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cap.policy_globals import PRELUDE
from cap.session_vars import KEEP as SESSION_KEEP
from cap.session_vars import SessionVars, top_level_functions
from lmp.fgen import FGEN_CHAT_SYSTEM, FunctionGenerator, bound_names
from lmp.library import FunctionLibrary, GeneratedFunction
from lmp.lmp import LMP, LMPConfig
from lmp.program import Program, Run, RunProgram, Select, Solution
from lmp.types import LLMError
from robot_api.scene import PLACES

# Every tabletop program (policies, nested LMP code, generated functions) runs after these lines (the
# original's fixed_vars, see cap.policy_globals), and the prompts show them.
IMPORTS = PRELUDE

NESTED_DOCS = {
    "parse_obj_name": ("parse_obj_name(query, context='')", "names of the objects a description refers to"),
    "parse_position": ("parse_position(query, context='')", "(x, y) position(s) a description refers to"),
    "parse_question": ("parse_question(query, context='')", "the answer to a question about the scene"),
    "transform_shape_pts": (
        "transform_shape_pts(query, shape_pts)",
        "shape_pts moved/rotated/scaled as described",
    ),
}


def tabletop_configs(
    api: str = "chat", repair_rounds: int = 1, temperature: float = 0.0
) -> dict[str, LMPConfig]:
    """The original Code as Policies LMP configs (prefixes, stops, sessions, return values). `temperature`
    is the UI LMP's (best-of-K samples it); the nested LMPs and fgen stay greedy."""
    common = {"api": api, "repair_rounds": repair_rounds}
    return {
        "tabletop_ui": LMPConfig(
            "tabletop_ui", "tabletop_ui", maintain_session=True, temperature=temperature, **common
        ),
        "parse_obj_name": LMPConfig("parse_obj_name", "parse_obj_name", return_val_name="ret_val", **common),
        "parse_position": LMPConfig(
            "parse_position", "parse_position", stop=("#",), return_val_name="ret_val", **common
        ),
        "parse_question": LMPConfig("parse_question", "parse_question", return_val_name="ret_val", **common),
        "transform_shape_pts": LMPConfig(
            "transform_shape_pts",
            "transform_shape_pts",
            stop=("#",),
            return_val_name="new_shape_pts",
            **common,
        ),
        "fgen": LMPConfig(
            "fgen",
            "fgen",
            query_prefix="# define function: ",
            stop=("# define", "# example"),
            include_context=False,
            system=FGEN_CHAT_SYSTEM,
            **common,
        ),
    }


SELECTIONS = ("first", "consensus")  # how best-of-K picks among the samples that ran cleanly


@dataclass(frozen=True)
class StackOptions:
    mode: str = "hierarchical"  # or "flat": no function generation
    max_depth: int = 4
    max_workers: int = 4
    api: str = "chat"
    repair_rounds: int = 1  # syntax-error repairs of one answer (before anything runs)
    repair: int = 2  # execution-feedback rounds: a failed program, its error and line go back to the model
    samples: int = 1  # best-of-K: programs drawn per command, the first that runs cleanly is kept
    select: str = "first"  # or "consensus": all K run, the clean one whose outcome most agree on is kept
    temperature: float = 0.0  # the UI LMP's; best-of-K needs > 0

    def __post_init__(self) -> None:
        if self.mode not in ("flat", "hierarchical"):
            raise ValueError(f"mode must be 'flat' or 'hierarchical', not {self.mode!r}")
        if self.repair < 0:
            raise ValueError(f"repair rounds must be >= 0, not {self.repair}")
        if self.samples < 1:
            raise ValueError(f"samples must be at least 1, not {self.samples}")
        if self.select not in SELECTIONS:
            raise ValueError(f"select must be one of {', '.join(SELECTIONS)}, not {self.select!r}")
        if self.samples > 1 and self.temperature <= 0:
            raise ValueError(
                "best-of-K sampling needs a temperature above 0 (K greedy answers are one answer)"
            )

    @property
    def dry_run(self) -> bool:
        """Whether attempts run on a simulated copy first: only when there is more than one to choose from."""
        return self.repair > 0 or self.samples > 1


class FailureWatch:
    """The LLM client as the stack's LMPs see it: the same calls, plus a record of the first call that failed
    for good (connection, server errors after retries, a replay miss) since `clear`.

    A nested LMP's failure reaches the policy as an exception the policy may catch, so the stack cannot learn
    of it from the outcome; it learns of it here.
    """

    def __init__(self, client: Any):
        self.client = client
        self.failure: LLMError | None = None
        self._lock = threading.Lock()

    def complete(self, request: Any) -> Any:
        try:
            return self.client.complete(request)
        except LLMError as exc:
            with self._lock:
                if self.failure is None:
                    self.failure = exc
            raise

    def clear(self) -> None:
        with self._lock:
            self.failure = None


RunCode = Callable[..., Any]  # (code, return_name=..., inputs=...) -> Outcome, e.g. Sandbox.run


class PolicyStack:
    def __init__(
        self,
        client: Any,
        api: Iterable[Mapping[str, str]],
        options: StackOptions | None = None,
        library: FunctionLibrary | None = None,
        configs: Mapping[str, LMPConfig] | None = None,
    ):
        self.client = client
        self.options = options or StackOptions()
        self.library = library if library is not None else FunctionLibrary()
        self.api = [dict(f) for f in api]
        opts = self.options
        configs = dict(configs or tabletop_configs(opts.api, opts.repair_rounds, opts.temperature))
        self.watch = FailureWatch(client)
        self._nested_log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        nested = [{"name": n, "signature": s, "doc": d} for n, (s, d) in NESTED_DOCS.items()]
        variables = {"imports": IMPORTS, "api": self.api, "nested": nested, "places": list(PLACES)}
        known = {f["name"] for f in self.api} | set(NESTED_DOCS) | bound_names(ast.parse(IMPORTS))
        self.fgen = FunctionGenerator(
            LMP(configs["fgen"], self.watch, variables),
            self.library,
            known=known,
            max_depth=self.options.max_depth,
            max_workers=self.options.max_workers,
            hierarchical=self.options.mode == "hierarchical",
        )
        executor = self._execute
        self.nested = {
            n: Program(
                LMP(configs[n], self.watch, variables),
                self.fgen,
                executor,
                repair=opts.repair,
                journal=self._journal,
            )
            for n in NESTED_DOCS
        }
        self.ui = Program(
            LMP(configs["tabletop_ui"], self.watch, variables),
            self.fgen,
            executor,
            nested_records=self._drain_journal,
        )
        self.session_vars = SessionVars(reserved=known)
        self._run_code: RunCode | None = None

    def bind(self, run_code: RunCode) -> None:
        """Give the stack its executor (e.g. `session.sandbox.run`); nested LMPs run their code with it."""
        self._run_code = run_code

    def nested_functions(self) -> dict[str, Callable[..., Any]]:
        """The host functions the stack adds to the sandbox API: the nested LMPs as callables (they need `bind`
        before they are called) and the session's variable keeper (see cap.session_vars)."""
        return {**self.nested, SESSION_KEEP: self.session_vars.keep}

    def _execute(self, code: str, return_name: str | None, inputs: Mapping[str, Any]) -> Any:
        if self._run_code is None:
            raise RuntimeError("PolicyStack.bind(run_code) was not called: nothing can run the code")
        outcome = self._run_code(with_imports(code), return_name=return_name, inputs=dict(inputs))
        return without_imports_lines(outcome)

    def _journal(self, record: dict[str, Any]) -> None:
        with self._log_lock:
            self._nested_log.append(record)

    def _drain_journal(self) -> list[dict[str, Any]]:
        with self._log_lock:
            records, self._nested_log = self._nested_log, []
        return records

    def prepare(self, command: str, context: str) -> Run:
        """tabletop_ui code for `command` plus every function it needs; run `with_imports(self.with_session(run.program))`
        with `self.session_inputs()`."""
        return self.ui.prepare(command, context)

    def begin_command(self) -> None:
        """Before each command: forget the nested answers remembered for the last one and any model failure."""
        for program in self.nested.values():
            program.forget()
        self.watch.clear()
        self._drain_journal()

    def solve(
        self, command: str, context: str, execute: RunProgram, select: Select | None = None
    ) -> Solution:
        """Attempts at `command` (samples, then fixes) until one runs cleanly under `execute`, which gets the
        program without the import lines (add them with `with_imports`) and returns its outcome. `select`
        picks among clean samples (see `lmp.Program.solve`); whoever calls knows what the runs left behind."""
        return self.ui.solve(
            command,
            context,
            execute,
            rounds=self.options.repair,
            samples=self.options.samples,
            select=select,
        )

    def with_session(self, program: str) -> str:
        """`program` plus, when the UI LMP maintains a session (as in the original), the lines that carry the
        command's variables to the next command. They come after the code: its line numbers do not move.
        (Library definitions before the code bind no variables; the context's `objects` is re-bound anyway.)"""
        if not self.ui.lmp.config.maintain_session:
            return program
        return self.session_vars.program(program, program)

    def session_inputs(self) -> dict[str, Any]:
        """The variables earlier successful commands left, bound as globals of the next program."""
        return self.session_vars.inputs() if self.ui.lmp.config.maintain_session else {}

    def record_success(self, run: Run) -> None:
        """The command worked: it joins the prompt's history, its variables and top-level functions carry on."""
        self.ui.lmp.record_success(run.generation)
        if not self.ui.lmp.config.maintain_session:
            return
        self.session_vars.commit()
        for name, source in top_level_functions(run.generation.code).items():
            self.library.add(
                GeneratedFunction(name, source, signature=f"defined by the command {run.generation.query!r}")
            )

    def clear_session(self) -> None:
        """Forget the session's history and variables; generated functions stay (the REPL's :reset)."""
        self.ui.lmp.clear_history()
        self.session_vars.clear()

    def reset(self) -> None:
        """Forget the session: history, variables and generated functions (each benchmark episode starts clean)."""
        self.clear_session()
        self.library = FunctionLibrary()
        self.fgen.library = self.library


def with_imports(code: str) -> str:
    return f"{IMPORTS}\n{code}"


_IMPORT_LINES = len(IMPORTS.splitlines())
_LINE = re.compile(r"\(line (\d+)\)$")


def without_imports_lines(outcome: Any) -> Any:
    """An outcome of running `with_imports(code)` with its line numbers counted in `code` itself."""
    line = getattr(outcome, "line", None)
    if not dataclasses.is_dataclass(outcome) or not isinstance(line, int) or line <= _IMPORT_LINES:
        return outcome
    error = _LINE.sub(f"(line {line - _IMPORT_LINES})", str(outcome.error))
    return replace(outcome, line=line - _IMPORT_LINES, error=error)


def scene_context(object_names: Iterable[str]) -> str:
    """The `objects = [...]` line the UI LMP sees before a command, as in the original prompts."""
    return f"objects = {list(object_names)}"
