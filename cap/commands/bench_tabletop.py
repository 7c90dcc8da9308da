"""Run every tabletop task x seed and report success per instruction family (and per seen/unseen split).

--reference runs the hand-written reference programs (a check of the simulator and the checkers, not of a
model). Otherwise an LLM writes the policy for each task's command: the embedded local model when no endpoint
is configured, --model/--base-url for an OpenAI-compatible server, --replay FILE for a recorded transcript.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cap.errors import CapError
from cap.llm_options import add_llm_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", action="store_true", help="run the hand-written reference programs")
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="only these tasks (default: all)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per task (default 10)")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="append one JSON record per episode to this file; a rerun skips the episodes already in it",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_llm_arguments(parser, local_api="completions")
    from cap.commands.run import add_stack_arguments
    from cap.evals.common.executor import add_ray_arguments

    add_stack_arguments(parser)
    add_ray_arguments(parser)


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
    from cap.commands import bench_tabletop_llm

    return bench_tabletop_llm.run(names, args)


class ReferenceWorker:
    """One warm simulator + sandbox running reference episodes (in this process or a Ray actor)."""

    def __init__(self) -> None:
        from cap.evals.tabletop import TabletopSession

        self.session = TabletopSession()

    def run(self, job: tuple[str, int]) -> dict:
        return {"episode": self.session.reference_episode(*job).record(), "transcript": []}

    def close(self) -> None:
        self.session.close()


class ReferenceWorkerSpec:
    def open(self) -> ReferenceWorker:
        return ReferenceWorker()


def _run(names: list[str], args: argparse.Namespace) -> int:
    from cap.evals.tabletop import summarize

    episodes = run_jobs(names, args, ReferenceWorkerSpec(), label="reference episodes")
    print_summary(summarize(episodes), args.json, [e for e in episodes if not e.task_success])
    return 0


def finished_episodes(path: str | None) -> dict:
    """Episodes already recorded in --out (a torn last line from a killed run is ignored)."""
    from cap.episode import Episode

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


MAX_INFRA_IN_A_ROW = 3


def run_jobs(
    names: list[str],
    args: argparse.Namespace,
    spec,
    local=None,
    client=None,
    label: str = "episodes",
    log_lines: bool = False,
) -> list:
    """Every task x seed not yet in --out, on the executor `--ray` picks (a worker from `spec`, or `local`
    here); each episode is appended to --out as it arrives (so a rerun resumes) and the transcript records a
    remote worker sends back go to `client`'s transcript. Returns all episodes in task x seed order."""
    from cap.commands.distributed import write_transcript
    from cap.episode import Episode
    from cap.evals.common.executor import Task, open_executor, ray_options
    from cap.evals.common.progress import progress_bar

    ray = ray_options(args)
    done = finished_episodes(args.out)
    jobs = [(n, s) for n in names for s in range(args.seeds)]
    todo = [job for job in jobs if job not in done]
    if done:
        print(
            f"resuming: {len(jobs) - len(todo)} of {len(jobs)} episodes already in {args.out}",
            file=sys.stderr,
        )
    episodes = {job: done[job] for job in jobs if job in done}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115 - closed below
    in_a_row = 0  # infrastructure failures one after another: the server is down
    progress = progress_bar(None if not log_lines else False)
    bar = progress.add_task(label, total=len(todo))
    try:
        with progress, open_executor(spec, ray, local) as executor:
            for i, (task, result) in enumerate(executor.run(Task(job, job) for job in todo), 1):
                write_transcript(client, result["transcript"])
                ep = Episode(**result["episode"])
                if out:
                    out.write(json.dumps(ep.record()) + "\n")
                    out.flush()
                episodes[task.key] = ep
                progress.update(bar, advance=1, description=f"{ep.task} seed {ep.seed}")
                in_a_row = in_a_row + 1 if ep.infra_error else 0
                if log_lines:
                    mark = "INFRA" if ep.infra_error else "ok " if ep.task_success else "FAIL"
                    print(
                        f"[{i}/{len(todo)}] {mark} {ep.task} seed {ep.seed}: {ep.status} {ep.error or ep.reason}"[
                            :200
                        ],
                        file=sys.stderr,
                    )
                if in_a_row >= MAX_INFRA_IN_A_ROW and not getattr(args, "replay", None):
                    print(
                        f"stopping: {in_a_row} episodes in a row failed outside the model ({ep.error})"[:300],
                        file=sys.stderr,
                    )
                    break
    finally:
        if out:
            out.close()
    return [episodes[job] for job in jobs if job in episodes]


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
