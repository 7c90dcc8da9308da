"""`cap bench tabletop --model/--replay`: every task x seed with policies written by the LLM stack.

Each episode starts clean (no session history, fresh function library) on its task's scene and command.
Episode records are appended to --out as they finish and transcripts (--transcript) are fsync'd per call, so
a killed run loses nothing; run again with the same --out and finished (task, seed) pairs are skipped.
With --ray each Ray worker builds its own client, stack and session from the same options; the transcript
records it collects come back with each episode and are written here, next to --out.

Episodes with status "infra_error" (the model server unreachable, a crash of cap) are not finished: they are
left out of every success rate (the summary's "infra_errors" says how many), retried on resume, and after
MAX_INFRA_IN_A_ROW of them in a row the run stops (the server is down; rerun with the same --out later),
except when replaying, where an episode the transcript does not cover says nothing about the next one.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cap.episode import Episode


class StackWorker:
    """One warm session (simulator + sandbox) and LLM stack, running episode after episode."""

    def __init__(self, args: argparse.Namespace, client: Any, collector: Any = None):
        from cap.commands.run import build_stack
        from cap.evals.tabletop import TabletopSession

        self.args = args
        self.client = client
        self.collector = collector
        self.stack = build_stack(args, client)
        self.session = TabletopSession(extra_api=self.stack.nested_functions())
        self.stack.bind(self.session.sandbox.run)

    def episode(self, name: str, seed: int) -> Episode:
        from cap.commands.run import build_stack
        from cap.llm_episode import run_command

        self.stack.reset()
        if getattr(self.args, "functions", None):
            for fn in build_stack(self.args, self.client).library:
                self.stack.library.add(fn)
        inst = self.session.setup(name, seed)
        return run_command(self.session, self.stack, inst.command)

    def run(self, job: tuple[str, int]) -> dict[str, Any]:
        ep = self.episode(*job)
        return {"episode": ep.record(), "transcript": self.collector.drain() if self.collector else []}

    def close(self) -> None:
        self.session.close()


class StackWorkerSpec:
    """Opens a `StackWorker` where it is to run, with its own client (its transcript collected)."""

    def __init__(self, args: argparse.Namespace):
        from cap.commands.distributed import portable_args

        self.args = portable_args(args)

    def open(self) -> StackWorker:
        from cap.commands.distributed import collecting_client

        client, collector = collecting_client(self.args)
        return StackWorker(self.args, client, collector)


def run(names: list[str], args: argparse.Namespace) -> int:
    from cap.commands.bench_tabletop import print_summary, run_jobs
    from cap.evals.common.executor import ray_options
    from cap.evals.tabletop import summarize
    from cap.llm_options import build_client

    client = build_client(args)
    local = None
    try:
        if ray_options(args) is None:
            local = StackWorker(args, client)
        episodes = run_jobs(names, args, StackWorkerSpec(args), local=local, client=client, log_lines=True)
    finally:
        if local is not None:
            local.close()
        if client.transcript is not None:
            client.transcript.close()
    measured = [e for e in episodes if not e.infra_error]
    summary = summarize(measured)
    summary["infra_errors"] = len(episodes) - len(measured)  # extension: episodes left out of the rates
    summary["not_run"] = len(names) * args.seeds - len(episodes)  # extension: stopped early
    print_summary(summary, args.json, [e for e in measured if not e.task_success])
    missing = summary["infra_errors"] + summary["not_run"]
    if missing:
        where = f" with --out {args.out}" if args.out else " with --out FILE (it keeps what finished)"
        print(
            f"{missing} of {len(names) * args.seeds} episodes have no result ({summary['infra_errors']} failed "
            f"outside the model, {summary['not_run']} not run); they are not in the rates. Rerun{where} to "
            "retry them.",
            file=sys.stderr,
        )
        return 1
    return 0
