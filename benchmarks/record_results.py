"""Record a published result under results/: run a benchmark with a model, keep everything needed to replay it.

    .venv/bin/python benchmarks/record_results.py tabletop --name hier-repair2 --mode hierarchical --repair 2 \
        --seeds 1 [--tasks ...] [--model local]
    .venv/bin/python benchmarks/record_results.py humaneval --name flat --mode flat --limit 40 [--model local]

Each result directory holds `run.json` (the settings, the model and its file hash, the command), the
benchmark's own records, `transcript.jsonl` (every model call) and `summary.json` (what the CLI printed with
--json). Running the same line again resumes an interrupted recording (the benchmarks resume from their records;
infrastructure failures are retried). tests/test_published_results.py replays every directory offline and
checks that it gives the same numbers.
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
    parser.add_argument("--tasks", nargs="+")
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--api",
        choices=["chat", "completions"],
        default="chat",
        help="how the model is asked (see `cap run --help`)",
    )
    args = parser.parse_args()

    out = RESULTS / args.benchmark / args.name
    out.mkdir(parents=True, exist_ok=True)
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
    else:
        run |= {"limit": args.limit}
    run["command"] = " ".join(sys.argv)
    (out / "run.json").write_text(json.dumps(run, indent=1) + "\n")
    source = ["--model", args.model, "--transcript", str(out / "transcript.jsonl")]
    started = time.monotonic()
    code, summary = run_cli(ARGS[args.benchmark](run, out, source))
    if summary is None:
        print(f"the benchmark printed no summary (exit {code})", file=sys.stderr)
        return 1
    summary["wall_seconds"] = round(time.monotonic() - started, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))
    return code


if __name__ == "__main__":
    sys.exit(main())
