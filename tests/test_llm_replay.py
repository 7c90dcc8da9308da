"""Transcripts and replay: durable records, exact reproduction (order, samples, threads), clear misses."""

import json
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import pytest

from lmp import LLMClient, LLMError, Request, ResponseCache, TranscriptWriter, read_transcript
from lmp.backends.openai_backend import OpenAIBackend
from lmp.backends.replay import ReplayBackend
from lmp.backends.scripted import ScriptedBackend


def test_record_fields(openai_server, tmp_path):
    path = tmp_path / "t.jsonl"
    with TranscriptWriter(path) as transcript:
        client = LLMClient(OpenAIBackend("m", base_url=openai_server.base_url), transcript=transcript)
        client.complete(Request(lmp="ui", query="stack", prompt="# stack", n=2, temperature=0.7))
    records = read_transcript(path)
    assert [r["sample"] for r in records] == [0, 1]
    r = records[0]
    assert (r["lmp"], r["query"], r["response"], r["model"], r["cached"]) == (
        "ui",
        "stack",
        "echo: # stack",
        "m",
        False,
    )
    assert len(r["prompt_sha256"]) == 64 and r["usage"]["total_tokens"] == 10
    assert r["latency_s"] > 0 and r["time"] > 0


def test_cached_answers_are_recorded_and_flagged(tmp_path):
    path = tmp_path / "t.jsonl"
    with TranscriptWriter(path) as transcript:
        client = LLMClient(
            ScriptedBackend(lambda r: "a"), cache=ResponseCache(tmp_path / "c.sqlite"), transcript=transcript
        )
        for _ in range(2):
            client.complete(Request(lmp="ui", query="q", prompt="p"))
    assert [r["cached"] for r in read_transcript(path)] == [False, True]


def test_replay_reproduces_repeats_samples_and_order(tmp_path):
    """Same key asked again, n > 1, and a partial cache hit: replay gives back exactly what the run saw."""
    path = tmp_path / "t.jsonl"
    counter = count()
    backend = ScriptedBackend(lambda r: [f"answer {next(counter)}" for _ in range(r.n)])
    calls = [
        Request(lmp="ui", query="again", prompt="p"),
        Request(lmp="fgen", query="def f():", prompt="p2", n=3, temperature=0.8),
        Request(lmp="ui", query="again", prompt="p"),
        Request(lmp="fgen", query="def f():", prompt="p2", n=5, temperature=0.8),  # 3 cached + 2 new
    ]
    with TranscriptWriter(path) as transcript:
        client = LLMClient(backend, cache=ResponseCache(tmp_path / "c.sqlite"), transcript=transcript)
        live = [[c.text for c in client.complete(r)] for r in calls]
    assert live[0] == live[2] == ["answer 0"]  # the cache answered the repeat
    assert len(set(live[3])) == 5
    replay = LLMClient(ReplayBackend(path))
    assert [[c.text for c in replay.complete(r)] for r in calls] == live
    with pytest.raises(LLMError, match="diverged"):
        replay.complete(calls[0])  # the recorded run asked this twice, not three times


def test_replay_of_a_thread_pool_run(openai_server, tmp_path):
    """Concurrent calls with the same key: which caller got which answer is up to the scheduler, but every
    call's samples stay together and replay hands out exactly the recorded calls."""
    path = tmp_path / "t.jsonl"
    serial = count()

    def responder(body):
        k = next(serial)
        return [f"{body['messages'][-1]['content']}#{k}/{i}" for i in range(body["n"])]

    openai_server.responder = responder
    reqs = [Request(lmp="fgen", query=f"f{i % 5}", prompt=f"p{i % 5}", n=2, temperature=1) for i in range(40)]
    with TranscriptWriter(path) as transcript:
        client = LLMClient(OpenAIBackend("m", base_url=openai_server.base_url), transcript=transcript)
        with ThreadPoolExecutor(8) as pool:
            live = list(pool.map(lambda r: [c.text for c in client.complete(r)], reqs))
    n_http = len(openai_server.requests)
    replay = LLMClient(ReplayBackend(path))
    with ThreadPoolExecutor(8) as pool:
        replayed = list(pool.map(lambda r: [c.text for c in replay.complete(r)], reqs))
    assert len(openai_server.requests) == n_http == 40
    for r, texts in zip(reqs, replayed, strict=True):
        head = texts[0].rsplit("/", 1)[0]
        assert texts == [f"{head}/0", f"{head}/1"] and head.startswith(r.prompt + "#")
    assert sorted(map(tuple, replayed)) == sorted(map(tuple, live))


def test_replay_miss_lists_nearest_recorded_queries(tmp_path):
    path = tmp_path / "t.jsonl"
    with TranscriptWriter(path) as transcript:
        client = LLMClient(ScriptedBackend(lambda r: "x"), transcript=transcript)
        for q in ["put the red block in the bowl", "stack all blocks", "say hello"]:
            client.complete(Request(lmp="ui", query=q, prompt=q))
    with pytest.raises(LLMError) as exc:
        LLMClient(ReplayBackend(path)).complete(Request(lmp="ui", query="put the blue block in the bowl"))
    message = str(exc.value)
    assert "'ui'" in message and "'put the blue block in the bowl'" in message
    assert "put the red block in the bowl" in message and str(path) in message
    with pytest.raises(LLMError, match="records LMPs \\['ui'\\]"):
        ReplayBackend(path).complete(Request(lmp="parse_obj_name", query="anything"))


def test_torn_last_line_is_skipped_and_repaired_on_append(tmp_path):
    path = tmp_path / "t.jsonl"
    good = json.dumps({"lmp": "ui", "query": "a", "response": "1"})
    path.write_text(good + "\n" + '{"lmp": "ui", "query": "b", "resp')
    assert [r["query"] for r in read_transcript(path)] == ["a"]
    with TranscriptWriter(path) as transcript:
        transcript.write(
            Request(lmp="ui", query="c"), ScriptedBackend(["2"]).complete(Request(lmp="ui", query="c"))[0], 0
        )
    assert [r["query"] for r in read_transcript(path)] == ["a", "c"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"query": "a", "response": "1"}\nnot json\n{"query": "b", "response": "2"}\n', ":2: not a JSON"),
        ('{"query": "a"}\n', ":1: a transcript record needs"),
        ("[1, 2]\n", ":1: a transcript record needs"),
        ("\n\n", "no records"),
    ],
)
def test_bad_transcripts_are_clear_errors(tmp_path, content, expected):
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises(LLMError, match=expected):
        ReplayBackend(path)


def test_unreadable_transcripts_are_clear_errors(tmp_path):
    with pytest.raises(LLMError, match="cannot read transcript"):
        ReplayBackend(tmp_path / "missing.jsonl")
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(LLMError, match="not UTF-8"):
        ReplayBackend(binary)
