"""Published results replay offline: every results/<benchmark>/ directory of robocodegen, control or reasoning
(run.json, records.jsonl, summary.json and the run's transcript.jsonl) is run again from its transcript and must
give the same verdicts. The machinery is checked on a scripted run, so it is exercised with no results yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cap.cli import main

RESULTS = Path(__file__).resolve().parents[1] / "results"
BENCHMARKS = ("robocodegen", "control", "reasoning")
FLAGS = {"seed": "--seed", "seeds": "--seeds", "questions": "--questions", "tasks": "--tasks"}


def replay_args(result_dir: Path, out: Path) -> list[str]:
    """The command that reruns a results directory from its transcript, with the settings in its run.json."""
    run = json.loads((result_dir / "run.json").read_text())
    summary = json.loads((result_dir / "summary.json").read_text())
    args = ["bench", run["benchmark"], "--replay", str(result_dir / "transcript.jsonl"), "--out", str(out)]
    args += ["--api", run["api"], "--no-cache", "--json", "--conditions", *summary["conditions"]]
    for key, flag in FLAGS.items():
        if key in run:
            value = run[key]
            args += [flag, *map(str, value)] if isinstance(value, list) else [flag, str(value)]
    if ":first" in run["items_sha256"]:
        args += ["--limit", run["items_sha256"].rsplit(":first", 1)[1]]
    return args


def verdicts(directory: Path) -> dict[tuple[str, str], bool]:
    lines = (directory / "records.jsonl").read_text().splitlines()
    return {(r["condition"], r["item"]): r["correct"] for r in map(json.loads, lines)}


def check_replays(result_dir: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    out = tmp_path / "replayed"
    assert main(replay_args(result_dir, out)) == 0
    replayed = json.loads(capsys.readouterr().out)
    published = json.loads((result_dir / "summary.json").read_text())
    assert replayed["conditions"] == published["conditions"]
    assert verdicts(out) == verdicts(result_dir)


PUBLISHED = [RESULTS / b for b in BENCHMARKS if (RESULTS / b / "transcript.jsonl").exists()]


@pytest.mark.slow
@pytest.mark.parametrize("result_dir", PUBLISHED, ids=[p.name for p in PUBLISHED])
def test_published_results_replay(result_dir, tmp_path, capsys):
    check_replays(result_dir, tmp_path, capsys)


def test_replay_machinery_on_a_scripted_run(tmp_path, openai_server, capsys):
    def answer(body):
        content = body["messages"][-1]["content"]
        if "ret_val" in content:
            return "```python\nret_val = get_obj_names()[0]\n```"
        return "Answer: (0.0, -0.5)" if "a point" in content or "centroid" in content else "the red block"

    openai_server.responder = answer
    result_dir = tmp_path / "results" / "reasoning"
    assert main(["bench", "reasoning", "--model", "m", "--base-url", openai_server.base_url, "--out", str(result_dir),
                 "--transcript", str(result_dir / "transcript.jsonl"), "--questions", "12", "--seed", "4",
                 "--limit", "10", "--conditions", "direct", "code", "--json"]) == 0  # fmt: skip
    check_replays(result_dir, tmp_path, capsys)
