"""`cap bench tabletop --model` (records as they finish, resume) and the UI session across commands."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pybullet")

from cap.cli import main  # noqa: E402
from cap.evals.tabletop import TabletopSession  # noqa: E402
from cap.llm_episode import run_command  # noqa: E402
from cap.policy_stack import PolicyStack, StackOptions  # noqa: E402
from lmp import LLMClient  # noqa: E402
from lmp.backends.scripted import ScriptedBackend  # noqa: E402
from robot_api.tabletop import TabletopAPI  # noqa: E402

MATCHING = """for name in get_obj_names():
    if name.endswith('block') and is_obj_visible(name.replace('block', 'bowl')):
        put_first_on_second(name, name.replace('block', 'bowl'))"""


def test_bench_model_mode_writes_records_and_resumes(openai_server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    openai_server.responder = lambda body: f"```python\n{MATCHING}\n```"
    out = tmp_path / "episodes.jsonl"
    argv = [
        "bench",
        "tabletop",
        "--model",
        "m",
        "--base-url",
        openai_server.base_url,
        "--no-cache",
        "--tasks",
        "blocks-in-matching-bowls",
        "--out",
        str(out),
        "--json",
    ]
    assert main([*argv, "--seeds", "1"]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["episodes"] == 1 and first["success_rate"] == 1.0
    assert len(out.read_text().splitlines()) == 1 and len(openai_server.requests) == 1

    assert main([*argv, "--seeds", "2"]) == 0  # seed 0 is finished: only seed 1 is asked for
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(openai_server.requests) == 2
    assert summary["episodes"] == 2
    assert summary["families"]["blocks-in-matching-bowls"]["splits"] == {"seen": 1.0}
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["seed"]) for r in records] == [
        ("blocks-in-matching-bowls", 0),
        ("blocks-in-matching-bowls", 1),
    ]


def test_session_history_holds_only_commands_that_succeeded():
    answers = {
        "# move the purple block.": "put_first_on_second('purple block', 'green bowl')",  # no such block: fails
        "# put the green block on the green bowl.": "put_first_on_second('green block', 'green bowl')",
        "# say done.": "say('done')",
    }
    backend = ScriptedBackend(lambda r: answers[r.query.splitlines()[-1]])
    stack = PolicyStack(LLMClient(backend), TabletopAPI.describe(), StackOptions(repair=0))
    with TabletopSession(extra_api=stack.nested_functions(), timeout=60) as session:
        stack.bind(session.sandbox.run)
        session.setup("pick-place", 0)
        assert run_command(session, stack, "move the purple block").status == "error"
        assert run_command(session, stack, "put the green block on the green bowl").status == "ok"
        assert run_command(session, stack, "say done").status == "ok"
    last_prompt = backend.requests[-1].messages[-1]["content"]
    assert (
        "# put the green block on the green bowl.\nput_first_on_second('green block', 'green bowl')"
        in last_prompt
    )
    assert "# move the purple block." not in last_prompt
    assert len(stack.ui.lmp.history) == 2
