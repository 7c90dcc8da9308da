"""`cap run` end to end: LMP -> hierarchical fgen -> sandbox -> PyBullet -> task check, against the loopback
OpenAI-compatible server, and replayed from transcripts with no HTTP at all."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

pytest.importorskip("pybullet")

from cap.cli import main  # noqa: E402

DEMO = Path(__file__).parent.parent / "cap" / "data" / "reference_replay.jsonl"


def last_line(body: dict) -> str:
    text = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
    return text.rstrip("\n").splitlines()[-1]


def fenced(code: str) -> str:
    return f"Here is the code:\n```python\n{code}\n```\nIt should work."


UI_ANSWER = """blocks = [name for name in get_obj_names() if name.endswith('block')]
report(blocks)
build_tower(blocks)"""
FGEN = {
    "report": "def report(names):\n    say(f'stacking {len(names)} blocks')",
    "build_tower": "def build_tower(names):\n    for lower, upper in zip(names, names[1:]):\n        place_on(upper, lower)",
    "place_on": "def place_on(top, bottom):\n    put_first_on_second(top, bottom)",
}


def fgen_name(line: str) -> str | None:
    match = re.match(r"# define function: (?:[\w, ]+ = )?(\w+)\(", line)
    return match.group(1) if match else None


def cap_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["run", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1]), err


@pytest.fixture
def live(openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    return openai_server


def test_two_siblings_and_a_grandchild_generated_in_parallel_then_run_and_checked(live, tmp_path, capsys):
    siblings_in_flight = threading.Barrier(2, timeout=20)  # deadlock guard: passes only if both are in flight

    def respond(body):
        line = last_line(body)
        name = fgen_name(line)
        if name is None:
            assert line == "# stack all the blocks."
            return fenced(UI_ANSWER)
        if name in ("report", "build_tower"):
            siblings_in_flight.wait()
        return fenced(FGEN[name])

    live.responder = respond
    transcript = tmp_path / "run.jsonl"
    code, result, err = cap_json(
        capsys,
        "stack all the blocks",
        "--task",
        "stack-blocks",
        "--seed",
        "0",
        "--model",
        "m",
        "--base-url",
        live.base_url,
        "--no-cache",
        "--transcript",
        str(transcript),
        "--save-functions",
        str(tmp_path / "f.py"),
    )
    assert code == 0, result
    assert result["status"] == "ok" and result["task_success"] is True
    assert sorted(result["functions"]) == ["build_tower", "place_on", "report"]
    assert result["llm_calls"] == 4 == len(live.requests)
    assert "build_tower(blocks)" in err  # the generated code is printed
    asked = [fgen_name(last_line(b)) for b in live.requests[1:]]
    assert sorted(asked[:2]) == ["build_tower", "report"] and asked[2] == "place_on"
    assert "def place_on" in (tmp_path / "f.py").read_text()

    # Replay: same code, same outcome, no HTTP.
    sent = len(live.requests)
    code2, replayed, err2 = cap_json(
        capsys, "stack all the blocks", "--task", "stack-blocks", "--seed", "0", "--replay", str(transcript)
    )
    assert len(live.requests) == sent
    assert code2 == 0
    for key in ("status", "task_success", "functions", "llm_calls"):
        assert replayed[key] == result[key]
    assert err2.split("generated function")[0] == err.split("generated function")[0]


def test_nested_parse_obj_name_round_trip(live, capsys):
    def respond(body):
        line = last_line(body)
        if line == "# stack all the blocks.":
            return fenced(
                "names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
                "for lower, upper in zip(names, names[1:]):\n    put_first_on_second(upper, lower)"
            )
        assert line == "# the blocks."
        return fenced("ret_val = [n for n in objects if n.endswith('block')]")

    live.responder = respond
    code, result, _ = cap_json(
        capsys,
        "--task",
        "stack-blocks",
        "--seed",
        "0",
        "--model",
        "m",
        "--base-url",
        live.base_url,
        "--no-cache",
    )
    assert code == 0 and result["task_success"] is True, result
    nested = live.requests[1]["messages"][-1]["content"].rstrip("\n").splitlines()
    assert nested[-2] == "objects = ['blue block', 'green block', 'red block', 'green bowl']"
    assert result["llm_calls"] == 2 and result["functions"] == []


def test_syntax_error_repaired_once_in_a_real_run(live, capsys):
    answers = iter(
        [
            fenced("put_first_on_second('green block', 'green bowl'"),
            fenced("put_first_on_second('green block', 'green bowl')"),
        ]
    )
    live.responder = lambda body: next(answers)
    code, result, _ = cap_json(
        capsys,
        "--task",
        "pick-place",
        "--seed",
        "0",
        "--model",
        "m",
        "--base-url",
        live.base_url,
        "--no-cache",
    )
    assert code == 0 and result["task_success"] is True
    assert result["llm_calls"] == 2
    assert "syntax error" in live.requests[1]["messages"][-1]["content"]


def test_no_code_is_an_error_status_not_a_crash(live, capsys):
    live.responder = lambda body: "I am not able to move robots."
    code, result, _ = cap_json(
        capsys, "--task", "pick-place", "--model", "m", "--base-url", live.base_url, "--no-cache"
    )
    assert code == 1
    assert result["status"] == "error" and result["error"].startswith("generation failed:")
    assert result["task_success"] is False


def test_depth_limit_is_reported_with_the_function_name(live, capsys):
    def respond(body):
        name = fgen_name(last_line(body))
        if name is None:
            return fenced("outer()")
        return fenced({"outer": "def outer():\n    inner()", "inner": "def inner():\n    say('x')"}[name])

    live.responder = respond
    code, result, _ = cap_json(
        capsys, "go", "--model", "m", "--base-url", live.base_url, "--no-cache", "--max-depth", "1"
    )
    assert code == 1
    assert "depth limit (1) at 'inner': call chain outer -> inner" in result["error"]
    assert result["task_success"] is None


def test_flat_mode_leaves_undefined_functions_undefined(live, capsys):
    live.responder = lambda body: fenced("outer()")
    code, result, _ = cap_json(
        capsys, "go", "--model", "m", "--base-url", live.base_url, "--no-cache", "--mode", "flat"
    )
    # the answer, then two fix requests (--repair 2), each answered with the same code and so drawn once more
    assert code == 1 and result["llm_calls"] == 5
    assert "outer" in result["error"] and result["status"] == "error"
    assert [a["kind"] for a in result["attempts"]] == ["generate", "fix", "fix"]
    assert all("NameError: name 'outer' is not defined" in a["error"] for a in result["attempts"])
    fix = live.requests[1]["messages"][-1]["content"]
    assert "at line 1:\n    outer()\nNameError: name 'outer' is not defined" in fix


@pytest.mark.parametrize("task", ["pick-place", "stack-blocks", "blocks-in-matching-bowls"])
def test_bundled_demo_replay_succeeds(task, capsys):
    code, result, _ = cap_json(capsys, "--task", task, "--seed", "0", "--replay", str(DEMO))
    assert code == 0 and result["task_success"] is True, result
    if task == "blocks-in-matching-bowls":
        assert result["functions"] == ["put_blocks_in_matching_bowls", "matching_bowl_name"]


def test_bundled_demo_replay_is_labeled_hand_written():
    records = [json.loads(line) for line in DEMO.read_text().splitlines() if line.strip()]
    assert records and all(r["model"] == "hand-written-reference" for r in records)
    assert "hand-written" in (DEMO.parent / "README.md").read_text()


def test_bad_input_is_a_clear_error(capsys):
    assert main(["run", "x", "--task", "no-such-task", "--replay", str(DEMO)]) == 2
    assert "no-such-task" in capsys.readouterr().err
    assert main(["run", "--replay", str(DEMO)]) == 2
    assert "no command given" in capsys.readouterr().err


def test_completions_api_continues_the_prompt_with_stop_tokens(live, capsys):
    live.responder = lambda body: "put_first_on_second('green block', 'green bowl')\n"
    code, result, _ = cap_json(
        capsys,
        "--task",
        "pick-place",
        "--model",
        "m",
        "--base-url",
        live.base_url,
        "--no-cache",
        "--api",
        "completions",
    )
    assert code == 0 and result["task_success"] is True
    body = live.requests[0]
    assert body["prompt"].endswith("# pick up the green block and place it on the green bowl.\n")
    assert body["stop"] == ["#", "objects = ["]


def test_saved_functions_are_reused_without_asking_the_model(live, tmp_path, capsys):
    saved = tmp_path / "functions.py"
    saved.write_text("def place_on(top, bottom):\n    put_first_on_second(top, bottom)\n")
    live.responder = lambda body: fenced("place_on('green block', 'green bowl')")
    code, result, _ = cap_json(
        capsys,
        "--task",
        "pick-place",
        "--model",
        "m",
        "--base-url",
        live.base_url,
        "--no-cache",
        "--functions",
        str(saved),
    )
    assert code == 0 and result["task_success"] is True
    assert len(live.requests) == 1 and result["functions"] == []
