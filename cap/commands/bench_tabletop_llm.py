"""`cap bench tabletop --model/--replay`: every task x seed with policies written by the LLM stack.

Each episode starts clean (no session history, fresh function library) on its task's scene and command.
Episode records are appended to --out as they finish and transcripts (--transcript) are fsync'd per call, so
a killed run loses nothing; run again with the same --out and finished (task, seed) pairs are skipped.
Episodes with status "infra_error" (the model server unreachable, a crash of cap) are not finished: they are
left out of every success rate (the summary's "infra_errors" says how many), retried on resume, and after
MAX_INFRA_IN_A_ROW of them in a row the run stops (the server is down; rerun with the same --out later),
except when replaying, where an episode the transcript does not cover says nothing about the next one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cap.episode import Episode
from cap.errors import CapError

MAX_INFRA_IN_A_ROW = 3


def _finished(path: str | None) -> dict[tuple[str, int], Episode]:
    """Episodes already recorded in --out (a torn last line from a killed run is ignored)."""
    done: dict[tuple[str, int], Episode] = {}
    if not path or not Path(path).exists():
        return done
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            ep = Episode(**record)
        except (json.JSONDecodeError, TypeError) as exc:
            if number == len(lines):
                break
            raise CapError(
                f"{path}:{number}: not an episode record ({exc})", hint="use a fresh --out file"
            ) from None
        if ep.task is not None and ep.seed is not None and not ep.infra_error:  # infra: retried
            done[(ep.task, ep.seed)] = ep
    return done


def run(names: list[str], args: argparse.Namespace) -> int:
    from cap.commands.bench_tabletop import print_summary
    from cap.commands.run import build_stack
    from cap.evals.tabletop import TabletopSession, summarize
    from cap.llm_episode import run_command
    from cap.llm_options import build_client

    done = _finished(args.out)
    jobs = [(n, s) for n in names for s in range(args.seeds)]
    todo = [job for job in jobs if job not in done]
    if done:
        print(
            f"resuming: {len(jobs) - len(todo)} of {len(jobs)} episodes already in {args.out}",
            file=sys.stderr,
        )
    episodes = [done[job] for job in jobs if job in done]
    client = build_client(args)
    stack = build_stack(args, client)
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115 - closed below
    in_a_row = 0
    try:
        with TabletopSession(extra_api=stack.nested_functions()) as session:
            stack.bind(session.sandbox.run)
            for i, (name, seed) in enumerate(todo, 1):
                stack.reset()
                if getattr(args, "functions", None):
                    for fn in build_stack(args, client).library:
                        stack.library.add(fn)
                inst = session.setup(name, seed)
                ep = run_command(session, stack, inst.command)
                episodes.append(ep)
                if out:
                    out.write(json.dumps(ep.record()) + "\n")
                    out.flush()
                mark = "INFRA" if ep.infra_error else "ok " if ep.task_success else "FAIL"
                print(
                    f"[{i}/{len(todo)}] {mark} {name} seed {seed}: {ep.status} {ep.error or ep.reason}"[:200],
                    file=sys.stderr,
                )
                in_a_row = in_a_row + 1 if ep.infra_error else 0
                server_down = in_a_row >= MAX_INFRA_IN_A_ROW and not getattr(args, "replay", None)
                if server_down:
                    print(
                        f"stopping: {in_a_row} episodes in a row failed outside the model ({ep.error})"[:300],
                        file=sys.stderr,
                    )
                    break
    finally:
        if out:
            out.close()
        if client.transcript is not None:
            client.transcript.close()
    order = {job: k for k, job in enumerate(jobs)}
    episodes.sort(key=lambda e: order.get((e.task, e.seed), 0))
    measured = [e for e in episodes if not e.infra_error]
    summary = summarize(measured)
    summary["infra_errors"] = len(episodes) - len(measured)  # extension: episodes left out of the rates
    summary["not_run"] = len(jobs) - len(episodes)  # extension: stopped early
    print_summary(summary, args.json, [e for e in measured if not e.task_success])
    missing = summary["infra_errors"] + summary["not_run"]
    if missing:
        where = f" with --out {args.out}" if args.out else " with --out FILE (it keeps what finished)"
        print(
            f"{missing} of {len(jobs)} episodes have no result ({summary['infra_errors']} failed outside the "
            f"model, {summary['not_run']} not run); they are not in the rates. Rerun{where} to retry them.",
            file=sys.stderr,
        )
        return 1
    return 0
