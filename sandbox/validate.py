"""Static checks for the policy profile: refuse, before anything runs, every construct that could reach
outside the namespace we hand the policy (imports, dunders, frames, format-string attribute walks, scopes)."""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass

# Attribute names that reach interpreter internals without a dunder: frames, code, tracebacks, raw memory,
# pickling and file output of numpy arrays.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "ag_await",
        "tb_frame",
        "tb_next",
        "tb_lasti",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "f_trace",
        "co_code",
        "co_consts",
        "co_names",
        "mro",
        "format_map",
        "ctypes",
        "tofile",
        "dump",
        "dumps",
        "ctypeslib",
        "f2py",
        "cffi",
        "lib",
        "testing",
        "distutils",
        "os",
        "sys",
        "subprocess",
        "builtins",
        "load",
        "save",
        "savez",
        "savez_compressed",
        "savetxt",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "memmap",
        "DataSource",
    }
)
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "help",
        "memoryview",
        "getattr",
        "setattr",
        "delattr",
        "type",
        "object",
        "super",
        "exit",
        "quit",
        "dir",
        "classmethod",
        "staticmethod",
        "property",
        "copyright",
        "credits",
        "license",
    }
)


@dataclass
class Violation(Exception):
    construct: str
    line: int | None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.construct}{where}"


def _is_dunder(name: str) -> bool:
    return name.startswith("__") or (name.startswith("_") and name.endswith("_") and len(name) > 1)


def _format_fields_are_plain(fmt: str) -> bool:
    """True when every replacement field of a str.format template is a bare position or name (no `.x`, `[i]`)."""
    try:
        for _, field, spec, _ in string.Formatter().parse(fmt):
            if field and any(c in field for c in ".["):
                return False
            if spec and not _format_fields_are_plain(spec):
                return False
    except ValueError:
        return False
    return True


class _Checker(ast.NodeVisitor):
    def __init__(self, modules: frozenset[str], bound: frozenset[str]):
        self.modules = modules
        self.bound = bound  # names the code binds itself: `type = "block"` is a variable, not the built-in

    def fail(self, node: ast.AST, construct: str) -> None:
        raise Violation(construct, getattr(node, "lineno", None))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in self.modules:
                self.fail(
                    node,
                    f"import of {alias.name!r} is not allowed (allowed: {', '.join(sorted(self.modules))})",
                )
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module not in self.modules:
            self.fail(
                node,
                f"import from {node.module!r} is not allowed (allowed: {', '.join(sorted(self.modules))})",
            )
        for alias in node.names:
            if alias.name == "*" or _is_dunder(alias.name) or alias.name in FORBIDDEN_ATTRIBUTES:
                self.fail(node, f"import of {alias.name!r} from {node.module} is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if _is_dunder(node.id):
            self.fail(node, f"dunder name {node.id!r} is not allowed")
        if node.id in FORBIDDEN_NAMES and node.id not in self.bound:
            self.fail(node, f"built-in {node.id!r} is not available to policies")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            self.fail(node, f"private or dunder attribute {node.attr!r} is not allowed")
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self.fail(node, f"attribute {node.attr!r} is not allowed")
        if node.attr == "format" and not (
            isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        ):
            self.fail(node, "str.format is allowed only on a string literal (use an f-string)")
        if node.attr == "format" and not _format_fields_are_plain(node.value.value):
            self.fail(node, "format fields may not reach attributes or items")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if _is_dunder(node.name):
            self.fail(node, f"dunder function name {node.name!r} is not allowed")
        for arg in [
            *node.args.posonlyargs,
            *node.args.args,
            *node.args.kwonlyargs,
            node.args.vararg,
            node.args.kwarg,
        ]:
            if arg is not None and _is_dunder(arg.arg):
                self.fail(node, f"dunder argument {arg.arg!r} is not allowed")
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            if _is_dunder(arg.arg):
                self.fail(node, f"dunder argument {arg.arg!r} is not allowed")
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg and _is_dunder(node.arg):
            self.fail(node, f"dunder keyword {node.arg!r} is not allowed")
        self.generic_visit(node)

    def visit_alias(self, node: ast.alias) -> None:
        if node.asname and _is_dunder(node.asname):
            self.fail(node, f"dunder alias {node.asname!r} is not allowed")

    def _forbid(self, what: str):
        def visit(node: ast.AST) -> None:
            self.fail(node, what)

        return visit

    def generic_visit(self, node: ast.AST) -> None:
        blocked = {
            ast.Global: "`global` is not allowed",
            ast.Nonlocal: "`nonlocal` is not allowed",
            ast.ClassDef: "class definitions are not allowed in policies",
            ast.AsyncFunctionDef: "async code is not allowed",
            ast.Await: "async code is not allowed",
            ast.AsyncFor: "async code is not allowed",
            ast.AsyncWith: "async code is not allowed",
        }
        for child in ast.iter_child_nodes(node):
            what = blocked.get(type(child))
            if what:
                self.fail(child, what)
            self.visit(child)


def validate(
    code: str,
    modules: tuple[str, ...] | frozenset[str] = ("numpy", "shapely", "math"),
    filename: str = "<policy>",
) -> ast.Module:
    """Parse and check policy code; raise `Violation` naming the construct and line, or SyntaxError."""
    tree = ast.parse(code, filename=filename)
    allowed = frozenset(modules) | frozenset(sub for m in modules for sub in _SUBMODULES.get(m, ()))
    _Checker(allowed, _bound_names(tree)).visit(tree)
    return tree


def _bound_names(tree: ast.Module) -> frozenset[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.Lambda):
            args = node.args
            bound.update(
                a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a
            )
            if isinstance(node, ast.FunctionDef):
                bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return frozenset(bound)


_SUBMODULES = {
    "shapely": ("shapely.geometry", "shapely.affinity", "shapely.ops"),
    "numpy": ("numpy.linalg", "numpy.random"),
}
