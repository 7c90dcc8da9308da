"""List the tabletop tasks: every instruction family of the original benchmark, in seen and unseen attribute splits."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help='print a list of {"name", "family", "description", "seen"}'
    )


def run(args: argparse.Namespace) -> int:
    from robot_api.tasks import TASKS

    rows = [t.as_dict() for t in TASKS.values()]
    if args.json:
        print(json.dumps(rows))
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"{'TASK':{width}}  SPLIT   INSTR.  DESCRIPTION")
    for r in rows:
        print(
            f"{r['name']:{width}}  {'seen' if r['seen'] else 'unseen':6}  {r['instructions']:6}  {r['description']}"
        )
    print(
        f"\n{len(rows)} tasks. Example: cap exec policy.py --task {rows[0]['name']} --seed 0 --png scene.png"
    )
    return 0
