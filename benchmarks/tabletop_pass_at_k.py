"""pass@k of tabletop policies: how often does the model write a program that does the task at all?

A diagnostic beside the published results, not one of them. Execution feedback and best-of-K can only pick
among the programs the model writes; when a program runs cleanly and does the wrong thing, only the task
checker knows, and it is never feedback. So the ceiling for any way of choosing among K programs is pass@K:
the chance that K draws contain one that succeeds.

For each task x seed, one request draws K programs for the command at `--temperature` (llama.cpp seeds
0..K-1, so a run is reproducible; `--replay` reads its transcript back). Each program then runs for real on
a freshly built scene of that task and seed: its helpers generated and its nested LMPs answered greedily,
no repair anywhere. The task checker scores each program afterwards; it measures and never reaches the
model. pass@k is Chen et al.'s unbiased estimator, per instruction group x attribute split. Each record
also keeps where every object ended, so `consensus` can measure one selector that needs no checker: run the
program whose outcome most of the K agree on.

Run (prints JSON; --out keeps one record per program and a rerun skips the episodes in it):
    .venv/bin/python benchmarks/tabletop_pass_at_k.py --instructions unseen --seeds 1 --samples 5 \\
        --out pass_at_k.jsonl --transcript transcript.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cap.consensus import most_agreed
from cap.errors import CapError
from cap.evals.common.passk import mean_pass_at_k
from cap.evals.common.records import RecordLog, check_run_file, load_records
from cap.llm_episode import final_scene
from cap.llm_options import add_llm_arguments, build_client, resolve_api
from cap.policy_stack import PolicyStack, StackOptions, scene_context, with_imports, without_imports_lines
from lmp.lmp import LMPError
from lmp.types import LLMError
from robot_api.tabletop import TabletopAPI
from robot_api.tasks import TASKS

GROUPS = ("seen", "unseen", "extra")


@dataclass(frozen=True)
class Settings:
    tasks: tuple[str, ...]
    seeds: int
    samples: int
    temperature: float
    mode: str
    api: str


def sample_programs(client: Any, settings: Settings, out: Path | None) -> list[dict[str, Any]]:
    """Every program's record, those already in `out` first; new ones are appended to `out` as they finish.

    `out` is refused if it holds programs drawn with other settings (its `<name>.run.json` says which); more
    --seeds or other --tasks with the same settings carry on in it.
    """
    from cap.evals.tabletop import TabletopSession

    recorded: dict[Any, dict[str, Any]] = {}
    if out is not None:
        identity = {k: v for k, v in settings.__dict__.items() if k not in ("tasks", "seeds")}
        check_run_file(out.with_name(out.stem + ".run.json"), identity)
        recorded = load_records(out, key=lambda r: (r["task"], r["seed"], r["sample"]))
    records = list(recorded.values())
    per_episode = Counter((task, seed) for task, seed, _ in recorded)
    done = {episode for episode, n in per_episode.items() if n == settings.samples}
    options = StackOptions(
        mode=settings.mode,
        api=settings.api,
        repair=0,
        samples=settings.samples,
        temperature=settings.temperature,
    )
    stack = PolicyStack(client, TabletopAPI.describe(), options)
    log = RecordLog(out) if out is not None else None
    with TabletopSession(extra_api=stack.nested_functions()) as session, log or contextlib.nullcontext():
        stack.bind(session.sandbox.run)

        def execute(program: str) -> Any:
            code = with_imports(stack.with_session(program))
            return without_imports_lines(session.perform(code, stack.session_inputs()))

        # seed by seed, so a rerun with more --seeds asks in the order one run with them would have
        # (a replay meets repeated questions in the order they were recorded)
        for seed in range(settings.seeds):
            for task in settings.tasks:
                if (task, seed) in done:
                    continue
                episode = sample_episode(stack, session, execute, task, seed, settings.samples)
                records = [r for r in records if (r["task"], r["seed"]) != (task, seed)] + episode
                if log is not None:
                    for record in episode:
                        log.write(record)
                wins = sum(bool(r["task_success"]) for r in episode)
                print(f"{task} seed {seed}: {wins}/{len(episode)} programs succeed", file=sys.stderr)
    return records


def sample_episode(
    stack: PolicyStack, session: Any, execute: Any, task: str, seed: int, k: int
) -> list[dict]:
    """K programs for one task x seed, each run on the task's scene as built from scratch, then checked."""
    stack.reset()
    stack.begin_command()
    instance = session.setup(task, seed)
    calls, tokens = stack.client.calls, (stack.client.prompt_tokens, stack.client.completion_tokens)
    names = list(session.api.get_obj_names())
    candidates = stack.ui.lmp.samples(instance.command, scene_context(names), k)
    records = []
    for index, candidate in enumerate(candidates):
        started = time.perf_counter()
        session.setup(task, seed)
        stack.begin_command()
        attempt = stack.ui.attempt(candidate, execute, sample=index)
        success, reason = session.check()
        scene = final_scene(session.api, names)
        records.append(
            {
                "task": task,
                "seed": seed,
                "sample": index,
                "command": instance.command,
                "status": attempt.status,
                "task_success": bool(success),
                "reason": reason,
                "error": attempt.error,
                "code": attempt.code,
                "functions": attempt.functions,
                "final_scene": scene,  # (x, y) of every object after the program: what `consensus` compares
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    records[0]["llm_calls"] = stack.client.calls - calls  # the episode's calls, on its first record
    records[0]["llm_tokens"] = {
        "prompt": stack.client.prompt_tokens - tokens[0],
        "completion": stack.client.completion_tokens - tokens[1],
    }
    return records


def consensus(programs: list[dict[str, Any]]) -> dict[str, Any]:
    """The program a selector that never sees the checker would run (`cap --select consensus`, see
    cap.consensus): among the programs that ran cleanly, the one whose final scene the most others agree with;
    if none ran cleanly, the first."""
    clean = [p for p in programs if p["status"] == "ok" and p.get("final_scene")]
    if not clean:
        return programs[0]
    return clean[most_agreed([p["final_scene"] for p in clean])]


def summarize(records: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """pass@1..K per instruction group x attribute split (and per family), from every program's verdict."""
    episodes: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        episodes[(r["task"], r["seed"])].append(r)
    cells: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
    families: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
    for (task, _), programs in episodes.items():
        t = TASKS[task]
        cells[f"{t.instructions} instructions, {'seen' if t.seen else 'unseen'} attributes"].append(programs)
        families[t.family].append(programs)

    def rates(groups: list[list[dict[str, Any]]]) -> dict[str, Any]:
        totals = [len(programs) for programs in groups]
        corrects = [sum(bool(p["task_success"]) for p in programs) for programs in groups]
        return {
            "episodes": len(groups),
            "programs": sum(totals),
            "succeeding_programs": sum(corrects),
            "episodes_with_a_success": sum(c > 0 for c in corrects),
            **{
                key: round(value, 4)
                for key, value in mean_pass_at_k(totals, corrects, range(1, k + 1)).items()
            },
            "consensus_successes": sum(bool(consensus(programs)["task_success"]) for programs in groups),
        }

    return {
        "samples_per_episode": k,
        "splits": {name: rates(cells[name]) for name in sorted(cells, key=_split_order)},
        "families": {name: rates(families[name]) for name in sorted(families)},
    }


def _split_order(name: str) -> tuple[int, str]:
    return (GROUPS.index(name.split()[0]), name)


def parse(argv: list[str]) -> tuple[argparse.Namespace, Settings]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="these tasks (default: --instructions)")
    parser.add_argument(
        "--instructions", choices=GROUPS, default="unseen", help="every task of this instruction group"
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per task (default 1)")
    parser.add_argument(
        "--samples", type=int, default=5, metavar="K", help="programs per episode (default 5)"
    )
    parser.add_argument(
        "--temperature", type=float, default=0.8, help="of the command's programs (default 0.8)"
    )
    parser.add_argument("--mode", choices=["flat", "hierarchical"], default="hierarchical")
    parser.add_argument(
        "--out", type=Path, help="one JSON record per program; a rerun skips finished episodes"
    )
    add_llm_arguments(parser, local_api="completions")
    args = parser.parse_args(argv)
    resolve_api(args)
    tasks = args.tasks or [n for n, t in TASKS.items() if t.instructions == args.instructions]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise CapError(f"unknown task(s): {', '.join(unknown)}", hint="`cap tasks` lists them")
    if args.seeds < 1 or args.samples < 2 or args.temperature <= 0:
        raise CapError("pass@k needs --seeds >= 1, --samples >= 2 and a --temperature above 0")
    return args, Settings(tuple(tasks), args.seeds, args.samples, args.temperature, args.mode, args.api)


def main(argv: list[str] | None = None) -> int:
    try:
        args, settings = parse(sys.argv[1:] if argv is None else argv)
        client = build_client(args)
        try:
            records = sample_programs(client, settings, args.out)
        finally:
            if client.transcript is not None:
                client.transcript.close()
    except CapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (LLMError, LMPError) as exc:  # LMPError: LLMUnavailable, the model gone after its retries
        print(f"error: the model could not be asked: {exc}", file=sys.stderr)
        print("the finished episodes are in --out: run the same command again to go on", file=sys.stderr)
        return 1
    print(json.dumps({"settings": settings.__dict__, **summarize(records, settings.samples)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
