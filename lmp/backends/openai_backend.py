"""OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, llama.cpp) through the official `openai` SDK.

The SDK's own retries are off: `LLMClient` retries with one policy for every backend and names the endpoint
when it gives up.
"""

from __future__ import annotations

import os
import time

import openai

from lmp.types import Completion, LLMError, Request


class TransientLLMError(LLMError):
    """A failure worth retrying (429, 5xx, timeout, connection); carries the status and the server's retry-after."""

    def __init__(self, message: str, status: int | None = None, retry_after: str | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class OpenAIBackend:
    """`api="chat"` sends messages (a prompt becomes one user message); `api="completions"` sends the prompt."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api: str = "chat",
        timeout_s: float = 120.0,
    ):
        if api not in ("chat", "completions"):
            raise LLMError(f"unknown API {api!r}: use 'chat' or 'completions'")
        self.model = model
        self.api = api
        self.kind = f"openai-{api}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if base_url or os.environ.get("OPENAI_BASE_URL"):
                key = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key
            else:
                raise LLMError(
                    "no API key: set OPENAI_API_KEY, or point --base-url at a local OpenAI-compatible server"
                )
        self._client = openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0, timeout=timeout_s)

    def complete(self, request: Request) -> list[Completion]:
        common = {
            "model": self.model,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "n": request.n,
        }
        if request.stop:
            common["stop"] = list(request.stop)
        if request.seed is not None:
            common["seed"] = request.seed
        started = time.perf_counter()
        try:
            if self.api == "chat":
                messages = list(request.messages or ({"role": "user", "content": request.prompt or ""},))
                response = self._client.chat.completions.create(messages=messages, **common)
                texts = [
                    (c.message.content or "", c.finish_reason)
                    for c in sorted(response.choices, key=lambda c: c.index)
                ]
            else:
                prompt = (
                    request.prompt
                    if request.prompt is not None
                    else _messages_as_prompt(request.messages or ())
                )
                response = self._client.completions.create(prompt=prompt, **common)
                texts = [
                    (c.text or "", c.finish_reason) for c in sorted(response.choices, key=lambda c: c.index)
                ]
        except openai.APIStatusError as exc:
            message = f"{self.base_url} answered HTTP {exc.status_code}: {_short(exc)}"
            if exc.status_code in (408, 409, 429) or exc.status_code >= 500:
                raise TransientLLMError(
                    message, exc.status_code, exc.response.headers.get("retry-after")
                ) from None
            raise LLMError(message) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise TransientLLMError(f"{self.base_url}: {type(exc).__name__}: {exc}") from None
        latency = time.perf_counter() - started
        usage = response.usage.model_dump() if getattr(response, "usage", None) else {}
        if len(texts) < request.n:
            raise LLMError(f"{self.base_url} returned {len(texts)} choices for n={request.n}")
        return [
            Completion(
                text=t, model=response.model or self.model, latency_s=latency, usage=usage, finish_reason=f
            )
            for t, f in texts
        ]


def _messages_as_prompt(messages: tuple[dict[str, str], ...]) -> str:
    return "\n\n".join(m.get("content", "") for m in messages)


def _short(exc: openai.APIStatusError) -> str:
    text = str(exc.message or exc)
    return text if len(text) < 300 else text[:300] + "..."
