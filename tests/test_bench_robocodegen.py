"""robocodegen end to end over the real openai SDK (loopback fake server) and the real sandbox: references
pass their own scorer, wrong answers fail, hierarchical generation completes what flat generation cannot,
runs resume and replay, and nothing the scorer knows is sent to the model."""

from __future__ import annotations

import ast
import json

import pytest

from cap.cli import main
from cap.evals.robocodegen import problems as ps
from cap.evals.robocodegen.bench import CONDITIONS, RoboCodeGen
from cap.evals.robocodegen.prompts import prompt
from lmp import LLMClient
from lmp.backends.scripted import ScriptedBackend


def _function_asked(content: str) -> str:
    last = [line for line in content.splitlines() if line.startswith("# define function:")][-1]
    return ast.parse(last[len("# define function: ") : -1]).body[0].value.func.id


def reference_answers(body):
    return "```python\n" + ps.reference_source(_function_asked(body["messages"][-1]["content"])) + "\n```"


def test_problem_set_shape():
    assert len(ps.PROBLEMS) >= 37
    assert {p.group for p in ps.PROBLEMS} == set(ps.GROUPS)
    assert len({p.id for p in ps.PROBLEMS}) == len(ps.PROBLEMS)
    for p in ps.PROBLEMS:
        assert ast.unparse(ast.parse(p.signature)) == p.signature  # asked exactly as fgen writes a call site
        assert "=" in p.signature and ps.reference_source(p.name).startswith(f"def {p.name}(")
        assert p.cases(0) and repr(p.cases(0)) == repr(p.cases(0)) and repr(p.cases(0)) != repr(p.cases(1))


def test_prompts_hold_no_problem_or_reference():
    for style in ("flat", "hierarchical"):
        text = prompt(style)
        for p in ps.PROBLEMS:
            assert f"{p.name}(" not in text


@pytest.mark.slow
def test_every_reference_passes_and_the_cli_reports_it(tmp_path, openai_server, capsys):
    openai_server.responder = reference_answers
    out = tmp_path / "run"
    args = ["bench", "robocodegen", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--conditions", "flat_prompt+flat_gen", "hier_prompt+hier_gen", "--json"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    for name in ("flat_prompt+flat_gen", "hier_prompt+hier_gen"):
        entry = summary["conditions"][name]
        assert entry["correct"] == entry["trials"] == len(ps.PROBLEMS), name
    assert summary["conditions"]["hier_prompt+hier_gen"]["paper"] == "36/37"
    assert json.loads((out / "summary.json").read_text()) == summary
    # what went to the model: the prompt and the signature, never inputs, outputs or reference code
    for body in openai_server.requests:
        content = body["messages"][-1]["content"]
        assert "cap_cases" not in content and "cap_want" not in content
        asked = _function_asked(content)
        assert f"def {asked}(" not in content
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2 * len(ps.PROBLEMS) and all(r["passed_cases"] == ps.CASES for r in records)

    asked = len(openai_server.requests)
    assert main(args) == 0  # resumed: everything is on disk, nothing is asked again
    assert len(openai_server.requests) == asked


WRONG = {
    "get_centroid": "def get_centroid(points_np):\n    return np.median(points_np, axis=0)\n",
    "make_circle": "def make_circle(center, radius):\n    return Point(center).buffer(radius * 1.1)\n",
    "get_objs_left_of": "def get_objs_left_of(ref_name):\n    return get_obj_names()\n",
    "is_discrete_stable": "def is_discrete_stable(a_matrix):\n    return 1\n",  # an int is not a bool
    "saturate": "def saturate(u_cmd, u_max):\n    raise ValueError('no')\n",
}
RIGHT_OTHERWISE = {
    "make_circle": "def make_circle(center, radius):\n    return Point(center[0], center[1]).buffer(radius, 64)\n",
    "get_polygon_area": "def get_polygon_area(vertices_np):\n    return Polygon(vertices_np).area\n",
}


def _bench(answers):
    def respond(request):
        name = (
            ast.parse(request.query.splitlines()[-1][len("# define function: ") : -1]).body[0].value.func.id
        )
        return "```python\n" + answers(name) + "```"

    return RoboCodeGen(LLMClient(ScriptedBackend(respond)))


def test_wrong_answers_fail_and_other_right_answers_pass():
    problems = {p.name: p for p in ps.PROBLEMS}
    with _bench(WRONG.__getitem__) as bench:
        for name in WRONG:
            record = bench.attempt("flat_prompt+flat_gen", problems[name])
            assert not record["correct"] and record["status"] == "wrong", (name, record)
    with _bench(RIGHT_OTHERWISE.__getitem__) as bench:
        for name in RIGHT_OTHERWISE:
            record = bench.attempt("flat_prompt+flat_gen", problems[name])
            assert record["correct"], (name, record)


def test_hierarchical_generation_defines_the_helpers_flat_generation_lacks():
    answers = {
        "get_centroid": "def get_centroid(points_np):\n    return mean_of_rows(points_np)\n",
        "mean_of_rows": "def mean_of_rows(arr):\n    return np.mean(np.asarray(arr, dtype=float), axis=0)\n",
    }
    problem = next(p for p in ps.PROBLEMS if p.name == "get_centroid")
    with _bench(lambda n: answers[n]) as bench:
        flat = bench.attempt("hier_prompt+flat_gen", problem)
        hier = bench.attempt("hier_prompt+hier_gen", problem)
    assert not flat["correct"] and "mean_of_rows" in flat["error"]
    assert hier["correct"] and [f["name"] for f in hier["functions"]] == ["get_centroid", "mean_of_rows"]


def test_generated_code_stays_in_the_policy_sandbox():
    problem = next(p for p in ps.PROBLEMS if p.name == "get_centroid")
    evil = "def get_centroid(points_np):\n    return open('/etc/passwd').read()\n"
    with _bench(lambda n: evil) as bench:
        record = bench.attempt("flat_prompt+flat_gen", problem)
    assert not record["correct"] and record["status"] in ("error", "wrong")


def test_unreachable_model_stops_the_run_and_resume_finishes_it(tmp_path, openai_server, capsys):
    calls = {"n": 0}

    def flaky(body):
        calls["n"] += 1
        if calls["n"] == 3:
            openai_server.queue_error(400)  # the next request is refused for good
        return reference_answers(body)

    openai_server.responder = flaky
    out = tmp_path / "run"
    args = ["bench", "robocodegen", "--model", "m", "--base-url", openai_server.base_url, "--out", str(out),
            "--conditions", "flat_prompt+flat_gen", "--limit", "6", "--no-cache", "--json"]  # fmt: skip
    assert main(args) != 0
    assert "rerun the same command to continue" in capsys.readouterr().err
    saved = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(saved) == 3 and all(r["correct"] for r in saved)  # the refused one is not a wrong answer
    openai_server.responder = reference_answers
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["conditions"]["flat_prompt+flat_gen"]["correct"] == 6
    capsys.readouterr()
    assert main([*args[:-1], "--seed", "3"]) == 2  # other settings, same directory: refused
    assert "different settings (seed)" in capsys.readouterr().err


def test_transcript_replays_to_the_same_summary(tmp_path, openai_server, capsys):
    openai_server.responder = reference_answers
    transcript = tmp_path / "t.jsonl"
    common = ["--conditions", "hier_prompt+hier_gen", "--limit", "4", "--json", "--no-cache"]
    assert main(["bench", "robocodegen", "--model", "m", "--base-url", openai_server.base_url,
                 "--out", str(tmp_path / "live"), "--transcript", str(transcript), *common]) == 0  # fmt: skip
    live = json.loads(capsys.readouterr().out)
    assert (
        main(
            ["bench", "robocodegen", "--replay", str(transcript), "--out", str(tmp_path / "replay"), *common]
        )
        == 0
    )
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["conditions"] == live["conditions"]


def test_command_conditions_match_the_benchmark():
    from cap.commands import bench_robocodegen

    assert bench_robocodegen.CONDITIONS == CONDITIONS


def test_answers_may_use_ndarray_methods():
    answer = "def get_centroid(points_np):\n    return np.asarray(points_np, dtype=float).mean(axis=0)\n"
    problem = next(p for p in ps.PROBLEMS if p.name == "get_centroid")
    with _bench(lambda n: answer) as bench:
        assert bench.attempt("flat_prompt+flat_gen", problem)["correct"]
