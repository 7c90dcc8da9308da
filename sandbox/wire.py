"""Framing and a safe serializer for everything that crosses the sandbox boundary.

Only plain data crosses (None, bool, int, float, str, list, tuple, dict, numpy arrays and scalars): JSON with
tagged containers, never pickle, so nothing the sandbox sends can make the host run code.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import sys
from typing import Any

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct("!I")


class WireError(Exception):
    """A value that cannot cross, or a frame that breaks the protocol."""


_PLAIN = (type(None), bool, str, float)


def encode(value: Any, _depth: int = 0) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # exact types first: the API round trip is dominated by small scalars
        return value
    if kind is int:
        return value if -(2**63) <= value < 2**63 else {"i": str(value)}
    if _depth > 100:
        raise WireError("value nested too deeply to cross the sandbox boundary")
    if kind is list:
        return {"l": [encode(v, _depth + 1) for v in value]}
    if kind is tuple:
        return {"t": [encode(v, _depth + 1) for v in value]}
    if kind is dict:
        return {"d": [[encode(k, _depth + 1), encode(v, _depth + 1)] for k, v in value.items()]}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return encode(int(value), _depth + 1)
    if isinstance(value, float):
        return float(value)
    # A numpy value can exist only once numpy is imported; not importing it here keeps processes that never
    # use it (the host of a HumanEval run, its workers) smaller and quicker to fork.
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return encode(value.item(), _depth + 1)
    if np is not None and isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise WireError("object arrays cannot cross the sandbox boundary")
        data = np.ascontiguousarray(value)
        return {"a": [data.dtype.str, list(data.shape), base64.b64encode(data.tobytes()).decode()]}
    if isinstance(value, list):
        return encode(list(value), _depth)
    if isinstance(value, tuple):
        return encode(tuple(value), _depth)
    if isinstance(value, dict):
        return encode(dict(value), _depth)
    raise WireError(f"a value of type {type(value).__name__} cannot cross the sandbox boundary")


def decode(obj: Any) -> Any:
    kind = type(obj)
    if kind in _PLAIN or kind is int:
        return obj
    if kind is dict and len(obj) == 1:
        ((tag, body),) = obj.items()
        if tag == "l":
            return [decode(v) for v in body]
        if tag == "t":
            return tuple(decode(v) for v in body)
        if tag == "d":
            return {_hashable(decode(k)): decode(v) for k, v in body}
        if tag == "i":
            return int(body)
        if tag == "a":
            import numpy as np

            dtype, shape, data = body
            dt = np.dtype(dtype)
            if dt.hasobject:
                raise WireError("object arrays cannot cross the sandbox boundary")
            return np.frombuffer(base64.b64decode(data), dtype=dt).reshape(shape).copy()
    raise WireError("malformed value on the wire")


def _hashable(key: Any) -> Any:
    if isinstance(key, list | dict):
        raise WireError("dict keys must be hashable")
    return key


_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def dumps(message: dict[str, Any]) -> bytes:
    return _ENCODER.encode(message).encode()


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(_frame(message))


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket) -> dict[str, Any]:
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes exceeds the {MAX_FRAME} byte bound")
    try:
        message = json.loads(_recv_exact(sock, size))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise WireError("malformed frame") from None
    if not isinstance(message, dict):
        raise WireError("malformed frame")
    return message


class FrameReader:
    """Reads frames without ever blocking: the host must not hang on a half-sent frame from a sandboxed child
    that then sleeps (the wall-clock limit has to keep working whatever the child writes)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def read_available(self) -> list[dict[str, Any]]:
        """Every complete frame now available; raises EOFError when the peer closed, WireError on garbage."""
        while True:
            try:
                chunk = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                raise EOFError("peer closed the channel")
            self.buf += chunk
            if len(chunk) < 1 << 20:
                break
        messages = []
        while len(self.buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buf)
            if size > MAX_FRAME:
                raise WireError(f"frame of {size} bytes exceeds the {MAX_FRAME} byte bound")
            if len(self.buf) < _HEADER.size + size:
                break
            payload = bytes(self.buf[_HEADER.size : _HEADER.size + size])
            del self.buf[: _HEADER.size + size]
            try:
                message = json.loads(payload)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise WireError("malformed frame") from None
            if not isinstance(message, dict):
                raise WireError("malformed frame")
            messages.append(message)
        return messages

    def discard_available(self) -> None:
        """Throw away whatever is buffered or waiting (what a killed or misbehaving child left behind)."""
        self.buf.clear()
        try:
            while self.sock.recv(1 << 20, socket.MSG_DONTWAIT):
                pass
        except (BlockingIOError, InterruptedError, OSError):
            pass


class BufferedReader:
    """Blocking reads of whole frames with as few syscalls as possible (usually one per frame): the child's
    end of the API bridge, where every microsecond of a round trip counts."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def recv(self) -> dict[str, Any]:
        while True:
            if len(self.buf) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self.buf)
                if size > MAX_FRAME:
                    raise WireError(f"frame of {size} bytes exceeds the {MAX_FRAME} byte bound")
                end = _HEADER.size + size
                if len(self.buf) >= end:
                    payload = bytes(self.buf[_HEADER.size : end])
                    del self.buf[:end]
                    message = json.loads(payload)
                    if not isinstance(message, dict):
                        raise WireError("malformed frame")
                    return message
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("peer closed the channel")
            self.buf += chunk


def send_nowait_or(sock: socket.socket, message: dict[str, Any], timeout: float) -> None:
    """Send a frame; try once without blocking (the common case, one syscall), then wait at most `timeout`
    seconds for the peer to take the rest. Raises OSError (TimeoutError) when it does not."""
    frame = _frame(message)
    try:
        sent = sock.send(frame, socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        sent = 0
    if sent < len(frame):
        sock.settimeout(max(timeout, 0.05))
        try:
            sock.sendall(frame[sent:])
        finally:
            sock.settimeout(None)


def _frame(message: dict[str, Any]) -> bytes:
    payload = dumps(message)
    return _HEADER.pack(len(payload)) + payload
