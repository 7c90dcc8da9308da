"""Execution feedback for HumanEval generation (`cap bench humaneval --repair N`): only what running the program
itself shows, never the hidden tests.

A sample's program is the problem's prompt + its completion (with any generated helpers). It runs in the
sandbox's `program` profile: defined first (syntax errors, failed imports, module-level errors), then its entry
point is called on the inputs of the docstring's own `>>>` examples, which are part of the prompt the model was
given. Only an exception, a timeout or a resource limit counts as a failure; return values are never compared
with the docstring's expected outputs, and `problem.test` is neither run nor read. A failure goes back to the
model (prompts/fix.j2) for a corrected function, up to N rounds; each attempt is kept in the sample's record.
"""

from __future__ import annotations

import doctest
import re
from dataclasses import dataclass
from typing import Any

import prompts
from cap.evals.humaneval.completion import extract
from cap.evals.humaneval.data import Problem

CALL_TIMEOUT = 3.0  # seconds for defining the function, and for each docstring example call
_LINE_SUFFIX = re.compile(r" \(line \d+( of [^)]*)?\)$")


@dataclass(frozen=True)
class RunFailure:
    error: str  # "NameError: name 'helper' is not defined"
    line: int | None  # in prompt + completion, when the error is there
    line_text: str
    call: str  # the docstring example being run, "" when defining the function failed


def example_calls(problem: Problem) -> list[str]:
    """The expressions of the prompt's `>>>` examples (inputs only; the expected outputs are not used)."""
    try:
        examples = doctest.DocTestParser().get_examples(problem.prompt)
    except ValueError:  # a malformed docstring example: call nothing rather than guess
        return []
    return [e.source.strip() for e in examples if e.source.strip()]


def run_failure(sandbox: Any, problem: Problem, completion: str) -> RunFailure | None:
    """How running `prompt + completion` (then each docstring example, one run each) failed, or None."""
    program = problem.prompt + completion
    lines = program.splitlines()
    for call in ["", *example_calls(problem)]:
        outcome = sandbox.run(f"{program.rstrip()}\n\n{call}\n" if call else program)
        if outcome.status == "ok":
            continue
        line = outcome.line if isinstance(outcome.line, int) and 1 <= outcome.line <= len(lines) else None
        error = _LINE_SUFFIX.sub("", str(outcome.error)) or str(outcome.status)
        return RunFailure(error, line, lines[line - 1] if line else "", call)
    return None


def fix_request(problem: Problem, original: Any, completion: str, failure: RunFailure) -> Any:
    """The original request plus the failed function and what went wrong (chat: one more user turn;
    completions: the failure as comments, then the problem's prompt again to continue)."""
    from dataclasses import replace

    api = "completions" if original.prompt is not None else "chat"
    error = failure.error + (f" (when called as `{failure.call}`)" if failure.call else "")
    code = (problem.prompt + completion).rstrip("\n") if api == "chat" else completion.rstrip("\n")
    ask = prompts.render(
        "fix",
        api=api,
        code=code,
        error=error,
        line=failure.line,
        line_text=failure.line_text.strip(),
        where="",
        query=f"the function {problem.entry_point}",
    )
    key = f"{original.query}\n# failed: {error}"
    if api == "completions":
        return replace(original, query=key, prompt=f"{original.prompt}{ask}\n{problem.prompt}", n=1)
    messages = (
        *(original.messages or ()),
        {"role": "assistant", "content": f"```python\n{code}\n```"},
        {"role": "user", "content": ask},
    )
    return replace(original, query=key, messages=messages, n=1)


def repair(
    problem: Problem,
    record: dict[str, Any],
    original: Any,
    client: Any,
    sandbox: Any,
    rounds: int,
    api: str,
    hierarchical: bool,
) -> dict[str, Any]:
    """Run the sample's program; while it fails and rounds are left, ask for a fix. Returns the record with
    the last completion and "attempts" (one per program tried: completion, error, line, the example call)."""
    from cap.evals.humaneval.helpers import add_helpers

    attempts: list[dict[str, Any]] = []
    for round_ in range(rounds + 1):
        failure = run_failure(sandbox, problem, record["completion"])
        attempts.append(
            {
                "round": round_,
                "completion": record["completion"],
                "status": "ok" if failure is None else "failed",
                "error": failure.error if failure else "",
                "line": failure.line if failure else None,
                "call": failure.call if failure else "",
            }
        )
        if failure is None or round_ == rounds:
            break
        answer = client.complete(fix_request(problem, original, record["completion"], failure))[0]
        completion = extract(answer.text, api, problem.entry_point)
        helpers: list[dict[str, Any]] = []
        if hierarchical:
            made = add_helpers(problem, completion, client, api)
            completion, helpers = made.completion, made.functions
        record = {**record, "completion": completion, "response": answer.text, "helpers": helpers}
    return {**record, "attempts": attempts}
