"""Getting Python code out of a model's answer, whatever the model wrapped it in.

Completion models continue the prompt, so their answer is already code. Chat models wrap code in fenced
blocks, often with a sentence before and after, and sometimes with no fence at all. This module turns all of
these into the code alone, or raises `NoCodeFound` with a message that says what the answer looked like.
"""

from __future__ import annotations

import ast
import re
import textwrap

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
_OPEN_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*)\Z", re.S | re.M)
_PY_LANGS = {"", "python", "py", "python3", "py3"}
_MAX_PROSE_SCAN = 200  # lines; beyond this, only the whole answer is tried


class NoCodeFound(ValueError):
    """The answer holds no Python code (empty, prose only, or code in another language)."""


def extract_code(text: str, cut_at: tuple[str, ...] = ()) -> str:
    """The Python code in a model answer.

    Order of preference: fenced ```python (or unlabeled) blocks, joined in order; an unterminated fence (the
    answer was cut off); the answer as is, when it parses; else the longest run of lines that parses, which
    drops prose before and after unfenced code. `cut_at` truncates the code at the first line starting with
    one of these markers (the next few-shot example a chat model may go on to write).
    """
    if not text or not text.strip():
        raise NoCodeFound("the answer is empty")
    blocks = [m.group(3) for m in _FENCE.finditer(text) if m.group(2).lower() in _PY_LANGS]
    if not blocks:
        other = [m.group(2) for m in _FENCE.finditer(text)]
        if other:
            raise NoCodeFound(f"the answer holds only code blocks in other languages: {', '.join(other)}")
        opened = _OPEN_FENCE.search(text)
        if opened and opened.group(2).lower() in _PY_LANGS:
            blocks = [opened.group(3)]
    code = "\n".join(textwrap.dedent(b).strip("\n") for b in blocks) if blocks else _code_among_prose(text)
    code = truncate_at(code, cut_at).strip("\n")
    if not code.strip():
        raise NoCodeFound("the answer holds no code")
    return code


def truncate_at(code: str, markers: tuple[str, ...]) -> str:
    """`code` up to (not including) the first line that starts with one of `markers`."""
    if not markers:
        return code
    lines = code.split("\n")
    for i, line in enumerate(lines):
        if i and any(line.lstrip().startswith(m) for m in markers):
            return "\n".join(lines[:i])
    return code


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _is_prose_statement(line: str) -> bool:
    """A line that parses as Python but is surely prose: a lone word or a bare name ('Sure', 'Done')."""
    stripped = line.strip().rstrip(".!:")
    return bool(re.fullmatch(r"[A-Za-z]+", stripped)) and stripped not in {"pass", "break", "continue"}


def _code_among_prose(text: str) -> str:
    stripped = textwrap.dedent(text).strip("\n")
    if parses(stripped) and not all(_is_prose_statement(x) for x in stripped.splitlines() if x.strip()):
        return stripped
    lines = stripped.split("\n")
    if len(lines) > _MAX_PROSE_SCAN:
        raise NoCodeFound("the answer does not parse as Python and holds no fenced code block")
    best = ""
    for start in range(len(lines)):
        if not lines[start].strip() or _is_prose_statement(lines[start]):
            continue
        for end in range(len(lines), start, -1):
            if end - start <= len(best.split("\n")) and best:
                break
            chunk = "\n".join(lines[start:end]).rstrip()
            if chunk and parses(chunk):
                while chunk and _is_prose_statement(chunk.split("\n")[-1]):
                    chunk = "\n".join(chunk.split("\n")[:-1]).rstrip()
                if len(chunk.split("\n")) > len(best.split("\n")) or not best:
                    best = chunk
                break
    if not best.strip():
        if re.search(r"[\w\]\)]\s*\(|\w\s*=[^=]|^\s*(def|for|if|while)\b", stripped, re.M):
            return stripped  # broken code, not prose: the caller's syntax check reports where it breaks
        raise NoCodeFound("the answer does not parse as Python and holds no fenced code block")
    return best
