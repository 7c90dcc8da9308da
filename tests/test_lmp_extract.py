"""Code extraction from chat answers: fences, prose around code, continuations, garbage."""

from __future__ import annotations

import pytest

from lmp.extract import NoCodeFound, extract_code


def test_fenced_python_block_with_prose_around():
    text = "Sure! Here is the code:\n\n```python\nx = 1\nsay(x)\n```\n\nThis puts the block down."
    assert extract_code(text) == "x = 1\nsay(x)"


def test_several_fenced_blocks_are_joined_in_order():
    text = "First:\n```py\na = 1\n```\nthen\n```\nb = a + 1\n```"
    assert extract_code(text) == "a = 1\nb = a + 1"


def test_blocks_in_other_languages_are_not_code():
    with pytest.raises(NoCodeFound, match="other languages: bash"):
        extract_code("Run this:\n```bash\nrm -rf /\n```")


def test_unterminated_fence_keeps_what_was_written():
    assert extract_code("```python\nput_first_on_second('a', 'b')\n") == "put_first_on_second('a', 'b')"


def test_unfenced_code_with_prose_before_and_after():
    text = "Here is what I would do:\nblocks = get_obj_names()\nfor b in blocks:\n    say(b)\nDone."
    assert extract_code(text) == "blocks = get_obj_names()\nfor b in blocks:\n    say(b)"


def test_completion_style_continuation_is_code_as_is():
    assert (
        extract_code("say('ok')\nput_first_on_second('a', 'b')") == "say('ok')\nput_first_on_second('a', 'b')"
    )


def test_cut_at_drops_the_next_example_a_chat_model_invented():
    text = "```python\nsay('hi')\nobjects = ['x']\n# another command.\nsay('no')\n```"
    assert extract_code(text, cut_at=("objects = [",)) == "say('hi')"


@pytest.mark.parametrize("text", ["", "   \n", "I cannot help with that request, sorry."])
def test_no_code_is_a_clear_error(text):
    with pytest.raises(NoCodeFound):
        extract_code(text)
