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
from cap.evals.common.executor import Executor, LocalExecutor, Task
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


class TrialWorker:
    """Runs trials of an open benchmark (entered: its sandboxes started) and makes their records."""

    def __init__(self, bench: TrialBenchmark, collector: Any = None):
        self.bench = bench
        self.collector = collector  # a remote worker's transcript records, sent back with each batch
        self._items = {item.id: item for item in bench.items()}

    def trial(self, condition: str, item: Item) -> dict[str, Any]:
        started = time.perf_counter()
        result = self.bench.attempt(condition, item)
        return {
            "condition": condition,
            "item": item.id,
            "group": item.group,
            "seconds": round(time.perf_counter() - started, 4),
            **result,
        }

    def run(self, batch: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """{"records": one per (condition, item id) of the batch, "transcript": the LLM calls they made}."""
        records = [self.trial(condition, self._items[item_id]) for condition, item_id in batch]
        return {"records": records, "transcript": self.collector.drain() if self.collector else []}

    def close(self) -> None:
        self.bench.__exit__(None, None, None)


def run_trials(
    bench: TrialBenchmark,
    out_dir: Path,
    settings: RunSettings,
    conditions: Iterable[str],
    items: Sequence[Item],
    on_record: Callable[[dict[str, Any]], None] | None = None,
    progress: bool | None = None,
    executor: Executor | None = None,
    on_transcript: Callable[[Sequence[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Every (condition, item) trial not yet in OUT/records.jsonl; returns all records in trial order.

    Trials run on `executor` (default: here, on `bench`, which the caller has entered). A remote executor
    gets them in batches of one `batch_key` (a benchmark that shares work between trials, like control's
    controller per task, says which), each batch recorded when it comes back; transcript records a remote
    worker sends back go to `on_transcript`."""
    from lmp import LLMError

    check_run_file(out_dir / "run.json", settings.identity())
    path = out_dir / "records.jsonl"
    done = load_records(path, lambda r: (r["condition"], r["item"]))
    trials = [(c, item) for c in conditions for item in items]
    todo = [(c, item) for c, item in trials if (c, item.id) not in done]
    executor = executor or LocalExecutor(worker=TrialWorker(bench), own=False)
    batches = _batches(bench, todo, remote=getattr(executor, "remote", False))
    bar = progress_bar(progress)
    task = bar.add_task(f"{bench.name}", total=len(todo))
    with RecordLog(path) as log, bar:
        try:
            for _, result in executor.run(batches):
                if on_transcript is not None and result["transcript"]:
                    on_transcript(result["transcript"])
                for record in result["records"]:
                    log.write(record)
                    done[(record["condition"], record["item"])] = record
                    if on_record is not None:
                        on_record(record)
                    bar.update(
                        task,
                        advance=1,
                        description=f"{bench.name} {record['condition']} {record['item']}"[:60],
                    )
        except LLMError as exc:
            raise CapError(
                f"{bench.name} stopped: {exc}",
                hint=f"{len(done)} trials are saved in {path}; rerun the same command to continue",
            ) from None
    return [done[(c, item.id)] for c, item in trials]


def _batches(bench: TrialBenchmark, todo: Sequence[tuple[str, Item]], remote: bool) -> list[Task]:
    """One task per trial here; for a remote executor, one per `bench.batch_key` (trials that share work)."""
    key_of = getattr(bench, "batch_key", None)
    groups: dict[Any, list[tuple[str, str]]] = {}
    for condition, item in todo:
        key = key_of(condition, item) if remote and key_of is not None else (condition, item.id)
        groups.setdefault(key, []).append((condition, item.id))
    return [Task(key, batch) for key, batch in groups.items()]


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
