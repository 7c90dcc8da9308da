"""`lmp.program` execution feedback on its own (no robot, no sandbox): any executor that reports status, error
and line will do. Where a failure is located (code, context, a helper generated earlier) decides what is fixed."""

from __future__ import annotations

import traceback
from types import SimpleNamespace

import pytest

from lmp import LLMClient
from lmp.backends.scripted import ScriptedBackend
from lmp.fgen import FunctionGenerator
from lmp.library import FunctionLibrary, GeneratedFunction
from lmp.lmp import LMP, LMPConfig
from lmp.program import Program


def execute(program: str):
    namespace: dict = {}
    try:
        exec(compile(program, "<program>", "exec"), namespace)  # noqa: S102 - test programs only
    except Exception as exc:  # noqa: BLE001
        line = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<program>"][-1]
        error = f"{type(exc).__name__}: {exc} (line {line})"
        return SimpleNamespace(status="error", error=error, line=line, value=None)
    return SimpleNamespace(status="ok", error="", line=None, value=namespace.get("ret_val"))


def program(answers: dict[str, list[str]], library: FunctionLibrary | None = None):
    queue = {k: list(v) for k, v in answers.items()}
    backend = ScriptedBackend(lambda r: queue[r.lmp.split("/")[0]].pop(0))  # ui and ui/fix share a queue
    client = LLMClient(backend)
    config = LMPConfig("ui", prompt="# examples", include_context=True)
    fgen = FunctionGenerator(
        LMP(LMPConfig("fgen", prompt="# fgen", include_context=False), client),
        library if library is not None else FunctionLibrary(),
    )
    return Program(LMP(config, client), fgen), backend


def test_an_error_in_the_code_is_located_after_the_context_and_library():
    library = FunctionLibrary([GeneratedFunction("old", "def old():\n    return 1", "old()")])
    prog, backend = program({"ui": ["x = old()\ny = x + missing", "x = old()\ny = x + 1"]}, library)
    solution = prog.solve("add", "objects = []", lambda p: execute(p), rounds=1)
    first, second = solution.attempts
    assert (first.line, first.where, second.status) == (2, "", "ok")
    assert first.failure.line_text == "y = x + missing"
    fix = backend.requests[1]
    assert fix.lmp == "ui/fix" and fix.query.endswith(
        "# failed: line 2: `y = x + missing`: NameError: name 'missing' is not defined"
    )


def test_an_error_in_a_helper_of_an_earlier_command_fixes_that_helper():
    library = FunctionLibrary([GeneratedFunction("old", "def old():\n    return 1 / 0", "v = old()")])
    prog, backend = program({"ui": ["v = old()"], "fgen": ["def old():\n    return 1"]}, library)
    solution = prog.solve("use old", "", execute, rounds=2)
    assert [a.kind for a in solution.attempts] == ["generate", "fix-helper"] and solution.ok
    assert solution.attempts[0].where == "helper old" and solution.attempts[0].line == 2
    assert library.get("old").source == "def old():\n    return 1"
    assert [r.lmp for r in backend.requests] == ["ui", "fgen/fix"]


def test_rounds_are_bounded_and_zero_means_one_attempt():
    prog, backend = program({"ui": ["1 / 0"] * 8})
    assert len(prog.solve("q", "", execute, rounds=0).attempts) == 1
    solution = prog.solve("q", "", execute, rounds=3)
    assert len(solution.attempts) == 4 and not solution.ok and solution.run is None
    # each round's answer repeated the failed program, so each was drawn once more: 1 + 3 x 2 requests
    assert len(backend.requests) == 1 + 1 + 3 * 2


def test_a_fix_answer_without_code_uses_a_round_and_the_next_one_is_sampled():
    """As recorded with the local model: the greedy fix repeats the program, the sampled one is empty. The
    next round asks for a sampled fix of the same program (a greedy one would only repeat it again)."""
    prog, backend = program({"ui": ["1 / 0", "1 / 0", "", "x = 1"]})
    solution = prog.solve("q", "", execute, rounds=2)
    assert [(a.kind, a.status) for a in solution.attempts] == [
        ("generate", "error"),
        ("fix", "no_code"),
        ("fix", "ok"),
    ]
    temperatures = [(r.lmp, r.temperature) for r in backend.requests]
    assert temperatures == [("ui", 0.0), ("ui/fix", 0.0), ("ui/fix", 0.8), ("ui/fix", 0.8)]
    assert len({r.query for r in backend.requests[1:]}) == 1  # each a fix of the first program


def test_fixes_without_code_stop_when_the_rounds_are_used():
    prog, backend = program({"ui": ["1 / 0", "I cannot fix that.", ""]})
    solution = prog.solve("q", "", execute, rounds=2)
    assert [a.status for a in solution.attempts] == ["error", "no_code", "no_code"]
    assert solution.run is None
    assert [r.temperature for r in backend.requests] == [0.0, 0.0, 0.8]


def test_completions_api_fix_prompt_continues_after_the_failure_comment():
    answers = ["x = 1 / 0", "x = 1"]
    backend = ScriptedBackend(lambda r: answers.pop(0))
    lmp = LMP(LMPConfig("ui", prompt="# examples", api="completions", stop=("#",)), LLMClient(backend))
    solution = Program(lmp).solve("divide", "objects = []", execute, rounds=1)
    assert solution.ok
    fix = backend.requests[1]
    assert fix.prompt == (
        "# examples\nobjects = []\n# divide.\n"
        "x = 1 / 0\n"
        "# The code above failed when it ran, at line 1 (`x = 1 / 0`):\n"
        "#   ZeroDivisionError: division by zero\n"
        "# The same task again, written so that it cannot fail this way (use only the functions, objects and "
        "names shown).\n# divide.\n"
    )
    assert fix.stop == ("#",)


def sampling_program(samples: list[str]):
    backend = ScriptedBackend(lambda r: list(samples) if r.n > 1 else samples[0])
    config = LMPConfig("ui", prompt="# examples", include_context=False, temperature=0.8)
    return Program(LMP(config, LLMClient(backend))), backend


def test_a_selector_sees_every_clean_sample_and_its_pick_is_kept():
    prog, backend = sampling_program(["ret_val = 1", "ret_val = 1 / 0", "ret_val = 2", "ret_val = 3"])
    seen = []

    def pick_largest(clean):
        seen.append([a.sample for a in clean])
        return max(clean, key=lambda a: a.run.outcome.value)

    solution = prog.solve("q", "", execute, samples=4, select=pick_largest)
    assert seen == [[0, 2, 3]]  # every sample ran; the failing one is not offered
    assert solution.run.outcome.value == 3 and len(solution.attempts) == 4
    (request,) = backend.requests
    assert request.n == 4
    # without a selector the first clean sample wins and the rest never run
    first = prog.solve("q", "", execute, samples=4)
    assert first.run.outcome.value == 1 and len(first.attempts) == 1


def test_a_selector_must_pick_one_of_the_clean_samples():
    prog, _ = sampling_program(["ret_val = 1", "ret_val = 1 / 0"])
    with pytest.raises(ValueError, match="one of the clean attempts"):
        prog.solve("q", "", execute, samples=2, select=lambda clean: SimpleNamespace())


def test_with_no_clean_sample_the_selector_is_not_asked_and_repair_goes_on():
    prog, backend = sampling_program(["1 / 0", "1 / 0"])
    asked = []
    solution = prog.solve("q", "", execute, samples=2, rounds=0, select=asked.append)
    assert not solution.ok and asked == [] and len(solution.attempts) == 2
