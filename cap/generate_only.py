"""The original's `debug_mode`: generate a command's code (and every function it needs) and show it, run nothing.

`cap run --no-exec` and the REPL's `:debug on` use it. The robot does not move, no task is checked
(`task_success` is null) and the episode says `executed: false`; the status is `ok` when the code was
generated, `error` when generation failed. A command that was only generated does not enter the session
history: nothing it would have done has happened.
"""

from __future__ import annotations

from typing import Any

from cap.episode import Episode
from cap.llm_episode import accounted_episode
from cap.policy_stack import PolicyStack, scene_context
from lmp.lmp import LMPError


def generate_command(session: Any, stack: PolicyStack, command: str) -> Episode:
    """Generate the policy for `command` in the session's current scene, without executing it."""
    with accounted_episode(session, stack, command, status="ok", executed=False) as ep:
        try:
            run = stack.prepare(command, scene_context(session.api.get_obj_names()))
            ep.code = run.generation.code
        except LMPError as exc:
            ep.status, ep.error = "error", f"generation failed: {exc}"
    return ep
