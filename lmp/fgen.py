"""Hierarchical function generation: define every function the code calls but nobody defined.

The code's AST names the calls to functions that are not defined in the code, not builtins, not in the API
and not yet in the session's `FunctionLibrary`. Each one is generated from its call site (the call as written,
`pts = make_line(start=a, end=b)`, with the code around it as context) by the fgen LMP; then the same is done
for what the new definitions call, one level at a time. Functions of one level are siblings and are generated
in parallel over the thread-safe LLM client. Limits: a maximum depth, and no cycles among the generated
functions (a helper calling back into the function that needed it); both fail with a message naming the
function and its call chain.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from lmp.library import FunctionLibrary, GeneratedFunction
from lmp.lmp import LMP, LMPError

BUILTINS = frozenset(dir(builtins))
CONTEXT_LINES = 12  # lines of surrounding code shown with a call site


# fgen's chat system message. The general one ("write the code for the LAST comment line") made
# Qwen2.5-Coder-1.5B answer a `# define function: pts = f(...)` line with the call itself instead of a
# definition; naming the `def` it must write fixed that (tried on call sites that are not benchmark tasks).
FGEN_CHAT_SYSTEM = (
    "You write Python function definitions. The user shows examples: each `# define function:` comment line "
    "shows how a function is called, followed by its definition. Write the definition (a `def` of the function "
    "named in the LAST `# define function:` line, with the parameters used there) and nothing else. Reply "
    "with one ```python code block."
)


class FgenError(LMPError):
    """Function generation stopped: depth limit, cycle, or an answer that does not define the function."""


@dataclass(frozen=True)
class CallSite:
    """A call to an undefined function, as the fgen LMP is asked about it."""

    name: str
    signature: str  # "ret = name(a, b=c)" or "name(a, b=c)"
    params: tuple[str, ...]  # argument names inferred from the call
    context: str  # the code around the call
    caller: str | None = None  # the enclosing function, if any


def bound_names(tree: ast.AST) -> set[str]:
    """Every name the code binds anywhere: assignments, loop targets, definitions, parameters, imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def called_names(code: str) -> set[str]:
    """Names called as plain functions (`f(...)`, not `obj.f(...)`) anywhere in `code`."""
    return {
        n.func.id
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }


def find_undefined_calls(code: str, known: Iterable[str] = ()) -> dict[str, CallSite]:
    """The functions `code` calls that it does not define and that are neither builtins nor `known`.

    First call site wins; the order is the order of appearance in the code.
    """
    tree = ast.parse(code)
    defined = bound_names(tree) | BUILTINS | set(known)
    lines = code.splitlines()
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    calls = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    sites: dict[str, CallSite] = {}
    for call in calls:
        name = call.func.id  # type: ignore[attr-defined]
        if name in defined or name in sites:
            continue
        sites[name] = CallSite(
            name,
            _signature(call, parents),
            _param_names(call),
            _context(lines, call.lineno),
            _enclosing_function(call, parents),
        )
    return sites


def _signature(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> str:
    parent = parents.get(call)
    if isinstance(parent, ast.Assign) and parent.value is call and len(parent.targets) == 1:
        return f"{ast.unparse(parent.targets[0])} = {ast.unparse(call)}"
    return ast.unparse(call)


def _param_names(call: ast.Call) -> tuple[str, ...]:
    params: list[str] = []
    for i, arg in enumerate(call.args):
        params.append(arg.id if isinstance(arg, ast.Name) else f"arg{i}")
    params.extend(kw.arg for kw in call.keywords if kw.arg)
    return tuple(params)


def _context(lines: list[str], lineno: int) -> str:
    if len(lines) <= CONTEXT_LINES:
        return "\n".join(lines)
    start = max(0, lineno - 1 - CONTEXT_LINES // 2)
    return "\n".join(lines[start : start + CONTEXT_LINES])


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return node.name
    return None


def definitions_only(source: str) -> str:
    """The function definitions (and imports) of an answer; example calls a model adds below are dropped,
    since running them while loading the library would move the robot."""
    tree = ast.parse(source)
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.Import | ast.ImportFrom)]
    return "\n\n".join(ast.get_source_segment(source, n) or ast.unparse(n) for n in keep)


class FunctionGenerator:
    """Generates the missing functions of a piece of code into a `FunctionLibrary`.

    `known` names the functions that exist without generation (the API, nested LMPs, imported names).
    `hierarchical=False` (flat mode) generates nothing: code must define what it calls.
    """

    def __init__(
        self,
        lmp: LMP,
        library: FunctionLibrary,
        known: Iterable[str] = (),
        max_depth: int = 4,
        max_workers: int = 4,
        hierarchical: bool = True,
    ):
        if max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        self.lmp = lmp
        self.library = library
        self.known = frozenset(known)
        self.max_depth = max_depth
        self.max_workers = max(1, max_workers)
        self.hierarchical = hierarchical

    def missing(self, code: str) -> dict[str, CallSite]:
        return find_undefined_calls(code, self.known | set(self.library.names()))

    def resolve(self, code: str) -> list[GeneratedFunction]:
        """Generate every function `code` needs, recursively; add them to the library; return the new ones.

        Nothing is added when generation fails, so a failed command leaves the library as it was.
        """
        if not self.hierarchical:
            return []
        made: dict[str, GeneratedFunction] = {}
        chains: dict[str, tuple[str, ...]] = {}  # name -> its callers, outermost first, then itself
        level = self.missing(code)
        for name in level:
            chains[name] = (name,)
        depth = 1
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="fgen") as pool:
            while level:
                if depth > self.max_depth:
                    name = next(iter(level))
                    raise FgenError(
                        f"function generation hit the depth limit ({self.max_depth}) at {name!r}: call chain "
                        f"{' -> '.join(chains[name])}. Raise the limit (--max-depth) or use --mode flat."
                    )
                sites = list(level.values())
                # Every sibling is asked even when one fails (pool.map would cancel those not yet started
                # when an earlier one raises): which calls a run makes must not depend on thread timing, or
                # a replay of its transcript would ask differently from the recording.
                futures = [pool.submit(self._generate, site, depth) for site in sites]
                wait(futures)
                results = [future.result() for future in futures]  # the first failure, in call-site order
                for fn in results:
                    made[fn.name] = fn
                known = self.known | set(self.library.names()) | set(made)
                next_level: dict[str, CallSite] = {}
                for fn in results:
                    self._check_cycle(fn, chains, made)
                    for callee, site in find_undefined_calls(fn.source, known).items():
                        if callee not in next_level:
                            next_level[callee] = site
                            chains[callee] = (*chains[fn.name], callee)
                level = next_level
                depth += 1
        for fn in made.values():
            self.library.add(fn)
        return list(made.values())

    def _check_cycle(
        self, fn: GeneratedFunction, chains: dict[str, tuple[str, ...]], made: dict[str, GeneratedFunction]
    ) -> None:
        """A generated function that calls one of the functions it was generated for closes a cycle."""
        ancestors = chains[fn.name][:-1]
        for callee in sorted(called_names(fn.source) & set(ancestors)):
            start = ancestors.index(callee)
            cycle = " -> ".join((*chains[fn.name][start:], callee))
            raise FgenError(
                f"generated functions call each other in a cycle: {cycle}. The answer for {fn.name!r} calls "
                f"{callee!r}, which it was generated to help."
            )

    def _generate(self, site: CallSite, depth: int) -> GeneratedFunction:
        context = "# the function is called in this code:\n" + "\n".join(
            f"#   {line}" for line in site.context.splitlines()
        )
        generation = self.lmp.generate(site.signature, context=context)
        try:
            source = definitions_only(generation.code)
        except SyntaxError as exc:  # extraction already checked; defensive for odd answers
            raise FgenError(f"the answer for {site.name!r} is not valid Python: {exc.msg}") from None
        tree = ast.parse(source) if source else ast.Module(body=[], type_ignores=[])
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        if site.name not in names:
            got = f"it defines {names}" if names else "it defines no function"
            raise FgenError(f"the fgen answer for {site.signature!r} does not define {site.name!r}: {got}")
        return GeneratedFunction(site.name, source, site.signature, depth, site.caller)
