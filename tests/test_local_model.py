"""The real local model (Qwen2.5-Coder-1.5B through llama.cpp), as `make test` installs it.

These talk to a real llama.cpp server started by cap, through the openai SDK over loopback HTTP. They assert on
what the model did and on tokens the server evaluated, never on wall time. `make test` runs them after the
parallel part, one at a time. Without the installed model they are skipped with the reason (a developer
machine); `make test` installs it first, so in CI they run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from lmp.local import catalog
from lmp.local.install import model_path, runtime_version, verified

SPEC = catalog.spec("1.5b")
MODEL_FILE = str(model_path(SPEC))  # before any test points CAP_HOME elsewhere
INSTALLED = runtime_version() == catalog.RUNTIME_VERSION and verified(SPEC)
pytestmark = [
    pytest.mark.realmodel,
    pytest.mark.skipif(not INSTALLED, reason="the local model is not installed: run `cap model install`"),
]

# A short few-shot prefix (a few hundred tokens), so the mechanism tests stay cheap even on a cold machine.
PREFIX = "# Python functions, one per comment line.\n" + "".join(
    f"# return the {w} of a list of numbers.\ndef list_{w}(xs):\n    return {e}\n\n"
    for w, e in [
        ("sum", "sum(xs)"),
        ("maximum", "max(xs)"),
        ("minimum", "min(xs)"),
        ("length", "len(xs)"),
        ("mean", "sum(xs) / len(xs)"),
        ("sorted copy", "sorted(xs)"),
        ("reversed copy", "list(reversed(xs))"),
        ("first element", "xs[0]"),
        ("last element", "xs[-1]"),
        ("squares", "[x * x for x in xs]"),
        ("absolute values", "[abs(x) for x in xs]"),
        ("distinct values", "sorted(set(xs))"),
    ]
)


def _cap(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cap", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _health(base_url: str) -> dict:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/health", timeout=10) as resp:
        return json.loads(resp.read())


def _client(**backend_args):
    from lmp import LLMClient
    from lmp.backends.local import LocalBackend

    backend = LocalBackend(**backend_args)
    return LLMClient(backend), backend


def _request(query: str, max_tokens: int = 48):
    from lmp.types import Request

    return Request(
        lmp="lists", query=query, prompt=f"{PREFIX}# {query}.\n", stop=("\n#",), max_tokens=max_tokens
    )


def test_a_command_runs_end_to_end_on_the_local_model():
    """The product's main job with nothing configured: a sentence in, the model's code moves the robot."""
    done = _cap(
        "run", "pick up the green block and place it on the green bowl", "--task", "pick-place", "--json"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "ok" and result["task_success"] is True
    assert result["llm_calls"] >= 1


def test_the_model_writes_a_helper_that_fgen_asked_for():
    """Hierarchical generation with the real model: a call site in, a working definition out."""
    from cap.policy_stack import PolicyStack
    from lmp import LLMClient
    from lmp.backends.local import LocalBackend
    from robot_api.tabletop import TabletopAPI
    from sandbox import Sandbox

    stack = PolicyStack(LLMClient(LocalBackend()), TabletopAPI.describe())
    code = "pts = make_square_corners(center=(0.0, 0.0), side=2.0)"
    functions = stack.fgen.resolve(code)
    assert [f.name for f in functions][:1] == ["make_square_corners"]
    program = f"import numpy as np\n{stack.library.source()}\n{code}"
    with Sandbox(api={}, timeout=20) as sb:
        outcome = sb.run(program, return_name="pts")
    assert outcome.status == "ok", outcome.error
    corners = sorted((round(float(x), 6), round(float(y), 6)) for x, y in outcome.value)
    assert corners == [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]


def test_one_humaneval_sample_is_generated_and_passes(tmp_path):
    done = _cap(
        "bench", "humaneval", "--model", "local", "--limit", "1", "--out", str(tmp_path / "he"), "--json"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    table = json.loads(done.stdout.strip().splitlines()[-1])
    assert table["flat"]["pass@1"] == 1.0


def test_the_prefix_is_evaluated_once_then_served_from_memory_and_from_disk(tmp_path, monkeypatch):
    """The second query of an LMP pays only for its own tokens; a fresh server process starts warm."""
    from lmp.local.process import stop_server

    monkeypatch.setenv("CAP_HOME", str(tmp_path / "home"))  # a server of its own, with an empty disk cache
    client, backend = _client(model_file=MODEL_FILE)
    first = client.complete(_request("return the product of a list of numbers"))[0]
    assert first.usage["prompt_tokens_details"]["cached_tokens"] == 0
    second = client.complete(_request("return the median of a list of numbers"))[0]
    third = client.complete(_request("return the range of a list of numbers"))[0]
    prompt_tokens = third.usage["prompt_tokens"]
    assert prompt_tokens > 300
    # Memory: the shared prefix (all but the query line) is not evaluated again.
    assert second.usage["prompt_tokens_details"]["cached_tokens"] >= prompt_tokens - 30
    assert third.usage["prompt_tokens_details"]["cached_tokens"] >= prompt_tokens - 30
    health = _health(backend.base_url)
    assert health["counters"]["prompt_tokens_evaluated"] < health["counters"]["prompt_tokens"] / 2
    assert health["cache"]["memory_bytes"] <= health["cache"]["memory_limit_bytes"]
    assert list((tmp_path / "home" / "prompt-cache").rglob("*.state"))

    # Disk: a new server process (the old one stopped) answers a new query from the saved prefix.
    assert stop_server(backend.sha256)
    client2, backend2 = _client(model_file=MODEL_FILE)
    fourth = client2.complete(_request("return the variance of a list of numbers"))[0]
    assert fourth.usage["prompt_tokens_details"]["cached_tokens"] >= fourth.usage["prompt_tokens"] - 30
    assert _health(backend2.base_url)["cache"]["disk_loads"] >= 1
    stop_server(backend2.sha256)


def test_a_server_killed_mid_request_is_restarted_and_nothing_is_lost(tmp_path):
    from lmp import LLMClient, TranscriptWriter
    from lmp.backends.local import LocalBackend
    from lmp.transcript import read_transcript

    transcript = tmp_path / "t.jsonl"
    client = LLMClient(LocalBackend(), transcript=TranscriptWriter(transcript))
    before = client.complete(_request("return the sum of the squares of a list of numbers"))[0]
    pid = _health(client.backend.base_url)["pid"]

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if _health(client.backend.base_url)["busy"]:
                    os.kill(pid, signal.SIGKILL)
                    return
            except OSError:
                pass
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    after = client.complete(_request("return the cubes of a list of numbers", max_tokens=200))[0]
    killer.join()
    assert after.text.strip()
    assert _health(client.backend.base_url)["pid"] != pid  # a new server answered
    records = read_transcript(transcript)
    assert [r["response"] for r in records] == [before.text, after.text]
    assert all(r["usage"]["model_sha256"] == SPEC.sha256 for r in records)


def test_a_client_that_goes_away_stops_being_generated():
    """A killed caller's request must not keep the model busy (it delayed the next run's requests)."""
    from lmp.backends.local import LocalBackend

    backend = LocalBackend()
    url = backend.base_url
    before = _health(url)["counters"]
    body = json.dumps(
        {"model": "x", "prompt": PREFIX + "# count from 1 to 2000, one number per line.\n", "max_tokens": 2000,
         "stream": True}
    ).encode()  # fmt: skip
    host, port = url.removeprefix("http://").removesuffix("/v1").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        f"POST /v1/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b'"text"' not in received:  # wait for the first generated tokens
        received += sock.recv(65536)
    sock.close()
    deadline = time.monotonic() + 120
    while _health(url)["busy"] and time.monotonic() < deadline:
        time.sleep(0.1)
    after = _health(url)["counters"]
    assert after["cancelled"] == before["cancelled"] + 1
    assert after["completion_tokens"] - before["completion_tokens"] < 1000  # stopped long before 2000


def test_weights_that_are_not_the_pinned_file_are_a_clear_error(tmp_path):
    home = tmp_path / "home"
    bad = home / "models" / SPEC.filename
    bad.parent.mkdir(parents=True)
    with open(bad, "wb") as f:  # the right size, the wrong bytes (sparse: no 1 GB write)
        f.truncate(SPEC.bytes)
    status = _cap("model", "status", "--verify", env={"CAP_HOME": str(home)})
    assert status.returncode == 1 and "does not match the pinned hash" in status.stdout
    run = _cap("run", "stack the blocks", "--task", "stack-blocks", env={"CAP_HOME": str(home)})
    assert run.returncode == 2 and "not installed (or not verified)" in run.stderr
    assert "cap model install" in run.stderr and "Traceback" not in run.stderr

    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF" + os.urandom(4096))
    run = _cap("run", "stack the blocks", "--task", "stack-blocks", "--model-path", str(garbage), "--json",
               env={"CAP_HOME": str(home)})  # fmt: skip
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "cannot load" in (run.stdout + run.stderr)


def test_alternating_lmps_keep_their_prefixes(tmp_path, monkeypatch):
    """Two LMPs share only the chat system message: calling one must not evict the other's prefix."""
    from dataclasses import replace

    from lmp.local.process import stop_server

    monkeypatch.setenv("CAP_HOME", str(tmp_path / "home"))  # a cold cache: what is cached is this test's
    client, backend = _client(model_file=MODEL_FILE)
    # A shared header of ~150 tokens (like the chat system message two LMPs share), then different examples.
    header = "".join(
        f"# note {i}: every function below is pure, short and takes one argument.\n" for i in range(10)
    )
    own_prefix = header + PREFIX
    other_prefix = header + PREFIX.replace("list of numbers", "sequence of values").replace(
        "def list_", "def seq_"
    )

    def mine(query: str):
        request = _request(query)
        return replace(request, prompt=request.prompt.replace(PREFIX, own_prefix))

    def other(query: str):
        request = _request(query)
        return replace(request, lmp="seqs", prompt=request.prompt.replace(PREFIX, other_prefix))

    client.complete(mine("return the product of a list of numbers"))
    client.complete(other("return the product of a sequence of values"))
    again = client.complete(mine("return the median of a list of numbers"))[0]
    stop_server(backend.sha256)
    assert again.usage["prompt_tokens_details"]["cached_tokens"] >= again.usage["prompt_tokens"] - 30
