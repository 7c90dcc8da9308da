"""`cap cache stats|clear` and the shared LLM flags (`build_client`)."""

import argparse
import json
import subprocess
import sys

import pytest

from cap.cli import main
from cap.errors import CapError
from cap.llm_options import add_llm_arguments, build_client
from lmp import Completion, Request, ResponseCache, TranscriptWriter, read_transcript


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    return parser.parse_args(argv)


def test_cache_stats_and_clear(tmp_path, capsys):
    path = tmp_path / "c.sqlite"
    ResponseCache(path).put("k", Completion(text="x"))
    assert main(["cache", "stats", "--cache-path", str(path), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["entries"] == 1 and stats["path"] == str(path) and stats["bytes"] > 0
    assert main(["cache", "stats", "--cache-path", str(path)]) == 0
    assert "entries: 1" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache-path", str(path)]) == 0
    assert "cleared 1" in capsys.readouterr().out
    assert ResponseCache(path).stats()["entries"] == 0


def test_cache_commands_use_cap_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CAP_CACHE", str(tmp_path / "env.sqlite"))
    ResponseCache().put("k", Completion(text="x"))
    assert main(["cache", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == str(tmp_path / "env.sqlite")


def test_corrupt_cache_stats_fails_clearly_and_clear_removes_it(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"not sqlite" * 200)
    run = [sys.executable, "-m", "cap", "cache"]
    stats = subprocess.run([*run, "stats", "--cache-path", str(path)], capture_output=True, text=True)
    assert stats.returncode == 1 and "warning:" in stats.stderr and "Traceback" not in stats.stderr
    cleared = subprocess.run([*run, "clear", "--cache-path", str(path)], capture_output=True, text=True)
    assert cleared.returncode == 0 and "removed the unreadable cache" in cleared.stdout
    assert not path.exists()


def test_nothing_configured_asks_for_the_local_model_and_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("CAP_MODEL", raising=False)
    monkeypatch.setenv("CAP_HOME", str(tmp_path / "empty-home"))  # no model installed here
    with pytest.raises(CapError) as exc:
        build_client(parse([]))
    assert "local model" in str(exc.value)
    assert (
        "cap model install" in exc.value.hint
        and "--base-url" in exc.value.hint
        and "--replay" in exc.value.hint
    )
    with pytest.raises(CapError) as small:
        build_client(parse(["--model", "local:0.5b"]))
    assert "0.5B" in str(small.value) and "--size 0.5b" in small.value.hint
    with pytest.raises(CapError, match="no local model of size"):
        build_client(parse(["--model", "local:7b"]))


def test_an_endpoint_without_a_model_name_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CAP_MODEL", raising=False)
    with pytest.raises(CapError) as exc:
        build_client(parse(["--base-url", "http://127.0.0.1:9/v1"]))
    assert "--model" in exc.value.hint


def test_flags_build_a_working_client(openai_server, tmp_path):
    transcript = tmp_path / "t.jsonl"
    args = parse(
        ["--model", "m", "--base-url", openai_server.base_url, "--api", "completions",
         "--transcript", str(transcript), "--cache-path", str(tmp_path / "c.sqlite")]
    )  # fmt: skip
    client = build_client(args)
    assert client.complete(Request(lmp="ui", query="q", prompt="p"))[0].text == "echo: p"
    assert build_client(args).complete(Request(lmp="ui", query="q", prompt="p"))[0].cached
    assert openai_server.paths == ["/v1/completions"]
    assert len(read_transcript(transcript)) == 2

    no_cache = build_client(parse(["--model", "m", "--base-url", openai_server.base_url, "--no-cache"]))
    assert no_cache.cache is None
    assert not no_cache.complete(Request(lmp="ui", query="q", prompt="p"))[0].cached

    replayed = build_client(parse(["--replay", str(transcript)]))
    assert replayed.complete(Request(lmp="ui", query="q"))[0].text == "echo: p"
    assert len(openai_server.requests) == 2


def test_model_from_cap_model(openai_server, monkeypatch):
    monkeypatch.setenv("CAP_MODEL", "from-env")
    build_client(parse(["--base-url", openai_server.base_url, "--no-cache"])).complete(
        Request(lmp="ui", query="q", prompt="p")
    )
    assert openai_server.requests[-1]["model"] == "from-env"


def test_bad_inputs_are_cap_errors(tmp_path):
    with pytest.raises(CapError, match="cannot read transcript"):
        build_client(parse(["--replay", str(tmp_path / "missing.jsonl")]))
    with pytest.raises(CapError, match="OPENAI_API_KEY"):
        build_client(parse(["--model", "gpt-x"]))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CapError, match="cannot write transcript"):
        build_client(
            parse(
                [
                    "--model",
                    "m",
                    "--base-url",
                    "http://127.0.0.1:9/v1",
                    "--transcript",
                    str(blocker / "t.jsonl"),
                ]
            )
        )
    with TranscriptWriter(tmp_path / "ok.jsonl"):
        pass
    with pytest.raises(CapError, match="no records"):
        build_client(parse(["--replay", str(tmp_path / "ok.jsonl")]))
