"""Inspect or clear the SQLite cache of LLM responses (default: $CAP_CACHE or ~/.cache/cap/llm.sqlite)."""

from __future__ import annotations

import argparse
import json

from cap.errors import CapError
from lmp.cache import ResponseCache


def add_arguments(parser: argparse.ArgumentParser, action: str = "stats") -> None:
    parser.set_defaults(cache_action=action)
    parser.add_argument(
        "--cache-path", metavar="FILE", help="the cache file (default: $CAP_CACHE or ~/.cache/cap/llm.sqlite)"
    )
    if action == "stats":
        parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    cache = ResponseCache(args.cache_path)
    if args.cache_action == "clear":
        was_usable = cache.usable
        try:
            removed = cache.clear()
        except OSError as exc:
            raise CapError(f"cannot remove {cache.path}: {exc.strerror or exc}") from None
        if was_usable:
            print(f"cleared {removed} cached responses from {cache.path}")
        else:
            print(f"removed the unreadable cache {cache.path}; the next run starts a fresh one")
        return 0
    stats = cache.stats()
    if args.json:
        print(json.dumps(stats))
    else:
        print(f"path:    {stats['path']}\nentries: {stats['entries']}\nbytes:   {stats['bytes']}")
        if stats["problem"]:
            print(f"problem: {stats['problem']}")
    return 0 if stats["usable"] else 1
