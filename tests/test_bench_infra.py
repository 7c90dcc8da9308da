"""`cap bench tabletop --model` when the model server goes away mid-benchmark: the episodes it could not answer
are infrastructure failures, kept out of the success rate (and counted), the run stops after a few in a row,
and a rerun with the same --out retries exactly those (against the loopback OpenAI-compatible server)."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("pybullet")

from openai_server import FakeOpenAIServer  # noqa: E402

from cap.cli import main  # noqa: E402
from lmp.retry import RetryPolicy  # noqa: E402

PICK = re.compile(r"# pick up the (.+?) and place it on the (.+?)\.$")


def solve(body: dict) -> str:
    line = body["messages"][-1]["content"].rstrip("\n").splitlines()[-1]
    block, target = PICK.match(line).groups()
    return f"```python\nput_first_on_second('{block}', '{target}')\n```"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """The CLI's client retries with the default bounds; a dead server should not cost a test 15 s per call."""
    monkeypatch.setattr("lmp.client.RetryPolicy", lambda: RetryPolicy(max_attempts=2, base_delay_s=0.01))
    monkeypatch.setenv("OPENAI_API_KEY", "k")


def bench(capsys, base_url: str, out, seeds: int) -> tuple[int, dict, str]:
    code = main(
        [
            "bench",
            "tabletop",
            "--model",
            "m",
            "--base-url",
            base_url,
            "--no-cache",
            "--tasks",
            "pick-place",
            "--seeds",
            str(seeds),
            "--out",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out.strip().splitlines()[-1]), captured.err


def test_server_going_away_mid_benchmark_is_not_a_model_failure_and_is_retried_on_resume(tmp_path, capsys):
    out = tmp_path / "episodes.jsonl"
    with FakeOpenAIServer() as server:
        answered = []

        def respond(body):
            answered.append(body)
            if len(answered) == 2:
                server.die()  # answers this one, then is gone
            return solve(body)

        server.responder = respond
        code, summary, err = bench(capsys, server.base_url, out, seeds=6)
    assert code == 1  # incomplete: some episodes have no result
    assert summary["episodes"] == 2 and summary["success_rate"] == 1.0  # the infra failures are not in it
    assert summary["infra_errors"] == 3 and summary["not_run"] == 1  # stopped after 3 in a row
    assert "stopping: 3 episodes in a row failed outside the model" in err
    assert "Rerun with --out" in err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in records] == ["ok", "ok", "infra_error", "infra_error", "infra_error"]
    assert all(r["task_success"] is None for r in records[2:])
    assert all("could not be asked" in r["error"] for r in records[2:])

    with FakeOpenAIServer() as again:  # the server is back (on another port)
        again.responder = solve
        code, summary, err = bench(capsys, again.base_url, out, seeds=6)
        assert len(again.requests) == 4  # seeds 2-5: the two finished episodes were not asked again
    assert code == 0, err
    assert summary["episodes"] == 6 and summary["success_rate"] == 1.0
    assert summary["infra_errors"] == 0 and summary["not_run"] == 0
    assert "resuming: 2 of 6 episodes" in err


def test_replay_misses_are_left_out_but_do_not_stop_the_run(capsys):
    from pathlib import Path

    demo = Path(__file__).parent.parent / "cap" / "data" / "reference_replay.jsonl"
    code = main(["bench", "tabletop", "--replay", str(demo), "--tasks", "pick-place", "blocks-to-corner",
                 "blocks-to-corner-unseen", "line-of-blocks", "stack-blocks", "--seeds", "1", "--json"])  # fmt: skip
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert code == 1 and "stopping" not in captured.err
    assert summary["episodes"] == 2 and summary["success_rate"] == 1.0  # the two the demo covers
    assert summary["infra_errors"] == 3 and summary["not_run"] == 0
    assert "has no answer for LMP 'tabletop_ui'" in captured.err
