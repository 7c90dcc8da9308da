"""The contract between LMPs and LLM backends.

Everything an LMP asks of a model is one `Request`; every answer is a list of `Completion`s (one per sample).
Backends (OpenAI-compatible HTTP, replay, scripted) implement `Backend`; `LLMClient` wraps a backend with the
response cache, the transcript and retries, and is what LMPs hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Request:
    """One call to a language model.

    `lmp` and `query` identify the call for transcripts and replay; `prompt` (completions API) or `messages`
    (chat API) is what the model actually sees.
    """

    lmp: str
    query: str
    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    max_tokens: int = 512
    n: int = 1
    seed: int | None = None


@dataclass
class Completion:
    """One sample of a model's answer, with what the transcript records about it."""

    text: str
    model: str = ""
    latency_s: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    finish_reason: str | None = None


class Backend(Protocol):
    """Something that answers requests: an HTTP endpoint, a transcript being replayed, a test script."""

    kind: str
    model: str

    def complete(self, request: Request) -> list[Completion]:
        """Return `request.n` completions, in sample order."""
        ...


class LLMError(RuntimeError):
    """A model call failed for good (after retries), or a replay had no answer: the message says which and how to fix it."""
