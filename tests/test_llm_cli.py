import json

from cap.cli import main
from lmp import Completion, ResponseCache


def test_cache_stats_and_clear(tmp_path, capsys):
    path = tmp_path / "c.sqlite"
    ResponseCache(path).put("k", Completion(text="x"))
    assert main(["cache", "stats", "--cache-path", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 1
    assert main(["cache", "clear", "--cache-path", str(path)]) == 0
    assert "cleared 1" in capsys.readouterr().out
    assert ResponseCache(path).stats()["entries"] == 0


def test_missing_model_is_a_clear_error(capsys, monkeypatch):
    import argparse

    import pytest

    from cap.errors import CapError
    from cap.llm_options import add_llm_arguments, build_client

    monkeypatch.delenv("CAP_MODEL", raising=False)
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    with pytest.raises(CapError) as exc:
        build_client(parser.parse_args([]))
    assert "--model" in exc.value.hint
