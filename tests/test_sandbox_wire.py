"""Every frame from a sandboxed child is hostile input: the decoder turns anything but what `encode` makes
into WireError (fuzzed here), and a child that writes forged frames ends its own run as a ProtocolError while
the host goes on to answer the next run."""

import json
import random
import time

import pytest

from sandbox import Sandbox, wire

pytestmark = pytest.mark.xdist_group("sandbox")


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 6 else 4)
    if kind == 0:
        return rng.choice([None, True, False, 0, -1, 2**70, 1.5, float("inf"), "", "x", "i", "a"])
    if kind == 1:
        return rng.randrange(-(2**65), 2**65)
    if kind == 2:
        return "".join(rng.choice('lidta9[]{}"\\ \u00e9') for _ in range(rng.randrange(8)))
    if kind == 3:
        return rng.random() * 10 ** rng.randrange(-300, 300)
    if kind == 4:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    tag = rng.choice(["l", "t", "d", "i", "a", "x", "l"])
    if kind == 5:
        return {tag: _random_json(rng, depth + 1)}
    if kind == 6:
        return {tag: [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]}
    if kind == 7:
        return {
            "a": [
                rng.choice(["<f8", "O", "|V8", "<U3", 5, "S0"]),
                rng.choice([[1], [-1], [2, 2], "x", [2**40]]),
                rng.choice(["AAAAAAAAAAA=", "!!", 3, ""]),
            ]
        }
    return {tag: _random_json(rng, depth + 1), "y": 1}


def test_the_decoder_accepts_what_encode_makes_and_refuses_anything_else_with_wire_error():
    np = pytest.importorskip("numpy")
    good = [1, 2**80, -(2**70), "s", [1, (2, {"k": [None]})], {(1, 2): 3.5}, np.arange(6).reshape(2, 3)]
    for value in good:
        back = wire.decode(json.loads(wire.dumps({"v": wire.encode(value)}))["v"])
        assert repr(back) == repr(value)
    rng = random.Random(15)
    for _ in range(20000):
        obj = _random_json(rng)
        try:
            wire.decode(obj)
        except wire.WireError:
            pass


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe\x00garbage",
        b"[" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b"9" * 100_000,
        b"[1, 2]",
        b"",
        bytes(random.Random(1).randrange(256) for _ in range(5000)),
    ],
    ids=["utf8", "deep_list", "deep_object", "huge_number", "not_an_object", "empty", "random"],
)
def test_a_malformed_frame_is_a_wire_error(payload):
    with pytest.raises(wire.WireError):
        wire.loads(payload)


def test_deeply_nested_values_are_a_wire_error():
    deep = 1
    for _ in range(5000):
        deep = {"l": [deep]}
    with pytest.raises(wire.WireError):
        wire.decode(deep)
    for forged in (
        {"i": "9" * 100_000},
        {"l": 5},
        {"d": [[[1], 2]]},
        {"d": [[{"l": [1]}, 2]]},
        {"d": [1]},
        {"a": ["<f8", [3], "AAAA"]},
        {"a": ["O", [1], "AAAAAAAAAAA="]},
        {"t": None},
    ):
        with pytest.raises(wire.WireError):
            wire.decode(forged)


# Program-profile code finds its data channel among its few descriptors and writes a forged frame on it.
FORGE = """
import os, stat, struct, time
payload = PAYLOAD
for fd in range(3, 64):
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            continue
    except OSError:
        continue
    os.write(fd, struct.pack("!I", len(payload) if HEADER is None else HEADER) + payload)
    break
time.sleep(0.2)
os._exit(0)
"""
FORGED = {
    "undecodable": (b"\xff\xfe not json", None),
    "deep_nesting": (b"[" * 200_000, None),
    "huge_number": (b'{"op": "done", "status": "ok", "value": {"i": "' + b"9" * 50_000 + b'"}}', None),
    "wrong_value_type": (b'{"op": "done", "status": "ok", "value": {"l": 5}}', None),
    "wrong_status": (b'{"op": "done", "status": "fine", "value": 1}', None),
    "wrong_line_type": (b'{"op": "done", "status": "error", "line": [1, 2], "error": "x"}', None),
    "object_array": (b'{"op": "done", "status": "ok", "value": {"a": ["O", [1], "AAAAAAAAAAA="]}}', None),
    "oversize_header": (b"x", 2**31),
    "unknown_op": (b'{"op": "exec", "code": "1"}', None),
}


@pytest.mark.parametrize("name", FORGED.keys())
def test_a_forged_frame_ends_the_run_as_a_protocol_error_and_the_host_runs_the_next(name):
    payload, header = FORGED[name]
    code = FORGE.replace("PAYLOAD", repr(payload)).replace("HEADER", repr(header))
    with Sandbox(profile="program", timeout=20.0, memory_mb=512) as sb:
        out = sb.run(code)
        assert out.status == "error", out
        assert out.error_type == "ProtocolError", out
        after = sb.run("x = 6 * 7", return_name="x")
        assert after.status == "ok" and after.value == 42, after


# After its result, a thread of the program keeps writing forged frames (a half frame first, so that what
# follows cannot be told apart from a frame) until the host ends the process (the program profile's stdout
# is the worker's own again once the program has returned, right before the result goes out).
FLOOD_AFTER_RESULT = """
import os, stat, sys, threading, time
fd = next(f for f in range(3, 64) if _is_socket(f))
during = sys.stdout  # the run's output: swapped back once the program is done and its result is on its way
def flood():
    while sys.stdout is during:
        pass
    os.sched_yield()
    os.write(fd, b"\\x00\\x00\\x10\\x00{\\"op\\": \\"done\\"")
    while True:
        os.write(fd, b'{"op": "done", "status": "ok", "value": 666}' * 50)
threading.Thread(target=flood, daemon=True).start()
X = 1
"""
IS_SOCKET = """
import os, stat
def _is_socket(fd):
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        return False
"""


def test_what_a_finished_child_writes_never_reaches_a_later_run():
    """The outcome returns on the result, and the next run starts while that child still ends: whatever it
    writes meanwhile stays on its own channel and is thrown away before the channel is used again, back to
    back or not. (A race by nature: the flood lands after the result in some rounds, before it in others; with
    the throw-away removed, a later run read it in about one try in three.)"""
    late = 0
    with Sandbox(profile="program", modules=(), timeout=20.0) as sb:
        for pause in (0, 0, 0.1, 0, 0.1, 0, 0, 0):
            flooded = sb.run(IS_SOCKET + FLOOD_AFTER_RESULT, return_name="X")
            # Its own outcome is the result, or a ProtocolError where the flood got out first.
            assert (flooded.status, flooded.value) == ("ok", 1) or flooded.error_type == "ProtocolError"
            late += flooded.status == "ok"
            time.sleep(pause)
            for _ in range(2):
                after = sb.run("x = 6 * 7", return_name="x")
                assert after.status == "ok" and after.value == 42, after
    assert late, "the flood never came after the result: this test did not test anything"
