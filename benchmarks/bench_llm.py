"""Framework overhead per LLM call: a cache hit, and a live call through a loopback OpenAI-compatible server.

The live numbers are compared with the bare `openai` SDK making the same calls to the same server, so
`framework_overhead_http_ms` is what `LLMClient` + `OpenAIBackend` add on top of the SDK and the HTTP round trip.
Prints JSON. Goal: <= 1 ms per cache hit. Run: .venv/bin/python benchmarks/bench_llm.py
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import openai  # noqa: E402
from openai_server import FakeOpenAIServer  # noqa: E402

from lmp import LLMClient, Request, ResponseCache, TranscriptWriter  # noqa: E402
from lmp.backends.openai_backend import OpenAIBackend  # noqa: E402

ROUNDS = 5


def per_call_ms(call: Callable[[Request], object], requests: list[Request]) -> float:
    start = time.perf_counter()
    for r in requests:
        call(r)
    return (time.perf_counter() - start) / len(requests) * 1000


def median_ms(make_call: Callable[[], Callable[[Request], object]], requests: list[Request]) -> float:
    """Median over rounds of the mean per-call time; `make_call` gives a fresh caller per round."""
    return round(statistics.median(per_call_ms(make_call(), requests) for _ in range(ROUNDS)), 3)


def main() -> None:
    prompt = "# objects = ['red block', 'blue bowl']\n" * 40  # ~1.6 kB, a typical few-shot prompt tail
    reqs = [Request(lmp="ui", query=f"q{i}", prompt=prompt + str(i)) for i in range(200)]
    with FakeOpenAIServer() as server, tempfile.TemporaryDirectory() as tmp:
        backend = OpenAIBackend("bench", base_url=server.base_url)
        sdk = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)

        def sdk_call(r: Request) -> object:
            return sdk.chat.completions.create(
                model="bench",
                messages=[{"role": "user", "content": r.prompt}],
                temperature=0,
                max_tokens=512,
                n=1,
            )

        sdk_direct = median_ms(lambda: sdk_call, reqs[:100])
        live = median_ms(lambda: LLMClient(backend).complete, reqs[:100])

        cache = ResponseCache(Path(tmp) / "c.sqlite")
        with TranscriptWriter(Path(tmp) / "t.jsonl") as transcript:
            writing = LLMClient(backend, cache=cache, transcript=transcript)
            live_cached_write = round(per_call_ms(writing.complete, reqs), 3)  # fills the cache
            hit_with_transcript = median_ms(lambda: writing.complete, reqs)
        hit = median_ms(lambda: LLMClient(backend, cache=cache).complete, reqs)
        http_requests = len(server.requests)
    print(
        json.dumps(
            {
                "cache_hit_ms": hit,
                "cache_hit_with_fsynced_transcript_ms": hit_with_transcript,
                "loopback_http_ms": live,
                "loopback_http_bare_sdk_ms": sdk_direct,
                "framework_overhead_http_ms": round(live - sdk_direct, 3),
                "loopback_http_with_cache_write_and_transcript_ms": live_cached_write,
                "goal_cache_hit_ms": 1.0,
                "cache_hit_goal_met": hit <= 1.0,
                "http_requests": http_requests,
                "prompt_chars": len(reqs[0].prompt or ""),
                "python": platform.python_version(),
                "openai": openai.__version__,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
