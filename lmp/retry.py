"""When to retry a failed model call and how long to wait: exponential backoff with jitter, bounded twice
(attempts and total seconds), honouring the server's `retry-after`.

Kept apart from any backend so every backend (HTTP today, others later) shares one policy and one notion of
"transient", and so importing it does not pull in the `openai` SDK.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from lmp.types import LLMError

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def is_retryable_status(status: int) -> bool:
    """408/409/429 and every 5xx: the server may answer if asked again later."""
    return status in (408, 409, 429) or status >= 500


class TransientLLMError(LLMError):
    """A failure worth retrying (408/409/429/5xx, timeout, connection); carries status and the server's retry-after."""

    def __init__(self, message: str, status: int | None = None, retry_after: str | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retrying transient failures.

    The total bound is checked before each wait: the client never starts a wait that would end past
    `max_total_s`. A single attempt can still take up to the backend's own request timeout.
    """

    max_attempts: int = 6
    max_total_s: float = 120.0
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 1).

        A server's `retry-after` wins over our backoff and is not shortened (it knows its own rate limit; asking
        sooner only earns another 429); the total bound decides whether waiting that long is worth it. Otherwise exponential backoff with jitter in [50%, 100%] so parallel workers do not retry in lockstep.
        """
        if retry_after is not None and retry_after >= 0:
            return retry_after
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `retry-after` header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())
