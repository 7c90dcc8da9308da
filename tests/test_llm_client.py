"""The LLM layer against a real loopback HTTP server through the real openai SDK."""

import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lmp import LLMClient, LLMError, Request, ResponseCache, RetryPolicy, TranscriptWriter, read_transcript
from lmp.backends.openai_backend import OpenAIBackend
from lmp.backends.replay import ReplayBackend

FAST_RETRY = RetryPolicy(max_attempts=4, max_total_s=10, base_delay_s=0.01, max_delay_s=0.05)


def chat_client(server, **kw):
    return LLMClient(OpenAIBackend("test-model", base_url=server.base_url), retry=FAST_RETRY, **kw)


def test_chat_request_shape(openai_server):
    client = chat_client(openai_server)
    req = Request(
        lmp="ui",
        query="stack",
        prompt="# stack\n",
        stop=("# ", "objects ="),
        temperature=0.2,
        max_tokens=77,
        seed=3,
    )
    [answer] = client.complete(req)
    assert answer.text == "echo: # stack\n"
    body = openai_server.requests[-1]
    assert body["model"] == "test-model"
    assert body["messages"] == [{"role": "user", "content": "# stack\n"}]
    assert body["stop"] == ["# ", "objects ="]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 77 and body["n"] == 1 and body["seed"] == 3
    assert answer.usage["total_tokens"] == 10


def test_completions_api_sends_prompt(openai_server):
    client = LLMClient(OpenAIBackend("m", base_url=openai_server.base_url, api="completions"))
    openai_server.responder = lambda body: ["a", "b"]
    answers = client.complete(
        Request(lmp="x", query="q", prompt="def f():", n=2, temperature=0.8, stop=("\ndef",), max_tokens=9)
    )
    assert [a.text for a in answers] == ["a", "b"]
    body = openai_server.requests[-1]
    assert openai_server.paths == ["/v1/completions"] and "messages" not in body
    assert (
        body["prompt"],
        body["model"],
        body["n"],
        body["temperature"],
        body["stop"],
        body["max_tokens"],
    ) == (
        "def f():",
        "m",
        2,
        0.8,
        ["\ndef"],
        9,
    )
    assert "seed" not in body  # only sent when asked for


def test_retries_429_and_500_then_succeeds(openai_server):
    openai_server.queue_error(429, retry_after="0")
    openai_server.queue_error(500)
    [answer] = chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi"))
    assert answer.text == "echo: hi"
    assert len(openai_server.requests) == 3


def test_gives_up_after_bound_with_clear_message(openai_server):
    openai_server.queue_error(503, times=10)
    with pytest.raises(LLMError) as exc:
        chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi"))
    message = str(exc.value)
    assert "4 attempts" in message and "503" in message and openai_server.base_url in message
    assert len(openai_server.requests) == 4


def test_client_errors_are_not_retried(openai_server):
    openai_server.queue_error(400)
    with pytest.raises(LLMError, match="400"):
        chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi"))
    assert len(openai_server.requests) == 1


def test_unreachable_endpoint_is_a_clear_error():
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(LLMError, match="127.0.0.1:9"):
        LLMClient(backend, retry=FAST_RETRY).complete(Request(lmp="x", query="q", prompt="hi"))


def test_cache_hit_makes_no_http_request(openai_server, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    req = Request(lmp="x", query="q", prompt="hi")
    first = chat_client(openai_server, cache=cache).complete(req)
    again = chat_client(openai_server, cache=cache).complete(req)
    assert len(openai_server.requests) == 1
    assert again[0].text == first[0].text and again[0].cached and not first[0].cached


def test_distinct_samples_are_not_collapsed(openai_server, tmp_path):
    counter = iter(range(100))
    openai_server.responder = lambda body: [f"sample {next(counter)}" for _ in range(body["n"])]
    cache = ResponseCache(tmp_path / "c.sqlite")
    client = chat_client(openai_server, cache=cache)
    texts = [a.text for a in client.complete(Request(lmp="x", query="q", prompt="p", n=3, temperature=0.8))]
    assert len(set(texts)) == 3
    # Asking for 5 reuses the 3 cached samples and requests only the 2 missing ones.
    more = [a.text for a in client.complete(Request(lmp="x", query="q", prompt="p", n=5, temperature=0.8))]
    assert more[:3] == texts and len(set(more)) == 5
    assert openai_server.requests[-1]["n"] == 2


def test_thread_pool_shares_one_client(openai_server, tmp_path):
    client = chat_client(openai_server, cache=ResponseCache(tmp_path / "c.sqlite"))
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda i: client.complete(Request(lmp="x", query=str(i), prompt=f"p{i}"))[0].text, range(32)
            )
        )
    assert results == [f"echo: p{i}" for i in range(32)]
    assert client.calls == 32


def test_corrupt_cache_warns_and_run_goes_on(openai_server, tmp_path, capsys):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cache = ResponseCache(path)
    [answer] = chat_client(openai_server, cache=cache).complete(Request(lmp="x", query="q", prompt="hi"))
    assert answer.text == "echo: hi"
    assert "unusable" in capsys.readouterr().err
    assert not cache.usable


def test_replay_reproduces_run_without_http(openai_server, tmp_path):
    path = tmp_path / "t.jsonl"
    openai_server.responder = lambda body: f"answer to {body['messages'][-1]['content']}"
    with TranscriptWriter(path) as transcript:
        client = chat_client(openai_server, transcript=transcript)
        live = [client.complete(Request(lmp="ui", query=f"q{i}", prompt=f"p{i}"))[0].text for i in range(3)]
    n_http = len(openai_server.requests)
    replay = LLMClient(ReplayBackend(path))
    replayed = [replay.complete(Request(lmp="ui", query=f"q{i}", prompt=f"p{i}"))[0].text for i in range(3)]
    assert replayed == live
    assert len(openai_server.requests) == n_http


def test_replay_miss_names_the_query(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"lmp": "ui", "query": "stack the blocks", "response": "x"}) + "\n")
    with pytest.raises(LLMError) as exc:
        ReplayBackend(path).complete(Request(lmp="ui", query="stack the bowls"))
    assert "'stack the bowls'" in str(exc.value) and "stack the blocks" in str(exc.value)


WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from lmp import LLMClient, Request, TranscriptWriter
from lmp.backends.openai_backend import OpenAIBackend
client = LLMClient(OpenAIBackend("m", base_url={url!r}), transcript=TranscriptWriter({path!r}))
for i in range(1000):
    client.complete(Request(lmp="ui", query=f"q{{i}}", prompt=f"p{{i}}"))
    print(i, flush=True)
"""


def test_transcript_survives_sigkill(openai_server, tmp_path):
    path = tmp_path / "t.jsonl"
    openai_server.delay = 0.01
    code = WRITER.format(tests=str(Path(__file__).parent), url=openai_server.base_url, path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    answered = -1
    for line in proc.stdout:
        answered = int(line)
        if answered >= 20:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    records = read_transcript(path)
    assert len(records) >= answered + 1
    assert [r["query"] for r in records[: answered + 1]] == [f"q{i}" for i in range(answered + 1)]


def test_parallel_requests_really_overlap(openai_server):
    barrier = threading.Barrier(2, timeout=5)

    def responder(body):
        barrier.wait()  # both requests must be in flight at once, or this times out
        return "ok"

    openai_server.responder = responder
    # No retries: a broken barrier must fail the test, not be retried into a pass.
    client = LLMClient(OpenAIBackend("m", base_url=openai_server.base_url), retry=RetryPolicy(max_attempts=1))
    with ThreadPoolExecutor(2) as pool:
        out = list(
            pool.map(lambda q: client.complete(Request(lmp="x", query=q, prompt=q))[0].text, ["a", "b"])
        )
    assert out == ["ok", "ok"]


def test_retry_after_is_honoured_and_total_time_is_bounded(openai_server):
    waits: list[float] = []
    openai_server.queue_error(429, retry_after="2")
    openai_server.queue_error(503, retry_after=1.5)
    policy = RetryPolicy(max_attempts=5, max_total_s=60, base_delay_s=0.01, max_delay_s=30)
    client = LLMClient(OpenAIBackend("m", base_url=openai_server.base_url), retry=policy, sleep=waits.append)
    assert client.complete(Request(lmp="x", query="q", prompt="hi"))[0].text == "echo: hi"
    assert waits == [2.0, 1.5]

    # A retry-after that would end past the total bound: give up at once instead of sleeping into it.
    openai_server.queue_error(429, retry_after="100", times=3)
    waits.clear()
    with pytest.raises(LLMError) as exc:
        client.complete(Request(lmp="x", query="q2", prompt="hi"))
    assert "1 attempts" in str(exc.value) and "total-time bound" in str(exc.value) and "429" in str(exc.value)
    assert waits == []


@pytest.mark.parametrize("status", [408, 409, 502])
def test_other_transient_statuses_are_retried(openai_server, status):
    openai_server.queue_error(status)
    assert chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi"))[0].text == "echo: hi"
    assert len(openai_server.requests) == 2


def test_connection_errors_are_retried_then_named(tmp_path):
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    waits: list[float] = []
    client = LLMClient(OpenAIBackend("m", base_url=url), retry=FAST_RETRY, sleep=waits.append)
    with pytest.raises(LLMError) as exc:
        client.complete(Request(lmp="x", query="q", prompt="hi"))
    assert f"127.0.0.1:{port}" in str(exc.value) and "4 attempts" in str(exc.value)
    assert len(waits) == 3


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b'{"choices": null}', b"[1, 2]", b'{"id": "x"}', b'{"choices": ["a"]}'],
)
@pytest.mark.parametrize("api", ["chat", "completions"])
def test_malformed_answers_are_clear_errors(openai_server, body, api):
    openai_server.queue_raw(body)
    client = LLMClient(OpenAIBackend("m", base_url=openai_server.base_url, api=api), retry=FAST_RETRY)
    with pytest.raises(LLMError) as exc:
        client.complete(Request(lmp="x", query="q", prompt="hi"))
    assert openai_server.base_url in str(exc.value)
    assert len(openai_server.requests) == 1  # a malformed answer is not retried into a different one


def test_empty_and_null_content_come_back_as_empty_text(openai_server):
    openai_server.queue_raw(
        b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": null}}], "model": "m"}'
    )
    assert chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi"))[0].text == ""
    openai_server.responder = lambda body: ""
    assert chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi"))[0].text == ""


def test_choices_are_returned_in_index_order(openai_server):
    openai_server.queue_raw(
        json.dumps(
            {
                "model": "m",
                "choices": [
                    {"index": 1, "message": {"content": "second"}},
                    {"index": 0, "message": {"content": "first"}},
                ],
            }
        )
    )
    answers = chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="hi", n=2))
    assert [a.text for a in answers] == ["first", "second"]


def test_too_few_choices_is_an_error(openai_server):
    openai_server.responder = lambda body: ["only one"]
    with pytest.raises(LLMError, match="1 choices for n=3"):
        chat_client(openai_server).complete(Request(lmp="x", query="q", prompt="p", n=3, temperature=1))


def test_local_server_needs_no_key_and_env_supplies_url_and_model(openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("CAP_MODEL", "env-model")
    client = LLMClient(OpenAIBackend())
    assert client.complete(Request(lmp="x", query="q", prompt="hi"))[0].text == "echo: hi"
    assert openai_server.requests[-1]["model"] == "env-model"
    assert openai_server.headers[-1]["authorization"] == "Bearer not-needed"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    LLMClient(OpenAIBackend()).complete(Request(lmp="x", query="q", prompt="hi"))
    assert openai_server.headers[-1]["authorization"] == "Bearer sk-test"


def test_hosted_endpoint_without_key_is_a_clear_error():
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        OpenAIBackend("gpt-x")


def test_messages_are_sent_as_given_and_calls_are_counted(openai_server, tmp_path):
    messages = ({"role": "system", "content": "write python"}, {"role": "user", "content": "# stack"})
    client = chat_client(openai_server, cache=ResponseCache(tmp_path / "c.sqlite"))
    req = Request(lmp="x", query="q", messages=messages, n=2, temperature=0.5)
    client.complete(req)
    client.complete(req)
    assert openai_server.requests[0]["messages"] == list(messages)
    assert len(openai_server.requests) == 1
    assert (client.calls, client.cached_calls) == (4, 2)


def test_tokens_are_counted_for_answers_the_model_gave(openai_server, tmp_path):
    from openai_server import USAGE

    cache = ResponseCache(tmp_path / "c.sqlite")
    client = chat_client(openai_server, cache=cache)
    client.complete(Request(lmp="x", query="q", prompt="hi"))
    assert (client.prompt_tokens, client.completion_tokens) == (
        USAGE["prompt_tokens"],
        USAGE["completion_tokens"],
    )
    client.complete(Request(lmp="x", query="q", prompt="hi"))  # a cache hit: no model tokens
    assert client.prompt_tokens == USAGE["prompt_tokens"] and client.calls == 2
