"""Framework overhead per LLM call: a cache hit, and a live call through a loopback OpenAI-compatible server.

Prints JSON. Goal: <= 1 ms per cache hit. Run: .venv/bin/python benchmarks/bench_llm.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openai_server import FakeOpenAIServer  # noqa: E402

from lmp import LLMClient, Request, ResponseCache, TranscriptWriter  # noqa: E402
from lmp.backends.openai_backend import OpenAIBackend  # noqa: E402


def per_call_ms(client: LLMClient, requests: list[Request]) -> float:
    start = time.perf_counter()
    for r in requests:
        client.complete(r)
    return (time.perf_counter() - start) / len(requests) * 1000


def main() -> None:
    server = FakeOpenAIServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResponseCache(Path(tmp) / "c.sqlite")
        backend = OpenAIBackend("bench", base_url=server.base_url)
        prompt = "# objects = ['red block', 'blue bowl']\n" * 40  # ~1.6 kB, a typical few-shot prompt tail
        reqs = [Request(lmp="ui", query=f"q{i}", prompt=prompt + str(i)) for i in range(300)]
        live_no_cache = per_call_ms(LLMClient(backend), reqs[:100])
        with TranscriptWriter(Path(tmp) / "t.jsonl") as transcript:
            client = LLMClient(backend, cache=cache, transcript=transcript)
            live_cached_write = per_call_ms(client, reqs)
            hit_with_transcript = per_call_ms(client, reqs)
        hit = per_call_ms(LLMClient(backend, cache=cache), reqs)
    server.stop()
    print(
        json.dumps(
            {
                "cache_hit_ms": round(hit, 3),
                "cache_hit_with_fsynced_transcript_ms": round(hit_with_transcript, 3),
                "loopback_http_ms": round(live_no_cache, 3),
                "loopback_http_with_cache_write_and_transcript_ms": round(live_cached_write, 3),
                "goal_cache_hit_ms": 1.0,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
