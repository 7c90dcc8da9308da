"""Writing a controller with a model: lmp.fgen defines the task's controller from its call site, where the
hint (condition "hint") sits as comments above the call; helpers it calls are generated recursively. The
environment, its seed and the success rule never reach the model."""

from __future__ import annotations

from typing import Any

from cap.evals.common.llm import WatchedClient
from cap.evals.control.tasks import ControlTask

CONDITIONS = ("hint", "no_hint")

PROMPT = """\
# Python controllers for robots and machines. Each one is defined from the way it is called; the comments
# above a call say what the inputs and outputs mean. Controllers return a discrete action number.
import numpy as np
# define function: heater = thermostat(temperature, setpoint).
def thermostat(temperature, setpoint):
    # 1 turns the heater on, 0 off; a small band avoids switching on every step.
    return 1 if temperature < setpoint - 0.5 else 0
# define function: action = line_follower(offset, heading_error).
def line_follower(offset, heading_error):
    # offset > 0: right of the line. Steer back with a PD law: 0 steers left, 1 straight, 2 right.
    u = -2.0 * offset - 0.5 * heading_error
    if u > 0.05:
        return 2
    if u < -0.05:
        return 0
    return 1
# define function: action = balance_board(tilt, tilt_rate).
def balance_board(tilt, tilt_rate):
    # push (1) or pull (0) the board's lever against the tilt and its rate
    return 1 if 3.0 * tilt + 0.8 * tilt_rate > 0 else 0
"""


def query_code(task: ControlTask, condition: str) -> str:
    """The code whose undefined call fgen answers: the hint as comments (condition "hint"), then the call."""
    return f"{task.hint}\n{task.signature}" if condition == "hint" else task.signature


def make_lmp(client: WatchedClient, api: str = "chat", max_tokens: int = 512):
    from lmp import LMP, LMPConfig

    config = LMPConfig(
        "control_fgen",
        prompt=PROMPT,
        query_prefix="# define function: ",
        stop=("# define",),
        include_context=False,
        api=api,  # type: ignore[arg-type]
        max_tokens=max_tokens,
    )
    return LMP(config, client)


def generate(
    task: ControlTask, condition: str, lmp: Any, client: WatchedClient
) -> tuple[str, list[str], str]:
    """(definitions, function names, error); raises LLMError when the model cannot be reached."""
    from lmp import FunctionGenerator, FunctionLibrary, LMPError

    generator = FunctionGenerator(lmp, FunctionLibrary(), known={"np"}, max_depth=3)
    try:
        made = generator.resolve(query_code(task, condition))
    except (LMPError, SyntaxError) as exc:
        client.reraise_unreachable()
        return "", [], str(exc)
    made.sort(key=lambda f: f.name != task.function)
    return "\n\n".join(f.source.strip("\n") for f in made), [f.name for f in made], ""
