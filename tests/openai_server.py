"""A real HTTP server on 127.0.0.1 speaking enough of the OpenAI API (chat and completions) for tests.

Tests set `responder` (request body -> answer text, or a list of n texts), inject failures with `queue_error`,
and read `requests` to see exactly what the SDK sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _default_responder(body: dict[str, Any]) -> str:
    if "messages" in body:
        return "echo: " + body["messages"][-1]["content"]
    return "echo: " + str(body.get("prompt", ""))


class FakeOpenAIServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.responder: Callable[[dict[str, Any]], str | list[str]] = _default_responder
        self.delay = 0.0
        self._errors: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    error = server._errors.pop(0) if server._errors else None
                if error is not None:
                    status, retry_after = error
                    payload = json.dumps(
                        {"error": {"message": f"injected {status}", "type": "test"}}
                    ).encode()
                    self.send_response(status)
                    if retry_after is not None:
                        self.send_header("retry-after", retry_after)
                    self._send(payload)
                    return
                if server.delay:
                    time.sleep(server.delay)
                try:
                    answer = server.responder(body)
                except Exception as exc:  # a responder bug shows up as a 500 the test can see
                    self.send_response(500)
                    self._send(json.dumps({"error": {"message": repr(exc)}}).encode())
                    return
                n = int(body.get("n") or 1)
                texts = answer if isinstance(answer, list) else [answer] * n
                usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
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
                        "usage": usage,
                    }
                ).encode()
                self.send_response(200)
                self._send(payload)

            def _send(self, payload: bytes) -> None:
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def queue_error(self, status: int, retry_after: str | None = None, times: int = 1) -> None:
        with self._lock:
            self._errors.extend([(status, retry_after)] * times)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


if __name__ == "__main__":  # lets a subprocess (or a person) run the server by hand
    s = FakeOpenAIServer().start()
    print(s.base_url, flush=True)
    threading.Event().wait()
