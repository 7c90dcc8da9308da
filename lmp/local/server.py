"""The local model server: one llama.cpp model behind an OpenAI-compatible HTTP API on loopback.

Why a process of its own, not the model inside every cap process: the REPL, a benchmark and the test workers
then share one loaded model (2 GB, ~3 s to load) and one prompt-state cache, a crash of llama.cpp cannot take
cap down with it, and the same openai SDK path serves the local model and any remote endpoint.

What it does that llama-cpp-python's own server did not, measured there: one request at a time in arrival
order (the model has one slot; a queued request waits here, kept alive by SSE comments, so its caller's time
limit runs only while it is being answered); a request whose client went away (Ctrl-C, a timeout, a killed
benchmark) stops being generated at the next token, and leaves the queue if it was waiting; and the
prompt-state cache is bounded (see `prompt_cache`). It exits `linger_s` after its last user (a process
holding a `/lease` connection, which the kernel closes when that process dies, however it dies) went away.

Endpoints: POST /v1/completions, POST /v1/chat/completions (stream or not; n samples one after another),
GET /v1/models, GET /health (model, hash, queue, cache and token counters), GET /lease.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lmp.local.prompt_cache import LlamaContextStates, PromptStateCache

KEEPALIVE_S = 5.0
EVAL_BATCH = 256  # prompt tokens evaluated between two looks at the client


class FairSlot:
    """The model's one slot, handed out in arrival order; a waiter whose client left gives up its place."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._busy = False

    def acquire(self, still_wanted: Callable[[], bool], tick: Callable[[], None]) -> bool:
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
        last_tick = time.monotonic()
        while True:
            with self._cond:
                if not self._busy and self._queue[0] is ticket:
                    self._queue.popleft()
                    self._busy = True
                    return True
                self._cond.wait(0.5)
            if not still_wanted():
                with self._cond:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
                return False
            if time.monotonic() - last_tick >= KEEPALIVE_S:
                last_tick = time.monotonic()
                tick()

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._busy


class ClientGone(Exception):
    pass


def connection_closed(sock: socket.socket) -> bool:
    """Whether the peer closed its end (it sends nothing more after its request, so readable means EOF)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class ModelServer:
    def __init__(
        self,
        model_path: str,
        name: str,
        sha256: str,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        cache: PromptStateCache | None = None,
        linger_s: float | None = 10.0,
        prompt_lookup: int = 0,
    ):
        from llama_cpp import Llama

        kwargs: dict[str, Any] = {}
        if prompt_lookup:
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            kwargs["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=prompt_lookup)
        threads = n_threads or os.cpu_count() or 2
        self.llm = Llama(
            model_path=model_path,
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=512,
            verbose=False,
            **kwargs,
        )
        self.name = name
        self.sha256 = sha256
        self.cache = cache if cache is not None else PromptStateCache(memory_bytes=1 << 30)
        self.states = LlamaContextStates(self.llm, self.cache)
        self.slot = FairSlot()
        self.linger_s = linger_s
        self.leases = 0
        self._lock = threading.Lock()
        self._last_activity = time.monotonic()
        self.counters = {
            "requests": 0,
            "cancelled": 0,
            "prompt_tokens": 0,
            "prompt_tokens_evaluated": 0,
            "completion_tokens": 0,
        }
        self._formatter = self._chat_formatter()

    def _chat_formatter(self) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        eos = self.llm._model.token_get_text(self.llm.token_eos())
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")

    # -- requests ----------------------------------------------------------------------------------
    def tokens_for(self, body: dict[str, Any], chat: bool) -> tuple[list[int], list[str]]:
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else [s for s in stop if isinstance(s, str)]
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages or self._formatter is None:
                raise ValueError("'messages' must be a non-empty list (and the model needs a chat template)")
            rendered = self._formatter(messages=messages)
            stop += list(rendered.stop or []) if isinstance(rendered.stop, list) else [rendered.stop]
            text = rendered.prompt
            tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        else:
            prompt = body.get("prompt")
            if not isinstance(prompt, str):
                raise ValueError("'prompt' must be a string")
            tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False)
        if not tokens:
            raise ValueError("the prompt is empty")
        if len(tokens) + int(body.get("max_tokens") or 256) > self.llm.n_ctx():
            raise ValueError(
                f"prompt of {len(tokens)} tokens plus max_tokens exceeds the context {self.llm.n_ctx()}"
            )
        return tokens, [s for s in stop if s]

    def generate(
        self,
        tokens: list[int],
        stop: list[str],
        body: dict[str, Any],
        gone: Callable[[], bool],
        tick: Callable[[], None] = lambda: None,
    ) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Text pieces as they are decoded; the last item carries the usage. Runs holding the slot.

        The uncached part of the prompt is evaluated here in batches rather than inside llama.cpp's
        generate: a cold few-shot prefix takes a minute on 2 cores, and between batches the client hears
        from us (`tick`) and a client that left stops the work (`gone`).
        """
        started = time.perf_counter()
        cached = self.states.prepare(tokens)
        evaluated = len(tokens) - cached
        self.states.truncate(cached)
        position = cached
        try:
            while position < len(tokens) - 1:
                end = min(position + EVAL_BATCH, len(tokens) - 1)
                self.llm.eval(tokens[position:end])
                position = end
                if gone():
                    raise ClientGone()
                tick()
        except ClientGone:
            self.states.store()  # what was evaluated stays useful to the next caller
            raise
        first_token_at = None
        pieces = 0
        finish = "length"
        stream = self.llm.create_completion(
            tokens,
            max_tokens=int(body.get("max_tokens") or 256),
            temperature=float(body.get("temperature") or 0.0),
            top_p=float(body.get("top_p") or 1.0),
            stop=stop,
            seed=body.get("seed") if isinstance(body.get("seed"), int) else None,
            stream=True,
        )
        try:
            for chunk in stream:
                if gone():
                    raise ClientGone()
                choice = chunk["choices"][0]
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                if choice.get("text"):
                    pieces += 1
                    yield choice["text"], None
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        finally:
            stream.close()
            self.states.store()
        done = time.perf_counter()
        completion_tokens = max(0, self.llm.n_tokens - len(tokens))
        with self._lock:
            self.counters["prompt_tokens"] += len(tokens)
            self.counters["prompt_tokens_evaluated"] += evaluated
            self.counters["completion_tokens"] += completion_tokens
        usage = {
            "prompt_tokens": len(tokens),
            "completion_tokens": completion_tokens,
            "total_tokens": len(tokens) + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
            "timings": {
                "prompt_s": round((first_token_at or done) - started, 3),
                "decode_s": round(done - (first_token_at or done), 3),
                "decode_tokens_per_s": round(
                    completion_tokens / max(done - (first_token_at or done), 1e-6), 2
                ),
            },
            "finish_reason": finish,
        }
        yield "", usage

    def touch(self) -> None:
        with self._lock:
            self._last_activity = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            if self.leases or self.slot.busy or self.slot.waiting:
                self._last_activity = time.monotonic()
            return time.monotonic() - self._last_activity

    def health(self) -> dict[str, Any]:
        with self._lock:
            counters = dict(self.counters)
            leases = self.leases
        return {
            "status": "ok",
            "model": self.name,
            "sha256": self.sha256,
            "pid": os.getpid(),
            "busy": self.slot.busy,
            "waiting": self.slot.waiting,
            "leases": leases,
            "counters": counters,
            "cache": {
                "entries": len(self.cache),
                "memory_bytes": self.cache.memory_used(),
                "memory_limit_bytes": self.cache.memory_bytes,
                "disk_dir": str(self.cache.disk_dir) if self.cache.disk_dir else None,
                **self.cache.stats,
            },
            "rss_bytes": _rss_bytes(),
        }


def _rss_bytes() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = "cap-local/1"
    protocol_version = "HTTP/1.1"
    model: ModelServer  # set on the class by `serve`

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the log is for errors
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        if self.path == "/health":
            self._json(200, self.model.health())
        elif self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": self.model.name, "object": "model"}]})
        elif self.path == "/lease":
            self._lease()
        else:
            self._error(404, f"no such endpoint {self.path}")

    def _lease(self) -> None:
        with self.model._lock:
            self.model.leases += 1
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.flush()
            while self.connection.recv(1024):  # until the holder closes (or dies)
                pass
        except OSError:
            pass
        finally:
            with self.model._lock:
                self.model.leases -= 1
                self.model._last_activity = time.monotonic()
            self.close_connection = True

    def do_POST(self) -> None:
        chat = self.path == "/v1/chat/completions"
        if not chat and self.path != "/v1/completions":
            self._error(404, f"no such endpoint {self.path}")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object")
            tokens, stop = self.model.tokens_for(body, chat)
        except (ValueError, TypeError) as exc:
            self._error(400, str(exc))
            return
        self.model.touch()
        stream = bool(body.get("stream"))
        n = max(1, int(body.get("n") or 1))
        gone = lambda: connection_closed(self.connection)  # noqa: E731
        if stream:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

        def keepalive() -> None:
            if stream:
                self.wfile.write(b": queued\n\n")
                self.wfile.flush()

        try:
            if not self.model.slot.acquire(lambda: not gone(), keepalive):
                with self.model._lock:
                    self.model.counters["cancelled"] += 1
                return
        except OSError:
            return
        try:
            with self.model._lock:
                self.model.counters["requests"] += 1
            self._answer(body, tokens, stop, chat, stream, n, gone)
        except (ClientGone, BrokenPipeError, ConnectionResetError):
            with self.model._lock:
                self.model.counters["cancelled"] += 1
        finally:
            self.model.slot.release()
            self.model.touch()

    def _answer(
        self,
        body: dict[str, Any],
        tokens: list[int],
        stop: list[str],
        chat: bool,
        stream: bool,
        n: int,
        gone: Callable[[], bool],
    ) -> None:
        def keepalive() -> None:
            if stream:
                self.wfile.write(b": evaluating the prompt\n\n")
                self.wfile.flush()

        created = int(time.time())
        rid = f"cap-{os.getpid()}-{time.monotonic_ns()}"
        kind = "chat.completion" if chat else "text_completion"
        choices = []
        total: dict[str, Any] = {}
        for index in range(n):
            sample = dict(body)
            if n > 1 and isinstance(body.get("seed"), int):
                sample["seed"] = body["seed"] + index
            text: list[str] = []
            usage: dict[str, Any] = {}
            for piece, final in self.model.generate(tokens, stop, sample, gone, keepalive):
                if final is not None:
                    usage = final
                    break
                text.append(piece)
                if stream:
                    delta = {"delta": {"content": piece}} if chat else {"text": piece}
                    chunk = {
                        "id": rid,
                        "object": f"{kind}.chunk",
                        "created": created,
                        "model": self.model.name,
                    }
                    chunk["choices"] = [{"index": index, "finish_reason": None, **delta}]
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
            finish = usage.pop("finish_reason", "stop")
            choices.append((index, "".join(text), finish))
            for key, value in usage.items():
                if isinstance(value, int):
                    total[key] = total.get(key, 0) + value
                else:
                    total.setdefault(key, value)
            if stream:
                delta = {"delta": {}} if chat else {"text": ""}
                chunk = {"id": rid, "object": f"{kind}.chunk", "created": created, "model": self.model.name}
                chunk["choices"] = [{"index": index, "finish_reason": finish, **delta}]
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        if stream:
            chunk = {"id": rid, "object": f"{kind}.chunk", "created": created, "model": self.model.name}
            chunk["choices"] = []
            chunk["usage"] = total
            self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()
            return
        out = []
        for index, text, finish in choices:
            if chat:
                out.append(
                    {
                        "index": index,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                    }
                )
            else:
                out.append({"index": index, "text": text, "finish_reason": finish})
        self._json(
            200,
            {
                "id": rid,
                "object": kind,
                "created": created,
                "model": self.model.name,
                "choices": out,
                "usage": total,
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(model: ModelServer, host: str = "127.0.0.1", port: int = 0, state_file: Path | None = None) -> None:
    """Serve until stopped (SIGTERM/SIGINT) or, with `linger_s`, until no one has used it for that long."""
    Handler.model = model
    httpd = _Server((host, port), Handler)
    bound = httpd.server_address[1]
    stop = threading.Event()

    def shutdown(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    if state_file is not None:
        info = {"pid": os.getpid(), "port": bound, "host": host, "sha256": model.sha256, "model": model.name}
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        tmp.replace(state_file)
    print(f"cap local model server: {model.name} on http://{host}:{bound}/v1 (pid {os.getpid()})", flush=True)
    try:
        while not stop.wait(0.5):
            if model.linger_s is not None and model.idle_for() > model.linger_s:
                print("cap local model server: no users left, exiting", flush=True)
                break
    finally:
        if state_file is not None:
            try:
                if json.loads(state_file.read_text()).get("pid") == os.getpid():
                    state_file.unlink()
            except (OSError, ValueError):
                pass
        httpd.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lmp.local.server", description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--sha256", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file")
    parser.add_argument(
        "--linger", type=float, default=10.0, help="seconds to stay after the last user; <0: forever"
    )
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--cache-mb", type=int, default=1024)
    parser.add_argument("--disk-cache-dir")
    parser.add_argument("--disk-cache-mb", type=int, default=2048)
    parser.add_argument("--prompt-lookup", type=int, default=0)
    args = parser.parse_args(argv)
    cache = PromptStateCache(
        memory_bytes=args.cache_mb << 20,
        disk_dir=Path(args.disk_cache_dir) if args.disk_cache_dir else None,
        disk_bytes=args.disk_cache_mb << 20,
    )
    try:
        model = ModelServer(
            args.model_path,
            args.name,
            args.sha256,
            n_ctx=args.ctx,
            n_threads=args.threads or None,
            cache=cache,
            linger_s=None if args.linger < 0 else args.linger,
            prompt_lookup=args.prompt_lookup,
        )
    except Exception as exc:  # a model llama.cpp cannot load: say so on stderr for the starter's log
        print(f"cap local model server: cannot load {args.model_path}: {exc}", file=sys.stderr, flush=True)
        return 3
    serve(model, args.host, args.port, Path(args.state_file) if args.state_file else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
