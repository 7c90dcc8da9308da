"""Keeping a model's wrong answer apart from a model that cannot be reached.

An LMP turns every `LLMError` (connection refused, server errors after the client's retries) into an
`LMPError`, the same error a garbled answer gets. A benchmark must not score the first as a failure of the
model: `WatchedClient` sits between the LMP and the client and remembers it, so `reraise_unreachable` can
stop the run instead (the trial then runs again on resume).
"""

from __future__ import annotations

from typing import Any


class WatchedClient:
    """The LLM client as an LMP sees it; `failure` is the last LLMError it passed through."""

    def __init__(self, client: Any):
        self.client = client
        self.failure: Exception | None = None

    @property
    def model(self) -> str:
        return getattr(self.client, "model", "")

    def complete(self, request: Any) -> Any:
        from lmp import LLMError

        try:
            return self.client.complete(request)
        except LLMError as exc:
            self.failure = exc
            raise

    def reraise_unreachable(self) -> None:
        """Raise the remembered LLMError (and forget it), if there is one."""
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure
