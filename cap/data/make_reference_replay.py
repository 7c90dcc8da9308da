"""Writes reference_replay.jsonl: hand-written reference answers, recorded through the real stack.

The answers below were written by a person, not by a model. Running them through the real LMP stack with a
scripted backend named "hand-written-reference" records them in the transcript format, with the exact
queries (scene objects, fgen call sites) that `cap run --replay` will ask for. Regenerate after changing a
prompt's query format or the scenes:

    python cap/data/make_reference_replay.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from cap.evals.tabletop import TabletopSession
from cap.llm_episode import run_command
from cap.policy_stack import PolicyStack
from lmp import LLMClient, TranscriptWriter
from lmp.backends.scripted import ScriptedBackend
from robot_api.tabletop import TabletopAPI

MODEL = "hand-written-reference"
OUT = Path(__file__).with_name("reference_replay.jsonl")

# (LMP, last line of the query) -> the answer, as a person wrote it.
ANSWERS = {
    # 1. pick-place seed 0: direct API calls only.
    ("tabletop_ui", "# pick up the green block and place it on the green bowl."): (
        "say('Ok - putting the green block on the green bowl')\n"
        "put_first_on_second('green block', 'green bowl')"
    ),
    # 2. stack-blocks seed 0: a nested LMP and a helper that fgen generates.
    ("tabletop_ui", "# stack all the blocks."): (
        "block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
        "say(f'Stacking {len(block_names)} blocks')\n"
        "stack_objects_in_order(object_names=block_names)"
    ),
    ("parse_obj_name", "# the blocks."): "ret_val = [name for name in get_obj_names() if name.endswith('block')]",
    ("fgen", "# define function: stack_objects_in_order(object_names=block_names)."): (
        "def stack_objects_in_order(object_names):\n"
        "    for lower, upper in zip(object_names, object_names[1:]):\n"
        "        put_first_on_second(upper, lower)"
    ),
    # 3. blocks-in-matching-bowls seed 0: a helper whose own helper fgen generates one level deeper.
    ("tabletop_ui", "# put all the blocks in the bowls with matching colors."): (
        "say('Putting each block in the bowl of its color')\n"
        "block_names = parse_obj_name('the blocks', f'objects = {get_obj_names()}')\n"
        "put_blocks_in_matching_bowls(block_names)"
    ),
    ("fgen", "# define function: put_blocks_in_matching_bowls(block_names)."): (
        "def put_blocks_in_matching_bowls(block_names):\n"
        "    for block_name in block_names:\n"
        "        bowl_name = matching_bowl_name(block_name)\n"
        "        if is_obj_visible(bowl_name):\n"
        "            put_first_on_second(block_name, bowl_name)"
    ),
    ("fgen", "# define function: bowl_name = matching_bowl_name(block_name)."): (
        "def matching_bowl_name(block_name):\n"
        "    return block_name.replace('block', 'bowl')"
    ),
}
EPISODES = [("pick-place", 0), ("stack-blocks", 0), ("blocks-in-matching-bowls", 0)]


def answer(request):
    key = (request.lmp, request.query.splitlines()[-1])
    if key not in ANSWERS:
        raise KeyError(f"no hand-written answer for {key}")
    return f"```python\n{ANSWERS[key]}\n```"


def main() -> int:
    OUT.unlink(missing_ok=True)
    with TranscriptWriter(OUT) as transcript:
        client = LLMClient(ScriptedBackend(answer, model=MODEL), transcript=transcript)
        stack = PolicyStack(client, TabletopAPI.describe())
        with TabletopSession(extra_api=stack.nested_functions()) as session:
            stack.bind(session.sandbox.run)
            for task, seed in EPISODES:
                stack.reset()
                inst = session.setup(task, seed)
                ep = run_command(session, stack, inst.command)
                print(task, seed, ep.status, ep.task_success, ep.functions, ep.error, file=sys.stderr)
                if not (ep.status == "ok" and ep.task_success):
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
