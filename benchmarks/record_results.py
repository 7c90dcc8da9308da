"""Record a published result under results/: run a benchmark with a model, keep everything needed to replay it.

    .venv/bin/python benchmarks/record_results.py tabletop --name hier-repair2 --mode hierarchical --repair 2 \
        --seeds 1 [--tasks ...] [--model local]
    .venv/bin/python benchmarks/record_results.py humaneval --name flat --mode flat --limit 40 [--model local]

Each result directory holds `run.json` (the settings, the model and its file hash, the command), the
benchmark's own records, `transcript.jsonl` (every model call) and `summary.json` (what the CLI printed with
--json). Running the same line again resumes an interrupted recording (the benchmarks resume from their records;
infrastructure failures are retried). tests/test_published_results.py replays every directory offline and
checks that it gives the same numbers.

`--redo TASK:SEED ...` records those tabletop episodes again (e.g. after a fix in cap that changes how they
run, so they no longer replay as recorded): their records and their model calls are taken out, they run again,
and everything is put back in task x seed order, the order a replay asks in.

Running an existing tabletop result again with a larger `--seeds` (and every other setting as recorded) adds
the missing seeds to it: the recorded episodes stay as they are, the new ones are recorded and everything is put
back in task x seed order. Any other change of settings is refused: record under another --name.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import time
from pathlib import Path

from cap.cli import main as cap_main
from robot_api.tasks import TASKS

RESULTS = Path(__file__).resolve().parents[1] / "results"


def model_identity(model: str) -> dict:
    if model == "local" or model.startswith("local:"):
        from lmp.local import catalog

        spec = catalog.spec(model.partition(":")[2] or catalog.DEFAULT_SIZE)
        return {
            "model": spec.name,
            "model_sha256": spec.sha256,
            "runtime": f"llama-cpp-python {catalog.RUNTIME_VERSION}",
        }
    return {"model": model}


def prompts_digest() -> str:
    """One hash over every prompt template and example file, so a result names the prompts it was made with."""
    digest = hashlib.sha256()
    for path in sorted((RESULTS.parent / "prompts").rglob("*")):
        if path.suffix in (".j2", ".py") and path.is_file():
            digest.update(path.relative_to(RESULTS.parent).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def tabletop_args(run: dict, out: Path, source: list[str]) -> list[str]:
    args = ["bench", "tabletop", *source, "--seeds", str(run["seeds"]), "--mode", run["mode"]]
    args += ["--repair", str(run["repair"]), "--out", str(out / "episodes.jsonl"), "--json", "--no-cache"]
    args += ["--api", run.get("api", "chat")]
    if run.get("samples"):
        args += ["--samples", str(run["samples"]), "--select", run["select"]]
        args += ["--temperature", str(run["temperature"])]
    if run.get("tasks"):
        args += ["--tasks", *run["tasks"]]
    return args


def humaneval_args(run: dict, out: Path, source: list[str]) -> list[str]:
    args = ["bench", "humaneval", *source, "--mode", run["mode"], "--out", str(out / "run"), "--json"]
    args += ["--parallel", "1", "--no-cache", "--api", run.get("api", "chat")]
    if run.get("limit"):
        args += ["--limit", str(run["limit"])]
    if run.get("repair"):
        args += ["--repair", str(run["repair"])]
    return args


ARGS = {"tabletop": tabletop_args, "humaneval": humaneval_args}


def episode_slices(episodes: list[dict], transcript: list[str]) -> list[list[str]]:
    """Each episode's model calls: the transcript is written episode after episode (one at a time) and each
    record counts its calls, so consecutive slices of those lengths are the episodes' calls."""
    counts = [int(e.get("llm_calls") or 0) for e in episodes]
    if sum(counts) != len(transcript):
        raise SystemExit(
            f"the transcript has {len(transcript)} calls but the episodes count {sum(counts)}: "
            "it cannot be split by episode (was it recorded in parallel?); record the whole run again"
        )
    slices, start = [], 0
    for n in counts:
        slices.append(transcript[start : start + n])
        start += n
    return slices


def read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rewrite_episodes(out: Path, pick) -> None:
    """Keep the episodes `pick(episodes)` names (indices, in the order to write them), each with its calls."""
    episodes_path, transcript_path = out / "episodes.jsonl", out / "transcript.jsonl"
    lines = read_lines(episodes_path)
    episodes = [json.loads(line) for line in lines]
    slices = episode_slices(episodes, read_lines(transcript_path))
    chosen = pick(episodes)
    episodes_path.write_text("".join(lines[i] + "\n" for i in chosen), encoding="utf-8")
    transcript_path.write_text("".join(c + "\n" for i in chosen for c in slices[i]), encoding="utf-8")


def take_out(out: Path, redo: set[tuple[str, int]]) -> None:
    """Remove the episodes to redo (records and calls), so the resumed run records them afresh (one already
    taken out by an interrupted redo is simply recorded)."""
    rewrite_episodes(
        out, lambda episodes: [i for i, e in enumerate(episodes) if (e["task"], e["seed"]) not in redo]
    )


def put_in_order(out: Path, order: list[tuple[str, int]]) -> None:
    """Episodes and their calls back in task x seed order, the order the benchmark runs (and a replay asks)
    in; the redone ones were appended at the end."""
    rank = {job: i for i, job in enumerate(order)}
    rewrite_episodes(
        out,
        lambda episodes: sorted(
            range(len(episodes)),
            key=lambda i: rank.get((episodes[i]["task"], episodes[i]["seed"]), len(rank)),
        ),
    )


def parse_redo(values: list[str]) -> set[tuple[str, int]]:
    jobs = set()
    for value in values:
        task, _, seed = value.rpartition(":")
        if not task or not seed.isdigit():
            raise SystemExit(f"--redo {value!r}: write TASK:SEED, e.g. stack-blocks:2")
        jobs.add((task, int(seed)))
    return jobs


SAME_SETTINGS = (
    "mode",
    "repair",
    "api",
    "tasks",
    "limit",
    "samples",
    "select",
    "temperature",
    "model_sha256",
    "prompts_sha256",
)
CARRIED = ("redo_command", "redone", "extend_command", "extended_from_seeds")


def continue_run(run: dict, recorded: dict, redo: set[tuple[str, int]], out: Path) -> dict:
    """The run.json for going on with a recorded result: resuming it, redoing episodes of it or (tabletop)
    adding seeds to it. Anything else would mix two experiments in one directory, so it is refused; the
    recorded command stays the one that reproduces the whole result, the history of how it was made is kept."""
    differing = sorted(k for k in SAME_SETTINGS if recorded.get(k) != run.get(k))
    if differing:
        raise SystemExit(
            f"{out} was recorded with other settings ({', '.join(differing)}): record under another --name "
            "(a changed prompt means recording the whole run again)"
        )
    run = run | {k: recorded[k] for k in CARRIED if k in recorded}
    if run["benchmark"] != "tabletop":
        return run | {"command": recorded["command"]}
    seeds = recorded["seeds"]
    if redo:
        if run["seeds"] != seeds:
            raise SystemExit(f"--redo: {out} has {seeds} seeds; give --seeds {seeds}")
        redone = sorted(set(map(tuple, recorded.get("redone", []))) | redo)
        return run | {"command": recorded["command"], "redo_command": run["command"], "redone": redone}
    if run["seeds"] < seeds:
        raise SystemExit(f"{out} has {seeds} seeds; --seeds {run['seeds']} would drop some")
    if run["seeds"] > seeds:  # an extension: the seeds recorded so far stay as they are
        run |= {
            "extend_command": run["command"],
            "extended_from_seeds": run.get("extended_from_seeds", seeds),
        }
    return run | {"command": recorded["command"].replace(f"--seeds {seeds}", f"--seeds {run['seeds']}")}


def run_cli(args: list[str]) -> tuple[int, dict | None]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cap_main(args)
    lines = [line for line in buffer.getvalue().splitlines() if line.startswith("{")]
    return code, (json.loads(lines[-1]) if lines else None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("benchmark", choices=sorted(ARGS))
    parser.add_argument(
        "--name", required=True, help="the result directory's name under results/<benchmark>/"
    )
    parser.add_argument("--model", default="local")
    parser.add_argument("--mode", choices=["flat", "hierarchical"], default="hierarchical")
    parser.add_argument("--repair", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--samples", type=int, default=1, help="tabletop: best-of-K (see `cap run --help`)")
    parser.add_argument("--select", choices=["first", "consensus"], default="first")
    parser.add_argument("--temperature", type=float, default=0.8, help="of the K samples (with --samples)")
    parser.add_argument("--tasks", nargs="+")
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--api",
        choices=["chat", "completions"],
        default="chat",
        help="how the model is asked (see `cap run --help`)",
    )
    parser.add_argument(
        "--redo",
        nargs="+",
        default=[],
        metavar="TASK:SEED",
        help="tabletop: record these episodes of an existing result again (see above)",
    )
    args = parser.parse_args()

    out = RESULTS / args.benchmark / args.name
    run = {
        "benchmark": args.benchmark,
        "mode": args.mode,
        "repair": args.repair,
        "api": args.api,
        **model_identity(args.model),
        "prompts_sha256": prompts_digest(),
    }
    if args.benchmark == "tabletop":
        run |= {"seeds": args.seeds, "tasks": args.tasks or []}
        if args.samples > 1:  # only then: the results recorded without samples keep their run.json
            run |= {"samples": args.samples, "select": args.select, "temperature": args.temperature}
    else:
        run |= {"limit": args.limit}
    run["command"] = " ".join(sys.argv)
    redo = parse_redo(args.redo)
    recorded = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else None
    if redo and (args.benchmark != "tabletop" or not recorded):
        raise SystemExit(f"--redo is for episodes of a recorded tabletop result; {out} is not one")
    if recorded:
        run = continue_run(run, recorded, redo, out)
    if redo:
        unknown = {task for task, _ in redo} - set(run["tasks"] or TASKS)
        if unknown:
            raise SystemExit(f"--redo: no such task in this run: {sorted(unknown)}")
        take_out(out, redo)
    out.mkdir(parents=True, exist_ok=True)  # only once the settings are accepted
    (out / "run.json").write_text(json.dumps(run, indent=1) + "\n")
    source = ["--model", args.model, "--transcript", str(out / "transcript.jsonl")]
    started = time.monotonic()
    code, summary = run_cli(ARGS[args.benchmark](run, out, source))
    if summary is None:
        print(f"the benchmark printed no summary (exit {code})", file=sys.stderr)
        return 1
    if args.benchmark == "tabletop":  # redone and added episodes were appended at the end
        put_in_order(out, [(t, seed) for t in run["tasks"] or TASKS for seed in range(run["seeds"])])
    before = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    if redo:
        summary["wall_seconds"] = before.get("wall_seconds")
    else:  # a resumed or extended recording adds its time to what the recording took so far
        summary["wall_seconds"] = round((before.get("wall_seconds") or 0) + time.monotonic() - started, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))
    return code


if __name__ == "__main__":
    sys.exit(main())
