"""The journal of a running evaluation: each verdict is appended and flushed the moment it is known.

An evaluation of thousands of samples with a few seconds' timeout each can run for an hour; a Ctrl-C, a crash
or a killed machine must not throw that away. The journal (`RESULTS.partial`) starts with a header naming
what it is about (hashes of the sample and problem files, the timeout), then one `{"i": index, "result": ...}`
per finished sample in completion order. `--resume` reads it back, ignores a torn last line, and refuses a
journal made for other inputs rather than mixing verdicts of two different runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from cap.errors import CapError

FORMAT = "cap-humaneval-journal/1"


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes: what ties a journal to the exact samples and problems it was made from."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def journal_path(results_file: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(results_file) + ".partial")


class Journal:
    """Appends verdicts to the journal file; use as a context manager."""

    def __init__(self, path: Path, header: dict[str, Any], existing: dict[int, str] | None = None):
        self.path = path
        self.header = {"format": FORMAT, **header}
        self._handle: IO[str] | None = None
        self._fresh = existing is None

    def __enter__(self) -> Journal:
        if self._fresh:
            self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
            self._write(self.header)
        else:
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in __exit__
            self._handle.write("\n")  # a torn last line (killed mid-write) stays alone on its line
            self._handle.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, record: dict[str, Any]) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()  # in the kernel now: survives the process being killed

    def record(self, index: int, result: str) -> None:
        self._write({"i": index, "result": result})

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def load(path: Path, header: dict[str, Any], count: int) -> dict[int, str]:
    """Verdicts by sample index from an earlier run's journal, after checking it belongs to these inputs."""
    verdicts: dict[int, str] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().split("\n")
    try:
        found = json.loads(lines[0])
    except (json.JSONDecodeError, IndexError):
        found = None
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise CapError(
            f"{path}:1: not a cap HumanEval journal", hint="delete it and run again without --resume"
        )
    expected = {"format": FORMAT, **header}
    differing = sorted(key for key in expected if found.get(key) != expected[key])
    if differing:
        raise CapError(
            f"{path} was written by a run with different {', '.join(differing)}; its results do not apply",
            hint="delete it (or run with the original inputs) to start over",
        )
    for text in lines[1:]:
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
            index, result = entry["i"], entry["result"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line torn by a kill mid-write: that sample simply runs again
        if isinstance(index, int) and 0 <= index < count and isinstance(result, str):
            verdicts[index] = result
    return verdicts
