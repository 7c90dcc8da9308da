"""Execution feedback on the real stack (LMPs, fgen, sandbox, PyBullet) with scripted model answers.

A failed attempt goes back to the model with its error and line; attempts run on a snapshot of the scene and a
failed one leaves no trace; failures inside a generated helper or a nested LMP are fixed where they happened;
best-of-K keeps the first clean sample; the task checker is never feedback; a model that cannot be reached is
an infrastructure failure, not the model's.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

pytest.importorskip("pybullet")

from cap.evals.tabletop import TabletopSession  # noqa: E402
from cap.llm_episode import run_command  # noqa: E402
from cap.policy_stack import PolicyStack, StackOptions  # noqa: E402
from lmp import LLMClient, LLMError, TranscriptWriter  # noqa: E402
from lmp.backends.replay import ReplayBackend  # noqa: E402
from lmp.backends.scripted import ScriptedBackend  # noqa: E402
from robot_api.tabletop import TabletopAPI  # noqa: E402

# pick-place seed 0: blocks green, red, blue; bowls green, orange (see the task generator)
COMMAND = "put the green block on the green bowl"
GOOD = "put_first_on_second('green block', 'green bowl')"


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


class Script:
    """Answers by (LMP name, what is asked): the query's last line, or for fix requests the failure line."""

    def __init__(self, answers: dict[tuple[str, str], str | list[str]]):
        self.answers = answers

    def __call__(self, request) -> str | list[str]:
        lines = request.query.splitlines()
        if request.lmp.endswith("/fix"):
            key = (request.lmp, next(line for line in lines if line.startswith("# failed:")))
            for (lmp, pattern), answer in self.answers.items():
                if lmp == request.lmp and re.search(pattern, key[1]):
                    return answer
            raise AssertionError(f"unexpected fix request {key}")
        query = [line for line in lines if line.startswith("# ")][-1]
        return self.answers[(request.lmp, query)]


def episode(
    answers, task="pick-place", seed=0, command=COMMAND, transcript=None, backend=None, heard=None, **options
):
    backend = backend or ScriptedBackend(Script(answers))
    client = LLMClient(backend, transcript=transcript)
    stack = PolicyStack(client, TabletopAPI.describe(), StackOptions(**options))
    on_say = heard.append if heard is not None else None
    with TabletopSession(extra_api=stack.nested_functions(), timeout=60, on_say=on_say) as session:
        stack.bind(session.sandbox.run)
        session.setup(task, seed)
        start = positions(session)
        ep = run_command(session, stack, command)
        end = positions(session)
    return ep, backend, start, end


def positions(session) -> dict[str, np.ndarray]:
    return {n: session.sim.object_position(n) for n in session.sim.object_names()}


def unchanged(start, end) -> bool:
    return all(np.allclose(start[n], end[n], atol=1e-6) for n in start)


def fix_requests(backend) -> list:
    return [r for r in backend.requests if r.lmp.endswith("/fix")]


def test_a_failed_attempt_is_fed_back_with_its_line_and_leaves_no_trace():
    moved_then_failed = "say('trying')\nput_first_on_second('red block', 'orange bowl')\nsay(corner_pos)"
    heard: list[str] = []
    ep, backend, start, end = episode(
        {
            ("tabletop_ui", f"# {COMMAND}."): fenced(moved_then_failed),
            ("tabletop_ui/fix", "NameError"): fenced(f"say('fixed')\n{GOOD}"),
        },
        heard=heard,
    )
    assert ep.status == "ok" and ep.task_success is True, ep
    assert [(a["kind"], a["status"]) for a in ep.attempts] == [("generate", "error"), ("fix", "ok")]
    assert ep.attempts[0]["line"] == 3 and "corner_pos" in ep.attempts[0]["error"]
    (fix,) = fix_requests(backend)
    assert fix.query.endswith(
        "# failed: line 3: `say(corner_pos)`: NameError: name 'corner_pos' is not defined"
    )
    message = fix.messages[-1]["content"]
    assert "at line 3:\n    say(corner_pos)\nNameError: name 'corner_pos' is not defined" in message
    assert fix.messages[-2] == {"role": "assistant", "content": fenced(moved_then_failed)}
    assert ep.said == ["fixed"] == heard  # the dry runs said nothing; the real run said what it says
    assert ep.code.startswith("say('fixed')")
    # the failed attempt had moved the red block onto the orange bowl; the real run started from the
    # untouched scene, so only the fixed program's move is in the final state
    moved = [n for n in start if not np.allclose(start[n], end[n], atol=1e-3)]
    assert moved == ["green block"]


def test_every_attempt_failing_leaves_the_world_as_it_was():
    ep, backend, start, end = episode(
        {
            ("tabletop_ui", f"# {COMMAND}."): fenced(
                "put_first_on_second('green block', 'orange bowl')\n1 / 0"
            ),
            ("tabletop_ui/fix", "ZeroDivisionError|SafetyError"): fenced(
                "put_first_on_second('green block', 'orange bowl')\nput_first_on_second('red block', (0.5, 1))"
            ),
        }
    )
    assert ep.status == "error" and ep.task_success is False
    assert [a["kind"] for a in ep.attempts] == ["generate", "fix", "fix"]
    assert "SafetyError" in ep.attempts[-1]["error"] and ep.attempts[-1]["line"] == 2
    assert ep.error.endswith("(line 2 of the generated code)")
    # round 2's greedy answer repeated round 1's program, so it was drawn once more at a temperature
    assert [r.temperature for r in fix_requests(backend)] == [0.0, 0.0, 0.8]
    assert unchanged(start, end)


def test_without_repair_the_first_answer_runs_for_real_as_before():
    ep, backend, start, end = episode(
        {
            ("tabletop_ui", f"# {COMMAND}."): fenced(
                "put_first_on_second('green block', 'orange bowl')\n1 / 0"
            )
        },
        repair=0,
    )
    assert ep.status == "error" and len(ep.attempts) == 1 and not fix_requests(backend)
    assert not unchanged(start, end)  # no dry run: the block moved before the error


def test_a_failing_generated_helper_is_regenerated_and_the_code_kept():
    ep, backend, _, _ = episode(
        {
            ("tabletop_ui", f"# {COMMAND}."): fenced("place_on_bowl('green block', 'green bowl')"),
            ("fgen", "# define function: place_on_bowl('green block', 'green bowl')."): fenced(
                "def place_on_bowl(block, bowl):\n    target = bowls[bowl]\n    put_first_on_second(block, target)"
            ),
            ("fgen/fix", "NameError: name 'bowls'"): fenced(
                "def place_on_bowl(block, bowl):\n    put_first_on_second(block, bowl)"
            ),
        }
    )
    assert ep.status == "ok" and ep.task_success is True, ep
    assert [a["kind"] for a in ep.attempts] == ["generate", "fix-helper"]
    first, second = ep.attempts
    assert first["where"] == "helper place_on_bowl" and first["line"] == 2
    assert second["fixed_helper"] == "place_on_bowl" and second["code"] == first["code"]
    (fix,) = fix_requests(backend)
    assert (
        fix.lmp == "fgen/fix"
        and "in the helper function `place_on_bowl`, at line 2" in fix.messages[-1]["content"]
    )
    assert ep.functions == ["place_on_bowl"]


def test_a_nested_lmp_answer_is_repaired_inside_the_policy_and_not_asked_again_for_real():
    ep, backend, _, _ = episode(
        {
            ("tabletop_ui", f"# {COMMAND}."): fenced(
                "block = parse_obj_name('the green block', f'objects = {get_obj_names()}')[0]\n"
                "put_first_on_second(block, 'green bowl')"
            ),
            ("parse_obj_name", "# the green block."): fenced(
                "ret_val = [o for o in objectz if 'green' in o]"
            ),
            ("parse_obj_name/fix", "objectz"): fenced("ret_val = ['green block']"),
        }
    )
    assert ep.status == "ok" and ep.task_success is True, ep
    assert [a["kind"] for a in ep.attempts] == ["generate"]  # the policy itself never failed
    (nested,) = ep.attempts[0]["nested"]
    assert nested["lmp"] == "parse_obj_name"
    assert [(a["kind"], a["status"]) for a in nested["attempts"]] == [("generate", "error"), ("fix", "ok")]
    assert ep.llm_calls == 3  # UI, nested answer, nested fix; the real run reused the fixed nested code
    assert [r.lmp for r in backend.requests] == ["tabletop_ui", "parse_obj_name", "parse_obj_name/fix"]


def test_best_of_k_runs_the_first_sample_that_runs_cleanly():
    samples = [fenced("say(undefined_name)"), fenced(GOOD), fenced("say('never run')")]
    ep, backend, _, _ = episode(
        {("tabletop_ui", f"# {COMMAND}."): samples}, samples=3, temperature=0.8, repair=0
    )
    assert ep.status == "ok" and ep.task_success is True
    assert [(a["kind"], a["sample"], a["status"]) for a in ep.attempts] == [
        ("sample", 0, "error"),
        ("sample", 1, "ok"),
    ]
    (request,) = backend.requests
    assert request.n == 3 and request.temperature == 0.8


WRONG = "put_first_on_second('green block', 'orange bowl')"  # runs cleanly, does something else


def test_consensus_performs_the_clean_sample_most_others_agree_with():
    """Two clean samples put the green block on the green bowl, one elsewhere: the pair wins, though the
    stray one came first; every sample is rehearsed, only the kept one moves the world."""
    samples = [fenced(WRONG), fenced("say(undefined_name)"), fenced(GOOD), fenced("# the bowl\n" + GOOD)]
    answers = {("tabletop_ui", f"# {COMMAND}."): samples}
    ep, _, start, end = episode(answers, samples=4, temperature=0.8, repair=0, select="consensus")
    assert ep.status == "ok" and ep.task_success is True and ep.code == GOOD
    assert [(a["sample"], a["status"], a.get("agree")) for a in ep.attempts] == [
        (0, "ok", 1),
        (1, "error", None),
        (2, "ok", 2),
        (3, "ok", 2),
    ]
    # the world saw one real run, the kept one: the green block ends on the green bowl, far from the orange
    assert np.linalg.norm(end["green block"][:2] - start["green bowl"][:2]) < 0.05
    assert np.linalg.norm(end["green block"][:2] - start["orange bowl"][:2]) > 0.1
    first, _, _, _ = episode(answers, samples=4, temperature=0.8, repair=0)  # the first clean one: WRONG
    assert first.code == WRONG and first.task_success is False and len(first.attempts) == 1


def test_consensus_ties_go_to_the_earlier_sample_and_a_lone_clean_sample_is_kept():
    answers = {("tabletop_ui", f"# {COMMAND}."): [fenced("say(nope)"), fenced(WRONG), fenced(GOOD)]}
    ep, _, _, _ = episode(answers, samples=3, temperature=0.8, repair=0, select="consensus")
    assert ep.code == WRONG and [a.get("agree") for a in ep.attempts] == [None, 1, 1]
    answers = {("tabletop_ui", f"# {COMMAND}."): [fenced("say(nope)"), fenced(GOOD)]}
    ep, _, _, _ = episode(answers, samples=2, temperature=0.8, repair=0, select="consensus")
    assert ep.code == GOOD and ep.task_success is True


def test_consensus_is_checked_as_an_option():
    with pytest.raises(ValueError, match="select must be one of"):
        StackOptions(select="vote")


def test_best_of_k_needs_a_temperature():
    with pytest.raises(ValueError, match="temperature above 0"):
        StackOptions(samples=2)


def test_the_task_checker_is_never_feedback():
    """A program that runs cleanly but does the wrong thing is final: only the checker knows it is wrong."""
    ep, backend, _, _ = episode(
        {("tabletop_ui", f"# {COMMAND}."): fenced("put_first_on_second('green block', 'orange bowl')")}
    )
    assert ep.status == "ok" and ep.task_success is False
    assert len(backend.requests) == 1 and len(ep.attempts) == 1


def test_a_model_that_cannot_be_reached_is_an_infra_error_even_when_the_policy_catches_it():
    def respond(request):
        if request.lmp == "tabletop_ui":
            return fenced(
                "try:\n    parse_obj_name('the green block', '')\nexcept Exception:\n    pass\n" + GOOD
            )
        raise LLMError("connection refused (gave up after 6 attempts)")

    ep, backend, start, end = episode({}, backend=ScriptedBackend(respond))
    assert ep.status == "infra_error" and ep.task_success is None
    assert "connection refused" in ep.error
    assert ep.pinned()["status"] == "infra_error"


def test_a_crash_of_cap_is_an_infra_error_not_a_model_failure():
    def respond(request):
        raise KeyError("a bug in a backend")  # not an LLMError: a defect, not the model's answer

    ep, *_ = episode({}, backend=ScriptedBackend(respond))
    assert ep.status == "infra_error" and ep.error.startswith("cap crashed: KeyError")


def test_a_repair_episode_replays_from_its_transcript(tmp_path):
    answers = {
        ("tabletop_ui", f"# {COMMAND}."): fenced("say(0x7f3a2b1c9d00)\nsay(where)"),
        ("tabletop_ui/fix", "NameError"): fenced(GOOD),
    }
    path = tmp_path / "run.jsonl"
    with TranscriptWriter(path) as transcript:
        live, *_ = episode(answers, transcript=transcript)
    replayed, *_ = episode({}, backend=ReplayBackend(path))
    assert live.status == replayed.status == "ok" and replayed.task_success is True
    assert replayed.attempts == live.attempts and len(live.attempts) == 2


def test_attempts_are_in_the_pinned_json_as_an_extension():
    ep, *_ = episode({("tabletop_ui", f"# {COMMAND}."): fenced(GOOD)})
    pinned = ep.pinned()
    assert list(pinned)[:9] == [
        "status",
        "task",
        "seed",
        "task_success",
        "error",
        "stdout",
        "functions",
        "llm_calls",
        "seconds",
    ]
    assert pinned["attempts"][0]["kind"] == "generate" and pinned["attempts"][0]["status"] == "ok"


def test_cap_run_best_of_k_over_http_and_flag_errors(openai_server, monkeypatch, capsys):
    from cap.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "k")
    openai_server.responder = lambda body: [fenced("say(nothing_here)"), fenced(GOOD)]
    base = ["run", COMMAND, "--task", "pick-place", "--model", "m", "--base-url", openai_server.base_url]
    assert main([*base, "--no-cache", "--samples", "2", "--json"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["task_success"] is True and [a["status"] for a in result["attempts"]] == ["error", "ok"]
    assert "attempt (sample) failed at line 1: NameError" in err
    (body,) = openai_server.requests
    assert body["n"] == 2 and body["temperature"] == 0.8
    assert main([*base, "--samples", "2", "--temperature", "0"]) == 2
    assert "needs a temperature above 0" in capsys.readouterr().err
    assert main([*base, "--repair", "-1"]) == 2
    assert "--repair must be 0 or more" in capsys.readouterr().err
    assert main([*base, "--select", "consensus"]) == 2
    assert "--select consensus chooses among samples" in capsys.readouterr().err
    openai_server.responder = lambda body: [fenced(WRONG), fenced(GOOD), fenced(GOOD)]
    assert main([*base, "--no-cache", "--samples", "3", "--select", "consensus", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["task_success"] is True and [a["agree"] for a in result["attempts"]] == [1, 2, 2]


def test_a_sandbox_violation_is_fed_back_like_an_error():
    ep, backend, start, end = episode(
        {
            ("tabletop_ui", f"# {COMMAND}."): fenced(f"{GOOD}\nimport os\nos.system('true')"),
            ("tabletop_ui/fix", "os"): fenced(GOOD),
        }
    )
    assert [a["status"] for a in ep.attempts] == ["violation", "ok"], ep.attempts
    assert ep.status == "ok" and ep.task_success is True
    (fix,) = fix_requests(backend)
    assert "import os" in fix.messages[-2]["content"]  # the failed program, shown back to the model


def test_a_fix_that_repeats_the_failed_program_is_drawn_again_at_a_temperature():
    failing = "say('ok')\nput_first_on_second('green block', corner_pos)"
    fixes = iter([fenced("say('again')\n" + failing.split("\n")[1]), fenced(GOOD)])

    def answer(request):
        if request.lmp == "tabletop_ui/fix":
            return next(fixes)
        return fenced(failing)

    ep, backend, _, _ = episode({}, backend=ScriptedBackend(answer), repair=1)
    assert ep.status == "ok" and ep.task_success is True, ep
    asked = fix_requests(backend)
    assert [r.temperature for r in asked] == [0.0, 0.8]  # greedy first; the repeat is drawn again, once
    assert asked[0].query == asked[1].query  # one key: a replay gives the two answers in order
    assert [a["kind"] for a in ep.attempts] == ["generate", "fix"] and ep.attempts[1]["code"] == GOOD


def test_same_program_ignores_comments_blank_lines_and_messages():
    from lmp.program import same_program

    assert same_program("say('a')\nx = 1\n# note\n\ny = 2", "x = 1\ny = 2  \nsay('b')")
    assert not same_program("x = 1", "x = 2")
