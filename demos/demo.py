"""`make demo`: three commands of growing difficulty, from a sentence to a robot doing it, fully offline.

Each command goes the whole way: the UI LMP writes a policy (answers replayed from a bundled transcript of
hand-written reference answers, labeled as such, since no model runs offline), hierarchical fgen writes the
helper functions the policy calls, the sandbox runs it, PyBullet moves the arm, and the task checker judges
the result. Pictures go to demo_out/. Point it at a live model with --base-url/--model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cap.cli import main as cap_main

REPLAY = Path(__file__).resolve().parents[1] / "cap" / "data" / "demo_replay.jsonl"
DEMO = [("pick-place", 0), ("stack-blocks", 0), ("blocks-in-matching-bowls", 0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="use a live model instead of the bundled replay")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint for --model")
    parser.add_argument("--out", default="demo_out", help="where pictures go (default demo_out/)")
    args = parser.parse_args(argv)

    from robot_api.tasks import get_task

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = (
        ["--model", args.model] + (["--base-url", args.base_url] if args.base_url else [])
        if args.model
        else ["--replay", str(REPLAY)]
    )
    if not args.model:
        print(
            f"Offline demo: model answers are replayed from {REPLAY.name}, hand-written reference answers (not model output).\n"
        )
    failures = 0
    for i, (task, seed) in enumerate(DEMO, 1):
        command = get_task(task).instance(seed).command
        print(f'=== {i}/{len(DEMO)}  {task} (seed {seed}):  "{command}"')
        pictures = ["--png", str(out / f"{i}-{task}.png"), "--gif", str(out / f"{i}-{task}.gif")]
        code = cap_main(["run", command, "--task", task, "--seed", str(seed), *source, *pictures])
        failures += code != 0
        print()
    print(f"Pictures: {out}/ (PNG: top-down and oblique views after each command; GIF: each episode)")
    print("Next: cap repl --replay cap/data/demo_replay.jsonl    or, with a live model:")
    print(
        '      cap run "stack all the blocks" --task stack-blocks --base-url http://localhost:8000/v1 --model MODEL'
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
