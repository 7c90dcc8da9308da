"""Jinja2 prompt templates and few-shot examples, shipped as package data.

`render("tabletop_ui", api=..., imports=...)` renders `prompts/tabletop_ui.j2`. Few-shot examples live apart
from the templates, as data, in `prompts/examples/<name>.py`, written exactly as the model sees them:

    objects = ['blue block', 'red bowl']      # optional context line
    # put the blue block on the red bowl.     # the query: a `# ` line at column 0, ending in '.'
    put_first_on_second('blue block', 'red bowl')

Lines starting with `## ` are notes for people and are skipped. Because the examples are data, tests can
execute every example program (tests/test_prompt_examples.py) and templates can never drift from them.
The API the prompts describe is passed in by the caller (names, signatures, docs of the real functions).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2


@dataclass(frozen=True)
class Example:
    """One few-shot example: optional context (e.g. `objects = [...]`), the query, and the code answering it."""

    query: str  # without the leading '# ' and the final '.'
    code: str
    context: str = ""

    @property
    def objects(self) -> list[str]:
        """The object names of an `objects = [...]` context, [] without one."""
        if not self.context.startswith("objects = "):
            return []
        return list(ast.literal_eval(self.context.split("=", 1)[1].strip()))


class PromptError(ValueError):
    """A template or example file is missing or malformed."""


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("prompts", "."),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **variables: Any) -> str:
    """The prompt text of template `name` (`prompts/<name>.j2`); its examples are passed as `examples`."""
    if "examples" not in variables and has_examples(name):
        variables["examples"] = examples(name)
    try:
        return _env().get_template(f"{name}.j2").render(**variables)
    except jinja2.TemplateNotFound:
        raise PromptError(f"no prompt template {name!r} (looked for prompts/{name}.j2)") from None
    except jinja2.UndefinedError as exc:
        raise PromptError(
            f"prompt template {name!r} needs a variable the caller did not pass: {exc}"
        ) from None


def has_examples(name: str) -> bool:
    return resources.files("prompts").joinpath("examples", f"{name}.py").is_file()


@cache
def examples(name: str) -> tuple[Example, ...]:
    """The few-shot examples of prompt `name`, in file order."""
    path = resources.files("prompts").joinpath("examples", f"{name}.py")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise PromptError(
            f"no examples for prompt {name!r} (looked for prompts/examples/{name}.py)"
        ) from None
    return tuple(parse_examples(text, source=f"prompts/examples/{name}.py"))


def parse_examples(text: str, source: str = "<examples>") -> list[Example]:
    """Split example text into `Example`s (format in the module docstring)."""
    found: list[Example] = []
    pending = ""  # an `objects = ...` line waiting for its query
    context = ""
    query: str | None = None
    code: list[str] = []

    def flush(lineno: int) -> None:
        if query is None:
            return
        body = "\n".join(code).strip("\n")
        if not body:
            raise PromptError(f"{source}:{lineno}: example {query!r} has no code")
        found.append(Example(query, body, context))

    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("## ") or line == "##":
            continue
        if line.startswith("objects = "):
            flush(lineno)
            query, code, pending = None, [], line
        elif line.startswith("# "):
            flush(lineno)
            if not line.endswith("."):
                raise PromptError(f"{source}:{lineno}: a query line must end with '.': {line!r}")
            query, code, context, pending = line[2:-1], [], pending, ""
        elif query is None:
            if line.strip():
                raise PromptError(f"{source}:{lineno}: code before the first query line: {line!r}")
        else:
            code.append(line)
    flush(len(text.splitlines()))
    return found
