"""`cap bench tabletop --model/--replay`: every task x seed with policies written by the LLM stack.

Each episode starts clean (no session history, fresh function library) on its task's scene and command.
Episode records are appended to --out as they finish and transcripts (--transcript) are fsync'd per call, so
a killed run loses nothing; run again with the same --out and finished (task, seed) pairs are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cap.episode import Episode
from cap.errors import CapError


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
        if ep.task is not None and ep.seed is not None:
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
                mark = "ok " if ep.task_success else "FAIL"
                print(
                    f"[{i}/{len(todo)}] {mark} {name} seed {seed}: {ep.status} {ep.error or ep.reason}"[:200],
                    file=sys.stderr,
                )
    finally:
        if out:
            out.close()
        if client.transcript is not None:
            client.transcript.close()
    order = {job: k for k, job in enumerate(jobs)}
    episodes.sort(key=lambda e: order.get((e.task, e.seed), 0))
    print_summary(summarize(episodes), args.json, [e for e in episodes if not e.task_success])
    return 0
