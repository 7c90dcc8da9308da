"""Not built yet: `cap doctor` exits 2 with a message until its issue lands."""

from __future__ import annotations

import argparse

from cap.errors import not_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    return not_available("doctor")
