"""The local model's latency: prompt-state cache off vs in memory vs on disk, decode options, end to end.

Each scenario gets a server of its own (its own CAP_HOME, so its own disk cache), started by cap as a user's
command would start it. The call sequence is what one tabletop command costs: the UI LMP, then a nested LMP
(`parse_obj_name`), twice, so the LMPs alternate as they do in real runs and llama.cpp's own reuse of the
context's last prompt cannot hide the cost of a cold prefix.

    .venv/bin/python benchmarks/bench_local_model.py            # JSON on stdout, progress on stderr
    .venv/bin/python benchmarks/bench_local_model.py --quick    # cache scenarios only

Scenarios: `off` (no prompt-state cache: every LMP switch evaluates its prefix again), `memory` (the RAM
cache, after one warm-up round), `disk` (a fresh server process whose disk cache another process filled).
Decode: tokens/s with 1 and 2 threads and with prompt-lookup decoding. End to end: `cap run` of the pick-place
command warm, and as the first command of a fresh server process with the disk cache.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lmp.local import catalog
from lmp.local.install import model_path
from lmp.local.process import stop_server

HOME = os.environ.get("CAP_HOME")
MODEL_FILE = str(model_path(catalog.spec("1.5b")))  # the installed file, before scenarios move CAP_HOME
COMMAND = "pick up the green block and place it on the green bowl"
OBJECTS = "objects = ['green block', 'red block', 'blue block', 'green bowl', 'orange bowl']"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def stack_requests():
    from cap.policy_stack import PolicyStack
    from robot_api.tabletop import TabletopAPI

    stack = PolicyStack(None, TabletopAPI.describe())
    ui, names = stack.ui.lmp, stack.nested["parse_obj_name"].lmp
    return [
        ui._request(COMMAND, OBJECTS),
        names._request("the blocks", OBJECTS),
        ui._request("put the red block on the blue bowl", OBJECTS),
        names._request("the bowls", OBJECTS),
    ]


def run_calls(home: Path, requests, settings: dict) -> dict:
    """One server for `home`; the requests in order; per-call token counts and latencies."""
    os.environ["CAP_HOME"] = str(home)
    from lmp.backends.local import LocalBackend

    backend = LocalBackend(model_file=MODEL_FILE, settings=settings)
    calls = []
    for request in requests:
        started = time.perf_counter()
        completion = backend.complete(request)[0]
        usage = completion.usage
        calls.append(
            {
                "lmp": request.lmp,
                "seconds": round(time.perf_counter() - started, 2),
                "prompt_tokens": usage.get("prompt_tokens"),
                "cached_tokens": usage.get("prompt_tokens_details", {}).get("cached_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
                **usage.get("timings", {}),
            }
        )
        log(f"    {request.lmp}: {calls[-1]}")
    import urllib.request

    with urllib.request.urlopen(backend.base_url.removesuffix("/v1") + "/health", timeout=10) as resp:
        health = json.loads(resp.read())
    stop_server(backend.sha256)
    return {
        "calls": calls,
        "rss_gb": round((health.get("rss_bytes") or 0) / 1e9, 2),
        "cache": health["cache"],
    }


def summary(calls: list[dict]) -> dict:
    return {
        "seconds_total": round(sum(c["seconds"] for c in calls), 2),
        "prompt_tokens_evaluated": sum(c["prompt_tokens"] - c["cached_tokens"] for c in calls),
        "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
    }


def cap_run() -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cap", "run", COMMAND, "--task", "pick-place", "--no-cache", "--json"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    status = json.loads(done.stdout.strip().splitlines()[-1])["status"] if done.stdout.strip() else "crash"
    log(f"    cap run: {seconds:.1f} s, {status}")
    return round(seconds, 2)


def cache_scenarios(root: Path, requests) -> dict:
    log("cache off (every LMP switch evaluates its prefix again):")
    off = run_calls(root / "off", requests, {"cache_mb": 0, "disk_cache_mb": 0})
    log("cache in memory (warm-up round, then the measured round):")
    both = run_calls(root / "mem", requests + requests, {"cache_mb": 1024, "disk_cache_mb": 0})
    memory = {**both, "calls": both["calls"][len(requests) :]}
    log("disk cache (fill it, then a fresh server process):")
    run_calls(root / "disk", requests, {})
    disk = run_calls(root / "disk", requests, {})
    return {
        "off": {**summary(off["calls"]), **off},
        "memory": {**summary(memory["calls"]), **memory},
        "disk_fresh_process": {**summary(disk["calls"]), **disk},
    }


def decode_scenarios(root: Path, probe) -> dict:
    decode = {}
    for name, settings in {
        "threads=2": {"threads": 2},
        "threads=1": {"threads": 1},
        "threads=2,prompt-lookup=10": {"threads": 2, "prompt_lookup": 10},
    }.items():
        log(f"decode, {name}:")
        home = root / "decode" / name.replace(",", "_").replace("=", "")
        try:
            run_calls(home, [probe], settings)  # fills the disk cache: the next server starts warm
            result = run_calls(home, [probe, probe], settings)
        except Exception as exc:  # a setting the runtime cannot serve is a result too
            decode[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        decode[name] = {
            "decode_tokens_per_s": result["calls"][-1].get("decode_tokens_per_s"),
            "rss_gb": result["rss_gb"],
        }
    return decode


def end_to_end() -> dict:
    log("end to end, cap run (default settings, your CAP_HOME):")
    os.environ.pop("CAP_HOME", None)
    if HOME is not None:
        os.environ["CAP_HOME"] = HOME
    spec = catalog.spec("1.5b")
    cap_run()  # fills the disk cache if it is cold
    stop_server(spec.sha256)
    fresh = cap_run()  # the first command of a fresh server process, with the disk cache
    from lmp.backends.local import LocalBackend

    keep = LocalBackend()  # holds a lease, so the server stays up between the two runs
    keep.base_url  # noqa: B018 - starts or finds the server
    cap_run()
    return {"first_command_fresh_process_disk_cache_s": fresh, "warm_s": cap_run()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="only the cache scenarios")
    parser.add_argument("--only", choices=["cache", "decode", "e2e"], help="only this part")
    args = parser.parse_args()
    wanted = {args.only} if args.only else ({"cache"} if args.quick else {"cache", "decode", "e2e"})
    requests = stack_requests()
    report: dict = {
        "model": catalog.spec("1.5b").name,
        "cpu_count": os.cpu_count(),
        "load_avg_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "cache" in wanted:
            report["cache"] = cache_scenarios(root, requests)
        if "decode" in wanted:
            report["decode"] = decode_scenarios(root, requests[0])
        if "e2e" in wanted:
            report["cap_run"] = end_to_end()
    report["load_avg_end"] = os.getloadavg()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
