"""The embedded local model: Qwen2.5-Coder through llama.cpp, served by cap itself on loopback.

The backend starts (or reuses) the local model server (`lmp.local.server`) and talks to it with the openai SDK,
streaming: while a request waits behind another process's request the server sends keep-alive comments, so
the read timeout measures silence of a request being answered, never time in the queue. Within one process
requests go one at a time (the server has one slot; queueing them there would only make them wait under
a timeout). If the server dies, the next request starts a new one and the failed call is retried by the
client's retry policy; nothing answered is lost (transcripts are written per answer).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import openai

from lmp.local import catalog
from lmp.local.install import check_memory, model_path, verified
from lmp.local.process import Lease, ServerError, ServerInfo, ServerSettings, ensure_server, running
from lmp.retry import TransientLLMError
from lmp.types import Completion, LLMError, Request

_one_at_a_time = threading.Lock()


def _transport_errors() -> tuple[type[BaseException], ...]:
    """A server that dies mid-stream surfaces as the SDK's HTTP library's own error, not an openai one."""
    errors: list[type[BaseException]] = [openai.APIConnectionError, openai.APITimeoutError, ConnectionError]
    for module in ("httpx2", "httpx"):
        try:
            errors.append(__import__(module).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


TRANSPORT_ERRORS = _transport_errors()


class LocalModelMissing(LLMError):
    """The local model is not installed: the message says how to install it or use another model."""


class LocalBackend:
    def __init__(
        self,
        size: str = catalog.DEFAULT_SIZE,
        model_file: str | None = None,
        api: str = "chat",
        read_timeout_s: float = 120.0,
        settings: dict[str, Any] | None = None,
    ):
        if api not in ("chat", "completions"):
            raise LLMError(f"unknown API {api!r}: use 'chat' or 'completions'")
        self.api = api
        self.kind = f"local-{api}"
        if model_file is not None:
            path = Path(model_file)
            if not path.is_file():
                raise LLMError(f"--model-path {model_file}: no such file")
            self.sha256 = _file_identity(path)
            self.model = path.name
        else:
            spec = catalog.spec(size)
            path = model_path(spec)
            if not verified(spec, path):
                raise LocalModelMissing(
                    f"the local model {spec.name} is not installed (or not verified) in {path.parent}"
                )
            try:
                check_memory(spec)
            except Exception as exc:
                raise LLMError(str(exc)) from None
            self.sha256 = spec.sha256
            self.model = spec.name
        self.model_file = str(path)
        self.read_timeout_s = read_timeout_s
        self._settings = ServerSettings(
            model_path=str(path), name=self.model, sha256=self.sha256, **(settings or {})
        )
        self._info: ServerInfo | None = None
        self._client: openai.OpenAI | None = None

    # -- server ------------------------------------------------------------------------------------
    def _connect(self) -> openai.OpenAI:
        if self._client is not None and self._info is not None:
            return self._client
        try:
            info = ensure_server(self._settings)
        except ServerError as exc:
            raise LLMError(f"{exc} ({exc.hint})" if exc.hint else str(exc)) from None
        Lease.hold(info)
        self._info = info
        timeout = openai.Timeout(self.read_timeout_s, connect=5.0)
        self._client = openai.OpenAI(base_url=info.base_url, api_key="local", max_retries=0, timeout=timeout)
        return self._client

    @property
    def base_url(self) -> str:
        self._connect()
        assert self._info is not None
        return self._info.base_url

    def _lost(self, exc: Exception) -> TransientLLMError:
        """The server stopped answering: forget it (the retry starts or finds another) and say so."""
        dead = self._info is not None and running(self.sha256) is None
        self._info, self._client = None, None
        what = "the local model server died" if dead else "the local model server did not answer"
        return TransientLLMError(f"{what} ({type(exc).__name__}: {exc}); starting it again")

    # -- requests ----------------------------------------------------------------------------------
    def complete(self, request: Request) -> list[Completion]:
        with _one_at_a_time:
            return [self._one(request, i) for i in range(request.n)]

    def _one(self, request: Request, index: int) -> Completion:
        client = self._connect()
        params: dict[str, Any] = {
            "model": self.model,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.stop:
            params["stop"] = list(request.stop)
        if request.seed is not None or request.n > 1:
            params["seed"] = (request.seed or 0) + index
        started = time.perf_counter()
        text: list[str] = []
        usage: dict[str, Any] = {}
        finish = None
        try:
            if self.api == "chat":
                messages = list(request.messages or ({"role": "user", "content": request.prompt or ""},))
                stream = client.chat.completions.create(messages=messages, **params)
            else:
                prompt = request.prompt if request.prompt is not None else _as_prompt(request.messages or ())
                stream = client.completions.create(prompt=prompt, **params)
            for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage.model_dump(exclude_none=True)
                for choice in chunk.choices:
                    piece = choice.delta.content if self.api == "chat" else choice.text
                    if piece:
                        text.append(piece)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except TRANSPORT_ERRORS as exc:
            raise self._lost(exc) from None
        except openai.APIStatusError as exc:
            raise LLMError(f"local model server answered HTTP {exc.status_code}: {exc.message}") from None
        if finish is None:  # the stream ended without its last chunk: the server went away mid-answer
            raise self._lost(ConnectionError("the answer stream ended before the answer did"))
        usage["model_sha256"] = self.sha256
        return Completion(
            text="".join(text),
            model=self.model,
            latency_s=time.perf_counter() - started,
            usage=usage,
            finish_reason=finish,
        )


def _as_prompt(messages: tuple[dict[str, str], ...]) -> str:
    return "\n\n".join(m.get("content", "") for m in messages)


def _file_identity(path: Path) -> str:
    """A user's own GGUF is not hashed whole on every start (1 GB+): size, mtime and path stand in for it."""
    import hashlib

    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
