"""Reasoning benchmark: seeded synthetic tabletop scenes with object-selection ("which block is closest to the
red bowl?") and position-selection ("a point midway between ...") questions, answered directly in natural
language, with chain-of-thought, or by an LMP writing code over the perception API (run in the sandbox).
Objects must match exactly; positions within 3 cm. Prints the table beside the paper's numbers.

examples:
  cap bench reasoning --model gpt-4o-mini --questions 60
  cap bench reasoning --replay results/reasoning/transcript.jsonl --json
"""

from __future__ import annotations

import argparse

from cap.commands.bench_trials import add_common_arguments, run_benchmark
from cap.errors import CapError

CONDITIONS = ("direct", "cot", "code")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "reasoning", CONDITIONS)
    parser.add_argument("--questions", type=int, default=60, help="questions to generate (default: 60)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the scene and question generator (default: 0)"
    )


def run(args: argparse.Namespace) -> int:
    from cap.evals.reasoning.bench import PAPER_NOTE, Reasoning

    if args.questions < 1:
        raise CapError(f"--questions must be at least 1, got {args.questions}")

    def describe(bench: Reasoning) -> list:
        return [(q.id, q.text, q.scene.to_json(), bench._answers[q.id].value) for q in bench.items()]

    return run_benchmark(
        args,
        lambda client: Reasoning(client, api=args.api, questions=args.questions, seed=args.seed),
        {"questions": args.questions, "seed": args.seed},
        describe,
        "reasoning: questions answered correctly",
        PAPER_NOTE,
    )
