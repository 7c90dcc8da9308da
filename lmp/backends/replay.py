"""Replays a transcript: each (LMP name, query) gets the answers recorded for it, in recorded order.

Replay reproduces a run exactly without any model; a miss is an error that names the query, never a guess.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections import defaultdict

from lmp.transcript import read_transcript
from lmp.types import Completion, LLMError, Request


class ReplayBackend:
    kind = "replay"

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        records = read_transcript(path)
        if not records:
            raise LLMError(f"transcript {path} has no records to replay")
        self.model = str(records[0].get("model", "replay"))
        self._answers: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for record in records:
            self._answers[(record.get("lmp", ""), record["query"])].append(record)
        self._used: dict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    def complete(self, request: Request) -> list[Completion]:
        key = (request.lmp, request.query)
        with self._lock:
            recorded = self._answers.get(key)
            if not recorded:
                raise LLMError(self._miss_message(request))
            start = self._used[key]
            # A run that asks the same thing again (a repeated command) gets the next recorded answer;
            # past the end it keeps getting the last one, as a deterministic model would answer.
            picked = [recorded[min(start + i, len(recorded) - 1)] for i in range(request.n)]
            self._used[key] = start + request.n
        return [
            Completion(
                text=r["response"],
                model=str(r.get("model", self.model)),
                usage=r.get("usage") or {},
                finish_reason=r.get("finish_reason"),
            )
            for r in picked
        ]

    def _miss_message(self, request: Request) -> str:
        same_lmp = [q for (lmp, q) in self._answers if lmp == request.lmp]
        near = difflib.get_close_matches(request.query, same_lmp, n=3, cutoff=0.3)
        hint = (
            f"; nearest recorded: {near}"
            if near
            else (f"; it records LMPs {sorted({k[0] for k in self._answers})}")
        )
        return f"replay {self.path} has no answer for LMP {request.lmp!r} query {request.query!r}{hint}"
