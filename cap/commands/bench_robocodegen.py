"""Robot code-generation benchmark: 40 function-writing problems (NumPy geometry, control, Shapely, an object
API on a fixed scene), each asked as `# define function: <signature>.`, under flat or hierarchical prompt x
flat or hierarchical generation (lmp.fgen). An answer passes when its outputs match the reference solution's
on 5 seeded random inputs; both run in the sandbox. Prints the table beside the paper's numbers.

examples:
  cap bench robocodegen --model gpt-4o-mini
  cap bench robocodegen --base-url http://localhost:8000/v1 --model my-model --conditions hier_prompt+hier_gen
  cap bench robocodegen --replay results/robocodegen/transcript.jsonl --json
"""

from __future__ import annotations

import argparse

from cap.commands.bench_trials import add_common_arguments, run_benchmark

CONDITIONS = ("flat_prompt+flat_gen", "flat_prompt+hier_gen", "hier_prompt+flat_gen", "hier_prompt+hier_gen")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "robocodegen", CONDITIONS)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")


def run(args: argparse.Namespace) -> int:
    from cap.evals.robocodegen import problems
    from cap.evals.robocodegen.bench import PAPER_NOTE, RoboCodeGen

    return run_benchmark(
        args,
        lambda client: RoboCodeGen(client, api=args.api, seed=args.seed),
        {"seed": args.seed},
        lambda _bench: problems.describe(),
        "robocodegen: problems solved",
        PAPER_NOTE,
    )
