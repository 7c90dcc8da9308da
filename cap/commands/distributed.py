"""What a benchmark command needs to send its LLM-driven work to other processes (Ray workers).

A worker builds its own LLM client from the command line's options, so the options travel with the task:
`portable_args` makes a copy whose file paths still name the same files from a worker's working directory.
A worker's client does not write the transcript itself (workers on other machines have no shared file, and
the run's transcript belongs next to its journal): `TranscriptCollector` keeps each call's records, they
travel back with the task's result, and the driver appends them to the one transcript (`write_transcript`).
A task that is lost with its worker loses its records with it, and they are written again when it reruns.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any

from cap.evals.common.executor import absolute

PATH_OPTIONS = ("replay", "cache_path", "functions", "model_path", "problems")


def portable_args(args: argparse.Namespace) -> argparse.Namespace:
    """A picklable copy of `args` for a worker: paths absolute, no transcript (the driver writes it)."""
    values = {k: v for k, v in vars(args).items() if not k.startswith("_") and not callable(v)}
    for name in PATH_OPTIONS:
        if isinstance(values.get(name), str):
            values[name] = absolute(values[name])
    values["transcript"] = None
    return argparse.Namespace(**values)


class TranscriptCollector:
    """Stands in for `lmp.TranscriptWriter` in a worker's client: the same records, kept in memory."""

    def __init__(self) -> None:
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def write(self, request: Any, completion: Any, sample: int) -> None:
        from lmp.transcript import TranscriptWriter

        with self._lock:
            self._records.append(TranscriptWriter._record(request, completion, sample))

    def write_all(self, request: Any, completions: Sequence[Any]) -> None:
        from lmp.transcript import TranscriptWriter

        with self._lock:
            self._records.extend(TranscriptWriter._record(request, c, i) for i, c in enumerate(completions))

    def drain(self) -> list[dict[str, Any]]:
        """The records since the last drain (what the task just finished asked for)."""
        with self._lock:
            records, self._records = self._records, []
        return records

    def close(self) -> None:
        pass


def collecting_client(args: argparse.Namespace) -> tuple[Any, TranscriptCollector]:
    """A worker's LLM client (from `portable_args`) and the collector its transcript records go to."""
    from cap.llm_options import build_client

    client = build_client(args)
    collector = TranscriptCollector()
    client.transcript = collector
    return client, collector


def write_transcript(client: Any, records: Sequence[dict[str, Any]]) -> None:
    """Append a worker's transcript records to the driver's transcript, if the run keeps one."""
    if records and getattr(client, "transcript", None) is not None:
        client.transcript.write_records(records)
