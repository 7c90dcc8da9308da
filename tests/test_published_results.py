"""The published tabletop and HumanEval results replay offline to the same numbers.

Every results/tabletop/<name>/ and results/humaneval/<name>/ directory recorded by benchmarks/record_results.py
is run again from its transcript with the settings in its run.json; the replayed episodes (status, success)
or samples (verdicts) and the summary must equal the published ones. (tests/test_results_replay.py does the
same for robocodegen, control and reasoning.) The pass@k diagnostics in results/diagnostics/ replay to the same
verdict for every program.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import record_results  # noqa: E402
import results_table  # noqa: E402

RESULTS = ROOT / "results"


def published(benchmark: str) -> list[Path]:
    base = RESULTS / benchmark
    return sorted(p for p in base.glob("*") if (p / "summary.json").exists()) if base.exists() else []


def replay(result_dir: Path, out: Path) -> dict:
    run = json.loads((result_dir / "run.json").read_text())
    source = ["--replay", str(result_dir / "transcript.jsonl")]
    args = record_results.ARGS[run["benchmark"]](run, out, source)
    buffer = io.StringIO()
    from cap.cli import main

    with contextlib.redirect_stdout(buffer):
        code = main(args)
    assert code in (0, 1), buffer.getvalue()[-2000:]
    return json.loads([line for line in buffer.getvalue().splitlines() if line.startswith("{")][-1])


def episodes(path: Path) -> dict[tuple[str, int], tuple[str, bool | None]]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["task"], r["seed"]): (r["status"], r["task_success"]) for r in records}


@pytest.mark.slow
@pytest.mark.parametrize("result_dir", published("tabletop"), ids=lambda p: p.name)
def test_tabletop_results_replay_to_the_same_numbers(result_dir, tmp_path):
    replayed = replay(result_dir, tmp_path)
    summary = json.loads((result_dir / "summary.json").read_text())
    assert episodes(tmp_path / "episodes.jsonl") == episodes(result_dir / "episodes.jsonl")
    assert replayed["success_rate"] == summary["success_rate"]
    if "tokens_per_episode" in summary:  # recorded since tokens are counted (the usage in the transcript)
        assert replayed["tokens_per_episode"] == summary["tokens_per_episode"]
        assert summary["tokens_per_episode"]["completion"] > 0
    assert {f: v["success_rate"] for f, v in replayed["families"].items()} == {
        f: v["success_rate"] for f, v in summary["families"].items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("result_dir", published("humaneval"), ids=lambda p: p.name)
def test_humaneval_results_replay_to_the_same_numbers(result_dir, tmp_path):
    replayed = replay(result_dir, tmp_path)
    summary = json.loads((result_dir / "summary.json").read_text())
    mode = json.loads((result_dir / "run.json").read_text())["mode"]
    assert replayed[mode]["pass@1"] == summary[mode]["pass@1"]


def pass_at_k_diagnostics() -> list[Path]:
    base = RESULTS / "diagnostics"
    return (
        sorted(p for p in base.glob("pass-at-k-*") if (p / "summary.json").exists()) if base.exists() else []
    )


def verdicts(path: Path) -> dict[tuple[str, int, int], tuple[str, bool]]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["task"], r["seed"], r["sample"]): (r["status"], r["task_success"]) for r in records}


@pytest.mark.slow
@pytest.mark.parametrize("result_dir", pass_at_k_diagnostics(), ids=lambda p: p.name)
def test_pass_at_k_diagnostics_replay_to_the_same_verdicts(result_dir, tmp_path):
    import tabletop_pass_at_k

    summary = json.loads((result_dir / "summary.json").read_text())
    s = summary["settings"]
    args = ["--tasks", *s["tasks"], "--seeds", str(s["seeds"]), "--samples", str(s["samples"])]
    args += ["--temperature", str(s["temperature"]), "--mode", s["mode"], "--api", s["api"], "--no-cache"]
    args += ["--replay", str(result_dir / "transcript.jsonl"), "--out", str(tmp_path / "programs.jsonl")]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert tabletop_pass_at_k.main(args) == 0
    assert verdicts(tmp_path / "programs.jsonl") == verdicts(result_dir / "programs.jsonl")
    assert json.loads(buffer.getvalue())["splits"] == summary["splits"]


def test_the_recorder_builds_the_commands_the_replay_uses(tmp_path):
    run = {"benchmark": "tabletop", "mode": "flat", "repair": 0, "seeds": 2, "tasks": ["pick-place"]}
    args = record_results.tabletop_args(run, tmp_path, ["--replay", "t.jsonl"])
    assert args[:4] == ["bench", "tabletop", "--replay", "t.jsonl"]
    assert args[4:6] == ["--seeds", "2"] and "--tasks" in args and args[-1] == "pick-place"
    assert "--samples" not in args and "--select" not in args  # the results recorded before best-of-K
    run |= {"samples": 5, "select": "consensus", "temperature": 0.8}
    args = record_results.tabletop_args(run, tmp_path, ["--replay", "t.jsonl"])
    at = args.index("--samples")
    assert args[at : at + 6] == ["--samples", "5", "--select", "consensus", "--temperature", "0.8"]
    run = {"benchmark": "humaneval", "mode": "hierarchical", "repair": 0, "limit": 5}
    args = record_results.humaneval_args(run, tmp_path, ["--replay", "t.jsonl"])
    assert "--limit" in args and "5" in args and "--repair" not in args


def test_redo_takes_episodes_out_and_puts_them_back_in_run_order(tmp_path):
    """--redo splits the transcript by each episode's call count and restores task x seed order afterwards,
    so a replay (which asks episode after episode) meets each episode's calls where they were."""
    episodes = [{"task": t, "seed": s, "llm_calls": n} for t, s, n in (("a", 0, 2), ("a", 1, 1), ("b", 0, 3))]
    calls = {("a", 0): ["a0-1", "a0-2"], ("a", 1): ["a1-1"], ("b", 0): ["b0-1", "b0-2", "b0-3"]}

    def write(order):
        (tmp_path / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in order))
        lines = [json.dumps({"q": c}) for e in order for c in calls[(e["task"], e["seed"])]]
        (tmp_path / "transcript.jsonl").write_text("".join(line + "\n" for line in lines))

    def read():
        tasks = [
            (e["task"], e["seed"])
            for e in map(json.loads, record_results.read_lines(tmp_path / "episodes.jsonl"))
        ]
        return tasks, [json.loads(x)["q"] for x in record_results.read_lines(tmp_path / "transcript.jsonl")]

    write(episodes)
    record_results.take_out(tmp_path, {("a", 1)})
    assert read() == ([("a", 0), ("b", 0)], ["a0-1", "a0-2", "b0-1", "b0-2", "b0-3"])
    write([episodes[0], episodes[2], episodes[1]])  # as the resumed run leaves it: the redone one last
    record_results.put_in_order(tmp_path, [("a", 0), ("a", 1), ("b", 0)])
    assert read() == ([("a", 0), ("a", 1), ("b", 0)], ["a0-1", "a0-2", "a1-1", "b0-1", "b0-2", "b0-3"])
    (tmp_path / "transcript.jsonl").write_text('{"q": "extra"}\n')
    with pytest.raises(SystemExit, match="cannot be split by episode"):
        record_results.take_out(tmp_path, {("a", 0)})


def test_going_on_with_a_result_keeps_its_history_and_refuses_to_mix_experiments(tmp_path):
    """Resuming, redoing and adding seeds keep one experiment per directory: the command that reproduces the
    whole result, and how it was made (redone episodes, the seeds it was extended from)."""
    recorded = {
        "benchmark": "tabletop",
        "mode": "flat",
        "repair": 2,
        "api": "completions",
        "tasks": [],
        "prompts_sha256": "p1",
        "seeds": 1,
        "command": "record_results.py tabletop --name x --mode flat --seeds 1",
        "redo_command": "record_results.py tabletop --name x --seeds 1 --redo a:0",
        "redone": [["a", 0]],
    }
    asked = {k: v for k, v in recorded.items() if k not in ("redo_command", "redone")}

    extended = record_results.continue_run(
        asked | {"seeds": 3, "command": "extend"}, recorded, set(), tmp_path
    )
    assert extended["command"] == "record_results.py tabletop --name x --mode flat --seeds 3"
    assert extended["extend_command"] == "extend" and extended["extended_from_seeds"] == 1
    assert extended["redone"] == [["a", 0]] and extended["seeds"] == 3
    resumed = record_results.continue_run(extended | {"command": "again"}, extended, set(), tmp_path)
    assert resumed == extended  # resuming an interrupted extension changes nothing
    redone = record_results.continue_run(asked | {"command": "r"}, recorded, {("b", 0)}, tmp_path)
    assert redone["redone"] == [("a", 0), ("b", 0)] and redone["command"] == recorded["command"]

    with pytest.raises(SystemExit, match="prompts_sha256"):
        record_results.continue_run(asked | {"prompts_sha256": "p2"}, recorded, set(), tmp_path)
    with pytest.raises(SystemExit, match="samples, select"):  # best-of-K is another experiment
        record_results.continue_run(asked | {"samples": 5, "select": "consensus"}, recorded, set(), tmp_path)
    with pytest.raises(SystemExit, match="would drop some"):
        record_results.continue_run(asked | {"seeds": 1}, extended, set(), tmp_path)
    with pytest.raises(SystemExit, match="give --seeds 1"):
        record_results.continue_run(asked | {"seeds": 2}, recorded, {("a", 0)}, tmp_path)


def test_first_program_means_no_repair_anywhere_not_only_in_the_policy():
    """A success after a nested LMP's answer or a helper was repaired is not what --repair 0 scores."""
    first = {"kind": "generate", "nested": [{"attempts": [{"kind": "generate"}]}]}
    nested_fix = {"kind": "generate", "nested": [{"attempts": [{"kind": "generate"}, {"kind": "fix"}]}]}
    assert results_table.first_program_succeeded({"task_success": True, "attempts": [first]})
    assert not results_table.first_program_succeeded({"task_success": False, "attempts": [first]})
    for attempts in ([nested_fix], [first, {"kind": "fix"}], [first, {"kind": "fix-helper"}]):
        assert not results_table.first_program_succeeded({"task_success": True, "attempts": attempts})
