"""Scoring a robocodegen answer: run it and the reference on the same seeded inputs, compare the outputs.

Both run in the policy sandbox (the same validator, restricted builtins and globals as any generated code; the
object-API problems see the perception API over the fixed scene). Each case's output comes back as plain data
(`["value", v]`, `["geom", wkt]` for a shapely geometry, or `["error", message]`). The comparison parses
geometries and does float arithmetic on values the candidate chose, so it runs in the sandbox too, in the
program profile (outside the policy profile: it needs `shapely.wkt`); the host only reads back booleans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cap.evals.robocodegen.problems import Problem

HARNESS = """
cap_out = []
for cap_args in cap_cases:
    try:
        cap_value = {name}(*cap_args)
    except Exception as cap_exc:
        cap_out.append(['error', str(cap_exc)[:300]])
        continue
    try:
        cap_out.append(['geom', cap_value.wkt])
    except AttributeError:
        cap_out.append(['value', cap_value])
"""

COMPARE = """
import numpy as np
import shapely.wkt

def plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple | list):
        return [plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v

def close(got, want):
    if isinstance(want, str | bool) or want is None:
        return type(got) is type(want) and got == want
    if isinstance(want, list) and any(isinstance(w, str) for w in want):
        return isinstance(got, list) and len(got) == len(want) and all(close(g, w) for g, w in zip(got, want))
    try:
        g = np.asarray(got, dtype=float)
        w = np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=1e-4, atol=1e-6))

def same_shape(got, want):
    g, w = shapely.wkt.loads(got), shapely.wkt.loads(want)
    if w.area > 0:
        return g.symmetric_difference(w).area <= 0.01 * w.area
    return g.geom_type == w.geom_type and g.hausdorff_distance(w) <= 1e-6

def verdict(got, want, kind):
    (gtag, gval), (wtag, wval) = got, want
    if gtag == 'error':
        return 'raised ' + str(gval)[:200]
    if wtag == 'geom' or kind == 'shape':
        if gtag != 'geom' or wtag != 'geom':
            return 'returned %s, expected a geometry' % gtag
        return '' if same_shape(gval, wval) else 'a different shape'
    if gtag == 'geom':
        return 'returned a geometry, expected a value'
    gval, wval = plain(gval), plain(wval)
    if kind == 'equal':
        if gval == wval and isinstance(gval, bool) == isinstance(wval, bool):
            return ''
        return 'returned %s, expected %s' % (str(gval)[:80], str(wval)[:80])
    return '' if close(gval, wval) else 'returned %s, expected %s' % (str(gval)[:80], str(wval)[:80])

reasons = []
for got, want in zip(cap_got, cap_want):
    try:
        reasons.append(verdict(got, want, cap_kind))
    except Exception as exc:
        reasons.append('not comparable: %s' % str(exc)[:100])
"""


@dataclass
class Verdict:
    correct: bool
    status: str  # "ok" | "wrong" | "error" (the code did not run) | "no_code"
    passed_cases: int = 0
    error: str = ""


def harness(definitions: str, problem: Problem) -> str:
    """The program that calls `problem`'s function (defined in `definitions`) on every case in `cap_cases`."""
    return definitions.rstrip("\n") + "\n" + HARNESS.format(name=problem.name)


def outputs(
    run: Any, imports: str, definitions: str, problem: Problem, cases: list
) -> tuple[list | None, str]:
    """(per-case outputs, "") or (None, why the program did not run); `run` is a policy sandbox's run."""
    outcome = run(
        f"{imports}\n{harness(definitions, problem)}", return_name="cap_out", inputs={"cap_cases": cases}
    )
    if outcome.status != "ok":
        return None, f"{outcome.status}: {outcome.error}"
    value = outcome.value
    if not isinstance(value, list) or len(value) != len(cases):
        return None, "the harness returned no outputs"
    return value, ""


def compare(run_program: Any, got: list, want: list, kind: str) -> list[str]:
    """One reason per case ("" = same); `run_program` is a program-profile sandbox's run."""
    outcome = run_program(
        COMPARE, return_name="reasons", inputs={"cap_got": got, "cap_want": want, "cap_kind": kind}
    )
    if outcome.status != "ok" or not isinstance(outcome.value, list) or len(outcome.value) != len(want):
        return [f"comparison failed: {outcome.status} {outcome.error}"] * len(want)
    return [r if isinstance(r, str) else "comparison returned garbage" for r in outcome.value]
