"""Records demo_replay.jsonl: the demo's three commands answered by the local model, through the real stack.

Every record is the local model's answer (its name in "model", the GGUF file's sha256 in "usage"), recorded
with the demo's settings (hierarchical, execution feedback on, the completions API), so `make demo` on a machine without the model
replays exactly what the model did here, failures included. Rerun after changing a prompt or the scenes:

    .venv/bin/python cap/data/make_demo_replay.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from cap.evals.tabletop import TabletopSession
from cap.llm_episode import run_command
from cap.policy_stack import PolicyStack, StackOptions
from lmp import LLMClient, TranscriptWriter
from lmp.backends.local import LocalBackend
from robot_api.tabletop import TabletopAPI

OUT = Path(__file__).with_name("demo_replay.jsonl")
EPISODES = [("pick-place", 0), ("stack-blocks", 0), ("blocks-in-matching-bowls", 0)]  # demos/demo.py RECORDED


def main() -> int:
    partial = OUT.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with TranscriptWriter(partial) as transcript:
        # the API `cap run` uses for the local model by default (cap/llm_options.py: local_api)
        client = LLMClient(LocalBackend(api="completions"), transcript=transcript)
        stack = PolicyStack(client, TabletopAPI.describe(), StackOptions(api="completions"))
        with TabletopSession(extra_api=stack.nested_functions()) as session:
            stack.bind(session.sandbox.run)
            for task, seed in EPISODES:
                stack.reset()
                inst = session.setup(task, seed)
                ep = run_command(session, stack, inst.command)
                print(task, seed, ep.status, ep.task_success, ep.functions, ep.error[:200], file=sys.stderr)
                if ep.status == "infra_error":
                    return 1
    partial.replace(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
