"""How policies may name objects and places: the canonical names, and the looser forms the original accepted.

The original Code as Policies simulator looked names up after `replace('the', '')`, `replace('_', ' ')`,
`circle -> bowl`, `square -> block` and dropping `small`, so code written for it (and models that learned its
style) says 'the blue block', 'blue_block', 'green circle', 'small red block', 'top_left_corner' or
'the middle'. `resolve_name` maps such a form onto a canonical name when exactly that canonical name exists;
anything else stays unknown, so a typo is still an error and never silently picks another object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# word -> replacement (None drops the word); applied word by word, case-insensitively
_WORDS: dict[str, str | None] = {
    "the": None,
    "small": None,
    "square": "block",
    "cube": "block",
    "circle": "bowl",
    "grey": "gray",
}


def loose_form(name: str) -> str:
    """The canonical spelling a loose name stands for: lower case, '_' as space, the original's word rules."""
    words = re.split(r"[\s_]+", name.strip().lower())
    out = []
    for word in words:
        if not word:
            continue
        replacement = _WORDS.get(word, word)
        if replacement is not None:
            out.append(replacement)
    return " ".join(out)


def resolve_name(name: str, known: Iterable[str]) -> str | None:
    """The canonical name among `known` that `name` means, or None when it means none of them."""
    candidates = list(known)
    if name in candidates:
        return name
    wanted = loose_form(name)
    for candidate in candidates:
        if candidate == wanted or loose_form(candidate) == wanted:
            return candidate
    return None
