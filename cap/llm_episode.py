"""One command through the whole stack on the simulated tabletop: LMP -> fgen -> sandbox -> PyBullet -> check.

Shared by `cap run`, `cap repl` and `cap bench tabletop --model/--replay`, so all report the same `Episode`.

With execution feedback on (`--repair N > 0` or `--samples K > 1`), every attempt first runs as a dry run
(`session.rehearse`: on the simulator, the scene saved, run, restored; on a robot, a PyBullet twin of the
perceived scene; what the robot says is dropped, no frames are captured); a failed attempt's error goes back
to the model (`lmp.program`), and only the attempt that ran cleanly is then run for real (`session.perform`).
A failed command therefore leaves the world as it found it. With `--select consensus` all K samples are
rehearsed and the clean one whose final scene the most others share is performed (`cap.consensus`). The task
checker runs once, after the real run: it knows the answer and is never feedback.

An episode that failed for a reason outside the model (the model server unreachable, errors after the
retries, a replay without the answer, a crash of cap itself) has status "infra_error": it says nothing about
the model and is kept out of success rates (and retried when a benchmark resumes).
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Iterator
from typing import Any

from cap.consensus import Scene, most_agreed, votes
from cap.episode import Episode
from cap.policy_stack import PolicyStack, scene_context, with_imports, without_imports_lines
from lmp.lmp import LLMUnavailable
from lmp.program import Attempt
from lmp.types import LLMError

INFRA_ERROR = "infra_error"


def run_command(session: Any, stack: PolicyStack, command: str) -> Episode:
    """Generate the policy for `command` in the session's current scene, run it, check the task if any.

    Never raises for what a model or a server does (KeyboardInterrupt still stops it): generation failures
    are an `error` episode with the reason, infrastructure failures an `infra_error` one. A successful command
    enters the UI LMP's session history.
    """
    with accounted_episode(session, stack, command, status="error") as ep:
        stack.begin_command()
        try:
            _attempt_and_run(session, stack, command, ep)
        except (LLMUnavailable, LLMError) as exc:
            _infra(ep, f"the model could not be asked: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug of cap must not end a benchmark or look like the model's
            where = traceback.extract_tb(exc.__traceback__)[-1]
            _infra(ep, f"cap crashed: {type(exc).__name__}: {exc} ({where.filename}:{where.lineno})")
        if stack.watch.failure is not None and ep.status != INFRA_ERROR:
            _infra(ep, f"the model could not be asked: {stack.watch.failure}")
    return ep


@contextlib.contextmanager
def accounted_episode(session: Any, stack: PolicyStack, command: str, **fields: Any) -> Iterator[Episode]:
    """An episode of `command` in the session's scene (its task and seed, if it has a task); when the block
    ends it gets the functions generated meanwhile, the model calls made and the seconds taken."""
    started = time.perf_counter()
    before = set(stack.library.names())
    calls_before = stack.client.calls
    tokens_before = (stack.client.prompt_tokens, stack.client.completion_tokens)
    inst = session.instance if session.task else None
    ep = Episode(
        task=inst.task if inst else None,
        seed=inst.seed if inst else None,
        command=command,
        task_success=None,
        **fields,
    )
    try:
        yield ep
    finally:
        ep.functions = [n for n in stack.library.names() if n not in before]
        ep.llm_calls = stack.client.calls - calls_before
        ep.llm_tokens = {
            "prompt": stack.client.prompt_tokens - tokens_before[0],
            "completion": stack.client.completion_tokens - tokens_before[1],
        }
        ep.seconds = time.perf_counter() - started


def _infra(ep: Episode, message: str) -> None:
    ep.status, ep.error, ep.task_success, ep.reason = INFRA_ERROR, message, None, ""


def _attempt_and_run(session: Any, stack: PolicyStack, command: str, ep: Episode) -> None:
    names = list(session.api.get_obj_names())
    context = scene_context(names)
    dry = stack.options.dry_run
    said_before = len(session.api.said)
    by_consensus = dry and stack.options.samples > 1 and stack.options.select == "consensus"
    scenes: dict[str, Scene] = {}  # program -> where its dry run left every object

    def observe(program: str) -> Any:
        return lambda: scenes.__setitem__(program, final_scene(session.api, names))

    def execute(program: str) -> Any:
        # With a dry run, attempts are rehearsals: the simulator's scene is saved and restored (a robot
        # session rehearses on a PyBullet twin of what it perceives); only the clean one is performed.
        return _run(session, program, stack, rehearse=dry, observe=observe(program) if by_consensus else None)

    def select(clean: list[Attempt]) -> Attempt:
        return clean[most_agreed([scenes[a.run.program] for a in clean])]

    solution = stack.solve(command, context, execute, select=select if by_consensus else None)
    ep.attempts = [a.record() for a in solution.attempts]
    if by_consensus:
        _record_votes(ep.attempts, solution.attempts, scenes)
    kept = [a for a in solution.attempts if solution.run is not None and a.run is solution.run]
    final: Attempt = kept[0] if kept else solution.attempts[-1]
    ep.code = final.code
    outcome = None
    if solution.run is not None:
        outcome = _run(session, solution.run.program, stack) if dry else solution.run.outcome
    elif not dry and final.run is not None and final.run.outcome is not None:
        outcome = final.run.outcome  # no dry run: the one attempt moved the robot as it went
    if outcome is not None:
        ep.status, ep.stdout = str(outcome.status), str(outcome.stdout)
        if outcome.status == "ok":
            ep.error = ""
        elif solution.run is not None:  # ran cleanly in the dry run, not for real
            ep.error = f"{outcome.error} (in the real run; the dry run of the same program was clean)"
        else:
            ep.error = _describe(final)
    else:
        ep.status = "error"
        ep.error = _describe(final)
    ep.said = session.api.said[said_before:]
    ep.extra = session.extras()
    if session.task:
        ep.task_success, ep.reason = session.check()
    if ep.status == "ok" and solution.run is not None:
        stack.record_success(solution.run)


def _run(session: Any, program: str, stack: PolicyStack, rehearse: bool = False, observe: Any = None) -> Any:
    """Run with the variables earlier commands left (the original's maintain_session) and hand this
    program's variables to the host, which keeps those of the run that succeeds (`record_success`)."""
    code = with_imports(stack.with_session(program))
    if not rehearse:
        return without_imports_lines(session.perform(code, stack.session_inputs()))
    extra = {"observe": observe} if observe is not None else {}
    return without_imports_lines(session.rehearse(code, stack.session_inputs(), **extra))


def final_scene(api: Any, names: list[str]) -> Scene:
    """Where every object of the command's scene is, (x, y) in metres rounded to the millimetre."""
    return {name: [round(float(v), 3) for v in api.get_obj_pos(name)[:2]] for name in names}


def _record_votes(records: list[dict[str, Any]], attempts: list[Attempt], scenes: dict[str, Scene]) -> None:
    """Each clean sample's record says how many clean samples (itself included) ended in its scene, so an
    episode shows why consensus kept the program it kept."""
    clean = [(r, scenes[a.run.program]) for r, a in zip(records, attempts, strict=True) if a.ok]
    for (record, _), count in zip(clean, votes([scene for _, scene in clean]), strict=True):
        record["agree"] = count


def attempt_lines(ep: Episode) -> list[str]:
    """One line per attempt that did not run cleanly, for people (`cap run`, `cap repl`)."""
    lines = []
    for a in ep.attempts:
        if a["status"] == "ok":
            continue
        label = (
            a["kind"] + (f" {a['round']}" if a["round"] else "") + (f" #{a['sample']}" if a["sample"] else "")
        )
        where = f" in {a['where']}" if a["where"] else ""
        at = f" at line {a['line']}" if a["line"] else ""
        lines.append(f"attempt ({label}) failed{where}{at}: {a['error']}"[:300])
        for nested in a.get("nested", []):
            tries = len(nested["attempts"])
            lines.append(f"  nested {nested['lmp']}({nested['query']!r}): {tries} attempt(s)"[:300])
    return lines


def _describe(attempt: Attempt) -> str:
    """The error of an attempt, with its line counted in the generated code (or helper) a person reads."""
    if attempt.status == "no_code":
        return f"generation failed: {attempt.error}"
    error = attempt.failure.error if attempt.failure is not None else attempt.error
    if attempt.line is None:
        return error
    if attempt.where.startswith("helper "):
        return f"{error} (line {attempt.line} of generated function {attempt.where[len('helper ') :]})"
    return f"{error} (line {attempt.line} of the generated code)"
