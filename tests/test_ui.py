"""`cap ui` without a browser: the session the page drives, and the Gradio page over it (its Python API)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import ui_answers
from PIL import Image

from cap.cli import main
from cap.errors import CapError
from cap.ui.session import FREE_SCENE, UISession, parse_objects

DEMO = Path(__file__).parent.parent / "cap" / "data" / "reference_replay.jsonl"


def _args(tmp_path: Path, **overrides) -> argparse.Namespace:
    base = dict(
        model=None, base_url=None, api="chat", replay=None, transcript=str(tmp_path / "t.jsonl"),
        no_cache=True, cache_path=None, mode="hierarchical", max_depth=4, functions=None,
    )  # fmt: skip
    return argparse.Namespace(**{**base, **overrides})


@pytest.fixture
def live_ui(openai_server, monkeypatch, tmp_path):
    from cap.commands.run import build_stack
    from cap.llm_options import build_client

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    openai_server.responder = ui_answers.respond
    client = build_client(_args(tmp_path, model="m", base_url=openai_server.base_url))
    ui = UISession(client, build_stack(_args(tmp_path), client), tmp_path / "out", timeout=60)
    yield ui, openai_server
    ui.close()
    client.transcript.close()


def test_two_commands_keep_the_scene_and_the_session_history(live_ui):
    ui, server = live_ui
    first_picture = ui.new_scene("stack-blocks", 0)
    assert Image.open(first_picture).size[0] > 900
    assert ui.task_command == "stack all the blocks"

    r1 = ui.run(ui_answers.STACK)
    assert r1.episode.status == "ok", r1.episode.error
    assert r1.code == ui_answers.STACK_CODE
    assert list(r1.functions) == ["stack_on"] and "put_first_on_second" in r1.functions["stack_on"]
    assert r1.episode.said == ["stacking"]
    assert r1.episode.task_success is True  # stack-blocks is checked, whatever the command's words
    assert r1.animation is not None and Image.open(r1.animation).n_frames > 10
    assert r1.executed[0] == "line 1:  say('stacking')"
    assert "in stack_on():  put_first_on_second(name, base)" in r1.executed

    r2 = ui.run(ui_answers.SAY)
    assert r2.episode.status == "ok" and r2.episode.said == ["3 blocks"]
    assert r2.animation is None  # nothing moved
    # the second prompt carries the first command and its code: the session history, as in the REPL
    prompt = json.dumps(server.requests[-1])
    assert ui_answers.STACK in prompt and "stack_on(" in prompt
    assert [h.command for h in ui.history] == [ui_answers.STACK, ui_answers.SAY]

    transcript = ui.transcript()
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [r["lmp"] for r in records] == ["tabletop_ui", "fgen", "tabletop_ui"]
    assert "def stack_on" in ui.functions_file().read_text()

    ui.new_scene("stack-blocks", 0)  # a new scene forgets the history
    assert ui.history == []
    ui.run(ui_answers.SAY)
    assert ui_answers.STACK not in json.dumps(server.requests[-1])


def test_free_scene_and_bad_input(live_ui):
    ui, _ = live_ui
    ui.new_scene(FREE_SCENE, 3, "Red block,  blue bowl")
    assert sorted(ui.objects()) == ["blue bowl", "red block"] and ui.task_command == ""
    assert ui.session.task is None
    with pytest.raises(CapError, match="unknown object 'purple cube'"):
        ui.new_scene(FREE_SCENE, 0, "red block, purple cube")
    assert sorted(ui.objects()) == ["blue bowl", "red block"]  # a refused scene leaves the old one
    with pytest.raises(CapError, match="unknown task"):
        ui.new_scene("no-such-task", 0)
    with pytest.raises(CapError, match="type a command"):
        ui.run("   ")
    bad = ui.run("do a backflip")  # the model's garbage is a result shown on the page, not a crash
    assert bad.episode.status == "error" and bad.animation is None
    assert [h.status for h in ui.history] == ["error"]


def test_parse_objects():
    assert parse_objects("red block; Blue  Bowl") == ["red block", "blue bowl"]
    for bad in ("", "red block, red block", "red sphere"):
        with pytest.raises(CapError):
            parse_objects(bad)


def test_the_page_runs_a_command_through_its_python_api(tmp_path):
    gr = pytest.importorskip("gradio")
    from cap.commands.run import build_stack
    from cap.llm_options import build_client
    from cap.ui.app import build_app

    client = build_client(_args(tmp_path, replay=str(DEMO)))
    ui = UISession(client, build_stack(_args(tmp_path), client), tmp_path / "out", timeout=60)
    try:
        app = build_app(ui, "the demo replay", "stack-blocks", 0)
        assert isinstance(app, gr.Blocks)
        ids = {b.elem_id for b in app.blocks.values() if getattr(b, "elem_id", None)}
        assert {"command", "run", "code", "functions", "animation", "scene", "result", "history"} <= ids
        run = next(fn for fn in app.fns.values() if fn.name == "on_run")
        first, last = list(run.fn("stack all the blocks"))
        assert first[0].startswith("_running") and len(first) == 9
        result, animation, code, functions, executed, picture, history, transcript, library = last
        assert "success" in result and "Stacking 3 blocks" in result
        assert "stack_objects_in_order" in code and "def stack_objects_in_order" in functions
        assert Path(animation).suffix == ".gif" and Path(picture).suffix == ".png"
        assert "stack all the blocks" in history and "line 3" in executed
        assert Path(transcript).read_text().count("\n") == 3
    finally:
        ui.close()
        client.transcript.close()


def test_cli_refuses_unknown_task(capsys):
    assert main(["ui", "--task", "nope"]) != 0
    assert "unknown task" in capsys.readouterr().err


def test_listens_on_loopback_unless_told_otherwise():
    from cap.cli import build_parser

    assert build_parser(["ui"]).parse_args(["ui"]).host == "127.0.0.1"
    assert build_parser(["ui"]).parse_args(["ui", "--host", "0.0.0.0"]).host == "0.0.0.0"
