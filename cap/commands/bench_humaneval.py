"""Generate HumanEval samples with a model and score them: pass@k like openai/human-eval, per mode.

flat: one completion per sample. hierarchical: the model may call helper functions without defining them;
each is generated from its call site by lmp.fgen (recursively) and appended to the completion.
Writes OUT/MODE/samples.jsonl (human-eval format), OUT/MODE/records.jsonl (per sample: response, model,
latency, tokens, helpers), OUT/MODE/samples.jsonl_results.jsonl and OUT/MODE/score.json, then prints a pass@k
table of every mode found in OUT. Rerunning the same command resumes both generation and scoring.

examples:
  cap bench humaneval --model gpt-4o-mini --n 1 --out he_runs
  cap bench humaneval --base-url http://localhost:8000/v1 --model my-model --api completions \\
      --n 10 --temperature 0.8 --k 1,10 --out he_runs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cap.errors import CapError
from cap.llm_options import add_llm_arguments, build_client


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_llm_arguments(parser)
    group = parser.add_argument_group("generation")
    group.add_argument("--mode", choices=["flat", "hierarchical"], default="flat", help="default: flat")
    group.add_argument("--n", type=int, default=1, help="samples per problem (default: 1)")
    group.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default: 0.0)")
    group.add_argument("--max-tokens", type=int, default=512, help="per completion (default: 512)")
    group.add_argument("--out", default="humaneval_runs", help="output directory (default: humaneval_runs)")
    group.add_argument(
        "--problems", metavar="FILE", help="HumanEval-format problems (default: HumanEval's 164)"
    )
    group.add_argument("--limit", type=int, help="only the first N problems (a quick smoke run)")
    group.add_argument("--parallel", type=int, default=8, help="requests in flight at once (default: 8)")
    group.add_argument(
        "--repair",
        type=int,
        default=0,
        metavar="N",
        help="execution feedback: run each function (defined, then called on its docstring's example inputs; "
        "outputs are not compared, the hidden tests never run) and send a failure back to the model for a "
        "fix, up to N times (default 0: the paper's setting)",
    )
    scoring = parser.add_argument_group("scoring")
    scoring.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default: 3.0)")
    scoring.add_argument("--workers", type=int, default=None, help="samples run at once (default: CPU cores)")
    scoring.add_argument("--k", default="1,10,100", help="pass@k values to report (default: 1,10,100)")
    scoring.add_argument("--json", action="store_true", help='print {"MODE": {"pass@1": ...}, ...}')
    from cap.evals.common.executor import add_ray_arguments

    add_ray_arguments(parser)  # scoring runs on the cluster; generation scales through the LLM server


def _validate(args: argparse.Namespace) -> None:
    for name in ("n", "max_tokens", "parallel"):
        if getattr(args, name) < 1:
            raise CapError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.repair < 0:
        raise CapError(f"--repair must be 0 or more, got {args.repair}")
    if args.limit is not None and args.limit < 1:
        raise CapError(f"--limit must be at least 1, got {args.limit}")
    if not 0.0 <= args.temperature <= 2.0:
        raise CapError(f"--temperature must be between 0 and 2, got {args.temperature:g}")


def mode_table(out: Path) -> dict[str, dict[str, float]]:
    """pass@k of every mode scored in OUT, from OUT/*/score.json, with "helpers_per_problem" beside it
    (extension: generated helpers per sample, averaged over problems; 0 in flat mode)."""
    table: dict[str, dict[str, float]] = {}
    for mode in ("flat", "hierarchical"):
        path = out / mode / "score.json"
        if path.exists():
            table[mode] = json.loads(path.read_text(encoding="utf-8"))["pass_at_k"]
            table[mode]["helpers_per_problem"] = _helpers_per_problem(out / mode / "records.jsonl")
    return table


def _helpers_per_problem(records_path: Path) -> float:
    from cap.evals.humaneval.generate import load_records

    per_problem: dict[str, list[int]] = {}
    for (task_id, _), record in load_records(records_path).items():
        per_problem.setdefault(task_id, []).append(len(record.get("helpers") or []))
    if not per_problem:
        return 0.0
    return round(sum(sum(v) / len(v) for v in per_problem.values()) / len(per_problem), 4)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from cap.evals.common.executor import ray_options
    from cap.evals.common.journal import file_digest
    from cap.evals.common.passk import parse_ks
    from cap.evals.humaneval.data import bundled_problems_path, read_problems
    from cap.evals.humaneval.evaluate import EvalSettings
    from cap.evals.humaneval.generate import GenerationSettings, generate
    from cap.evals.humaneval.score import score_file

    _validate(args)
    ray = ray_options(args)
    try:
        ks = parse_ks(args.k)
    except ValueError as exc:
        raise CapError(str(exc)) from None
    problems_path = args.problems or bundled_problems_path()
    problems = read_problems(problems_path)
    if args.limit:
        problems = dict(list(problems.items())[: args.limit])
    client = build_client(args)
    settings = GenerationSettings(
        model=client.model,
        mode=args.mode,
        api=args.api,
        n=args.n,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        repair=args.repair,
        problems_sha256=file_digest(problems_path) + (f":first{args.limit}" if args.limit else ""),
    )
    out = Path(args.out)
    mode_dir = out / args.mode
    err = Console(stderr=True)
    answered = {"n": 0}

    def on_record(_record: dict) -> None:
        answered["n"] += 1

    with err.status(f"generating {len(problems) * args.n} samples ({args.mode}) with {client.model}"):
        samples_path = generate(
            problems, client, settings, mode_dir, parallel=args.parallel, on_record=on_record
        )
    if not args.json:
        print(
            f"generated {answered['n']} new samples ({client.cached_calls} from the cache) -> {samples_path}"
        )

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if args.timeout <= 0 or workers < 1:
        raise CapError("--timeout must be positive and --workers at least 1")
    score = score_file(
        samples_path,
        problems_path,
        EvalSettings(timeout=args.timeout, workers=workers),
        ks,
        resume=True,  # generation is resumable, so scoring is too: finished verdicts are kept
        ignore_incomplete=bool(args.limit),
        ray=ray,
    )
    (mode_dir / "score.json").write_text(
        json.dumps({"pass_at_k": score.pass_at_k, "samples": score.samples, "passed": score.passed}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    table = mode_table(out)
    if args.json:
        print(json.dumps(table))
        return 0
    view = Table(title=f"HumanEval pass@k ({out})")
    view.add_column("mode")
    columns = sorted(
        {k for row in table.values() for k in row if k.startswith("pass@")},
        key=lambda k: int(k.split("@")[1]),
    )
    for column in columns:
        view.add_column(column, justify="right")
    view.add_column("helpers/problem", justify="right")
    for mode, row in table.items():
        cells = [f"{100 * row[c]:.1f}" if c in row else "-" for c in columns]
        view.add_row(mode, *cells, f"{row.get('helpers_per_problem', 0.0):.2f}")
    Console(file=sys.stdout).print(view)
    print(f"results: {score.results_file}")
    return 0
