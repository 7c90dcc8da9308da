"""Answers written in advance, for tests and examples: no network, no model.

A scripted answer is what a test says the model would answer; it is never presented as model output.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

from lmp.types import Completion, LLMError, Request

Responder = Callable[[Request], "str | list[str]"]


class ScriptedBackend:
    """Answers from a function of the request, a mapping of query -> answer, or a sequence consumed in order.

    `requests` records every request seen (thread-safe), so tests can assert on what was asked and in what order.
    """

    kind = "scripted"

    def __init__(
        self, answers: Responder | Mapping[str, str | list[str]] | Iterable[str], model: str = "scripted"
    ):
        self.model = model
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        if callable(answers):
            self._responder: Responder = answers
        elif isinstance(answers, Mapping):
            table = dict(answers)

            def lookup(request: Request) -> str | list[str]:
                if request.query not in table:
                    raise LLMError(
                        f"scripted backend has no answer for {request.lmp!r} query {request.query!r}"
                    )
                return table[request.query]

            self._responder = lookup
        else:
            queue = list(answers)

            def pop(request: Request) -> str:
                with self._lock:
                    if not queue:
                        raise LLMError(
                            f"scripted backend ran out of answers at {request.lmp!r} query {request.query!r}"
                        )
                    return queue.pop(0)

            self._responder = pop

    def complete(self, request: Request) -> list[Completion]:
        with self._lock:
            self.requests.append(request)
        answer = self._responder(request)
        texts = answer if isinstance(answer, list) else [answer] * request.n
        return [Completion(text=t, model=self.model) for t in texts[: request.n]]
