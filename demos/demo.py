"""`make demo`: from a sentence to a robot doing it, live on the embedded local model.

Each command goes the whole way: the UI LMP asks the local model (Qwen2.5-Coder-1.5B through llama.cpp, on
this machine) for a policy, hierarchical fgen has it write the helper functions the policy calls, the sandbox
runs the code, PyBullet moves the arm, and the task checker judges the result. Three commands have a
recording; two more are ones no recording holds, so what you see is the model at work. Pictures go to
demo_out/, the transcript of every model call to demo_out/transcript.jsonl.

If the local model is not installed (`make demo` tries; it needs a C/C++ compiler and ~3 GB of disk), the
demo says so and replays cap/data/demo_replay.jsonl, a transcript recorded from the same local model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cap.cli import main as cap_main

REPLAY = Path(__file__).resolve().parents[1] / "cap" / "data" / "demo_replay.jsonl"
RECORDED = [("pick-place", 0), ("stack-blocks", 0), ("blocks-in-matching-bowls", 0)]
LIVE_ONLY = [("pick-place", 3), ("blocks-to-corner", 1)]  # no recording holds these


def local_model_ready() -> tuple[bool, str]:
    from lmp.local import catalog
    from lmp.local.install import model_path, runtime_version, verified

    spec = catalog.spec(catalog.DEFAULT_SIZE)
    if runtime_version() != catalog.RUNTIME_VERSION:
        return False, "the llama.cpp runtime (llama-cpp-python) is not installed"
    if not verified(spec):
        return False, f"{spec.name} is not installed in {model_path(spec).parent}"
    return True, spec.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="an endpoint's model instead of the local one (with --base-url)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint for --model")
    parser.add_argument("--replay", action="store_true", help="replay the recording instead of a live model")
    parser.add_argument("--out", default="demo_out", help="where pictures go (default demo_out/)")
    args = parser.parse_args(argv)

    from robot_api.tasks import get_task

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    episodes = list(RECORDED)
    if args.model:
        source = ["--model", args.model] + (["--base-url", args.base_url] if args.base_url else [])
        episodes += LIVE_ONLY
        print(f"Live demo on {args.model}.\n")
    else:
        ready, what = (False, "--replay was asked for") if args.replay else local_model_ready()
        if ready:
            source = ["--model", "local"]
            episodes += LIVE_ONLY
            print(
                f"Live demo on the local model {what} (llama.cpp, 2 CPU cores: the first command of a cold "
                "machine takes up to a minute while the prompts are evaluated; they are cached on disk after).\n"
            )
        else:
            source = ["--replay", str(REPLAY)]
            print(
                f"Replayed demo: {what}, so model answers come from {REPLAY.name}, a transcript recorded "
                "from the local model (run `make model` or `cap model install` for the live demo).\n"
            )
    if "--replay" not in source:
        source += ["--transcript", str(out / "transcript.jsonl")]
    failures = 0
    for i, (task, seed) in enumerate(episodes, 1):
        command = get_task(task).instance(seed).command
        live = " (no recording: live only)" if (task, seed) in LIVE_ONLY else ""
        print(f'=== {i}/{len(episodes)}  {task} (seed {seed}){live}:  "{command}"')
        pictures = ["--png", str(out / f"{i}-{task}.png"), "--gif", str(out / f"{i}-{task}.gif")]
        code = cap_main(["run", command, "--task", task, "--seed", str(seed), *source, *pictures])
        failures += code != 0
        print()
    print(f"Pictures: {out}/ (PNG: top-down and oblique views after each command; GIF: each episode)")
    print("Next: cap repl    (type any command; the local model writes the code)")
    print(
        '      cap run "stack all the blocks" --task stack-blocks --base-url http://localhost:8000/v1 --model MODEL'
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
