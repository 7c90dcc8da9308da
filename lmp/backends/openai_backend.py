"""OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, llama.cpp) through the official `openai` SDK.

The SDK's own retries are off: `LLMClient` retries with one policy for every backend and names the endpoint
when it gives up. Bodies are read raw and parsed here, because the SDK accepts malformed answers silently
(`choices: null`, a bare list); a malformed answer becomes an `LLMError` naming the endpoint, never a crash.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import openai

from lmp.retry import TransientLLMError, is_retryable_status
from lmp.types import Completion, LLMError, Request

__all__ = ["OpenAIBackend", "TransientLLMError"]

PLACEHOLDER_KEY = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key


class OpenAIBackend:
    """`api="chat"` sends messages (a prompt becomes one user message); `api="completions"` sends the prompt.

    Model, base URL and key come from the arguments, else `CAP_MODEL`, `OPENAI_BASE_URL`, `OPENAI_API_KEY`.
    With a base URL and no key, a placeholder key is sent, since local servers do not check it.
    """

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        api: str = "chat",
        timeout_s: float = 120.0,
    ):
        if api not in ("chat", "completions"):
            raise LLMError(f"unknown API {api!r}: use 'chat' or 'completions'")
        model = model or os.environ.get("CAP_MODEL")
        if not model:
            raise LLMError("no model: pass a model name or set CAP_MODEL")
        self.model = model
        self.api = api
        self.kind = f"openai-{api}"
        explicit_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.base_url = (explicit_url or "https://api.openai.com/v1").rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if not explicit_url:
                raise LLMError(
                    "no API key: set OPENAI_API_KEY, or point --base-url at a local OpenAI-compatible server"
                )
            key = PLACEHOLDER_KEY
        self._client = openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0, timeout=timeout_s)

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/{'chat/completions' if self.api == 'chat' else 'completions'}"

    def complete(self, request: Request) -> list[Completion]:
        params: dict[str, Any] = {
            "model": self.model,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "n": request.n,
        }
        if request.stop:
            params["stop"] = list(request.stop)
        if request.seed is not None:
            params["seed"] = request.seed
        started = time.perf_counter()
        try:
            if self.api == "chat":
                params["messages"] = list(
                    request.messages or ({"role": "user", "content": request.prompt or ""},)
                )
                raw = self._client.chat.completions.with_raw_response.create(**params)
            else:
                params["prompt"] = (
                    request.prompt
                    if request.prompt is not None
                    else _messages_as_prompt(request.messages or ())
                )
                raw = self._client.completions.with_raw_response.create(**params)
        except openai.APIStatusError as exc:
            message = f"{self.endpoint} answered HTTP {exc.status_code}: {_short(str(exc.message or exc))}"
            if is_retryable_status(exc.status_code):
                headers = exc.response.headers
                retry_after = headers.get("retry-after")
                if retry_after is None and headers.get("retry-after-ms"):
                    try:
                        retry_after = str(float(headers["retry-after-ms"]) / 1000)
                    except ValueError:
                        retry_after = None
                raise TransientLLMError(message, exc.status_code, retry_after) from None
            raise LLMError(message) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise TransientLLMError(f"{self.endpoint}: {type(exc).__name__}: {exc}") from None
        except openai.OpenAIError as exc:
            raise LLMError(f"{self.endpoint}: {type(exc).__name__}: {_short(str(exc))}") from None
        try:
            body_text = raw.text
        except Exception as exc:  # the SDK's HTTP library failed mid-body: a dropped connection, retryable
            raise TransientLLMError(f"{self.endpoint}: reading the answer failed: {exc!r}") from None
        latency = time.perf_counter() - started
        return self._parse(body_text, request.n, latency)

    def _parse(self, body_text: str, n: int, latency: float) -> list[Completion]:
        """Completions from a response body; text of a choice with no content is "" (callers judge emptiness)."""
        try:
            body = json.loads(body_text)
        except ValueError:
            raise LLMError(f"{self.endpoint} answered with non-JSON: {_short(body_text)!r}") from None
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise LLMError(f"{self.endpoint} answered without a list of choices: {_short(body_text)!r}")
        if len(choices) < n:
            raise LLMError(f"{self.endpoint} returned {len(choices)} choices for n={n}")
        ordered = sorted(
            enumerate(choices),
            key=lambda ic: ic[1]["index"] if isinstance(ic[1].get("index"), int) else ic[0],
        )
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        model = body.get("model") if isinstance(body.get("model"), str) and body.get("model") else self.model
        out = []
        for _, choice in ordered[:n]:
            if self.api == "chat":
                message = choice.get("message")
                text = message.get("content") if isinstance(message, dict) else None
            else:
                text = choice.get("text")
            finish = choice.get("finish_reason")
            out.append(
                Completion(
                    text=text if isinstance(text, str) else "",
                    model=model,
                    latency_s=latency,
                    usage=usage,
                    finish_reason=finish if isinstance(finish, str) else None,
                )
            )
        return out


def _messages_as_prompt(messages: tuple[dict[str, str], ...]) -> str:
    return "\n\n".join(m.get("content", "") for m in messages)


def _short(text: str) -> str:
    return text if len(text) < 300 else text[:300] + "..."
