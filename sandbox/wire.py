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


MAX_DEPTH = 100  # as `encode` allows


def decode(obj: Any) -> Any:
    """The value `encode` made; WireError for anything else. What arrives from a sandboxed child is hostile:
    every way a forged value can fail (wrong types, deep nesting, huge numbers, bad arrays) is a WireError,
    never another exception reaching the host."""
    kind = type(obj)
    if kind in _PLAIN or kind is int:  # the common case, without the handler below
        return obj
    try:
        return _decode(obj, 0)
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError, KeyError, AttributeError):
        raise WireError("malformed value on the wire") from None


def _decode(obj: Any, depth: int) -> Any:
    kind = type(obj)
    if kind in _PLAIN or kind is int:
        return obj
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply on the wire")
    if kind is dict and len(obj) == 1:
        ((tag, body),) = obj.items()
        if tag in ("l", "t", "d") and type(body) is not list:
            raise WireError("malformed value on the wire")
        if tag == "l":
            return [_decode(v, depth + 1) for v in body]
        if tag == "t":
            return tuple(_decode(v, depth + 1) for v in body)
        if tag == "d":
            out = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed value on the wire")
                out[_hashable(_decode(pair[0], depth + 1))] = _decode(pair[1], depth + 1)
            return out
        if tag == "i" and type(body) is str and len(body) <= 4300:
            return int(body)
        if tag == "a" and type(body) is list and len(body) == 3:
            import numpy as np

            dtype, shape, data = body
            if type(dtype) is not str or type(data) is not str or type(shape) is not list:
                raise WireError("malformed array on the wire")
            if len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
                raise WireError("malformed array on the wire")
            dt = np.dtype(dtype)
            if dt.hasobject:
                raise WireError("object arrays cannot cross the sandbox boundary")
            return np.frombuffer(base64.b64decode(data, validate=True), dtype=dt).reshape(shape).copy()
    raise WireError("malformed value on the wire")


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        raise WireError("dict keys must be hashable") from None
    return key


def loads(payload: bytes) -> dict[str, Any]:
    """One frame's message: a JSON object, or WireError (bad UTF-8, bad JSON, nesting past the parser's
    recursion limit, a number too long to convert)."""
    try:
        message = json.loads(payload)
    except (
        ValueError,
        RecursionError,
        MemoryError,
    ):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise WireError("malformed frame") from None
    if not isinstance(message, dict):
        raise WireError("malformed frame")
    return message


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
    return loads(_recv_exact(sock, size))


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
            messages.append(loads(payload))
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
                    return loads(payload)
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
