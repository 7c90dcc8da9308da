"""Scoring samples on a Ray cluster: batches of samples, each evaluated by a worker's own warm sandbox.

The driver keeps the journal: each batch's verdicts are journaled when the batch comes back, so resume and
the results file are those of a local run. A batch carries its samples and their problems, so a worker needs
no copy of the input files. Inside a worker a batch is scored by `evaluate`, the local scheduler, with the
worker's share of the machine (`EvalSettings.workers` lanes per actor; one by default, an actor per CPU).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cap.evals.common.executor import RayOptions, Task
from cap.evals.humaneval.data import Problem, Sample
from cap.evals.humaneval.evaluate import EvalSettings, OpenSandbox, evaluate

MAX_BATCH = 32  # samples per task: enough to amortize a round trip, few enough to balance the workers


class EvalWorker:
    def __init__(self, settings: EvalSettings):
        self.settings = settings
        self.sandbox = OpenSandbox(settings)

    def run(self, batch: Sequence[tuple[int, Problem, dict[str, Any]]]) -> list[tuple[int, str]]:
        samples = [Sample(line=index + 1, record=record) for index, _, record in batch]
        problems = {problem.task_id: problem for _, problem, _ in batch}
        verdicts = evaluate(samples, problems, self.settings, sandbox=self.sandbox)
        return [(index, verdict) for (index, _, _), verdict in zip(batch, verdicts, strict=True)]

    def close(self) -> None:
        self.sandbox.close()


@dataclass(frozen=True)
class EvalWorkerSpec:
    settings: EvalSettings

    def open(self) -> EvalWorker:
        return EvalWorker(self.settings)


def batch_size(pending: int, workers: int) -> int:
    """About four batches per worker (so a slow batch does not hold up the end), at most MAX_BATCH."""
    return max(1, min(MAX_BATCH, math.ceil(pending / max(1, 4 * workers))))


def evaluate_on_ray(
    samples: list[Sample],
    problems: Mapping[str, Problem],
    settings: EvalSettings,
    ray: RayOptions,
    done: Mapping[int, str] | None = None,
    on_result: Callable[[int, str], None] | None = None,
    lanes_per_worker: int = 1,
) -> list[str]:
    """`evaluate`'s contract (one verdict per sample, in order; `on_result` per new verdict) on Ray."""
    from cap.evals.common.ray_pool import RayPool

    results: list[str | None] = [None] * len(samples)
    for index, result in (done or {}).items():
        results[index] = result
    pending = [i for i, r in enumerate(results) if r is None]
    if pending:
        spec = EvalWorkerSpec(replace(settings, workers=lanes_per_worker, max_running=None))
        with RayPool(spec, ray) as pool:
            size = batch_size(len(pending), pool.size)
            tasks = []
            for start in range(0, len(pending), size):
                chunk = pending[start : start + size]
                payload = [(i, problems[samples[i].task_id], samples[i].record) for i in chunk]
                tasks.append(Task(chunk[0], payload))
            for _, verdicts in pool.run(tasks):
                for index, verdict in verdicts:
                    results[index] = verdict
                    if on_result is not None:
                        on_result(index, verdict)
    return [r if r is not None else "timed out" for r in results]
