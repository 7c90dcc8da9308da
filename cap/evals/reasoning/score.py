"""Scoring a reasoning answer: object names exactly, positions within TOLERANCE of the true point.

What is scored is the parsed reply (generate.parse_reply) or the value a code answer's `ret_val` had in the
sandbox: hostile data, so anything that is not a plain name or a finite (x, y) pair is simply wrong.
"""

from __future__ import annotations

import numpy as np

from cap.evals.reasoning.questions import Answer

TOLERANCE = 0.03  # metres: a position answer within this of the true point is right


def correct(answer: Answer, given: object) -> bool:
    """Whether `given` (a parsed reply: an object name, or an (x, y) pair) is the answer."""
    if answer.kind == "object":
        return isinstance(given, str) and given.strip().lower() == str(answer.value)
    try:
        xy = np.asarray(given, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return False
    return (
        xy.shape == (2,)
        and bool(np.all(np.isfinite(xy)))
        and float(np.linalg.norm(xy - answer.value)) <= TOLERANCE
    )
