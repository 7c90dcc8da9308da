"""`cap bench humaneval` end to end against the loopback OpenAI-compatible server: generation, records,
scoring, resuming; and the prompt rendering / answer extraction it relies on."""

from __future__ import annotations

import json

import pytest

from cap.cli import main
from cap.evals.humaneval.completion import extract
from cap.evals.humaneval.data import Problem
from cap.evals.humaneval.generate import render_prompt

PROBLEMS = [
    {
        "task_id": "T/0",
        "prompt": 'def inc(x):\n    """Return x + 1."""\n',
        "test": "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(-1) == 0\n",
        "entry_point": "inc",
    },
    {
        "task_id": "T/1",
        "prompt": 'def double(x):\n    """Return 2 * x."""\n',
        "test": "def check(candidate):\n    assert candidate(3) == 6\n",
        "entry_point": "double",
    },
]


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    return path


def chat_answer(body):
    """inc is answered right (a whole function in a code block), double wrong (a bare body)."""
    content = body["messages"][-1]["content"]
    if "`inc`" in content:
        return "Here it is:\n```python\ndef inc(x):\n    return x + 1\n```\nDone."
    return "return x * 3"


def test_flat_chat_round_trip_and_resume(tmp_path, problems_file, openai_server, capsys):
    openai_server.responder = chat_answer
    out = tmp_path / "runs"
    args = ["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--mode", "flat",
            "--n", "2", "--temperature", "0.5", "--out", str(out), "--problems", str(problems_file),
            "--k", "1,2", "--workers", "1"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "flat" in printed and "pass@1" in printed and "50.0" in printed

    samples = [json.loads(line) for line in (out / "flat" / "samples.jsonl").read_text().splitlines()]
    assert [s["task_id"] for s in samples] == ["T/0", "T/0", "T/1", "T/1"]
    assert samples[0]["completion"] == "def inc(x):\n    return x + 1\n"
    assert samples[2]["completion"] == "    return x * 3\n"
    records = [json.loads(line) for line in (out / "flat" / "records.jsonl").read_text().splitlines()]
    assert len(records) == 4
    assert {r["helpers"] == [] and r["model"] and "usage" in r and "latency_s" in r for r in records} == {
        True
    }
    results = [
        json.loads(line) for line in (out / "flat" / "samples.jsonl_results.jsonl").read_text().splitlines()
    ]
    assert [r["passed"] for r in results] == [True, True, False, False]
    score = json.loads((out / "flat" / "score.json").read_text())
    assert score["pass_at_k"] == {"pass@1": 0.5, "pass@2": 0.5}
    sent = [r for r in openai_server.requests if "def inc(x):" in r["messages"][-1]["content"]]
    assert len(sent) == 1 and sent[0]["temperature"] == 0.5 and sent[0]["n"] == 2

    requests_before = len(openai_server.requests)
    assert main([*args, "--json"]) == 0  # everything is on disk: nothing is asked again
    assert json.loads(capsys.readouterr().out) == {
        "flat": {"pass@1": 0.5, "pass@2": 0.5, "helpers_per_problem": 0.0}
    }
    assert len(openai_server.requests) == requests_before


def test_generation_interrupted_keeps_answers(tmp_path, problems_file, openai_server, capsys):
    out = tmp_path / "runs"
    args = ["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--problems", str(problems_file), "--workers", "1", "--no-cache", "--parallel", "1"]  # fmt: skip

    def first_only(body):
        openai_server.queue_error(400)  # the next request (the second problem) is refused for good
        return chat_answer(body)

    openai_server.responder = first_only
    assert main(args) != 0
    assert "rerun the same command to continue" in capsys.readouterr().err
    saved = (out / "flat" / "records.jsonl").read_text().splitlines()
    assert [json.loads(line)["task_id"] for line in saved] == ["T/0"]

    openai_server.responder = chat_answer
    asked = len(openai_server.requests)
    assert main(args) == 0
    new_queries = [r["messages"][-1]["content"] for r in openai_server.requests[asked:]]
    assert len(new_queries) == 1 and "`double`" in new_queries[0]  # only the missing problem is asked


def test_other_settings_in_same_directory_are_refused(tmp_path, problems_file, openai_server, capsys):
    openai_server.responder = chat_answer
    out = tmp_path / "runs"
    base = ["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--problems", str(problems_file), "--workers", "1"]  # fmt: skip
    assert main(base) == 0
    capsys.readouterr()
    assert main([*base, "--temperature", "0.7"]) == 2
    assert "different settings (temperature)" in capsys.readouterr().err


def test_completions_api_prompt_is_the_problem_prompt_and_stops_apply(tmp_path, problems_file, openai_server):
    openai_server.responder = lambda body: "    return x + 1\n\ndef unrelated():\n    pass\n"
    out = tmp_path / "runs"
    assert main(["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--api", "completions",
                 "--out", str(out), "--problems", str(problems_file), "--limit", "1", "--workers", "1"]) == 0  # fmt: skip
    assert openai_server.requests[0]["prompt"] == PROBLEMS[0]["prompt"]
    samples = [json.loads(line) for line in (out / "flat" / "samples.jsonl").read_text().splitlines()]
    assert samples == [{"task_id": "T/0", "completion": "    return x + 1\n"}]


def helper_answers(body):
    """Top level: both functions call a helper they do not define. fgen: add_one is defined right, the
    answer for twice defines something else (so that sample has no helper and fails)."""
    content = body["messages"][-1]["content"]
    if "# define function:" in content:
        if "add_one(" in content.splitlines()[-1]:
            return "```python\ndef add_one(n):\n    return n + 1\n```"
        return "```python\ndef something_else():\n    return 0\n```"
    if "`inc`" in content:
        return "```python\ndef inc(x):\n    return add_one(x)\n```"
    return "```python\ndef double(x):\n    return twice(x)\n```"


def test_hierarchical_round_trip_generates_the_helper_that_makes_it_pass(
    tmp_path, problems_file, openai_server, capsys
):
    openai_server.responder = helper_answers
    out = tmp_path / "runs"
    base = ["bench", "humaneval", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--problems", str(problems_file), "--workers", "1", "--k", "1"]  # fmt: skip
    assert main([*base, "--mode", "flat"]) == 0
    assert main([*base, "--mode", "hierarchical", "--json"]) == 0
    table = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert table == {
        "flat": {"pass@1": 0.0, "helpers_per_problem": 0.0},
        "hierarchical": {"pass@1": 0.5, "helpers_per_problem": 0.5},  # add_one for T/0, none for T/1
    }

    records = {
        r["task_id"]: r
        for r in map(json.loads, (out / "hierarchical" / "records.jsonl").read_text().splitlines())
    }
    assert [h["name"] for h in records["T/0"]["helpers"]] == ["add_one"]
    assert records["T/0"]["completion"].endswith("def add_one(n):\n    return n + 1\n")
    assert records["T/1"]["helpers"] == [] and "does not define 'twice'" in records["T/1"]["helpers_error"]
    fgen_requests = [
        r for r in openai_server.requests if "# define function:" in r["messages"][-1]["content"]
    ]
    assert fgen_requests and all(r["messages"][0]["role"] == "system" for r in fgen_requests)


@pytest.mark.parametrize("mode", ["flat", "hierarchical"])
def test_render_prompt_for_both_apis(mode):
    problem = Problem(**PROBLEMS[0])
    completions = render_prompt(problem, mode, "completions")
    if mode == "flat":
        assert completions == problem.prompt
    else:  # few-shot functions that call undefined helpers, then the problem, which the model continues
        assert completions.endswith("\n\n" + problem.prompt) and "split_words(sentence)" in completions
    chat = render_prompt(problem, mode, "chat")
    assert "`inc`" in chat and problem.prompt in chat and chat.rstrip().endswith("```")
    assert ("do not define it" in chat) == (mode == "hierarchical")


@pytest.mark.parametrize(
    ("text", "api", "expected"),
    [
        ("    return 1\n\n\ndef other():\n    pass", "completions", "    return 1\n\n"),
        ("    return 1\nprint(f(2))", "completions", "    return 1"),
        ("```python\ndef f(x):\n    return 1\n```", "chat", "def f(x):\n    return 1\n"),
        ("```\n    return 1\n```", "chat", "    return 1\n"),
        ("return 1\nx = 2", "chat", "    return 1\n    x = 2\n"),
        ("", "chat", ""),
    ],
)
def test_extract(text, api, expected):
    assert extract(text, api, "f") == expected
