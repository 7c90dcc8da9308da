"""The SQLite response cache: keys, sharing between threads and processes, broken files."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from lmp import Completion, LLMClient, Request, ResponseCache
from lmp.backends.scripted import ScriptedBackend
from lmp.cache import cache_key


def test_key_covers_everything_that_shapes_an_answer():
    base = Request(lmp="ui", query="q", prompt="p", stop=("#",), temperature=0.0, max_tokens=10)
    k = cache_key("openai-chat", "m", base, 0)
    variants = [
        cache_key("openai-completions", "m", base, 0),
        cache_key("openai-chat", "m2", base, 0),
        cache_key(
            "openai-chat", "m", Request(lmp="ui", query="q", prompt="p2", stop=("#",), max_tokens=10), 0
        ),
        cache_key("openai-chat", "m", Request(lmp="ui", query="q", prompt="p", max_tokens=10), 0),
        cache_key(
            "openai-chat",
            "m",
            Request(lmp="ui", query="q", prompt="p", stop=("#",), temperature=0.5, max_tokens=10),
            0,
        ),
        cache_key("openai-chat", "m", Request(lmp="ui", query="q", prompt="p", stop=("#",)), 0),
        cache_key("openai-chat", "m", base, 1),
        cache_key(
            "openai-chat",
            "m",
            Request(
                lmp="ui", query="q", messages=({"role": "user", "content": "p"},), stop=("#",), max_tokens=10
            ),
            0,
        ),
    ]
    assert len({k, *variants}) == len(variants) + 1
    # The LMP name and query label a call; the model sees only the prompt, so they do not split the cache.
    assert (
        cache_key(
            "openai-chat", "m", Request(lmp="other", query="x", prompt="p", stop=("#",), max_tokens=10), 0
        )
        == k
    )


def test_round_trip_keeps_text_usage_and_marks_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k", Completion(text="x = 1\n", model="m", usage={"total_tokens": 5}, finish_reason="stop"))
    got = ResponseCache(tmp_path / "c.sqlite").get("k")
    assert (got.text, got.model, got.usage, got.finish_reason, got.cached) == (
        "x = 1\n",
        "m",
        {"total_tokens": 5},
        "stop",
        True,
    )
    assert cache.get("missing") is None


def test_default_path_comes_from_cap_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CAP_CACHE", str(tmp_path / "sub" / "llm.sqlite"))
    cache = ResponseCache()
    cache.put("k", Completion(text="x"))
    assert (tmp_path / "sub" / "llm.sqlite").exists()
    stats = cache.stats()
    assert (
        stats["entries"] == 1 and stats["bytes"] > 0 and stats["path"] == str(tmp_path / "sub" / "llm.sqlite")
    )


def test_partial_hit_requests_only_missing_samples(tmp_path):
    counter = iter(range(100))
    backend = ScriptedBackend(lambda r: [f"s{next(counter)}" for _ in range(r.n)])
    client = LLMClient(backend, cache=ResponseCache(tmp_path / "c.sqlite"))
    first = [c.text for c in client.complete(Request(lmp="x", query="q", prompt="p", n=2, temperature=1))]
    second = client.complete(Request(lmp="x", query="q", prompt="p", n=4, temperature=1))
    assert [c.text for c in second] == [*first, "s2", "s3"]
    assert [c.cached for c in second] == [True, True, False, False]
    assert [r.n for r in backend.requests] == [2, 2]


def test_threads_share_one_cache(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    client = LLMClient(ScriptedBackend(lambda r: r.prompt.upper()), cache=cache)
    prompts = [f"p{i % 20}" for i in range(200)]
    with ThreadPoolExecutor(16) as pool:
        texts = list(
            pool.map(lambda p: client.complete(Request(lmp="x", query=p, prompt=p))[0].text, prompts)
        )
    assert texts == [p.upper() for p in prompts]
    assert cache.stats()["entries"] == 20 and cache.usable


WRITER = """
import sys
from lmp import Completion, ResponseCache
cache = ResponseCache(sys.argv[1])
for i in range(150):
    cache.put(f"{sys.argv[2]}-{i}", Completion(text=str(i)))
    assert cache.get(f"{sys.argv[2]}-{i}").text == str(i)
print("ok" if cache.usable else "broken")
"""


def test_processes_share_one_cache_file(tmp_path):
    path = tmp_path / "c.sqlite"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"p{j}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for j in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [o for o, _ in outs] == ["ok\n"] * 4, [e for _, e in outs]
    assert all("warning" not in e for _, e in outs)
    assert ResponseCache(path).stats()["entries"] == 600


def test_corrupt_file_warns_once_and_run_goes_on(tmp_path, capsys):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cache = ResponseCache(path)
    client = LLMClient(ScriptedBackend(lambda r: "answer"), cache=cache)
    for _ in range(3):
        assert client.complete(Request(lmp="x", query="q", prompt="p"))[0].text == "answer"
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and str(path) in err and "continuing without a cache" in err
    assert not cache.usable and cache.stats()["entries"] is None


def test_unwritable_location_warns_and_run_goes_on(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    cache = ResponseCache(blocker / "c.sqlite")
    client = LLMClient(ScriptedBackend(lambda r: "answer"), cache=cache)
    assert client.complete(Request(lmp="x", query="q", prompt="p"))[0].text == "answer"
    assert "warning:" in capsys.readouterr().err


def test_clear_empties_and_removes_only_cache_files(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    for i in range(3):
        cache.put(str(i), Completion(text="x"))
    assert cache.clear() == 3 and cache.stats()["entries"] == 0
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"garbage" * 100)
    neighbour = tmp_path / "broken.sqlite.backup"
    neighbour.write_text("keep me")
    assert ResponseCache(broken).clear() == 0
    assert not broken.exists()
    assert neighbour.read_text() == "keep me"
