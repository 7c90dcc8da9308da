"""Sandbox speed side by side with plain `exec`, RestrictedPython and smolagents' LocalPythonExecutor.

Workloads, each timed against plain `exec` of the same code in this process: float arithmetic (a loop-heavy
policy), allocation-heavy (lists of tuples, dicts, method calls), API-heavy (2000 calls to a host function)
and numpy-heavy (array methods and numpy functions in a loop); then the warm start of a small policy (latency
of one run) and the API round trip (one call from sandboxed code to a host function and back). The peers
(RestrictedPython, smolagents) run the float loop; those not installed are skipped
(`pip install RestrictedPython smolagents`). Prints one JSON object; medians over repetitions, in seconds.

    .venv/bin/python benchmarks/bench_sandbox.py [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import Sandbox  # noqa: E402

LOOP = """
import math
total = 0.0
for i in range(600):
    for j in range(500):
        total += math.sqrt(i * j) * 0.5 - (j % 7)
ret_val = total
"""
ALLOC = """
pts = [(i, i * 0.5) for i in range(20000)]
buckets = {}
for i, x in pts:
    key = i % 100
    buckets[key] = buckets.get(key, 0.0) + x
pairs = sorted(buckets.items())
names = [f"p{k}" for k, _ in pairs]
ret_val = sum(v for _, v in pairs) + len(names)
"""
NUMPY = """
import numpy as np
rng = np.random.default_rng(0)
pts = rng.random((200, 2))
total = 0.0
for i in range(400):
    c = pts.mean(axis=0)
    d = np.linalg.norm(pts - c, axis=1)
    total += float(d.max()) + float(pts.sum()) * 1e-6
    pts = np.clip(pts + 0.001, 0.0, 1.0)
ret_val = total
"""
SMALL = "x = [1, 2, 3]\nret_val = len(x) * 2 + x[0]\n"
CALLS = 2000  # nested loops: RestrictedPython's range() stops at 1000 elements
API_LOOP = "for i in range(40):\n    for j in range(50):\n        echo(j)\nret_val = 1\n"
API_NONE = "for i in range(40):\n    for j in range(50):\n        pass\nret_val = 1\n"


def echo(x: Any) -> Any:
    return x


def median_time(fn: Callable[[], Any], reps: int) -> float:
    fn()  # warm
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class Plain:
    name = "plain_exec"

    def run(self, code: str) -> Any:
        ns: dict[str, Any] = {"echo": echo}
        exec(compile(code, "<policy>", "exec"), ns)
        return ns.get("ret_val")


class Ours:
    name = "cap_sandbox"

    def __init__(self) -> None:
        self.sb = Sandbox(api={"echo": echo}, timeout=60.0)

    def run(self, code: str) -> Any:
        out = self.sb.run(code, return_name="ret_val")
        if out.status != "ok":
            raise RuntimeError(out.error)
        return out.value


class Restricted:
    name = "RestrictedPython"

    def __init__(self) -> None:
        import math

        from RestrictedPython import compile_restricted, limited_builtins, safe_builtins
        from RestrictedPython.Guards import guarded_iter_unpack_sequence

        self.compile = compile_restricted
        builtins = {**safe_builtins, **limited_builtins}
        builtins["__import__"] = lambda name, *a, **k: {"math": math}[name]
        self.globals = {
            "__builtins__": builtins,
            "_getiter_": iter,
            "_getattr_": getattr,
            "_getitem_": lambda o, k: o[k],
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_inplacevar_": _inplacevar,
            "echo": echo,
        }

    def run(self, code: str) -> Any:
        ns = dict(self.globals)
        exec(self.compile(code, "<policy>", "exec"), ns)
        return ns.get("ret_val")


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op == "+=":
        return x + y
    if op == "-=":
        return x - y
    raise ValueError(f"RestrictedPython asked for an in-place operator this benchmark does not use: {op}")


class Smol:
    name = "smolagents"

    def __init__(self) -> None:
        from smolagents.local_python_executor import LocalPythonExecutor

        self.cls = LocalPythonExecutor

    def run(self, code: str) -> Any:
        ex = self.cls(additional_authorized_imports=["math"], additional_functions={"echo": echo})
        ex.send_tools({})
        ex(code)
        return ex.state.get("ret_val")


def peers() -> tuple[list[Any], dict[str, str]]:
    made, skipped = [Plain(), Ours()], {}
    for cls in (Restricted, Smol):
        try:
            made.append(cls())
        except ImportError as exc:
            skipped[cls.name] = f"not installed ({exc.name})"
    return made, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    args = parser.parse_args()
    reps = 3 if args.quick else args.reps
    runners, skipped = peers()
    expected = Plain().run(LOOP)
    table: dict[str, dict[str, float]] = {"loop_heavy_s": {}, "warm_start_s": {}, "api_round_trip_s": {}}
    workloads = {"allocation_heavy_s": ALLOC, "api_heavy_s": API_LOOP, "numpy_heavy_s": NUMPY}
    for name, code in workloads.items():
        table[name] = {}
        want = Plain().run(code)
        for r in runners[:2]:  # plain exec and ours
            try:
                got = r.run(code)
            except RuntimeError as exc:  # an older sandbox that cannot run this workload
                table[name][r.name] = float("nan")
                skipped[f"{name}:{r.name}"] = str(exc)[:200]
                continue
            assert abs(got - want) <= 1e-9 * abs(want), (name, r.name)
            table[name][r.name] = median_time(lambda r=r, code=code: r.run(code), reps)
    for r in runners:
        slow = r.name == "smolagents"
        assert abs(r.run(LOOP) - expected) < 1e-6 * abs(expected), r.name
        table["loop_heavy_s"][r.name] = median_time(
            lambda r=r: r.run(LOOP), max(3, reps // 5) if slow else reps
        )
        table["warm_start_s"][r.name] = median_time(lambda r=r: r.run(SMALL), reps * 4)
        with_calls = median_time(lambda r=r: r.run(API_LOOP), max(3, reps // 3) if slow else reps)
        without = median_time(lambda r=r: r.run(API_NONE), max(3, reps // 3) if slow else reps)
        table["api_round_trip_s"][r.name] = max(with_calls - without, 0.0) / CALLS
    loop = table["loop_heavy_s"]
    goals = {
        "compute_vs_plain_exec": {"value": loop["cap_sandbox"] / loop["plain_exec"], "goal": "<= 1.3"},
        **{
            f"{name[:-2]}_vs_plain_exec": {
                "value": table[name]["cap_sandbox"] / table[name]["plain_exec"],
                "goal": "<= 1.3",
            }
            for name in workloads
        },
        "warm_start_ms": {"value": table["warm_start_s"]["cap_sandbox"] * 1e3, "goal": "<= 5"},
        "api_round_trip_us": {"value": table["api_round_trip_s"]["cap_sandbox"] * 1e6, "goal": "<= 30"},
    }
    if "smolagents" in loop:
        goals["speedup_vs_smolagents"] = {"value": loop["smolagents"] / loop["cap_sandbox"], "goal": ">= 50"}
    # Where the time goes: a run pays the warm start (fork, limits, seccomp, result back, exit) once, then
    # executes; the rest, against plain exec, is the execution itself (the attribute guard, fresh pages).
    start = table["warm_start_s"]["cap_sandbox"]
    breakdown = {
        name: {
            "total_ms": round(table[name]["cap_sandbox"] * 1e3, 3),
            "warm_start_ms": round(start * 1e3, 3),
            "execution_vs_plain_exec": round(
                (table[name]["cap_sandbox"] - start) / table[name]["plain_exec"], 3
            ),
        }
        for name in ("loop_heavy_s", *workloads)
    }
    for g in goals.values():
        op, bound = g["goal"].split()
        g["value"] = round(g["value"], 3)
        g["met"] = g["value"] <= float(bound) if op == "<=" else g["value"] >= float(bound)
    for r in runners:
        if isinstance(r, Ours):
            r.sb.close()
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "kernel": platform.release(),
                "layers": Sandbox.__name__ and _layers(),
                "calls_per_api_run": CALLS,
                "table": table,
                "goals": goals,
                "where_the_time_goes": breakdown,
                "skipped": skipped,
            },
            indent=2,
        )
    )
    return 0


def _layers() -> dict[str, Any]:
    with Sandbox() as sb:
        return sb.layers


if __name__ == "__main__":
    raise SystemExit(main())
