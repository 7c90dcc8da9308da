"""Issue 16, point 11: legitimate programs run in the policy profile with the values plain Python gives.

The oracle is plain `exec` of the same program in this process; the goal is that at least 95 % of the corpus
(tests/sandbox_corpus.py) gives the same `ret_val`. Any program that does not is listed in the failure."""

import math

import pytest

from sandbox import Sandbox
from tests.sandbox_corpus import CORPUS

pytestmark = pytest.mark.xdist_group("sandbox")


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _plain(code: str):
    namespace: dict = {}
    exec(compile(code, "<plain>", "exec"), namespace)
    return namespace["ret_val"]


def test_at_least_95_percent_of_the_corpus_runs_right_in_the_policy_profile():
    wrong = {}
    with Sandbox(timeout=20.0, memory_mb=512) as sb:
        for name, code in CORPUS.items():
            expected = _plain(code)
            out = sb.run(code, return_name="ret_val")
            if out.status != "ok" or not _same(out.value, expected):
                wrong[name] = out.error or f"{out.value!r} != {expected!r}"
    share = 1 - len(wrong) / len(CORPUS)
    assert len(CORPUS) >= 70
    assert share >= 0.95, f"{share:.1%} right; wrong: {wrong}"
    assert not wrong, wrong  # today all of them; the 95 % bound is the goal, this the state
