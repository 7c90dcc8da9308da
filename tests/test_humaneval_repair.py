"""`cap bench humaneval --repair N`: a function that fails when it runs (defined, then called on its docstring's
example inputs) goes back to the model with the error; a wrong return value does not (outputs are never
compared), and the hidden tests never reach the model or the feedback. Against the loopback server."""

from __future__ import annotations

import json

import pytest

from cap.cli import main
from cap.evals.humaneval.data import Problem
from cap.evals.humaneval.repair import example_calls

HIDDEN = "HIDDEN_TEST_MARKER"
PROBLEMS = [
    {
        "task_id": "T/0",
        "prompt": 'def inc(x):\n    """Return x + 1.\n    >>> inc(1)\n    2\n    """\n',
        "test": f"# {HIDDEN}\ndef check(candidate):\n    assert candidate(1) == 2\n    assert candidate(5) == 6\n",
        "entry_point": "inc",
    },
    {
        "task_id": "T/1",
        "prompt": 'def double(x):\n    """Return 2 * x.\n    >>> double(3)\n    6\n    """\n',
        "test": f"# {HIDDEN}\ndef check(candidate):\n    assert candidate(3) == 6\n",
        "entry_point": "double",
    },
]


def respond(body):
    content = body["messages"][-1]["content"]
    if "Running that code failed" in content:
        assert "NameError: name 'add_one' is not defined (when called as `inc(1)`)" in content
        assert "at line 7:\n    return add_one(x)" in content
        return "```python\ndef inc(x):\n    return x + 1\n```"
    if "`inc`" in content:
        return "```python\ndef inc(x):\n    return add_one(x)\n```"
    return "```python\ndef double(x):\n    return x * 3\n```"  # wrong, but it runs: no feedback


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    return path


def test_repair_fixes_what_running_shows_and_nothing_else(tmp_path, problems_file, openai_server, capsys):
    openai_server.responder = respond
    out = tmp_path / "runs"
    argv = ["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--problems", str(problems_file), "--workers", "1", "--k", "1", "--repair", "2", "--json"]  # fmt: skip
    assert main(argv) == 0
    table = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert table["flat"]["pass@1"] == 0.5  # inc fixed; double still wrong (only the hidden test knows)
    records = {
        r["task_id"]: r for r in map(json.loads, (out / "flat" / "records.jsonl").read_text().splitlines())
    }
    inc, double = records["T/0"], records["T/1"]
    assert [a["status"] for a in inc["attempts"]] == ["failed", "ok"]
    assert inc["attempts"][0]["call"] == "inc(1)" and inc["attempts"][0]["line"] == 7
    assert inc["completion"] == "def inc(x):\n    return x + 1\n"
    assert [a["status"] for a in double["attempts"]] == ["ok"]
    assert len(openai_server.requests) == 3  # two answers and one fix
    assert not any(HIDDEN in json.dumps(body) for body in openai_server.requests)
    assert json.loads((out / "flat" / "run.json").read_text())["repair"] == 2


def test_without_repair_run_json_is_as_before(tmp_path, problems_file, openai_server):
    openai_server.responder = respond
    out = tmp_path / "runs"
    assert main(["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
                 "--problems", str(problems_file), "--workers", "1", "--k", "1"]) == 0  # fmt: skip
    assert "repair" not in json.loads((out / "flat" / "run.json").read_text())
    assert len(openai_server.requests) == 2
    assert all(
        "attempts" not in json.loads(line)
        for line in (out / "flat" / "records.jsonl").read_text().splitlines()
    )


def test_example_calls_are_the_docstring_inputs():
    problem = Problem(**PROBLEMS[0])
    assert example_calls(problem) == ["inc(1)"]
    assert example_calls(Problem("T", 'def f():\n    """No examples."""\n', "", "f")) == []
