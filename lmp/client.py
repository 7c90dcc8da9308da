"""The one object LMPs talk to: a backend plus cache, transcript and retries; safe to share across threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from lmp.cache import ResponseCache, cache_key
from lmp.retry import RetryPolicy, TransientLLMError, parse_retry_after
from lmp.transcript import TranscriptWriter
from lmp.types import Backend, Completion, LLMError, Request


class LLMClient:
    """Wraps a backend with the response cache, the transcript and retries.

    One client serves a whole run, from many threads at once (hierarchical fgen and benchmarks call it from a
    pool): the backend call runs outside any lock, so calls really overlap; the cache has a connection per
    thread and the transcript its own lock. `calls` counts completions asked for (live or cached);
    `cached_calls` how many of those the cache answered.
    """

    def __init__(
        self,
        backend: Backend,
        cache: ResponseCache | None = None,
        transcript: TranscriptWriter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.backend = backend
        self.cache = cache
        self.transcript = transcript
        self.retry = retry or RetryPolicy()
        self._sleep = sleep  # injectable so tests can check waits without waiting
        self._lock = threading.Lock()
        self.calls = 0
        self.cached_calls = 0
        # tokens of the answers the backend gave (a replay gives the recorded usage), cached answers excluded
        self.prompt_tokens = 0
        self.completion_tokens = 0

    @property
    def model(self) -> str:
        return self.backend.model

    def complete(self, request: Request) -> list[Completion]:
        """Answers for samples 0..n-1, in order.

        Each sample has its own cache entry, so n samples at temperature > 0 stay n distinct answers; on a
        partial hit only the missing samples are requested. Every sample is written to the transcript,
        cached or not, so the transcript alone replays the run.
        """
        if request.n < 1:
            raise LLMError(f"n must be at least 1, got {request.n} (LMP {request.lmp!r})")
        kind, model = self.backend.kind, self.backend.model
        # Replay answers come from the transcript itself; caching them would only hide a stale file.
        cache = self.cache if kind != "replay" else None
        keys = [cache_key(kind, model, request, i) for i in range(request.n)] if cache else []
        answers: list[Completion | None] = [cache.get(k) for k in keys] if cache else [None] * request.n
        missing = [i for i, a in enumerate(answers) if a is None]
        if missing:
            fresh = self._call_with_retries(replace(request, n=len(missing)))
            if len(fresh) < len(missing):
                raise LLMError(
                    f"{kind} backend returned {len(fresh)} answers for {len(missing)} samples "
                    f"(LMP {request.lmp!r} query {request.query!r})"
                )
            for i, completion in zip(missing, fresh, strict=False):
                answers[i] = completion
                if cache:
                    cache.put(keys[i], completion)
        done: list[Completion] = [a for a in answers if a is not None]
        with self._lock:
            self.calls += len(done)
            self.cached_calls += len(done) - len(missing)
            if missing:
                self.prompt_tokens += sum(_tokens(c, "prompt_tokens") for c in fresh)
                self.completion_tokens += sum(_tokens(c, "completion_tokens") for c in fresh)
        if self.transcript is not None:
            self.transcript.write_all(request, done)
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
                    bound = (
                        f"the {self.retry.max_attempts}-attempt bound"
                        if attempt >= self.retry.max_attempts
                        else f"the {self.retry.max_total_s:g}s total-time bound"
                    )
                    raise LLMError(
                        f"gave up after {attempt} attempts in {elapsed:.1f}s ({bound}): {exc}. "
                        "Check the server, or raise the retry bounds."
                    ) from None
                self._sleep(wait)


def _tokens(completion: Completion, key: str) -> int:
    value = (completion.usage or {}).get(key)
    return value if isinstance(value, int) and value >= 0 else 0
