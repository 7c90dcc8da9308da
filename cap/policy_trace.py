"""Which line of a policy is running: for the line shown under each video frame and in the UI.

The sandbox reports only API calls to the host, not line numbers, so the program is instrumented before it is
sent: each simple statement that makes a call is prefixed, *on its own line*, with `cap_trace_line(N); `.
Line numbers therefore stay exactly as they were (errors still point at the right line) and the statement
runs unchanged. `cap_trace_line` is one more host callable in the sandbox API, reached by the same RPC as
`put_first_on_second`, so the host knows the current line whenever the robot moves. Nothing here trusts the
sandbox: a marker is only an integer that selects a line of text the host already has.

`TracingSession` is a `TabletopSession` that does this for every program the episode runs (nested LMPs run
their own code through `session.sandbox.run` directly and are not traced: their lines are not the policy's).
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cap.evals.tabletop import TabletopSession

MARKER = "cap_trace_line"

_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
)
if hasattr(ast, "TryStar"):
    _COMPOUND = (*_COMPOUND, ast.TryStar)


def instrument(program: str, marker: str = MARKER) -> str:
    """`program` with `marker(N); ` at the start of each line N whose simple statements call something.

    Only statements that begin their line are marked (not the second of `a(); b()`, nor the body of a
    one-line `if x: f()`), so the text before each mark is indentation and the result parses the same way.
    A program that does not parse is returned unchanged: the sandbox reports its syntax error as usual.
    """
    if "\r" in program or "\x0c" in program:  # other line breaks: ast and str.split would count lines apart
        return program
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return program
    lines = program.split("\n")
    first: dict[int, ast.stmt] = {}  # line -> the statement that begins it
    calls: set[int] = set()  # lines on which some simple statement makes a call
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        i = node.lineno - 1
        if not lines[i][: node.col_offset].strip():
            first[i] = node
        if not isinstance(node, _COMPOUND) and any(isinstance(n, ast.Call) for n in ast.walk(node)):
            calls.add(i)
    marked = [
        i
        for i in calls
        if i in first
        and not isinstance(first[i], _COMPOUND)
        and not (isinstance(first[i], ast.ImportFrom) and first[i].module == "__future__")
    ]
    for i in marked:
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        lines[i] = f"{line[:indent]}{marker}({i + 1}); {line[indent:]}"
    out = "\n".join(lines)
    if _statement_lines(out, marker) != _statement_lines(program, marker):  # belt and braces: never change
        return program  # what runs where; an unforeseen layout runs untraced rather than differently
    return out


def _statement_lines(program: str, marker: str) -> list[tuple[str, int, int]] | None:
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return None
    return sorted(
        (type(n).__name__, n.lineno, n.end_lineno or n.lineno)
        for n in ast.walk(tree)
        if isinstance(n, ast.stmt)
        and not (
            isinstance(n, ast.Expr)
            and isinstance(n.value, ast.Call)
            and isinstance(n.value.func, ast.Name)
            and n.value.func.id == marker
        )
    )


@dataclass(frozen=True)
class Where:
    """A program line located for people: in the command's code (line numbers of that code) or in a helper."""

    line: int  # 1-based, in `code` when function is None, else in the program
    text: str
    function: str | None = None  # the generated/defined function the line belongs to

    def describe(self) -> str:
        if self.function:
            return f"in {self.function}():  {self.text.strip()}"
        return f"line {self.line}:  {self.text.strip()}"


@dataclass(frozen=True)
class Mark:
    """What the tracker knew at one moment: the last line of the program's own code (outside any function
    definition) and the line running now (the same, or a line inside a function it called)."""

    outer: int | None
    line: int | None


class LineTracker:
    """The host side of `cap_trace_line`: the last line reported by the running program."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._line: int | None = None
        self._outer: int | None = None
        self._inside: frozenset[int] = frozenset()  # program lines inside top-level function definitions
        self.history: list[int] = []  # every line reported, in order (for the UI's list of executed lines)

    def mark(self, line: Any) -> None:
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            return  # hostile or broken input: ignore, never fail the policy over a marker
        with self._lock:
            self._line = line
            if line not in self._inside:
                self._outer = line
            if (not self.history or self.history[-1] != line) and len(self.history) < 100_000:
                self.history.append(line)

    def current(self) -> Mark:
        with self._lock:
            return Mark(self._outer, self._line)

    def reset(self, program: str = "") -> None:
        """Forget the marks; `program` is the one about to run (to tell its own lines from its functions')."""
        with self._lock:
            self._line = self._outer = None
            self._inside = frozenset(_function_lines(program))
            self.history = []


def locate(program: str, code: str, line: int | None) -> Where | None:
    """Where program line `line` is: a line of `code` (the command's code, the program's tail) or a helper."""
    if line is None:
        return None
    lines = program.split("\n")
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    body = code.rstrip("\n")
    at = program.rfind(body) if body else -1
    # The code is the program's tail, but lines may follow it (the session's variable collector).
    offset = program.count("\n", 0, at) if at >= 0 else len(lines) - len(body.split("\n"))
    end = offset + len(body.split("\n"))
    function = _enclosing_function(program, line)
    if offset < line <= end and function is None:
        return Where(line - offset, text)
    if line > end:
        return None  # cap's own lines after the code (the session's collector), not the policy's
    return Where(line, text, function)


def describe(program: str, code: str, mark: Mark | None) -> str:
    """One or two lines for people: the command's line running now and, below it, the helper's line."""
    if mark is None:
        return ""
    outer = locate(program, code, mark.outer)
    inner = locate(program, code, mark.line) if mark.line != mark.outer else None
    return "\n".join(w.describe() for w in (outer, inner) if w is not None)


def _function_lines(program: str) -> set[int]:
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return set()
    return {
        n
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }


def _enclosing_function(program: str, line: int) -> str | None:
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    for node in tree.body:
        is_def = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if is_def and node.lineno <= line <= (node.end_lineno or node.lineno):
            return node.name
    return None


class TracingSession(TabletopSession):
    """A tabletop session whose episodes report their current line to `self.tracker`."""

    def __init__(self, extra_api: Mapping[str, Callable[..., Any]] | None = None, **kwargs: Any):
        self.tracker = LineTracker()
        super().__init__(extra_api={**dict(extra_api or {}), MARKER: self.tracker.mark}, **kwargs)
        self.last_program = ""

    def run_code(self, code: str, inputs: Mapping[str, Any] | None = None):
        self.tracker.reset(code)
        self.last_program = code
        return super().run_code(instrument(code), inputs)

    def describe(self, code: str, mark: Mark | None) -> str:
        """`mark` of the last program, for people, with line numbers of `code` (the command's code)."""
        return describe(self.last_program, code, mark)
