"""Success predicates measured on the simulated (or real) state, through the `Perception` protocol only.

Tolerances, as in the original Code as Policies evaluation where it states them:
- on top of a bowl: within 6 cm in x-y and higher than the bowl's centre;
- on a named place (corner, side, middle): within 6 cm in x-y;
- on a block: within 4 cm in x-y and higher than it;
- near a point (relative placement): within 3 cm;
- a line: every block within 3 cm (5% of the 60 cm workspace) of the best-fit line, the line's slope as in the
  original (horizontal |dy/dx| < 0.3, vertical |dy/dx| > 10, diagonal 0.7 < |dy/dx| < 1.3), neighbours at least
  4 cm apart along it, every block on the table;
- a circle: every block within 3 cm of the asked radius around the centre, every pair at least 4 cm apart.
Each predicate returns (ok, reason) so a failed episode says why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robot_api.protocols import Perception
from robot_api.scene import BLOCK_SIZE, PLACES, kind_of

ON_PLACE = 0.06
ON_BOWL = 0.06
ON_BLOCK = 0.04
NEAR_POINT = 0.03
LINE_TOLERANCE = 0.03
MIN_GAP = 0.04
SLOPES = {"horizontal": (0.0, 0.3), "vertical": (10.0, float("inf")), "diagonal": (0.7, 1.3)}

Result = tuple[bool, str]


def xy(per: Perception, name: str) -> np.ndarray:
    return np.asarray(per.object_position(name), dtype=float)[:2]


def blocks(per: Perception) -> list[str]:
    return [n for n in per.object_names() if kind_of(n) == "block"]


def bowls(per: Perception) -> list[str]:
    return [n for n in per.object_names() if kind_of(n) == "bowl"]


def all_hold(results: Sequence[Result]) -> Result:
    failed = [why for ok, why in results if not ok]
    return (not failed, "; ".join(failed) if failed else "all conditions hold")


def on_top_of(per: Perception, obj: str, target: str) -> Result:
    """`obj` rests on `target` (a block, a bowl or a named place), with the original thresholds."""
    if target in PLACES:
        d = float(np.linalg.norm(xy(per, obj) - PLACES[target]))
        return d <= ON_PLACE, f"{obj} is {d * 100:.1f} cm from the {target}"
    d = float(np.linalg.norm(xy(per, obj) - xy(per, target)))
    limit = ON_BOWL if kind_of(target) == "bowl" else ON_BLOCK
    higher = float(per.object_position(obj)[2]) > float(per.object_position(target)[2])
    ok = d <= limit and higher
    return ok, f"{obj} is {d * 100:.1f} cm from the {target}" + ("" if higher else ", not above it")


def stacked(per: Perception, names: Sequence[str]) -> Result:
    """One column: ordered by height, each block on top of the one below it."""
    order = sorted(names, key=lambda b: float(per.object_position(b)[2]))
    return all_hold([on_top_of(per, up, low) for low, up in zip(order, order[1:], strict=False)])


def on_table(per: Perception, names: Sequence[str]) -> Result:
    high = [n for n in names if float(per.object_position(n)[2]) > BLOCK_SIZE * 0.75]
    return not high, "all on the table" if not high else f"not on the table: {high}"


def in_line(per: Perception, names: Sequence[str], orientation: str) -> Result:
    """Blocks on one straight line of the asked orientation (see the module docstring for tolerances)."""
    if len(names) < 2:
        return False, "a line needs at least two blocks"
    pts = np.array([xy(per, n) for n in names])
    centre = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - centre)
    direction = vt[0]
    off_line = float(np.max(np.abs((pts - centre) @ vt[1])))
    slope = abs(direction[1] / direction[0]) if abs(direction[0]) > 1e-9 else float("inf")
    lo, hi = SLOPES[orientation]
    gaps = np.diff(np.sort((pts - centre) @ direction))
    reasons = [
        (off_line <= LINE_TOLERANCE, f"a block is {off_line * 100:.1f} cm off the line"),
        (lo <= slope <= hi if orientation != "horizontal" else slope < hi, f"slope |dy/dx| = {slope:.2f}"),
        (float(gaps.min()) >= MIN_GAP, f"closest neighbours {gaps.min() * 100:.1f} cm apart"),
        on_table(per, names),
    ]
    ok = all(r[0] for r in reasons)
    return ok, (f"a {orientation} line" if ok else "; ".join(why for good, why in reasons if not good))


def in_circle(per: Perception, names: Sequence[str], centre: Sequence[float], radius: float) -> Result:
    pts = np.array([xy(per, n) for n in names])
    err = float(np.max(np.abs(np.linalg.norm(pts - np.asarray(centre), axis=1) - radius)))
    pair = min(float(np.linalg.norm(a - b)) for i, a in enumerate(pts) for b in pts[i + 1 :])
    ok = err <= NEAR_POINT and pair >= MIN_GAP
    return ok, f"radius error {err * 100:.1f} cm, closest pair {pair * 100:.1f} cm"
