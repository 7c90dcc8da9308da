"""Run every tabletop task x seed and report success per instruction family (and per seen/unseen split).

--reference runs the hand-written reference programs (a check of the simulator and the checkers, not of a
model). --model / --replay generate the policy for each task's command with an LLM.
"""

from __future__ import annotations

import argparse
import json
import sys

from cap.errors import CapError
from cap.llm_options import add_llm_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", action="store_true", help="run the hand-written reference programs")
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="only these tasks (default: all)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per task (default 10)")
    parser.add_argument("--out", metavar="FILE", help="append one JSON record per episode to this file")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_llm_arguments(parser)
    from cap.commands.run import add_stack_arguments

    add_stack_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from robot_api.tasks import TASKS, get_task

    names = args.tasks or list(TASKS)
    for name in names:
        try:
            get_task(name)
        except KeyError as exc:
            raise CapError(str(exc.args[0])) from None
    if args.seeds < 1:
        raise CapError("--seeds must be at least 1")
    if args.reference:
        return _run(names, args)
    if not (args.model or args.replay):
        raise CapError(
            "choose what writes the policies",
            hint="--reference, or --model M [--base-url U], or --replay FILE",
        )
    from cap.commands import bench_tabletop_llm

    return bench_tabletop_llm.run(names, args)


def _run(names: list[str], args: argparse.Namespace) -> int:
    from cap.evals.common.progress import progress_bar
    from cap.evals.tabletop import reference_policy, run_episodes, summarize

    jobs = [(n, s) for n in names for s in range(args.seeds)]
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115 - closed below
    progress = progress_bar()
    bar = progress.add_task("reference episodes", total=len(jobs))

    def finished(ep) -> None:
        if out:
            out.write(json.dumps(ep.record()) + "\n")
            out.flush()
        progress.update(bar, advance=1, description=f"{ep.task} seed {ep.seed}")

    try:
        with progress:
            episodes = run_episodes(jobs, reference_policy, on_episode=finished)
    finally:
        if out:
            out.close()
    print_summary(summarize(episodes), args.json, [e for e in episodes if not e.task_success])
    return 0


def _pct(rate: float | None) -> str:
    return "     -" if rate is None else f"{rate * 100:5.0f}%"


def print_summary(summary: dict, as_json: bool, failures: list) -> None:
    if as_json:
        print(json.dumps(summary))
        return
    print(f"{'FAMILY':30} {'EPISODES':>8} {'SUCCESS':>8} {'SEEN':>6} {'UNSEEN':>6} {'S/EP':>6}")
    for name, f in summary["families"].items():
        seen, unseen = (_pct(f.get("splits", {}).get(k)) for k in ("seen", "unseen"))
        print(
            f"{name:30} {f['episodes']:8} {f['success_rate'] * 100:7.0f}% {seen} {unseen} {f['seconds_per_episode']:6.2f}"
        )
    print(f"\n{summary['episodes']} episodes, success rate {summary['success_rate'] * 100:.1f}%")
    for ep in failures[:20]:
        print(f"  failed: {ep.task} seed {ep.seed}: {ep.status} {ep.error or ep.reason}", file=sys.stderr)
