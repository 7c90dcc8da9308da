"""Bad input to `cap bench evaluate` ends with exit code 2 and a message naming the file and line."""

from __future__ import annotations

import json

import pytest

from cap.cli import main

PROBLEM = {
    "task_id": "T/0",
    "prompt": "def inc(x):\n",
    "test": "def check(candidate):\n    assert candidate(1) == 2\n",
    "entry_point": "inc",
}


@pytest.fixture
def problems(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text(json.dumps(PROBLEM) + "\n" + json.dumps({**PROBLEM, "task_id": "T/1"}) + "\n")
    return path


def _evaluate(capsys, samples, problems, *extra):
    code = main(["bench", "evaluate", str(samples), "--problems", str(problems), *extra])
    return code, capsys.readouterr().err


GOOD = json.dumps({"task_id": "T/0", "completion": "    return x + 1\n"})
GOOD1 = json.dumps({"task_id": "T/1", "completion": "    return x + 1\n"})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "s.jsonl:3: not valid JSON"),
        ("[1, 2]", "s.jsonl:3: expected a JSON object, got list"),
        (json.dumps({"completion": "x"}), "s.jsonl:3: sample has no 'task_id'"),
        (json.dumps({"task_id": "T/9", "completion": "x"}), "s.jsonl:3: unknown task id 'T/9'"),
        (json.dumps({"task_id": "T/0"}), "s.jsonl:3: sample has no 'completion'"),
        (
            json.dumps({"task_id": "T/0", "completion": 5}),
            "s.jsonl:3: 'completion' must be a string, got int",
        ),
        (json.dumps({"task_id": 0, "completion": ""}), "s.jsonl:3: 'task_id' must be a string, got int"),
    ],
)
def test_bad_sample_line_is_named(tmp_path, problems, capsys, line, message):
    samples = tmp_path / "s.jsonl"
    samples.write_text(f"{GOOD}\n\n{line}\n{GOOD1}\n")  # the blank line 2 is skipped but still counted
    code, err = _evaluate(capsys, samples, problems)
    assert code == 2
    assert message in err
    assert not (tmp_path / "s.jsonl_results.jsonl").exists()


def test_missing_problems_are_listed(tmp_path, problems, capsys):
    samples = tmp_path / "s.jsonl"
    samples.write_text(GOOD + "\n")
    code, err = _evaluate(capsys, samples, problems)
    assert code == 2
    assert "1 of 2 problems have no sample: T/1" in err
    assert "--ignore-incomplete" in err


def test_bad_problem_file_line_is_named(tmp_path, capsys):
    bad = tmp_path / "p.jsonl"
    bad.write_text(json.dumps(PROBLEM) + "\n" + json.dumps({"task_id": "T/1", "prompt": ""}) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(GOOD + "\n")
    code, err = _evaluate(capsys, samples, bad)
    assert code == 2
    assert "p.jsonl:2: problem field 'test' is missing" in err


def test_duplicate_problem_is_named(tmp_path, capsys):
    bad = tmp_path / "p.jsonl"
    bad.write_text(json.dumps(PROBLEM) + "\n" + json.dumps(PROBLEM) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(GOOD + "\n")
    code, err = _evaluate(capsys, samples, bad)
    assert code == 2
    assert "p.jsonl:2: task id 'T/0' already defined on line 1" in err


def test_missing_and_empty_files(tmp_path, problems, capsys):
    code, err = _evaluate(capsys, tmp_path / "nope.jsonl", problems)
    assert code == 2 and "cannot read" in err and "nope.jsonl" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    code, err = _evaluate(capsys, empty, problems)
    assert code == 2 and "contains no samples" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--k", "1,zero"], "--k takes positive integers"),
        (["--timeout", "0"], "--timeout"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_flags(tmp_path, problems, capsys, flags, message):
    samples = tmp_path / "s.jsonl"
    samples.write_text(GOOD + "\n" + GOOD1 + "\n")
    code, err = _evaluate(capsys, samples, problems, *flags)
    assert code == 2 and message in err


def test_gzip_problems_and_a_complete_small_run(tmp_path, capsys):
    import gzip

    problems = tmp_path / "p.jsonl.gz"
    with gzip.open(problems, "wt") as handle:
        handle.write(json.dumps(PROBLEM) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(GOOD + "\n" + json.dumps({"task_id": "T/0", "completion": "    return x\n"}) + "\n")
    assert main(["bench", "evaluate", str(samples), "--problems", str(problems), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"pass@1": 0.5}
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl_results.jsonl").read_text().splitlines()]
    assert [(r["result"], r["passed"]) for r in rows] == [("passed", True), ("failed: ", False)]
