"""Three ways to answer a scene question: directly in words, with chain-of-thought, or with code.

direct: the scene in words (names with coordinates), the question, "reply with the answer only".
cot:    the same, asked to think step by step and end with "Answer: ...".
code:   an LMP (few-shot, the original's `objects = [...]` context) writes code over the perception API that
        sets `ret_val`; helpers it calls without defining them are written by lmp.fgen (the tabletop fgen
        prompt, told only about the perception API); the code runs in the policy sandbox against the
        question's scene.
Only the question and its scene reach the model; the answer stays with the scorer.
"""

from __future__ import annotations

import re
from typing import Any

from cap.evals.reasoning.questions import Question
from robot_api.scene import PLACES

STYLES = ("direct", "cot", "code")

AXES = "x grows to the right, y grows towards the top of the table; units are metres."
OBJECT_REPLY = "The answer is one object name, written exactly as listed."
POSITION_REPLY = "The answer is a point, written as (x, y) with numbers in metres."

CODE_PROMPT = """\
# Python code that answers a question about the objects on a table and sets ret_val to the answer: the object's
# name (a str) for a "which ..." question, np.array([x, y]) for "a point ..." or "the centroid ..." questions.
import numpy as np
# Perception functions: get_obj_names() -> names; get_obj_pos(name) -> np.array([x, y]) (also for the named
# places 'top left corner', 'top side', 'top right corner', 'left side', 'middle', 'right side',
# 'bottom left corner', 'bottom side', 'bottom right corner'); get_bbox(name) -> ((x_min, y_min, z_min),
# (x_max, y_max, z_max)).
# x grows to the right, y grows towards the top of the table; units are metres.
objects = ['purple block', 'yellow bowl', 'gray block', 'orange bowl']
# which block is the highest up on the table.
block_names = [name for name in objects if name.endswith('block')]
ret_val = max(block_names, key=lambda name: get_obj_pos(name)[1])
objects = ['cyan bowl', 'red block', 'blue bowl', 'pink block', 'green block']
# which bowl is farthest from the pink block.
bowl_names = [name for name in objects if name.endswith('bowl')]
pink_pos = get_obj_pos('pink block')
ret_val = max(bowl_names, key=lambda name: np.linalg.norm(get_obj_pos(name) - pink_pos))
objects = ['brown block', 'yellow block', 'red bowl']
# a point 20 cm to the right of the red bowl.
ret_val = get_obj_pos('red bowl') + np.array([0.2, 0.0])
objects = ['blue block', 'orange block', 'green bowl', 'purple bowl']
# the point a third of the way from the blue block to the green bowl.
start, end = get_obj_pos('blue block'), get_obj_pos('green bowl')
ret_val = start + (end - start) / 3
"""


def scene_text(question: Question) -> str:
    places = ", ".join(f"{name} ({p[0]:.3f}, {p[1]:.3f})" for name, p in PLACES.items())
    return (
        f"Objects on a table ({AXES})\n{question.scene.describe()}\n"
        f"Named places on the table: {places}.\nQuestion: {question.text}"
    )


def language_request(question: Question, style: str, api: str = "chat", max_tokens: int = 512):
    """The request of the direct or cot style (one chat message, or a completion prompt)."""
    from lmp import Request

    reply = OBJECT_REPLY if question.group == "object" else POSITION_REPLY
    body = scene_text(question)
    if style == "direct":
        ask = f"{reply} Reply with the answer only, nothing else."
        tail = "\nAnswer:"
    else:
        ask = f"{reply} Think step by step, then give the final answer on the last line as 'Answer: ...'."
        tail = "\nLet's think step by step."
    common = {"lmp": f"reasoning_{style}", "query": body, "temperature": 0.0, "max_tokens": max_tokens}
    if api == "completions":
        return Request(prompt=f"{body}\n{ask}{tail}", stop=("\nQuestion:",), **common)
    return Request(messages=({"role": "user", "content": f"{body}\n{ask}"},), **common)


_NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)"
_PAIR = re.compile(rf"\(?\s*x?\s*=?\s*({_NUMBER})\s*(?:m\b)?\s*,\s*y?\s*=?\s*({_NUMBER})")


def answer_part(text: str, style: str) -> str:
    """The part of a reply that states the answer: after the last "Answer:" (cot), else all of it / the last
    line."""
    found = list(re.finditer(r"answer\s*[:\-]", text, flags=re.IGNORECASE))
    if found:
        return text[found[-1].end() :]
    if style == "cot":
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""
    return text


def parse_reply(text: str, question: Question, style: str) -> str | tuple[float, float] | None:
    """The object name or point a natural-language reply gives, None when it gives none."""
    part = answer_part(text, style)
    if question.group == "object":
        lowered = part.lower()
        hits = [(lowered.find(name), name) for name in question.scene.names() if name in lowered]
        return min(hits)[1] if hits else None
    match = _PAIR.search(part)
    return (float(match.group(1)), float(match.group(2))) if match else None


def code_config(api: str = "chat", max_tokens: int = 512):
    from lmp import LMPConfig

    return LMPConfig(
        "reasoning_code",
        prompt=CODE_PROMPT,
        return_val_name="ret_val",
        api=api,  # type: ignore[arg-type]
        max_tokens=max_tokens,
    )


def code_value(value: Any, question: Question) -> str | tuple[float, float] | Any:
    """What a code answer's ret_val says (a one-name list counts as the name)."""
    if question.group == "object" and isinstance(value, list | tuple) and len(value) == 1:
        return value[0]
    return value


def fgen_lmp(client: Any, api: str = "chat"):
    """The tabletop fgen LMP (prompts/fgen.j2), shown the perception API and the policies' imports."""
    from cap.evals.common.scene import perception_docs
    from cap.policy_stack import IMPORTS, tabletop_configs
    from lmp import LMP

    return LMP(
        tabletop_configs(api)["fgen"], client, {"imports": IMPORTS, "api": perception_docs(), "nested": []}
    )


def function_generator(lmp: Any):
    """A function generator with an empty library: each question's helpers are its own."""
    import ast

    from cap.evals.common.scene import PERCEPTION_NAMES
    from cap.policy_stack import IMPORTS
    from lmp import FunctionGenerator, FunctionLibrary
    from lmp.fgen import bound_names

    known = bound_names(ast.parse(IMPORTS)) | set(PERCEPTION_NAMES)
    return FunctionGenerator(lmp, FunctionLibrary(), known=known, max_depth=4)
