"""A real HTTP server on 127.0.0.1 speaking enough of the OpenAI API (chat and completions) for tests.

Shared by the LLM, LMP and HumanEval tests, so the SDK is exercised for real (HTTP, JSON, status codes)
while the answers stay under the test's control:

- `base_url` ends in /v1; point `OpenAIBackend(base_url=...)` or `--base-url` at it.
- `responder(body) -> str | list[str]`: the answer text, or one text per sample (default: echo the prompt).
- `queue_error(status, retry_after=None, times=1)`: the next `times` requests fail with `status`.
- `queue_raw(body, status=200, times=1)`: the next requests get `body` verbatim (malformed answers).
- `delay`: seconds to wait before answering successfully.
- `die()`: the server goes away: it stops listening (new connections are refused) and drops the open ones.
- `requests` (JSON bodies), `paths` and `headers` record every request, in arrival order.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def _default_responder(body: dict[str, Any]) -> str:
    if "messages" in body:
        return "echo: " + str(body["messages"][-1].get("content", ""))
    return "echo: " + str(body.get("prompt", ""))


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.responder: Callable[[dict[str, Any]], str | list[str]] = _default_responder
        self.delay = 0.0
        self.dead = False
        # Each queued failure: (status, headers, raw body or None for an OpenAI-style error object).
        self._failures: list[tuple[int, dict[str, str], bytes | None]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                if server.dead:  # a kept-alive connection outlives the listener: cut it, unanswered
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsable": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(body)
                    server.paths.append(self.path)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    failure = server._failures.pop(0) if server._failures else None
                if failure is not None:
                    status, headers, payload = failure
                    if payload is None:
                        payload = json.dumps(
                            {"error": {"message": f"injected {status}", "type": "test"}}
                        ).encode()
                    self._send(status, payload, headers)
                    return
                if server.delay:
                    time.sleep(server.delay)
                try:
                    answer = server.responder(body)
                except Exception as exc:  # a responder bug shows up as a 500 the test can see
                    self._send(500, json.dumps({"error": {"message": repr(exc)}}).encode())
                    return
                n = int(body.get("n") or 1)
                texts = answer if isinstance(answer, list) else [answer] * n
                if self.path.endswith("/chat/completions"):
                    choices = [
                        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                        for i, t in enumerate(texts)
                    ]
                    obj = "chat.completion"
                else:
                    choices = [
                        {"index": i, "text": t, "finish_reason": "stop", "logprobs": None}
                        for i, t in enumerate(texts)
                    ]
                    obj = "text_completion"
                payload = json.dumps(
                    {
                        "id": "test",
                        "object": obj,
                        "created": 0,
                        "model": body.get("model", "m"),
                        "choices": choices,
                        "usage": USAGE,
                    }
                ).encode()
                self._send(200, payload)

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def queue_error(self, status: int, retry_after: str | float | None = None, times: int = 1) -> None:
        """Fail the next `times` requests with `status` (and a `retry-after` header when given)."""
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        with self._lock:
            self._failures.extend([(status, headers, None)] * times)

    def queue_raw(self, body: bytes | str, status: int = 200, times: int = 1) -> None:
        """Answer the next `times` requests with `body` verbatim: malformed JSON, missing fields, and so on."""
        payload = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._failures.extend([(status, {}, payload)] * times)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self.dead:
            self._httpd.shutdown()
            self._httpd.server_close()

    def die(self) -> None:
        """Go away mid-run, like a crashed model server: callable from a responder (another thread)."""
        self.dead = True
        threading.Thread(target=self._close, daemon=True).start()

    def _close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # lets a subprocess (or a person) run the server by hand
    s = FakeOpenAIServer().start()
    print(s.base_url, flush=True)
    threading.Event().wait()
