"""What `cap bench robocodegen|control|reasoning` share: options, the resumable run, the report.

Each writes OUT/run.json (what the run is: model, settings, a digest of the items), OUT/records.jsonl (one
fsync'd record per trial: condition, item, generated code or reply, verdict) and OUT/summary.json; rerunning
the same command skips finished trials. A model that cannot be reached stops the run with the finished trials
kept; it is never counted as a wrong answer.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cap.errors import CapError
from cap.llm_options import add_llm_arguments


def add_common_arguments(parser: argparse.ArgumentParser, name: str, conditions: tuple[str, ...]) -> None:
    add_llm_arguments(parser)
    group = parser.add_argument_group("benchmark")
    group.add_argument(
        "--conditions",
        nargs="+",
        choices=conditions,
        metavar="C",
        help=f"only these conditions (default: all of {', '.join(conditions)})",
    )
    group.add_argument("--limit", type=int, help="only the first N items (a quick smoke run)")
    group.add_argument("--out", default=f"{name}_runs", help=f"run directory (default: {name}_runs)")
    group.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    from cap.evals.common.executor import add_ray_arguments

    add_ray_arguments(parser)


def run_benchmark(
    args: argparse.Namespace,
    make: Callable[[Any], Any],
    settings: dict[str, Any],
    items_description: Callable[[Any], Any],
    title: str,
    note: str,
) -> int:
    """Build the client and the benchmark (`make(client)`), run what is missing, write and print the report."""
    from cap.evals.common.executor import open_executor, ray_options
    from cap.evals.common.records import write_json
    from cap.evals.common.trials import RunSettings, digest, print_report, run_trials, summarize
    from cap.llm_options import build_client

    ray = ray_options(args)
    if args.limit is not None and args.limit < 1:
        raise CapError(f"--limit must be at least 1, got {args.limit}")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)  # also where a --transcript inside it goes
    except OSError as exc:
        raise CapError(
            f"cannot create {out}: {exc.strerror or exc}", hint="pass a writable --out directory"
        ) from None
    client = build_client(args)
    try:
        bench = make(client)
        items = bench.items()[: args.limit] if args.limit else bench.items()
        conditions = args.conditions or list(bench.conditions)
        run = RunSettings(
            bench.name,
            client.model,
            digest(items_description(bench)) + (f":first{args.limit}" if args.limit else ""),
            {"api": args.api, **settings},
        )
        if ray is None:
            with bench:
                records = run_trials(bench, out, run, conditions, items)
        else:  # the workers make their own benchmark (and sandboxes); this one only names the items
            from cap.commands.distributed import write_transcript

            with open_executor(TrialWorkerSpec(make, args), ray) as executor:
                records = run_trials(
                    bench,
                    out,
                    run,
                    conditions,
                    items,
                    executor=executor,
                    on_transcript=lambda records: write_transcript(client, records),
                )
    finally:
        if client.transcript is not None:
            client.transcript.close()
    summary = summarize(bench, records)
    summary["model"] = client.model
    write_json(out / "summary.json", summary)
    if args.json:
        print(json.dumps(summary))
    else:
        print_report(summary, f"{title} ({client.model}, {out})", [note, f"records: {out / 'records.jsonl'}"])
    return 0


class TrialWorkerSpec:
    """Opens a `TrialWorker` in a Ray worker: its own client (transcript collected) and benchmark."""

    def __init__(self, make: Callable[[Any], Any], args: argparse.Namespace):
        from cap.commands.distributed import portable_args

        self.make = make
        self.args = portable_args(args)

    def open(self) -> Any:
        from cap.commands.distributed import collecting_client
        from cap.evals.common.trials import TrialWorker

        client, collector = collecting_client(self.args)
        bench = self.make(client)
        bench.__enter__()
        return TrialWorker(bench, collector)
