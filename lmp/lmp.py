"""A language-model program (LMP): a prompt template plus a query in, Python code out.

Semantics follow the original Code as Policies LMP: the prompt is few-shot code; a query becomes
`query_prefix + query + query_suffix` (a `# comment.` line) after an optional context (e.g. `objects = [...]`);
the model's continuation is the code. Improvements over the original: chat models are supported (answers are
cleaned by `lmp.extract`), a syntax error gets one repair round-trip, every call goes through the `LLMClient`
(so it is cached and transcribed), and the session history only grows when the caller reports success.
`fix` asks for a corrected program after the code failed when it ran (prompts/fix.j2), and `samples` draws
several programs at once for best-of-K; deciding which failures to feed back is the caller's job
(`lmp.program`).

An LMP never executes code: it returns a `Generation`, and whoever owns an executor runs it (see
`lmp.program`).
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import prompts
from lmp.extract import NoCodeFound, extract_code
from lmp.types import LLMError, Request

CHAT_SYSTEM = (
    "You write Python code. The user shows a Python program made of examples: each example is a comment "
    "line stating a task, followed by the code that does it. Write the code for the LAST comment line only, "
    "using the same functions and style as the examples. Reply with one ```python code block and nothing "
    "else; do not repeat the examples or the comment line."
)


class LMPError(RuntimeError):
    """An LMP could not produce usable code: no code in the answer, or a syntax error left after repair."""


class LLMUnavailable(LMPError):
    """The model could not be asked at all (connection, server errors after retries, a replay miss).

    Not the model's answer: callers keep it apart from model failures (never counted in a success rate, never
    fed back to the model as an error to fix).
    """


@dataclass(frozen=True)
class Failure:
    """What went wrong when generated code ran, as the model is told it in a fix request.

    `line` is a line of the code being fixed (None when the error has no line in it, e.g. a helper that
    could not be generated); `where` names the code: "" for the LMP's own code, or e.g. "the helper function
    `make_line`".
    """

    error: str  # "NameError: name 'corner_pos' is not defined", without the sandbox's "(line N)" suffix
    line: int | None = None
    line_text: str = ""
    where: str = ""

    def summary(self) -> str:
        """One line, deterministic (hex addresses masked), used as the fix request's transcript key."""
        at = f"line {self.line}: `{self.line_text.strip()}`: " if self.line else ""
        return _ADDRESS.sub("0x...", f"{at}{self.error}").replace("\n", " ")


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


@dataclass(frozen=True)
class LMPConfig:
    """How one LMP asks for code (field names and defaults as in the original Code as Policies configs)."""

    name: str
    template: str = ""  # a template in `prompts/` (`<template>.j2`), rendered with the LMP's template_vars
    prompt: str | None = None  # or the prompt text itself, for applications that bring their own
    query_prefix: str = "# "
    query_suffix: str = "."
    stop: tuple[str, ...] = ("#", "objects = [")
    temperature: float = 0.0
    max_tokens: int = 512
    maintain_session: bool = False
    return_val_name: str | None = None
    include_context: bool = True
    api: Literal["chat", "completions"] = "chat"
    repair_rounds: int = 1
    system: str | None = None  # the chat API's system message (default CHAT_SYSTEM)

    def __post_init__(self) -> None:
        if self.api not in ("chat", "completions"):
            raise ValueError(f"LMP {self.name}: api must be 'chat' or 'completions', not {self.api!r}")
        if self.repair_rounds < 0:
            raise ValueError(f"LMP {self.name}: repair_rounds must be >= 0")

    @property
    def cut_markers(self) -> tuple[str, ...]:
        """Stop tokens applied to chat answers after extraction; a lone '#' would cut every comment."""
        return tuple(s for s in self.stop if len(s.strip()) > 1)


@dataclass
class Generation:
    """What one LMP call produced: the code, what to execute (context + code), and how it was obtained."""

    lmp: str
    query: str  # the caller's query, e.g. "stack the blocks"
    context: str
    use_query: str  # the query line as the model saw it, e.g. "# stack the blocks."
    code: str  # the model's code, extracted and syntax-checked
    to_exec: str  # context + code when include_context, else code
    raw: list[str] = field(default_factory=list)  # every raw answer, the repaired ones included
    repaired: bool = False


class LMP:
    """One language-model program. Thread-safe: nested LMPs may be called from parallel policies."""

    def __init__(self, config: LMPConfig, client: Any, template_vars: Mapping[str, Any] | None = None):
        self.config = config
        self.client = client
        if config.prompt is not None:
            self.base_prompt = config.prompt.rstrip("\n")
        elif config.template:
            self.base_prompt = prompts.render(config.template, **dict(template_vars or {})).rstrip("\n")
        else:
            raise ValueError(f"LMP {config.name}: give a template name or the prompt text")
        self._history: list[str] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def history(self) -> list[str]:
        with self._lock:
            return list(self._history)

    def clear_history(self) -> None:
        with self._lock:
            self._history.clear()

    def record_success(self, generation: Generation) -> None:
        """Keep a command that worked in the session, so later commands ("undo that") can refer to it.

        Only the caller knows whether the code ran and the task went well, so it reports it; failed commands
        stay out of the prompt, where they would teach the model its own mistakes.
        """
        if not self.config.maintain_session:
            return
        entry = f"{generation.context}\n{generation.use_query}\n{generation.code}".strip("\n")
        with self._lock:
            self._history.append(entry)

    # -- prompt ------------------------------------------------------------------------------------
    def query_text(self, query: str, context: str = "") -> tuple[str, str]:
        """(use_query, request query): the query line, and what identifies this call in transcripts."""
        use_query = f"{self.config.query_prefix}{query}{self.config.query_suffix}"
        return use_query, (f"{context}\n{use_query}" if context else use_query)

    def build_prompt(self, query: str, context: str = "") -> str:
        use_query, tail = self.query_text(query, context)
        parts = [self.base_prompt]
        if self.config.maintain_session:
            parts.extend(self.history)
        parts.append(tail)
        return "\n".join(parts) + "\n"

    def _request(self, query: str, context: str) -> Request:
        _, request_query = self.query_text(query, context)
        prompt = self.build_prompt(query, context)
        cfg = self.config
        if cfg.api == "completions":
            shape = {"prompt": prompt, "stop": cfg.stop}
        else:  # chat answers are cut at the stop markers after extraction, not by the server
            shape = {
                "messages": (
                    {"role": "system", "content": cfg.system or CHAT_SYSTEM},
                    {"role": "user", "content": prompt},
                )
            }
        return Request(
            lmp=cfg.name, query=request_query, temperature=cfg.temperature, max_tokens=cfg.max_tokens, **shape
        )

    # -- generation --------------------------------------------------------------------------------
    def generate(self, query: str, context: str = "") -> Generation:
        """Ask the model for the code of `query`; extract it; repair a syntax error up to `repair_rounds` times."""
        request = self._request(query, context)
        raw = [self._ask(request)]
        code, error = self._code_and_error(raw[-1])
        rounds = 0
        while error and rounds < self.config.repair_rounds:
            rounds += 1
            raw.append(self._ask(self._repair_request(request, raw[-1], error)))
            code, error = self._code_and_error(raw[-1])
        if error:
            tried = f" (after {rounds} repair round{'s' if rounds != 1 else ''})" if rounds else ""
            raise LMPError(f"LMP {self.name}: {error}{tried}, for query {query!r}")
        use_query, _ = self.query_text(query, context)
        to_exec = f"{context}\n{code}" if self.config.include_context and context else code
        return Generation(self.name, query, context, use_query, code, to_exec, raw, repaired=rounds > 0)

    def samples(self, query: str, context: str, n: int) -> list[Generation | LMPError]:
        """`n` programs for `query` from one request (best-of-K; needs temperature > 0 to differ). A sample
        without usable code is its `LMPError` in place (no syntax repair: the other samples are the retry)."""
        request = self._request(query, context)
        if n > 1:
            request = replace(request, n=n)
        use_query, _ = self.query_text(query, context)
        out: list[Generation | LMPError] = []
        for text in self._ask_all(request):
            code, error = self._code_and_error(text)
            if error:
                out.append(LMPError(f"LMP {self.name}: {error}, for query {query!r}"))
                continue
            to_exec = f"{context}\n{code}" if self.config.include_context and context else code
            out.append(Generation(self.name, query, context, use_query, code, to_exec, [text]))
        return out

    def fix(self, generation: Generation, failure: Failure, temperature: float | None = None) -> Generation:
        """Ask for a corrected program after `generation`'s code failed as `failure` says (prompts/fix.j2).

        The request is the original one plus the failed code and the error, under the LMP name `<name>/fix`
        and a query that adds the failure's summary, so transcripts show what was fed back and replays find
        it. `temperature` overrides the LMP's (a second, sampled fix when the greedy one repeated the failed
        code). Raises LMPError when the answer has no usable code, LLMUnavailable when the model cannot be asked.
        """
        cfg = self.config
        original = self._request(generation.query, generation.context)
        ask = prompts.render(
            "fix",
            api=cfg.api,
            code=generation.code,
            error=failure.error,
            line=failure.line,
            line_text=failure.line_text.strip(),
            where=failure.where,
            query=generation.use_query,
        )
        query = f"{original.query}\n# failed: {failure.summary()}"
        if cfg.api == "completions":
            fixed = Request(
                lmp=f"{cfg.name}/fix",
                query=query,
                prompt=f"{original.prompt}{ask}\n{generation.use_query}\n",
                stop=cfg.stop,
                temperature=cfg.temperature if temperature is None else temperature,
                max_tokens=cfg.max_tokens,
            )
        else:
            messages = (
                *(original.messages or ()),
                {"role": "assistant", "content": f"```python\n{generation.code}\n```"},
                {"role": "user", "content": ask},
            )
            fixed = Request(
                lmp=f"{cfg.name}/fix",
                query=query,
                messages=messages,
                temperature=cfg.temperature if temperature is None else temperature,
                max_tokens=cfg.max_tokens,
            )
        raw = self._ask(fixed)
        code, error = self._code_and_error(raw)
        if error:
            raise LMPError(f"LMP {self.name}: the fix answer has {error}, for query {generation.query!r}")
        to_exec = f"{generation.context}\n{code}" if cfg.include_context and generation.context else code
        return Generation(
            self.name, generation.query, generation.context, generation.use_query, code, to_exec, [raw], True
        )

    def _ask(self, request: Request) -> str:
        return self._ask_all(request)[0]

    def _ask_all(self, request: Request) -> list[str]:
        try:
            completions = self.client.complete(request)
        except LLMError as exc:
            raise LLMUnavailable(f"LMP {self.name}: {exc}") from None
        if not completions:
            raise LMPError(f"LMP {self.name}: the model returned no answer for {request.query!r}")
        return [c.text for c in completions]

    def _code_and_error(self, text: str) -> tuple[str, str]:
        """(code, "") when usable, else (best effort, what is wrong with it)."""
        cut = self.config.cut_markers if self.config.api == "chat" else ()
        try:
            code = extract_code(text, cut_at=cut)
        except NoCodeFound as exc:
            return "", f"no code in the answer: {exc}"
        if self.config.api == "completions":
            code = code.strip()
        try:
            ast.parse(code)
        except SyntaxError as exc:
            return code, f"syntax error: {exc.msg} (line {exc.lineno})"
        return code, ""

    def _repair_request(self, original: Request, answer: str, error: str) -> Request:
        """One more call that shows the model its broken answer and the error, and asks for the fix."""
        cfg = self.config
        ask = (
            f"The code you wrote for `{original.query.splitlines()[-1]}` has a {error}. Reply with the "
            "corrected code only, in one ```python block."
        )
        if cfg.api == "completions":
            commented = "\n".join(f"# {line}" for line in answer.splitlines())
            prompt = (
                f"{original.prompt}# (broken attempt, {error}):\n{commented}\n"
                f"# corrected code for the same task:\n"
            )
            return Request(
                lmp=f"{cfg.name}/repair",
                query=original.query,
                prompt=prompt,
                stop=cfg.stop,
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
            )
        messages = (
            *(original.messages or ()),
            {"role": "assistant", "content": answer},
            {"role": "user", "content": ask},
        )
        return Request(
            lmp=f"{cfg.name}/repair",
            query=original.query,
            messages=messages,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
        )
