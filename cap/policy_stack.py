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
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cap.policy_globals import PRELUDE
from cap.session_vars import KEEP as SESSION_KEEP
from cap.session_vars import SessionVars, top_level_functions
from lmp.fgen import FunctionGenerator, bound_names
from lmp.library import FunctionLibrary, GeneratedFunction
from lmp.lmp import LMP, LMPConfig
from lmp.program import Program, Run
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


def tabletop_configs(api: str = "chat", repair_rounds: int = 1) -> dict[str, LMPConfig]:
    """The original Code as Policies LMP configs (prefixes, stops, sessions, return values)."""
    common = {"api": api, "repair_rounds": repair_rounds}
    return {
        "tabletop_ui": LMPConfig("tabletop_ui", "tabletop_ui", maintain_session=True, **common),
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
            **common,
        ),
    }


@dataclass(frozen=True)
class StackOptions:
    mode: str = "hierarchical"  # or "flat": no function generation
    max_depth: int = 4
    max_workers: int = 4
    api: str = "chat"
    repair_rounds: int = 1

    def __post_init__(self) -> None:
        if self.mode not in ("flat", "hierarchical"):
            raise ValueError(f"mode must be 'flat' or 'hierarchical', not {self.mode!r}")


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
        configs = dict(configs or tabletop_configs(self.options.api, self.options.repair_rounds))
        nested = [{"name": n, "signature": s, "doc": d} for n, (s, d) in NESTED_DOCS.items()]
        variables = {"imports": IMPORTS, "api": self.api, "nested": nested, "places": list(PLACES)}
        known = {f["name"] for f in self.api} | set(NESTED_DOCS) | bound_names(ast.parse(IMPORTS))
        self.fgen = FunctionGenerator(
            LMP(configs["fgen"], client, variables),
            self.library,
            known=known,
            max_depth=self.options.max_depth,
            max_workers=self.options.max_workers,
            hierarchical=self.options.mode == "hierarchical",
        )
        executor = self._execute
        self.nested = {
            n: Program(LMP(configs[n], client, variables), self.fgen, executor) for n in NESTED_DOCS
        }
        self.ui = Program(LMP(configs["tabletop_ui"], client, variables), self.fgen, executor)
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
        return self._run_code(with_imports(code), return_name=return_name, inputs=dict(inputs))

    def prepare(self, command: str, context: str) -> Run:
        """tabletop_ui code for `command` plus every function it needs; run `self.with_session(program, run)`
        with `self.session_inputs()`, where `program = with_imports(run.program)`."""
        return self.ui.prepare(command, context)

    def with_session(self, program: str, run: Run) -> str:
        """`program` plus, when the UI LMP maintains a session (as in the original), the lines that carry the
        command's variables to the next command. They come after the code: its line numbers do not move."""
        if not self.ui.lmp.config.maintain_session:
            return program
        return self.session_vars.program(program, run.generation.code)

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


def scene_context(object_names: Iterable[str]) -> str:
    """The `objects = [...]` line the UI LMP sees before a command, as in the original prompts."""
    return f"objects = {list(object_names)}"
