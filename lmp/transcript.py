"""JSONL transcripts: one record per completion, durable as soon as the answer arrives.

A run that is killed loses nothing that was already answered, and a transcript replays the run exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from lmp.types import Completion, Request


def prompt_sha256(request: Request) -> str:
    """Hash of exactly what the model saw (prompt or messages)."""
    payload = request.prompt if request.prompt is not None else json.dumps(request.messages, sort_keys=True)
    return hashlib.sha256((payload or "").encode()).hexdigest()


class TranscriptWriter:
    """Appends records to a JSONL file, flushing and fsync-ing each one; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the writer
        self._lock = threading.Lock()

    def write(self, request: Request, completion: Completion, sample: int) -> None:
        record: dict[str, Any] = {
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
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
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
    """All complete records of a transcript; a torn last line (a killed writer) is skipped, other bad lines are errors."""
    from lmp.types import LLMError

    records: list[dict[str, Any]] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LLMError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise LLMError(f"{path}:{number}: not a JSON transcript record") from None
        if not isinstance(record, dict) or "query" not in record or "response" not in record:
            raise LLMError(f"{path}:{number}: a transcript record needs 'lmp', 'query' and 'response'")
        records.append(record)
    return records
