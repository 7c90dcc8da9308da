"""The original's `maintain_session`: what one command's code assigned is there for the next command.

In the original, the UI LMP merged each command's variables into the namespace of the next one, so "draw a
triangle" (which leaves `triangle_pts`) followed by "make it smaller" (which reads it) works. Here each program
runs in a fresh sandboxed process, so the values are carried instead:

- after the command's code, a few appended lines hand each top-level variable it bound to the host through the
  API function `cap_session_keep` (a value that cannot cross the boundary, such as a shapely geometry or a
  module, is skipped; an unassigned one too), and the host keeps them once the command succeeded;
- the next command's program gets them as inputs (plain values bound as globals before it runs);
- functions the command defined at top level join the session's function library, so later commands (and
  nested LMPs) can call them.

The appended lines come after the code, so the code's own line numbers are unchanged; they swallow only the
errors of reading and handing over a value, never an error of the code itself, which has finished by then.
`cap_session_keep` is callable by the (untrusted) code, so the host keeps only the names the collector of the
running command announced, each value at most `MAX_VALUE_BYTES` once encoded, `MAX_TOTAL_BYTES` in all.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterable
from typing import Any

from sandbox import wire

KEEP = "cap_session_keep"  # the host function the appended lines call
MAX_VALUE_BYTES = 1 << 20
MAX_TOTAL_BYTES = 16 << 20
_TRY = "cap_session_try"  # the helper they define
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def top_level_assigned(code: str) -> list[str]:
    """Names the code binds in its module scope (assignments, loop and with targets, walrus), in order."""
    found: dict[str, None] = {}

    def visit(node: ast.AST) -> None:
        if isinstance(node, _SCOPES):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.setdefault(node.id, None)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            found.setdefault(node.target.id, None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.setdefault(node.name, None)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _COMPREHENSIONS):
                for inner in ast.walk(child):  # only a walrus leaks out of a comprehension
                    if isinstance(inner, ast.NamedExpr) and isinstance(inner.target, ast.Name):
                        found.setdefault(inner.target.id, None)
                continue
            visit(child)

    visit(ast.parse(code))
    return list(found)


def top_level_functions(code: str) -> dict[str, str]:
    """name -> source of each function the code defines at top level."""
    tree = ast.parse(code)
    return {
        n.name: ast.get_source_segment(code, n) or ast.unparse(n)
        for n in tree.body
        if isinstance(n, ast.FunctionDef)
    }


def collector(names: Iterable[str]) -> str:
    """The lines appended after a command's code that hand its variables to the host."""
    names = [n for n in names if n.isidentifier() and not n.startswith("_")]
    if not names:
        return ""
    lines = [
        "",
        f"def {_TRY}(name, read):",
        "    try:",
        f"        {KEEP}(name, read())",
        "    except Exception:",
        "        pass",
    ]
    lines += [f"{_TRY}({n!r}, lambda: {n})" for n in names]
    return "\n".join(lines)


def _encoded_size(value: Any) -> int | None:
    """Bytes of `value` as it would cross into the next program, None if it cannot cross."""
    try:
        return len(json.dumps(wire.encode(value)))
    except (wire.WireError, TypeError, ValueError, RecursionError):
        return None


class SessionVars:
    """The variables carried from command to command (thread-safe; one per session)."""

    def __init__(self, reserved: Iterable[str] = ()):
        self.reserved = frozenset(reserved) | {KEEP, _TRY}  # API, nested LMPs, globals: never shadowed
        self._values: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}
        self._pending: dict[str, tuple[Any, int]] = {}
        self._expected: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def keep(self, name: str, value: Any) -> None:
        """The host end of `cap_session_keep`: remember a value of the running command (within bounds)."""
        if not isinstance(name, str) or name not in self._expected:
            return
        size = _encoded_size(value)
        if size is None or size > MAX_VALUE_BYTES:
            return
        with self._lock:
            total = sum(s for n, s in self._sizes.items() if n not in self._pending)
            total += sum(s for n, (_, s) in self._pending.items() if n != name)
            if total + size <= MAX_TOTAL_BYTES:
                self._pending[name] = (value, size)

    def program(self, program: str, code: str) -> str:
        """`program` (which ends with the command's `code`) followed by the collector of `code`'s variables."""
        names = [
            n
            for n in top_level_assigned(code)
            if n not in self.reserved and n.isidentifier() and not n.startswith("_")
        ]
        with self._lock:
            self._pending = {}
            self._expected = frozenset(names)
        tail = collector(names)
        return f"{program}\n{tail}" if tail else program

    def inputs(self) -> dict[str, Any]:
        """The carried variables, to bind as the next program's globals."""
        with self._lock:
            return dict(self._values)

    def commit(self) -> None:
        """The command succeeded: what it assigned now carries over (merged over what was there)."""
        with self._lock:
            for name, (value, size) in self._pending.items():
                self._values[name], self._sizes[name] = value, size
            self._pending, self._expected = {}, frozenset()

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._sizes.clear()
            self._pending, self._expected = {}, frozenset()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._values)
