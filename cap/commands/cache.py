"""Not built yet: `cap cache` exits 2 with a message until the LLM layer lands."""

from __future__ import annotations

import argparse

from cap.errors import not_available


def add_arguments(parser: argparse.ArgumentParser, action: str = "stats") -> None:
    parser.set_defaults(cache_action=action)


def run(args: argparse.Namespace) -> int:
    return not_available(f"cache {args.cache_action}")
