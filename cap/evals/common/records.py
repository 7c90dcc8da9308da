"""Append-only record logs: every finished item is on disk the moment it is known, and a rerun resumes.

A run directory holds `run.json` (what the records were made with: model, settings, item-set digest) and one
JSONL log of records. A rerun with other settings is refused instead of mixing two experiments in one file;
a line torn by a kill mid-write is skipped, so that item simply runs again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from cap.errors import CapError


def check_run_file(path: Path, identity: dict[str, Any]) -> None:
    """Write `identity` to `path`, or check that the run already there was made with the same one."""
    if path.exists():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            found = None
        if found != identity:
            differing = sorted(
                k for k in identity if not isinstance(found, dict) or found.get(k) != identity[k]
            )
            raise CapError(
                f"{path.parent} holds results made with different settings ({', '.join(differing) or 'format'})",
                hint="use another --out directory, or delete that one to start over",
            )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(identity, indent=2) + "\n", encoding="utf-8")


def load_records(path: Path, key: Callable[[dict[str, Any]], Hashable]) -> dict[Hashable, dict[str, Any]]:
    """Records already in the log, by `key(record)`; a torn or foreign line is skipped (and redone)."""
    records: dict[Hashable, dict[str, Any]] = {}
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            records[key(record)] = record
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return records


class RecordLog:
    """A JSONL file appended from any thread, each record flushed and fsync'd before `write` returns."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record) + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_json(path: Path, obj: Any) -> None:
    """Write a JSON report atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
