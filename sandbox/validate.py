"""Static checks and the one rewrite of the policy profile.

Checks refuse, before anything runs, what names its target in a string or a dunder: imports outside the
allowed modules, dunder names and attributes (but the special methods a class may define, `super().__init__`
and `__name__`), `str.format` on anything but a literal with plain fields, keyword sub-patterns in `match`
class patterns (they read attributes by name), async code. The rewrite compiles every attribute read into a
call of `_getattr_`, the per-type allow-list of sandbox/attributes.py; the names below
(FORBIDDEN_ATTRIBUTES) only make the commonest refusals early and clear, the allow-list is what holds.
"""

from __future__ import annotations

import ast
import functools
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
        "exit",
        "quit",
        "dir",
        "copyright",
        "credits",
        "license",
    }
)


# The special methods a policy class may define (`__init__`, operators, containers, context managers); not the
# ones that change how attributes, classes or pickling work.
SPECIAL_METHODS = frozenset(
    """
    __init__ __repr__ __str__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__ __bool__ __len__ __iter__
    __next__ __reversed__ __contains__ __getitem__ __setitem__ __delitem__ __missing__ __call__ __enter__
    __exit__ __add__ __sub__ __mul__ __matmul__ __truediv__ __floordiv__ __mod__ __divmod__ __pow__ __neg__
    __pos__ __abs__ __invert__ __and__ __or__ __xor__ __lshift__ __rshift__ __radd__ __rsub__ __rmul__
    __rmatmul__ __rtruediv__ __rfloordiv__ __rmod__ __rpow__ __rand__ __ror__ __rxor__ __iadd__ __isub__
    __imul__ __itruediv__ __ifloordiv__ __imod__ __ipow__ __iand__ __ior__ __ixor__ __int__ __float__
    __complex__ __index__ __round__ __floor__ __ceil__ __trunc__ __format__
    """.split()
)
GUARD = "_getattr_"  # a name policy code cannot write (it has underscores at both ends)


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


def _is_super_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "super"
        and not node.args
        and not node.keywords
    )


class _Checker(ast.NodeVisitor):
    def __init__(self, modules: frozenset[str], bound: frozenset[str], stand_ins: dict[str, tuple[int, int]]):
        self.modules = modules
        self.bound = bound  # names the code binds itself: `type = "block"` is a variable, not the built-in
        self.stand_ins = stand_ins  # names that are module stand-ins (see `_stand_in_names`)
        self.methods: set[int] = set()  # FunctionDef nodes directly in a class body

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
            if alias.name == "*":
                continue  # binds the stand-in's public names, which are its allow-list
            if _is_dunder(alias.name) or alias.name in FORBIDDEN_ATTRIBUTES:
                self.fail(node, f"import of {alias.name!r} from {node.module} is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if _is_dunder(node.id):
            self.fail(node, f"dunder name {node.id!r} is not allowed")
        if node.id in FORBIDDEN_NAMES and node.id not in self.bound:
            self.fail(node, f"built-in {node.id!r} is not available to policies")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        load = isinstance(node.ctx, ast.Load)
        special = load and (
            node.attr == "__name__" or (node.attr in SPECIAL_METHODS and _is_super_call(node.value))
        )
        # `self._width`: a private name of the program's own object (the guard refuses it on every other)
        private = not _is_dunder(node.attr) and isinstance(node.value, ast.Name)
        if node.attr.startswith("_") and not (special or private):
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
        if _is_dunder(node.name) and not (id(node) in self.methods and node.name in SPECIAL_METHODS):
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

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if _is_dunder(node.name):
            self.fail(node, f"dunder class name {node.name!r} is not allowed")
        if node.keywords:
            self.fail(node, "class keywords (metaclass=...) are not allowed")
        self.methods.update(id(s) for s in node.body if isinstance(s, ast.FunctionDef))
        self.generic_visit(node)

    def _names(self, node: ast.Global | ast.Nonlocal) -> None:
        for name in node.names:
            if _is_dunder(name):
                self.fail(node, f"dunder name {name!r} is not allowed")

    visit_Global = visit_Nonlocal = _names

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "super" and (node.args or node.keywords):
            self.fail(node, "super() takes no arguments in policies")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Attribute) and not isinstance(node.target.value, ast.Name):
            self.fail(node, "augmented assignment to an attribute of an expression: name the object first")
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        if node.kwd_attrs:
            self.fail(node, "keyword sub-patterns read attributes by name: match the class, then use a guard")
        self._pattern_name(node.cls)
        self.generic_visit(node)

    def visit_MatchValue(self, node: ast.MatchValue) -> None:
        if isinstance(node.value, ast.Attribute):
            self._pattern_name(node.value)
        self.generic_visit(node)

    def _pattern_name(self, node: ast.expr) -> None:
        """A dotted name in a pattern is read without the attribute guard: only `module.member` of a module
        stand-in the program imported."""
        if isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name) and _after(node, self.stand_ins.get(node.value.id))
        ):
            self.fail(node, "a dotted name in a pattern must be module.member of an imported module")

    def _bound_string(self, node: ast.AST, name: str | None) -> None:
        """Names bound from a string, not a Name node (`except E as n`, `case n`, `case [*n]`, `{**n}`)."""
        if name and _is_dunder(name):
            self.fail(node, f"dunder name {name!r} is not allowed")
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._bound_string(node, node.name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._bound_string(node, node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._bound_string(node, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._bound_string(node, node.rest)

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
        for child in _children(node):
            what = _BLOCKED.get(type(child))
            if what:
                self.fail(child, what)
            self.visit(child)


_BLOCKED = {
    ast.AsyncFunctionDef: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.AsyncWith: "async code is not allowed",
}


def _children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` as a list, without its generator and `iter_fields` layers (the validator visits
    every node several times: this is most of its cost)."""
    found = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            found.append(value)
        elif type(value) is list:
            found.extend(item for item in value if isinstance(item, ast.AST))
    return found


_WALKED: list[tuple[ast.AST, list[ast.AST]]] = []  # the last few trees' nodes (each pass reads them all)


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree`, as `ast.walk` yields them (the same nodes, same order), computed once per tree
    for all the passes that follow. `_forget` drops a tree about to be rewritten."""
    for walked, nodes in _WALKED:
        if walked is tree:
            return nodes
    nodes = [tree]
    for node in nodes:  # grows while read: breadth first, as ast.walk
        nodes.extend(_children(node))
    _WALKED.append((tree, nodes))
    del _WALKED[:-8]
    return nodes


def _forget(tree: ast.AST) -> None:
    _WALKED[:] = [(t, n) for t, n in _WALKED if t is not tree]


def validate(
    code: str,
    modules: tuple[str, ...] | frozenset[str] = ("numpy", "shapely", "math"),
    filename: str = "<policy>",
) -> ast.Module:
    """Parse and check policy code; raise `Violation` naming the construct and line, or SyntaxError."""
    tree = ast.parse(code, filename=filename)
    stand_ins = {} if _star_import([tree]) else _stand_in_names(tree, _stored_names([tree]), modules)
    _check(tree, modules, stand_ins)
    _forget(tree)
    return tree


def compile_policy(sources: list[tuple[str, str]], modules: tuple[str, ...] | frozenset[str]) -> list[object]:
    """Check and compile the sources of one run (definitions first, then the program), each attribute read
    compiled to the guard. Checked together: a name one of them rebinds is a module stand-in in none."""
    trees = [ast.parse(code, filename=filename) for code, filename in sources]
    stored = _stored_names(trees)
    counts = _binding_counts(trees)
    star = _star_import(trees)  # `from m import *` may bind any name: then every read is guarded
    compiled = []
    for tree, (_, filename) in zip(trees, sources, strict=True):
        stand_ins = {} if star else _stand_in_names(tree, stored, modules)
        _check(tree, modules, stand_ins)
        containers = {} if star else _container_names(tree, counts)
        _forget(tree)
        tree = ast.fix_missing_locations(_Guard(stand_ins, containers).visit(tree))
        compiled.append(compile(tree, filename, "exec"))
    return compiled


def _star_import(trees: list[ast.Module]) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
        for tree in trees
        for node in _walk(tree)
    )


def _check(tree: ast.Module, modules, stand_ins: dict[str, tuple[int, int]]) -> None:
    allowed = frozenset(modules) | frozenset(sub for m in modules for sub in _SUBMODULES.get(m, ()))
    _Checker(allowed, _bound_names(tree), stand_ins).visit(tree)


def _after(node: ast.AST, position: tuple[int, int] | None) -> bool:
    return position is not None and (node.lineno, node.col_offset) >= position


class _Guard(ast.NodeTransformer):
    """Every attribute read becomes `_getattr_(value, "name")`, but reads of `module.member` from a module
    stand-in (its contents are its allow-list), of a literal's methods and of `super().__init__`."""

    def __init__(
        self, stand_ins: dict[str, tuple[int, int]], containers: dict[str, tuple[tuple[int, int], type]]
    ):
        self.stand_ins = stand_ins
        self.containers = containers

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        value = node.value
        if isinstance(value, ast.Constant) and type(value.value) in (str, bytes, int, float, complex):
            return node  # a literal's methods: the validator has read `"...".format`'s fields
        if _is_super_call(value) and node.attr.startswith("__"):
            return node  # super().__init__ and the like: the validator admits only special methods
        if isinstance(value, ast.Name) and _after(node, self.stand_ins.get(value.id)):
            return node
        if isinstance(value, ast.Name) and value.id in self.containers:
            position, kind = self.containers[value.id]
            if _after(node, position) and node.attr in _container_methods(kind):
                return node  # `buckets.get` where buckets is surely the dict `buckets = {}` made
        guarded = ast.Call(ast.Name(GUARD, ast.Load()), [value, ast.Constant(node.attr)], [])
        return ast.copy_location(guarded, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.AST]:
        self.generic_visit(node)
        target = node.target
        if isinstance(target, ast.Attribute):  # `obj.n += 1` reads obj.n: check that read first
            check = ast.Expr(
                ast.Call(ast.Name(GUARD, ast.Load()), [target.value, ast.Constant(target.attr)], [])
            )
            return [ast.copy_location(check, node), node]
        return node

    def visit_match_case(self, node: ast.match_case) -> ast.AST:
        # Patterns hold no expressions to guard (dotted names in them were checked), only the guard and body.
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = [self.visit(s) for s in node.body]
        return node


_DISPLAYS = {
    ast.Dict: dict,
    ast.DictComp: dict,
    ast.List: list,
    ast.ListComp: list,
    ast.Set: set,
    ast.SetComp: set,
    ast.JoinedStr: str,
}


@functools.cache
def _container_methods(kind: type) -> frozenset[str]:
    from sandbox.attributes import TABLE_OF_PLAIN_TYPES

    return TABLE_OF_PLAIN_TYPES[kind]


def _container_names(tree: ast.Module, counts: dict[str, int]) -> dict[str, tuple[tuple[int, int], type]]:
    """Names whose type is certain: bound once in all the run's sources, by a top-level `name = {...}`
    (or [...], a comprehension, an f-string) of this one. Their methods are read without the guard, from the
    position after that statement (a hot loop's `buckets.get`, `names.append`): an object never changes
    its type, and nothing else can rebind the name."""
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and type(node.value) in _DISPLAYS
            and counts.get(node.targets[0].id) == 1
        ):
            end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
            found[node.targets[0].id] = (end, _DISPLAYS[type(node.value)])
    return found


def _binding_counts(trees: list[ast.Module]) -> dict[str, int]:
    """How many times each name is bound (assigned, deleted, declared global, imported, defined, ...) in
    all of `trees`."""
    counts: dict[str, int] = {}

    def add(name: str | None) -> None:
        if name:
            counts[name] = counts.get(name, 0) + 1

    for tree in trees:
        for node in _walk(tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                add(node.id)
            elif isinstance(node, ast.arg):
                add(node.arg)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef | ast.ExceptHandler):
                add(node.name)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    add(name)
            elif isinstance(node, ast.MatchAs | ast.MatchStar):
                add(node.name)
            elif isinstance(node, ast.MatchMapping):
                add(node.rest)
            elif isinstance(node, ast.alias):
                add(node.asname or node.name.split(".")[0])
    return counts


def _stored_names(trees: list[ast.Module]) -> frozenset[str]:
    """Every name any of `trees` binds other than by a plain `import module [as name]`."""
    stored: set[str] = set()
    for tree in trees:
        for node in _walk(tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                stored.add(node.id)
            elif isinstance(node, ast.arg):
                stored.add(node.arg)
            elif (
                isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
                or isinstance(node, ast.ExceptHandler)
                and node.name
            ):
                stored.add(node.name)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                stored.update(node.names)
            elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                stored.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                stored.add(node.rest)
            elif isinstance(node, ast.ImportFrom):
                stored.update(a.asname or a.name for a in node.names)
            elif isinstance(node, ast.Import):
                stored.update(a.asname for a in node.names if a.asname and "." in a.name)
    return frozenset(stored)


def _stand_in_names(
    tree: ast.Module, stored: frozenset[str], modules: tuple[str, ...] | frozenset[str]
) -> dict[str, tuple[int, int]]:
    """Names bound to a module stand-in, with the position from which they surely are: bound by an
    unconditional top-level `import module [as name]` of this source, bound to that module by every import
    in it, and bound no other way in any source of the run."""
    bindings: dict[str, set[str]] = {}
    first: dict[str, tuple[int, int]] = {}
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and "." in alias.name:
                    continue
                name = alias.asname or alias.name.split(".")[0]
                bindings.setdefault(name, set()).add(alias.name if alias.asname else name)
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                if not (alias.asname and "." in alias.name):
                    first.setdefault(name, (node.end_lineno or node.lineno, node.end_col_offset or 0))
    roots = {m.split(".")[0] for m in modules}
    return {
        name: position
        for name, position in first.items()
        if name not in stored and len(bindings.get(name, ())) == 1 and next(iter(bindings[name])) in roots
    }


_SUBMODULES = {
    "shapely": ("shapely.geometry", "shapely.affinity", "shapely.ops"),
    "numpy": ("numpy.linalg", "numpy.random"),
}


def _bound_names(tree: ast.Module) -> frozenset[str]:
    bound: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.Lambda):
            args = node.args
            bound.update(
                a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a
            )
            if isinstance(node, ast.FunctionDef):
                bound.add(node.name)
        elif isinstance(node, ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return frozenset(bound)
