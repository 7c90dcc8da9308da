"""The loose names the original accepted map onto canonical names, and only onto names that exist."""

import pytest

from robot_api.names import loose_form, resolve_name
from robot_api.scene import PLACES

KNOWN = ["blue block", "red block", "green bowl", "gray block", *PLACES]


@pytest.mark.parametrize(
    "loose,canonical",
    [
        ("the blue block", "blue block"),
        ("blue_block", "blue block"),
        ("blue square", "blue block"),
        ("Blue Block", "blue block"),
        ("green circle", "green bowl"),
        ("the green circle", "green bowl"),
        ("small red block", "red block"),
        ("grey block", "gray block"),
        ("top_left_corner", "top left corner"),
        ("the middle", "middle"),
        ("  bottom  right corner ", "bottom right corner"),
    ],
)
def test_loose_names_resolve(loose, canonical):
    assert resolve_name(loose, KNOWN) == canonical


@pytest.mark.parametrize(
    "name", ["blue bowl", "green block", "the blu block", "circle", "top left", "theblue block"]
)
def test_names_that_mean_nothing_here_stay_unknown(name):
    assert resolve_name(name, KNOWN) is None


def test_exact_names_win_and_words_are_whole():
    assert resolve_name("small red block", ["small red block", "red block"]) == "small red block"
    assert loose_form("theatre block") == "theatre block"  # 'the' only as a word, unlike replace('the', '')
