"""Replays a transcript: each (LMP name, query) gets the answers recorded for it, in recorded order.

The k-th call with a given key gets the k-th recorded call's answers (sample i of it for sample index i), so a run that asks the same thing twice (a repeated command, n > 1 sampling, calls from a thread pool)
is reproduced exactly without any model. A miss, or asking more often than the run did, is an error that
names the query, never a guess.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections import defaultdict
from typing import Any

from lmp.transcript import read_transcript
from lmp.types import Completion, LLMError, Request


class ReplayBackend:
    """A backend whose answers are a recorded transcript; thread-safe, never touches the network."""

    kind = "replay"

    def __init__(self, path: str | os.PathLike[str]):
        self.path = str(path)
        records = read_transcript(path)
        if not records:
            raise LLMError(f"transcript {path} has no records to replay")
        self.model = str(records[0].get("model") or "replay")
        # (lmp, query) -> recorded calls, each the list of its samples in order. A record with sample index 0
        # starts a call; sample i > 0 joins the latest call with that key (the client writes a call's samples
        # together, so they are contiguous anyway).
        self._answers: dict[tuple[str, str], list[list[dict[str, Any]]]] = defaultdict(list)
        for record in records:
            key = (str(record.get("lmp", "")), record["query"])
            sample = record.get("sample", 0)
            calls = self._answers[key]
            if not isinstance(sample, int) or sample <= 0 or not calls or len(calls[-1]) != sample:
                calls.append([record])
            else:
                calls[-1].append(record)
        self._calls: dict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    def complete(self, request: Request) -> list[Completion]:
        key = (request.lmp, request.query)
        with self._lock:
            calls = self._answers.get(key)
            if not calls:
                raise LLMError(self._miss_message(request))
            k = self._calls[key]
            if k >= len(calls) or len(calls[k]) < request.n:
                got = f"{len(calls[k])} sample(s)" if k < len(calls) else "no answer"
                raise LLMError(
                    f"replay {self.path}: LMP {request.lmp!r} query {request.query!r} was asked "
                    f"{len(calls)} time(s) in the recorded run; call {k + 1} of this run wants {request.n} "
                    f"sample(s) and the recording has {got}. The run diverged from the recording: "
                    "record a new transcript."
                )
            picked = calls[k][: request.n]
            self._calls[key] = k + 1
        return [
            Completion(
                text=r["response"],
                model=str(r.get("model") or self.model),
                usage=r.get("usage") if isinstance(r.get("usage"), dict) else {},
                finish_reason=r.get("finish_reason"),
            )
            for r in picked
        ]

    def _miss_message(self, request: Request) -> str:
        same_lmp = [q for (lmp, q) in self._answers if lmp == request.lmp]
        near = difflib.get_close_matches(request.query, same_lmp, n=3, cutoff=0.3) or same_lmp[:3]
        if near:
            hint = f"; nearest recorded queries for {request.lmp!r}: " + ", ".join(repr(q) for q in near)
        else:
            hint = f"; the transcript records LMPs {sorted({k[0] for k in self._answers})}"
        return f"replay {self.path} has no answer for LMP {request.lmp!r} query {request.query!r}{hint}"
