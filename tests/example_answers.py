"""Answers taken from the prompts' own few-shot examples, for tests that run example programs end to end.

The scripted "model" answers a tabletop_ui or nested-LMP request with the example whose context and query
match the request exactly, and an fgen request with the fgen example defining the requested function. These
are the examples' own programs, not model output.
"""

from __future__ import annotations

import re

import prompts
from lmp.types import LLMError, Request

NESTED = ("tabletop_ui", "parse_obj_name", "parse_position", "parse_question", "transform_shape_pts")
DEFAULT_OBJECTS = ["blue block", "red block", "green block", "blue bowl", "red bowl", "green bowl"]
GRID = [(-0.15, -0.42), (0.0, -0.42), (0.15, -0.42), (-0.15, -0.62), (0.0, -0.62), (0.15, -0.62)]


def example_key(example: prompts.Example, prefix: str = "# ") -> str:
    line = f"{prefix}{example.query}."
    return f"{example.context}\n{line}" if example.context else line


def fgen_name(query: str) -> str:
    last = query.splitlines()[-1]
    match = re.match(r"# define function: (?:[\w, ]+ = )?(\w+)\(", last)
    if not match:
        raise LLMError(f"not an fgen query: {last!r}")
    return match.group(1)


def fgen_examples() -> dict[str, str]:
    return {fgen_name("# " + ex.query + "."): ex.code for ex in prompts.examples("fgen")}


def example_responder(request: Request) -> str:
    if request.lmp == "fgen":
        table = fgen_examples()
        name = fgen_name(request.query)
        if name not in table:
            raise LLMError(f"no fgen example defines {name!r}")
        return table[name]
    if request.lmp not in NESTED:
        raise LLMError(f"no examples for LMP {request.lmp!r}")
    for ex in prompts.examples(request.lmp):
        if example_key(ex) == request.query:
            return f"```python\n{ex.code}\n```"
    raise LLMError(f"no {request.lmp} example for query {request.query!r}")


def layout(objects: list[str]) -> list[tuple[str, tuple[float, float]]]:
    """A fixed scene: objects on a grid in the middle of the workspace, in the given order."""
    if len(objects) > len(GRID):
        raise ValueError(f"at most {len(GRID)} objects in an example scene, got {objects}")
    return list(zip(objects, GRID, strict=False))
