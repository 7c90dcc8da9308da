"""Reactive-control benchmark: the model writes a controller (lmp.fgen, from a hinted call site, or from the
signature alone) for gymnasium's CartPole-v1 and MountainCar-v0. Each episode is one sandbox run: the
controller is called there every step and each action reaches the environment, on the host, by RPC. Success
is the environment's own: 500 steps up (CartPole), the flag within 200 steps (MountainCar).

examples:
  cap bench control --model gpt-4o-mini
  cap bench control --replay results/control/transcript.jsonl --seeds 5 --json
"""

from __future__ import annotations

import argparse

from cap.commands.bench_trials import add_common_arguments, run_benchmark
from cap.errors import CapError

CONDITIONS = ("hint", "no_hint")
TASK_NAMES = ("cartpole", "mountain_car")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, "control", CONDITIONS)
    parser.add_argument("--tasks", nargs="+", choices=TASK_NAMES, help="only these tasks (default: all)")
    parser.add_argument("--seeds", type=int, default=5, help="episodes per task (default: 5)")


def run(args: argparse.Namespace) -> int:
    from cap.evals.control.bench import PAPER_NOTE, Control
    from cap.evals.control.tasks import TASKS

    if args.seeds < 1:
        raise CapError(f"--seeds must be at least 1, got {args.seeds}")
    tasks = tuple(args.tasks or TASK_NAMES)
    return run_benchmark(
        args,
        lambda client: Control(client, api=args.api, tasks=tasks, seeds=args.seeds),
        {"tasks": list(tasks), "seeds": args.seeds},
        lambda _bench: [(name, repr(TASKS[name])) for name in tasks],
        "control: episodes succeeded",
        PAPER_NOTE,
    )
