"""Ray vs local on this machine: the overhead Ray adds per task, and tabletop throughput both ways.

Starts a two-node Ray cluster on loopback (head + one more node, `--cpus-per-node` CPUs each, default 1),
runs the same work through `LocalExecutor` (in this process) and `RayPool` (actors on the cluster), stops the
cluster, and prints one JSON object:

- `noop`: tasks that do nothing (a round trip per task): local and Ray seconds per task, and the difference,
  Ray's fixed cost per task (scheduling, pickling, the result's way back); plus the start-up of the pool.
- `tabletop`: reference episodes (`cap bench tabletop --reference`'s workload): episodes per second locally
  (one process) and on Ray (one actor per CPU), and the seconds to the first result (workers' warm-up:
  simulator + sandbox in each actor).

On this machine (2 cores shared with other work) parity is the goal, not speed-up; what carries over to a real
cluster is the overhead per task, against an episode's seconds.
    .venv/bin/python benchmarks/bench_ray.py [--noop N] [--seeds S]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cap.evals.common.executor import LocalExecutor, RayOptions, Task  # noqa: E402


class Noop:
    def run(self, payload):
        return payload

    def close(self) -> None:
        pass


class NoopSpec:
    def open(self) -> Noop:
        return Noop()


def timed_run(executor, tasks: list[Task]) -> tuple[float, float]:
    """(seconds to the first result, seconds for all)."""
    started = time.perf_counter()
    first = None
    count = 0
    for _ in executor.run(tasks):
        count += 1
        if first is None:
            first = time.perf_counter() - started
    assert count == len(tasks)
    return first or 0.0, time.perf_counter() - started


def noop(address: str, n: int, reps: int) -> dict:
    from cap.evals.common.ray_pool import RayPool

    tasks = [Task(i, i) for i in range(n)]
    local = []
    for _ in range(reps):
        with LocalExecutor(spec=NoopSpec()) as ex:
            local.append(timed_run(ex, tasks)[1] / n)
    ray_steady, startup = [], []
    for _ in range(reps):
        started = time.perf_counter()
        with RayPool(NoopSpec(), RayOptions(address=address), on_event=lambda _t: None) as pool:
            timed_run(pool, [Task(-1 - i, 0) for i in range(pool.size)])  # the actors start and open
            startup.append(time.perf_counter() - started)
            ray_steady.append(timed_run(pool, tasks)[1] / n)
    return {
        "tasks": n,
        "local_seconds_per_task": statistics.median(local),
        "ray_seconds_per_task": statistics.median(ray_steady),
        "ray_overhead_ms_per_task": round(
            1000 * (statistics.median(ray_steady) - statistics.median(local)), 3
        ),
        "ray_pool_startup_seconds": round(statistics.median(startup), 3),
    }


def tabletop(address: str, seeds: int) -> dict:
    from cap.commands.bench_tabletop import ReferenceWorkerSpec
    from cap.evals.common.ray_pool import RayPool

    names = ["pick-place", "stack-blocks", "blocks-in-matching-bowls", "line-of-blocks"]
    tasks = [Task((n, s), (n, s)) for n in names for s in range(seeds)]
    with LocalExecutor(spec=ReferenceWorkerSpec()) as ex:
        local_first, local_all = timed_run(ex, tasks)
    with RayPool(ReferenceWorkerSpec(), RayOptions(address=address), on_event=lambda _t: None) as pool:
        workers = pool.size
        ray_first, ray_all = timed_run(pool, tasks)
        retries = pool.retries
    return {
        "episodes": len(tasks),
        "local": {
            "episodes_per_second": round(len(tasks) / local_all, 3),
            "first_result_s": round(local_first, 3),
        },
        "ray": {
            "workers": workers,
            "episodes_per_second": round(len(tasks) / ray_all, 3),
            "first_result_s": round(ray_first, 3),
            "retries": retries,
        },
        "ray_vs_local_throughput": round(local_all / ray_all, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--noop", type=int, default=300, help="no-op tasks per measurement (default 300)")
    parser.add_argument(
        "--reps", type=int, default=3, help="repetitions of the no-op measurement (default 3)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per tabletop task (4 tasks; default 3)")
    parser.add_argument("--cpus-per-node", type=int, default=1, help="CPUs per node (2 nodes; default 1)")
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    started = time.perf_counter()
    node = {"num_cpus": args.cpus_per_node, "object_store_memory": 80 * 1024 * 1024}
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    head = {**node, "include_dashboard": False, "gcs_server_port": port}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        cluster_start = time.perf_counter() - started
        result = {
            "machine": {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]},
            "cluster": {
                "nodes": 2,
                "cpus_per_node": args.cpus_per_node,
                "start_seconds": round(cluster_start, 2),
            },
            "noop": noop(cluster.address, args.noop, args.reps),
            "tabletop": tabletop(cluster.address, args.seeds),
        }
    finally:
        cluster.shutdown()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
