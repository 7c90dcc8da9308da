"""One rosbridge connection (roslibpy over a WebSocket), made safe to drive a robot with.

What this adds to roslibpy: a connect that fails with a clear error instead of retrying forever; a record of
lost connections, so a goal in flight fails at once instead of waiting for a result that cannot come;
rosbridge `fragment` reassembly (roslibpy has none); malformed or unexpected messages counted and dropped, never
raised into the caller; waits with a watchdog and a deadline; and a stop that reaches the robot even right
after a lost connection (it is queued and sent as soon as roslibpy has reconnected).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger("cap.ros")
MAX_FRAGMENTED_BYTES = 64 * 1024 * 1024
POLL = 0.05


class RobotError(RuntimeError):
    """The robot could not do what was asked (connection lost, goal aborted, no result in time).

    Unlike `SafetyError` the robot may have moved; it has been told to stop, and it refuses further motion
    until the next run.
    """


class Latest:
    """The newest value of a stream (a topic), with when recent ones arrived, so callers can wait for a fresh one.

    "Fresh" means the `count`-th message to arrive after a moment: the first one after a motion ended may
    have been measured before it ended and been on its way (rosbridge keeps no order between a topic and an
    action result), the second one was measured after it.
    """

    def __init__(self, count: int = 2) -> None:
        self._cond = threading.Condition()
        self.value: Any = None
        self.count = count
        self._arrivals: deque[float] = deque(maxlen=16)

    def put(self, value: Any) -> None:
        with self._cond:
            self.value = value
            self._arrivals.append(time.monotonic())
            self._cond.notify_all()

    @property
    def received(self) -> int:
        return len(self._arrivals)

    def _fresh(self, since: float) -> bool:
        return sum(1 for t in self._arrivals if t > since) >= min(self.count, self._arrivals.maxlen or 1)

    def newer_than(self, since: float, timeout: float) -> Any:
        """The value once fresh after `since` (monotonic seconds); None if that did not happen in `timeout`."""
        end = time.monotonic() + timeout
        with self._cond:
            while not self._fresh(since):
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, POLL))
            return self.value


class Bridge:
    """A live rosbridge connection. `connect()` first; every call is thread-safe."""

    def __init__(self, host: str, port: int, connect_timeout: float = 10.0, reconnect_timeout: float = 5.0):
        self.host, self.port = host, port
        self.url = f"ws://{host}:{port}"
        self.connect_timeout = connect_timeout
        self.reconnect_timeout = reconnect_timeout
        self.malformed = 0  # messages dropped because they were not valid rosbridge JSON of a known shape
        self.last_malformed = ""
        self.losses = 0  # connections lost so far
        self._connected = threading.Event()
        self._wrap_lock = threading.Lock()
        self._status_waiters: dict[Any, Callable[[str], None]] = {}
        self.status_reports: list[str] = []  # the last rosbridge status messages (warnings, errors)
        self._fragments: dict[str, dict[int, str]] = {}
        self._fragment_bytes = 0
        self.ros: Any = None

    # -- connection --------------------------------------------------------------------------------------
    def connect(self) -> None:
        try:
            import roslibpy
        except ImportError:
            raise RobotError("the ROS adapter needs roslibpy: pip install 'cap[ros]'") from None
        logging.getLogger("roslibpy").setLevel(logging.CRITICAL)  # we report what matters ourselves
        self.ros = roslibpy.Ros(self.host, self.port)
        self.ros.factory.on("ready", self._on_ready)
        self.ros.on("close", self._on_close)
        # With the reactor already running (a second connection in this process) the connection may have
        # become ready before the handler above was registered.
        proto = getattr(self.ros.factory, "_proto", None)
        if proto is not None:
            self._on_ready(proto)
        try:
            self.ros.run(timeout=self.connect_timeout)
        except Exception as exc:
            self._give_up()
            raise RobotError(
                f"cannot connect to rosbridge at {self.url} within {self.connect_timeout:g} s ({exc}); "
                "is rosbridge_server running there?"
            ) from None
        self._connected.set()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _on_ready(self, proto: Any) -> None:
        """Every (re)connection: wrap the protocol's message entry points so nothing malformed escapes."""
        with self._wrap_lock:
            if getattr(proto, "_cap_wrapped", False):
                return
            proto._cap_wrapped = True
        self._connected.set()
        handle = proto.on_message

        def on_message(payload: bytes) -> None:
            try:
                handle(payload)
            except Exception as exc:  # a bad message is dropped and counted; the connection lives on
                self._count_malformed(f"{type(exc).__name__}: {exc}", payload)

        def on_ws_message(payload: bytes, is_binary: bool) -> None:
            if is_binary:
                self._count_malformed("binary frame", payload)
                return
            on_message(payload)

        proto.on_message = on_message
        proto.onMessage = on_ws_message
        proto._message_handlers["status"] = self._on_status  # roslibpy drops rosbridge's status reports
        try:
            proto.register_message_handlers("fragment", lambda msg: self._on_fragment(proto, msg))
        except Exception:  # already registered on this protocol instance
            pass

    def _on_status(self, msg: dict[str, Any]) -> None:
        """rosbridge `status` {level, msg, id}: an error about a request we wait for fails that request now."""
        text = f"{msg.get('level', '')}: {msg.get('msg', '')}"
        self.status_reports.append(text[:300])
        del self.status_reports[:-20]
        waiter = self._status_waiters.get(msg.get("id")) if msg.get("level") == "error" else None
        if waiter is not None:
            waiter(str(msg.get("msg", "error"))[:300])

    def on_error_status(self, request_id: str, callback: Callable[[str], None] | None) -> None:
        """Call `callback(message)` if rosbridge reports an error about request `request_id` (None: forget it)."""
        if callback is None:
            self._status_waiters.pop(request_id, None)
        else:
            self._status_waiters[request_id] = callback

    def _on_close(self, _proto: Any) -> None:
        if self._connected.is_set():
            self.losses += 1
        self._connected.clear()

    def _count_malformed(self, why: str, payload: Any) -> None:
        self.malformed += 1
        self.last_malformed = why
        LOG.debug("dropped a malformed rosbridge message (%s): %.200r", why, payload)

    def _on_fragment(self, proto: Any, msg: dict[str, Any]) -> None:
        """rosbridge `fragment`: {id, data, num, total}; the joined data is one message, handled as if whole."""
        fid, data, num, total = msg.get("id"), msg.get("data"), msg.get("num"), msg.get("total")
        if not (
            isinstance(fid, str) and isinstance(data, str) and isinstance(num, int) and isinstance(total, int)
        ):
            raise ValueError("fragment without id/data/num/total")
        if not 0 <= num < total <= 100_000:
            raise ValueError(f"fragment {num} of {total}")
        self._fragment_bytes += len(data)
        if self._fragment_bytes > MAX_FRAGMENTED_BYTES:
            self._fragments.clear()
            self._fragment_bytes = 0
            raise ValueError("fragmented messages exceed 64 MB")
        parts = self._fragments.setdefault(fid, {})
        parts[num] = data
        if len(parts) == total:
            del self._fragments[fid]
            whole = "".join(parts[i] for i in range(total))
            self._fragment_bytes -= len(whole)
            proto.on_message(whole.encode("utf8"))

    def _give_up(self) -> None:
        try:
            self.ros.factory.stopTrying()
        except Exception:
            pass

    def close(self) -> None:
        """Disconnect (without stopping the shared twisted reactor, which cannot be restarted)."""
        if self.ros is None:
            return
        self._give_up()
        try:
            self.ros.close(timeout=2)
        except Exception:
            pass
        self._connected.clear()

    # -- messages ----------------------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        """Send one rosbridge operation now, or as soon as roslibpy reconnects."""
        import roslibpy

        self.ros.send_on_ready(roslibpy.Message(message))

    def subscribe(self, topic: str, msg_type: str, callback: Callable[[dict[str, Any]], None]) -> Any:
        """Subscribe (re-subscribed by roslibpy after a reconnect). `callback` may raise on a bad message:
        that message is counted as malformed and dropped."""
        import roslibpy

        t = roslibpy.Topic(self.ros, topic, msg_type)
        t.subscribe(callback)
        return t

    def publish(self, topic: str, msg_type: str, msg: dict[str, Any]) -> threading.Event:
        """Advertise and publish; the returned event is set once the message has left (maybe after a reconnect)."""
        sent = threading.Event()
        self.send({"op": "advertise", "id": f"advertise:{topic}", "topic": topic, "type": msg_type})
        message = {
            "op": "publish",
            "id": f"publish:{topic}:{time.monotonic_ns()}",
            "topic": topic,
            "msg": msg,
        }

        def _send(proto: Any) -> Any:
            proto.send_ros_message(message)
            sent.set()
            return proto

        self.ros.factory.on_ready(_send)
        return sent

    def flush(self, timeout: float = 1.0) -> None:
        """Wait (briefly) until what was sent so far has been handed to the socket by roslibpy's reactor."""
        if not self.connected:
            return
        try:
            from twisted.internet import reactor
        except ImportError:
            return
        for _ in range(2):  # one reactor turn runs the queued sends, the next writes their bytes
            turned = threading.Event()
            reactor.callFromThread(turned.set)
            if not turned.wait(timeout):
                return

    def call_service(
        self, service: str, args: dict[str, Any], timeout: float, deadline: float = math.inf
    ) -> dict[str, Any]:
        """Call a service and wait for its answer (RobotError on failure, loss or no answer in `timeout`)."""
        import roslibpy

        self.require_connection(f"call {service}")
        box: dict[str, Any] = {}
        done = threading.Event()

        def ok(response: Any) -> None:
            box["values"] = dict(response)
            done.set()

        def fail(values: Any) -> None:
            box["error"] = values
            done.set()

        request_id = f"call_service:{service}:{self.ros._id_counter + 1}"  # roslibpy's id for this call
        self.on_error_status(request_id, fail)
        roslibpy.Service(self.ros, service, "").call(roslibpy.ServiceRequest(args), ok, fail)
        try:
            self.wait(done, timeout, deadline, f"service {service}")
        finally:
            self.on_error_status(request_id, None)
        if "error" in box:
            raise RobotError(f"service {service} failed: {box['error']}")
        return box["values"]

    # -- waiting -----------------------------------------------------------------------------------------
    def require_connection(self, what: str) -> None:
        if not self.connected:
            raise RobotError(f"cannot {what}: the connection to rosbridge at {self.url} is down")

    def wait(self, done: threading.Event, timeout: float, deadline: float, what: str) -> None:
        """Wait for `done`; RobotError (naming the reason) on a lost connection, the watchdog `timeout` or the
        caller's `deadline` (monotonic). The caller is responsible for stopping the robot on any of these."""
        started = time.monotonic()
        losses = self.losses
        while not done.wait(POLL):
            now = time.monotonic()
            if self.losses != losses or not self.connected:
                raise ConnectionLost(f"the connection to rosbridge at {self.url} was lost during {what}")
            if now >= deadline:
                raise DeadlinePassed(f"the run's time limit ran out during {what}")
            if now - started >= timeout:
                raise WatchdogExpired(f"no result for {what} within {timeout:g} s (watchdog)")


class ConnectionLost(RobotError):
    pass


class DeadlinePassed(RobotError):
    pass


class WatchdogExpired(RobotError):
    pass


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message)
