"""The loop of the item x condition benchmarks (robocodegen, control, reasoning): one trial per pair, each
generated, scored and recorded before the next starts, so a killed run resumes where it stopped.

A benchmark is a `TrialBenchmark`: its items (problems, tasks or questions, each with an `id` and a `group`),
its conditions (prompt styles, answer styles), `attempt(condition, item)` which generates from the item's
public part and scores the result (the item's answer is only read by the scorer), and the paper's numbers.
`run_trials` runs what is missing and `summarize` turns the records into the JSON report.

Failure kinds stay apart: a wrong answer, code that raises, code that does not parse are results; a model that
cannot be reached (`lmp.LLMError` after the client's retries) stops the run with everything so far on disk, and
the unanswered trials run again on resume. Records never count infrastructure failures as model failures.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cap.errors import CapError
from cap.evals.common.progress import progress_bar
from cap.evals.common.records import RecordLog, check_run_file, load_records

FORMAT = "cap-trials/1"


class Item(Protocol):
    id: str
    group: str


class TrialBenchmark(Protocol):
    name: str
    conditions: tuple[str, ...]
    paper: Mapping[str, str]  # condition -> the paper's figure, printed beside ours

    def items(self) -> Sequence[Item]: ...

    def attempt(self, condition: str, item: Item) -> dict[str, Any]:
        """Generate and score one trial; the dict has at least "correct" (bool) and "status"."""
        ...


@dataclass(frozen=True)
class RunSettings:
    """What makes two runs of one benchmark comparable (stored in OUT/run.json)."""

    benchmark: str
    model: str
    items_sha256: str
    settings: Mapping[str, Any]

    def identity(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "benchmark": self.benchmark,
            "model": self.model,
            "items_sha256": self.items_sha256,
            **dict(self.settings),
        }


def digest(obj: Any) -> str:
    """sha256 of a JSON-able description (the item set, so a changed problem set is a different run)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def run_trials(
    bench: TrialBenchmark,
    out_dir: Path,
    settings: RunSettings,
    conditions: Iterable[str],
    items: Sequence[Item],
    on_record: Callable[[dict[str, Any]], None] | None = None,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Every (condition, item) trial not yet in OUT/records.jsonl; returns all records in trial order."""
    from lmp import LLMError

    check_run_file(out_dir / "run.json", settings.identity())
    path = out_dir / "records.jsonl"
    done = load_records(path, lambda r: (r["condition"], r["item"]))
    trials = [(c, item) for c in conditions for item in items]
    todo = [(c, item) for c, item in trials if (c, item.id) not in done]
    bar = progress_bar(progress)
    task = bar.add_task(f"{bench.name}", total=len(todo))
    with RecordLog(path) as log, bar:
        for condition, item in todo:
            bar.update(task, description=f"{bench.name} {condition} {item.id}"[:60])
            started = time.perf_counter()
            try:
                result = bench.attempt(condition, item)
            except LLMError as exc:
                raise CapError(
                    f"{bench.name} stopped: {exc}",
                    hint=f"{len(done)} trials are saved in {path}; rerun the same command to continue",
                ) from None
            record = {
                "condition": condition,
                "item": item.id,
                "group": item.group,
                "seconds": round(time.perf_counter() - started, 4),
                **result,
            }
            log.write(record)
            done[(condition, item.id)] = record
            if on_record is not None:
                on_record(record)
            bar.advance(task)
    return [done[(c, item.id)] for c, item in trials]


def summarize(bench: TrialBenchmark, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """{"benchmark", "trials", "conditions": {C: {"trials", "correct", "rate", "groups": {G: {...}}, "paper"}}}."""
    conditions: dict[str, dict[str, Any]] = {}
    for record in records:
        c = conditions.setdefault(record["condition"], {"trials": 0, "correct": 0, "rate": 0.0, "groups": {}})
        g = c["groups"].setdefault(record["group"], {"trials": 0, "correct": 0, "rate": 0.0})
        for entry in (c, g):
            entry["trials"] += 1
            entry["correct"] += bool(record.get("correct"))
            entry["rate"] = entry["correct"] / entry["trials"]
    for name, entry in conditions.items():
        entry["paper"] = bench.paper.get(name)
    return {"benchmark": bench.name, "trials": len(records), "conditions": conditions}


def print_report(summary: dict[str, Any], title: str, notes: Sequence[str] = ()) -> None:
    """A table per condition (ours beside the paper's), then per-group rates, on stdout."""
    from rich.console import Console
    from rich.table import Table

    conditions = summary["conditions"]
    groups = sorted({g for c in conditions.values() for g in c["groups"]})
    view = Table(title=title)
    view.add_column("condition")
    view.add_column("correct", justify="right")
    view.add_column("rate", justify="right")
    for group in groups:
        view.add_column(group, justify="right")
    view.add_column("paper", justify="right")
    for name, c in conditions.items():
        cells = [
            f"{c['groups'][g]['correct']}/{c['groups'][g]['trials']}" if g in c["groups"] else "-"
            for g in groups
        ]
        view.add_row(name, f"{c['correct']}/{c['trials']}", f"{c['rate']:.2f}", *cells, c.get("paper") or "-")
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=140)  # a file or pipe: no terminal width to fit
    console.print(view)
    for note in notes:
        console.print(note)
