"""One command through the whole stack on the simulated tabletop: LMP -> fgen -> sandbox -> PyBullet -> check.

Shared by `cap run` and `cap bench tabletop --model/--replay`, so both report the same `Episode`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from cap.episode import Episode
from cap.policy_stack import PolicyStack, scene_context, with_imports
from lmp.lmp import LMPError

_LINE = re.compile(r"\(line (\d+)\)")


def run_command(session: Any, stack: PolicyStack, command: str) -> Episode:
    """Generate the policy for `command` in the session's current scene, run it, check the task if any.

    Generation failures (no code, syntax left after repair, fgen limits, LLM errors) are an `error` episode
    with the reason, never an exception. A successful command enters the UI LMP's session history.
    """
    started = time.perf_counter()
    before = set(stack.library.names())
    calls_before = stack.client.calls
    context = scene_context(session.api.get_obj_names())
    try:
        run = stack.prepare(command, context)
    except LMPError as exc:
        success, reason = session.check() if session.task else (None, "")
        inst = session.instance
        return Episode(
            task=inst.task if inst and session.task else None,
            seed=inst.seed if inst and session.task else None,
            command=command,
            status="error",
            task_success=success,
            reason=reason,
            error=f"generation failed: {exc}",
            seconds=time.perf_counter() - started,
            functions=sorted(set(stack.library.names()) - before),
            llm_calls=stack.client.calls - calls_before,
        )
    program = with_imports(run.program)
    ep = session.episode(stack.with_session(program, run), stack.session_inputs())
    ep.command = command
    ep.code = run.generation.code
    ep.error = _relative_line(ep.error, program, run.generation.code)
    ep.functions = [n for n in stack.library.names() if n not in before]
    ep.llm_calls = stack.client.calls - calls_before
    ep.seconds = time.perf_counter() - started
    if ep.status == "ok":
        stack.record_success(run)
    return ep


def _relative_line(error: str, program: str, code: str) -> str:
    """Errors point into the executed program (imports + functions + context + code); name the line of the
    generated code instead when the error is there, so the number matches what `cap run` prints."""
    offset = len(program.splitlines()) - len(code.splitlines())

    def fix(match: re.Match[str]) -> str:
        line = int(match.group(1))
        return f"(line {line - offset} of the generated code)" if line > offset else match.group(0)

    return _LINE.sub(fix, error)
