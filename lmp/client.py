"""The one object LMPs talk to: a backend plus cache, transcript and retries; safe to share across threads."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from lmp.backends.openai_backend import TransientLLMError
from lmp.cache import ResponseCache, cache_key
from lmp.retry import RetryPolicy, parse_retry_after
from lmp.transcript import TranscriptWriter
from lmp.types import Backend, Completion, LLMError, Request


class LLMClient:
    def __init__(
        self,
        backend: Backend,
        cache: ResponseCache | None = None,
        transcript: TranscriptWriter | None = None,
        retry: RetryPolicy | None = None,
        sleep=time.sleep,
    ):
        self.backend = backend
        self.cache = cache
        self.transcript = transcript
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls = 0  # completions asked for, answered live or from the cache
        self.cached_calls = 0

    @property
    def model(self) -> str:
        return self.backend.model

    def complete(self, request: Request) -> list[Completion]:
        """Answers for samples 0..n-1; cached samples are reused and only the missing ones are requested."""
        kind, model = self.backend.kind, self.backend.model
        # Replay answers come from the transcript itself; caching them would only hide a stale file.
        use_cache = self.cache is not None and kind != "replay"
        keys = [cache_key(kind, model, request, i) for i in range(request.n)]
        answers: list[Completion | None] = [self.cache.get(k) if use_cache else None for k in keys]
        missing = [i for i, a in enumerate(answers) if a is None]
        if missing:
            fresh = self._call_with_retries(replace(request, n=len(missing)))
            for i, completion in zip(missing, fresh, strict=True):
                answers[i] = completion
                if use_cache:
                    self.cache.put(keys[i], completion)
        done = [a for a in answers if a is not None]
        with self._lock:
            self.calls += len(done)
            self.cached_calls += request.n - len(missing)
        if self.transcript is not None:
            for i, completion in enumerate(done):
                self.transcript.write(request, completion, sample=i)
        return done

    def _call_with_retries(self, request: Request) -> list[Completion]:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.backend.complete(request)
            except TransientLLMError as exc:
                wait = self.retry.delay(attempt, parse_retry_after(exc.retry_after))
                elapsed = time.monotonic() - started
                if attempt >= self.retry.max_attempts or elapsed + wait > self.retry.max_total_s:
                    raise LLMError(
                        f"gave up after {attempt} attempts in {elapsed:.1f}s: {exc}. "
                        "Check the server, or raise the retry bounds."
                    ) from None
                self._sleep(wait)
