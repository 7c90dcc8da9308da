"""Writing a robocodegen function with a model: flat or hierarchical generation over a flat or hierarchical
prompt. Only the problem's signature reaches the model; inputs, reference and scorer never do.

flat generation: one answer, the function for the signature; whatever else it calls must exist already
(numpy, shapely, the perception API) or the answer fails when it runs.
hierarchical generation: lmp.fgen defines the function and then, recursively, every helper it calls but
nobody defined (depth limit 4, no cycles). Both ask the top-level question the same way, so their first
answer is the same request (shared by the response cache and by transcripts).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from cap.evals.common.llm import WatchedClient
from cap.evals.common.scene import PERCEPTION_NAMES
from cap.evals.robocodegen.problems import Problem
from cap.evals.robocodegen.prompts import prompt
from cap.policy_stack import IMPORTS

MAX_DEPTH = 4


@dataclass
class Answer:
    definitions: str  # every generated definition, the problem's function first
    functions: list[dict[str, Any]] = field(default_factory=list)  # name, signature, depth
    error: str = ""  # why there is no usable answer (no definition, a cycle, the depth limit)


def known_names() -> frozenset[str]:
    """What generated code may call without generating it: the imports and the perception API."""
    from lmp.fgen import bound_names

    return frozenset(bound_names(ast.parse(IMPORTS)) | set(PERCEPTION_NAMES))


def make_lmp(style: str, client: WatchedClient, api: str = "chat", max_tokens: int = 512):
    from lmp import LMP, LMPConfig

    config = LMPConfig(
        f"robocodegen_{style}",
        prompt=prompt(style),
        query_prefix="# define function: ",
        stop=("# define",),
        include_context=False,
        api=api,  # type: ignore[arg-type]
        max_tokens=max_tokens,
    )
    return LMP(config, client)


def call_context(signature: str) -> str:
    """The context lmp.fgen shows with a call site (`FunctionGenerator._generate`): flat generation asks the
    top-level question exactly as hierarchical generation does."""
    return "# the function is called in this code:\n#   " + signature


def generate(problem: Problem, lmp: Any, client: WatchedClient, hierarchical: bool) -> Answer:
    """The definitions for `problem`; raises LLMError when the model cannot be reached."""
    from lmp import FunctionGenerator, FunctionLibrary, LMPError
    from lmp.fgen import definitions_only

    generator = FunctionGenerator(lmp, FunctionLibrary(), known=known_names(), max_depth=MAX_DEPTH)
    try:
        if hierarchical:
            made = generator.resolve(problem.signature)
            functions = [{"name": f.name, "signature": f.signature, "depth": f.depth} for f in made]
            made.sort(key=lambda f: f.name != problem.name)
            return Answer("\n\n".join(f.source.strip("\n") for f in made), functions)
        generation = lmp.generate(problem.signature, context=call_context(problem.signature))
        source = definitions_only(generation.code)
    except (LMPError, SyntaxError) as exc:
        client.reraise_unreachable()
        return Answer("", error=str(exc))
    names = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    if problem.name not in names:
        return Answer(source, error=f"the answer does not define {problem.name!r} (it defines {names})")
    return Answer(source, [{"name": problem.name, "signature": problem.signature, "depth": 1}])
