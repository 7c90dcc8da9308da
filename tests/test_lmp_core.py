"""The LMP: prompt and query format, chat and completions requests, repair round-trip, session history."""

from __future__ import annotations

import pytest

from lmp import LLMClient, LMPConfig
from lmp.backends.scripted import ScriptedBackend
from lmp.lmp import LMP, LMPError

VARS = {
    "imports": "import numpy as np",
    "api": [{"name": "say", "signature": "say(msg)", "doc": "speak"}],
    "nested": [],
}


def make(answers, **config):
    backend = ScriptedBackend(answers)
    cfg = LMPConfig(config.pop("name", "tabletop_ui"), config.pop("template", "tabletop_ui"), **config)
    return LMP(cfg, LLMClient(backend), VARS), backend


def test_completions_prompt_is_few_shot_code_ending_with_context_and_query():
    lmp, backend = make(["say('hi')"], api="completions")
    gen = lmp.generate("greet", context="objects = ['red block']")
    request = backend.requests[0]
    assert request.prompt.endswith("objects = ['red block']\n# greet.\n")
    assert "#   say(msg)  -- speak" in request.prompt  # the API is rendered from what the caller passed
    assert request.stop == ("#", "objects = [")
    assert request.query == "objects = ['red block']\n# greet."
    assert gen.code == "say('hi')"
    assert gen.to_exec == "objects = ['red block']\nsay('hi')"


def test_chat_answer_with_fences_and_prose_is_cleaned():
    lmp, backend = make(["Sure, here you go:\n```python\nsay('hi')\n```\nLet me know!"])
    gen = lmp.generate("greet")
    assert gen.code == "say('hi')"
    assert backend.requests[0].messages[-1]["content"].endswith("# greet.\n")
    assert backend.requests[0].stop == ()


def test_syntax_error_is_repaired_once():
    lmp, backend = make(["```python\nsay('hi'\n```", "```python\nsay('hi')\n```"])
    gen = lmp.generate("greet")
    assert gen.code == "say('hi')" and gen.repaired
    repair = backend.requests[1]
    assert repair.lmp == "tabletop_ui/repair"
    assert "syntax error" in repair.messages[-1]["content"]
    assert repair.messages[-2] == {"role": "assistant", "content": "```python\nsay('hi'\n```"}


def test_syntax_error_left_after_repair_is_a_clear_error():
    lmp, backend = make(["say('hi'", "say('hi'"])
    with pytest.raises(LMPError, match=r"syntax error: .* \(after 1 repair round\), for query 'greet'"):
        lmp.generate("greet")
    assert len(backend.requests) == 2


def test_repair_can_be_turned_off():
    lmp, backend = make(["say('hi'"], repair_rounds=0)
    with pytest.raises(LMPError, match="syntax error"):
        lmp.generate("greet")
    assert len(backend.requests) == 1


def test_no_code_in_answer_is_a_clear_error():
    lmp, _ = make(["I'm sorry, I can't do that.", "Still no."])
    with pytest.raises(LMPError, match="no code in the answer"):
        lmp.generate("greet")


def test_session_history_keeps_only_commands_reported_successful():
    lmp, backend = make(
        ["say('one')", "say('two')", "say('three')"], maintain_session=True, api="completions"
    )
    first = lmp.generate("first")
    lmp.record_success(first)
    lmp.generate("second")  # the caller does not report success: it failed
    lmp.generate("third")
    third_prompt = backend.requests[2].prompt
    assert "# first.\nsay('one')" in third_prompt
    assert "# second." not in third_prompt and "say('two')" not in third_prompt
    assert lmp.history == ["# first.\nsay('one')"]


def test_no_session_without_maintain_session():
    lmp, backend = make(["say('one')", "say('two')"], api="completions")
    lmp.record_success(lmp.generate("first"))
    lmp.generate("second")
    assert "say('one')" not in backend.requests[1].prompt


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="api must be"):
        LMPConfig("x", "tabletop_ui", api="edit")


def test_unknown_template_is_a_clear_error():
    from prompts import PromptError

    with pytest.raises(PromptError, match="no prompt template 'nope'"):
        make([], template="nope")
