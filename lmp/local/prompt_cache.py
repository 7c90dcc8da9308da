"""Evaluated prompt prefixes of a llama.cpp context, kept so a call pays only for the part that is new.

Every LMP sends a long few-shot prefix (1,300-1,900 tokens, ~45 s of prompt processing on 2 cores) followed by
a short query. llama.cpp already reuses the common prefix with whatever the context holds, but LMPs alternate
(tabletop_ui, parse_obj_name, fgen, ...), so each switch would evaluate a whole prefix again. This cache keeps
the context state (the KV cells) of prompts seen before; a new prompt loads the entry sharing its longest
token prefix, and llama.cpp evaluates only the rest.

When a prompt shares a long prefix with an entry that is longer than that prefix (two queries of one LMP),
the shared part is what is worth keeping: the entry is cut to the shared prefix and stored under it, so one
entry per LMP prefix remains however many queries follow. The state of llama-cpp-python's `save_state` also
copies every evaluated token's logits (600 KB per token with Qwen's vocabulary, 1.2 GB for one prefix): that is
what grew its own RAM cache to 23 GB. Entries here hold only the KV state and the tokens.

Bounded twice, least recently used out: `memory_bytes` in RAM, `disk_bytes` on disk. Disk entries live under
a directory named by the model file's hash and are named by the hash of their tokens, so a fresh process
starts warm and a different model never sees them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MIN_SHARED_PREFIX = 64  # tokens: a shorter common prefix is no LMP prefix
# An entry is used (and cut down to the shared part) only when the new prompt shares at least this much of it:
# two queries of one LMP share ~95% (the few-shot prefix); two LMPs share only the chat system message (~4%),
# and cutting an LMP's entry down to that would throw its prefix away.
USEFUL_FRACTION = 0.5


# A prompt whose cached part leaves more than this many tokens to evaluate is stored as a new candidate. A
# query, an `objects = [...]` line or a fix request's code and error (tens to ~150 tokens) stay under it, so
# they do not churn the cache; an edited few-shot prefix does not (one edited example late in the tabletop
# prompt left 394 of 2,426 tokens to evaluate on every call, 5 s each, under the first bound of 20 %).
def uncovered_allowance(prompt_tokens: int) -> int:
    return max(192, prompt_tokens // 12)


def worth_using(entry_tokens: int, shared: int) -> bool:
    return shared >= MIN_SHARED_PREFIX and shared >= USEFUL_FRACTION * entry_tokens


@dataclass
class Entry:
    tokens: np.ndarray  # int32, the evaluated tokens the state holds
    state: bytes | None  # llama_state_get_data bytes; None while only on disk
    key: str

    @property
    def nbytes(self) -> int:
        return len(self.state or b"") + self.tokens.nbytes


def tokens_key(tokens: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(tokens, dtype=np.int32).tobytes()).hexdigest()[:32]


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(a[:n] != b[:n])
    return int(diff[0]) if len(diff) else n


class PromptStateCache:
    """The store; `LlamaContextStates` below does the llama.cpp side. Thread-safe (one lock)."""

    def __init__(self, memory_bytes: int, disk_dir: Path | None = None, disk_bytes: int = 0):
        self.memory_bytes = memory_bytes
        self.disk_dir = disk_dir
        self.disk_bytes = disk_bytes if disk_dir else 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self.stats = {"hits": 0, "misses": 0, "disk_loads": 0, "stored": 0, "evicted": 0}
        if disk_dir is not None:
            disk_dir.mkdir(parents=True, exist_ok=True)
            self._index_disk()

    # -- lookup ------------------------------------------------------------------------------------
    def best(self, tokens: np.ndarray) -> tuple[Entry | None, int]:
        """The entry sharing the longest prefix with `tokens`, among those worth using (`worth_using`)."""
        with self._lock:
            best, length = None, 0
            for entry in self._entries.values():
                n = common_prefix(entry.tokens, tokens)
                if n > length and worth_using(len(entry.tokens), n):
                    best, length = entry, n
            if best is None:
                self.stats["misses"] += 1
                return None, 0
            self._entries.move_to_end(best.key)
            self.stats["hits"] += 1
        if best.state is None:
            self._load_from_disk(best)
        return best, length

    def memory_used(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values() if e.state is not None)

    def __len__(self) -> int:
        return len(self._entries)

    # -- store -------------------------------------------------------------------------------------
    def put(self, tokens: np.ndarray, state: bytes, replaces: Entry | None = None) -> Entry:
        tokens = np.ascontiguousarray(tokens, dtype=np.int32).copy()
        entry = Entry(tokens, state, tokens_key(tokens))
        with self._lock:
            if replaces is not None and replaces.key in self._entries and replaces.key != entry.key:
                del self._entries[replaces.key]
                self._remove_disk(replaces.key)
            self._entries[entry.key] = entry
            self._entries.move_to_end(entry.key)
            self.stats["stored"] += 1
            self._evict_memory()
        if self.disk_dir is not None:
            self._write_disk(entry)
        return entry

    def _evict_memory(self) -> None:
        """Drop states from RAM, oldest first, until the memory bound holds (disk copies stay)."""
        used = sum(e.nbytes for e in self._entries.values() if e.state is not None)
        for entry in list(self._entries.values()):
            if used <= self.memory_bytes:
                break
            if entry.state is None:
                continue
            used -= entry.nbytes
            self.stats["evicted"] += 1
            if self.disk_dir is not None and (self.disk_dir / f"{entry.key}.state").exists():
                entry.state = None  # still findable, reloaded from disk on a hit
            else:
                del self._entries[entry.key]

    # -- disk --------------------------------------------------------------------------------------
    def _index_disk(self) -> None:
        assert self.disk_dir is not None
        files = sorted(self.disk_dir.glob("*.tokens.npy"), key=lambda p: p.stat().st_mtime)
        for path in files:
            key = path.name.removesuffix(".tokens.npy")
            if not (self.disk_dir / f"{key}.state").exists():
                path.unlink(missing_ok=True)
                continue
            try:
                tokens = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                self._remove_disk(key)
                continue
            self._entries[key] = Entry(tokens.astype(np.int32), None, key)

    def _load_from_disk(self, entry: Entry) -> None:
        assert self.disk_dir is not None
        path = self.disk_dir / f"{entry.key}.state"
        try:
            data = path.read_bytes()
            os.utime(path)  # recency for the disk bound
        except OSError:
            data = None
        with self._lock:
            if data is None:
                self._entries.pop(entry.key, None)
                return
            entry.state = data
            self.stats["disk_loads"] += 1
            self._evict_memory()

    def _write_disk(self, entry: Entry) -> None:
        """Atomic per file (tmp + rename), then the disk bound; a torn write leaves no half entry behind."""
        assert self.disk_dir is not None and entry.state is not None
        state_path = self.disk_dir / f"{entry.key}.state"
        tokens_path = self.disk_dir / f"{entry.key}.tokens.npy"
        tmp = state_path.with_suffix(".tmp")
        try:
            tmp.write_bytes(entry.state)
            tmp.replace(state_path)
            with open(tokens_path.with_suffix(".tmp"), "wb") as f:
                np.save(f, entry.tokens, allow_pickle=False)
            tokens_path.with_suffix(".tmp").replace(tokens_path)
        except OSError:
            self._remove_disk(entry.key)
            return
        self._evict_disk()

    def _evict_disk(self) -> None:
        assert self.disk_dir is not None
        states = sorted(self.disk_dir.glob("*.state"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in states)
        for path in states:
            if total <= self.disk_bytes:
                break
            total -= path.stat().st_size
            key = path.name.removesuffix(".state")
            self._remove_disk(key)
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.state is None:
                    del self._entries[key]

    def _remove_disk(self, key: str) -> None:
        if self.disk_dir is None:
            return
        for suffix in (".state", ".tokens.npy"):
            (self.disk_dir / f"{key}{suffix}").unlink(missing_ok=True)


class LlamaContextStates:
    """Saves and restores a `llama_cpp.Llama` context through a `PromptStateCache`."""

    def __init__(self, llm: Any, cache: PromptStateCache):
        import llama_cpp

        self._lib = llama_cpp
        self.llm = llm
        self.cache = cache
        self._missed = False

    def prepare(self, tokens: list[int]) -> int:
        """Put the context in the best cached state for `tokens`; the number of prompt tokens it covers.

        On a miss the next `store()` keeps this prompt's state as a candidate; the first later prompt that
        shares a long prefix with it cuts it down to that prefix, and from then on the prefix entry is hit.
        """
        llm = self.llm
        wanted = np.asarray(tokens, dtype=np.int32)
        live = common_prefix(np.asarray(llm.input_ids[: llm.n_tokens], dtype=np.int32), wanted)
        entry, shared = self.cache.best(wanted)
        # Store this prompt afterwards unless the cache already covers nearly all of it: a hit on a short
        # entry (a header several LMPs share), or on the older version of an edited prompt (its first
        # examples unchanged), must not keep this LMP's own prefix out of the cache for good.
        self._missed = entry is None or len(wanted) - shared > uncovered_allowance(len(wanted))
        if entry is None:
            return min(live, len(tokens) - 1)
        if shared > live and entry.state is not None:
            self._load(entry)
            live = shared
        if shared < len(entry.tokens) and live >= shared:
            # Two prompts with one prefix: keep that prefix as its own entry, in place of the longer one.
            self.truncate(shared)
            live = shared
            self.cache.put(wanted[:shared], self._save(), replaces=entry)
        return min(live, len(tokens) - 1)  # llama.cpp evaluates at least the last prompt token again

    def store(self) -> None:
        """After a generation that missed the cache: keep this prompt's state as a prefix candidate."""
        llm = self.llm
        if self._missed and llm.n_tokens >= MIN_SHARED_PREFIX:
            self.cache.put(np.asarray(llm.input_ids[: llm.n_tokens], dtype=np.int32), self._save())
        self._missed = False

    def _save(self) -> bytes:
        ctx = self.llm._ctx.ctx
        size = self._lib.llama_state_get_size(ctx)
        buf = (self._lib.ctypes.c_uint8 * int(size))()
        n = self._lib.llama_state_get_data(ctx, buf, size)
        return bytes(memoryview(buf)[: int(n)])

    def _load(self, entry: Entry) -> None:
        llm = self.llm
        data = entry.state
        assert data is not None
        buf = (self._lib.ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if self._lib.llama_state_set_data(llm._ctx.ctx, buf, len(data)) != len(data):
            raise RuntimeError("llama.cpp refused a cached prompt state")
        n = len(entry.tokens)
        llm.input_ids[:n] = entry.tokens
        llm.n_tokens = n
        llm._requires_eval = True

    def truncate(self, n: int) -> None:
        llm = self.llm
        if n < llm.n_tokens:
            llm._ctx.kv_cache_seq_rm(-1, n, -1)
            llm.n_tokens = n
            llm._requires_eval = True
