"""Scripted model answers for the UI tests, served by the loopback OpenAI server (tests/openai_server.py).

Two commands on stack-blocks seed 0 (blue, green and red blocks, a green bowl): a stacking command whose code
calls a function the model then defines (fgen), and a follow-up. These are hand-written answers, not model
output.
"""

from __future__ import annotations

import re

STACK = "stack the blocks on the green block"
STACK_CODE = "say('stacking')\nstack_on('green block', ['red block', 'blue block'])"
STACK_ON = (
    "def stack_on(base, names):\n"
    "    for name in names:\n"
    "        put_first_on_second(name, base)\n"
    "        base = name"
)
SAY = "tell me how many blocks there are"
SAY_CODE = "say(f\"{len([n for n in get_obj_names() if n.endswith('block')])} blocks\")"


def fenced(code: str) -> str:
    return f"Here is the code:\n```python\n{code}\n```"


def last_line(body: dict) -> str:
    text = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
    return text.rstrip("\n").splitlines()[-1]


def respond(body: dict) -> str:
    """The answer for any request the UI sends for the two commands above (an error text otherwise)."""
    line = last_line(body)
    if re.match(r"# define function: .*stack_on\(", line):
        return fenced(STACK_ON)
    if line == f"# {STACK}.":
        return fenced(STACK_CODE)
    if line == f"# {SAY}.":
        return fenced(SAY_CODE)
    return f"no scripted answer for {line!r}"
