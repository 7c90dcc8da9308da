"""SQLite response cache shared by threads and processes (WAL), keyed by everything that shapes an answer.

The sample index is part of the key, so n samples at temperature > 0 stay n distinct answers. A cache that
cannot be opened or read is reported once and then ignored: a broken cache never stops a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from lmp.types import Completion, Request


def default_cache_path() -> Path:
    """`$CAP_CACHE`, else `~/.cache/cap/llm.sqlite`."""
    return Path(os.environ.get("CAP_CACHE") or Path.home() / ".cache" / "cap" / "llm.sqlite")


def cache_key(kind: str, model: str, request: Request, sample: int) -> str:
    """sha256 of everything that shapes one sample's answer; `lmp` and `query` are left out on purpose, since
    two LMPs sending the same prompt get the same answer from the model."""
    material = {
        "kind": kind,
        "model": model,
        "prompt": request.prompt,
        "messages": request.messages,
        "stop": list(request.stop),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "sample": sample,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class ResponseCache:
    """Per-sample answers in one SQLite file; one connection per thread, WAL so processes share the file."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path else default_cache_path()
        self._local = threading.local()
        self._broken: str | None = None
        self._warn_lock = threading.Lock()
        self._connect()  # fail early (and warn once) rather than on the first answer

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        for attempt in range(50):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
                    "model TEXT, usage TEXT, finish_reason TEXT)"
                )
                conn.execute("SELECT count(*) FROM responses").fetchone()
                break
            except sqlite3.OperationalError as exc:
                # Several processes creating the file at once: switching it to WAL can report "locked"
                # at once, without waiting for the busy timeout. That is contention, not a broken cache.
                if "locked" not in str(exc) or attempt == 49:
                    self._disable(exc)
                    return None
                time.sleep(0.05 * (attempt + 1))
            except (sqlite3.Error, OSError) as exc:
                self._disable(exc)
                return None
        self._local.conn = conn
        return conn

    def _disable(self, exc: BaseException) -> None:
        with self._warn_lock:
            if self._broken is None:
                self._broken = str(exc)
                print(
                    f"warning: LLM cache {self.path} is unusable ({exc}); continuing without a cache. "
                    f"Fix: delete the file or run `cap cache clear`.",
                    file=sys.stderr,
                )

    @property
    def usable(self) -> bool:
        return self._broken is None

    def get(self, key: str) -> Completion | None:
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT text, model, usage, finish_reason FROM responses WHERE key=?", (key,)
            ).fetchone()
        except sqlite3.Error as exc:
            self._disable(exc)
            return None
        if row is None:
            return None
        text, model, usage, finish_reason = row
        try:
            usage_dict = json.loads(usage or "{}")
        except ValueError:
            usage_dict = {}
        return Completion(
            text=text,
            model=model or "",
            usage=usage_dict if isinstance(usage_dict, dict) else {},
            cached=True,
            finish_reason=finish_reason,
        )

    def put(self, key: str, completion: Completion) -> None:
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    completion.text,
                    completion.model,
                    json.dumps(completion.usage),
                    completion.finish_reason,
                ),
            )
        except sqlite3.Error as exc:
            self._disable(exc)

    def _files(self) -> list[Path]:
        """The database and its WAL companions (never a neighbour that merely shares the name prefix)."""
        return [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"), Path(f"{self.path}-journal")]

    def stats(self) -> dict[str, Any]:
        """path, entries (None if unusable), bytes on disk (database + WAL), usable, problem."""
        conn = self._connect()
        entries = None
        if conn is not None:
            try:
                entries = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
            except sqlite3.Error as exc:
                self._disable(exc)
        size = sum(p.stat().st_size for p in self._files() if p.exists())
        return {
            "path": str(self.path),
            "entries": entries,
            "bytes": size,
            "usable": self.usable,
            "problem": self._broken,
        }

    def clear(self) -> int:
        """Delete every entry and return how many there were; an unreadable file is removed instead."""
        conn = self._connect()
        if conn is not None:
            try:
                n = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
                conn.execute("DELETE FROM responses")
                conn.execute("VACUUM")
                return n
            except sqlite3.Error as exc:
                self._disable(exc)
        for p in self._files():
            if p.is_file():
                p.unlink()
        return 0
