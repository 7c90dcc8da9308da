"""JSONL transcripts: one record per completion, durable as soon as the answer arrives.

A run that is killed loses nothing that was already answered, and a transcript replays the run exactly
(see `lmp.backends.replay`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmp.types import Completion, LLMError, Request


def prompt_sha256(request: Request) -> str:
    """Hash of exactly what the model saw (prompt or messages)."""
    payload = request.prompt if request.prompt is not None else json.dumps(request.messages, sort_keys=True)
    return hashlib.sha256((payload or "").encode()).hexdigest()


class TranscriptWriter:
    """Appends records to a JSONL file, flushing and fsync-ing each answer; safe to share between threads.

    Appending to a transcript whose last line was torn by a killed writer first cuts that partial line off,
    so the file stays valid JSONL (the torn record was never complete, so nothing answered is lost).
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+b")  # noqa: SIM115 - lives as long as the writer
        self._drop_torn_tail()
        self._lock = threading.Lock()

    def _drop_torn_tail(self) -> None:
        size = self._file.seek(0, os.SEEK_END)
        if size == 0:
            return
        self._file.seek(size - 1)
        if self._file.read(1) == b"\n":
            return
        # Find the last newline; everything after it is a partial record.
        pos, chunk = size, 4096
        while pos > 0:
            start = max(0, pos - chunk)
            self._file.seek(start)
            block = self._file.read(pos - start)
            nl = block.rfind(b"\n")
            if nl >= 0:
                self._file.truncate(start + nl + 1)
                return
            pos = start
        self._file.truncate(0)

    @staticmethod
    def _record(request: Request, completion: Completion, sample: int) -> dict[str, Any]:
        return {
            "lmp": request.lmp,
            "query": request.query,
            "sample": sample,
            "prompt_sha256": prompt_sha256(request),
            "response": completion.text,
            "model": completion.model,
            "latency_s": round(completion.latency_s, 6),
            "usage": completion.usage,
            "cached": completion.cached,
            "finish_reason": completion.finish_reason,
            "time": time.time(),
        }

    def write(self, request: Request, completion: Completion, sample: int) -> None:
        """Append one completion (sample index `sample` of `request`) and make it durable."""
        self._append([self._record(request, completion, sample)])

    def write_all(self, request: Request, completions: Sequence[Completion]) -> None:
        """Append all samples of one call together, so concurrent calls never interleave their samples."""
        self._append([self._record(request, c, i) for i, c in enumerate(completions)])

    def write_records(self, records: Sequence[dict[str, Any]]) -> None:
        """Append records made elsewhere (by a distributed worker's client), together and durably."""
        self._append(list(records))

    def _append(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        with self._lock:
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def __enter__(self) -> TranscriptWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_transcript(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All complete records of a transcript, in file order.

    A torn last line (a killed writer) is skipped; any other malformed line is an `LLMError` naming the line,
    because silently skipping it would make a replay diverge from the recorded run.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LLMError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LLMError(f"transcript {path} is not UTF-8 text (is it a JSONL transcript?)") from None
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise LLMError(f"{path}:{number}: not a JSON transcript record") from None
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("query"), str)
            or not isinstance(record.get("response"), str)
        ):
            raise LLMError(f"{path}:{number}: a transcript record needs string 'query' and 'response' fields")
        records.append(record)
    return records
