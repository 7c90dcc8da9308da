"""Seeded, overlap-free placement of blocks and bowls in the workspace.

Footprints (half a block's diagonal, a bowl's rim) stay at least 2.5 cm apart, so no two objects touch; every
object also stays clear of the corner and side places, so those remain free to put things on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robot_api.scene import BOUNDS, CORNERS, PLACES, SIDES, kind_of

RADIUS = {"block": 0.029, "bowl": 0.066}
CLEARANCE = 0.025
EDGE = 0.08  # centres stay this far inside the workspace
PLACE_CLEARANCE = 0.03

Objects = list[tuple[str, tuple[float, float]]]


def sample_scene(
    rng: np.random.Generator, block_colors: Sequence[str], bowl_colors: Sequence[str]
) -> Objects:
    """(name, (x, y)) for each block then each bowl; bowls are placed first since they need more room."""
    names = [f"{c} bowl" for c in bowl_colors] + [f"{c} block" for c in block_colors]
    lo, hi = BOUNDS[:2, 0] + EDGE, BOUNDS[:2, 1] - EDGE
    for _ in range(200):
        placed: list[tuple[str, np.ndarray]] = []
        for name in names:
            r = RADIUS[kind_of(name)]
            for _ in range(500):
                p = rng.uniform(lo, hi)
                clear = all(np.linalg.norm(p - q) >= r + RADIUS[kind_of(n)] + CLEARANCE for n, q in placed)
                if clear and all(
                    np.linalg.norm(p - PLACES[k]) >= r + PLACE_CLEARANCE for k in (*CORNERS, *SIDES)
                ):
                    placed.append((name, p))
                    break
            else:
                break
        if len(placed) == len(names):
            blocks_first = [f"{c} block" for c in block_colors] + [f"{c} bowl" for c in bowl_colors]
            placed.sort(key=lambda item: blocks_first.index(item[0]))
            return [(n, (float(p[0]), float(p[1]))) for n, p in placed]
    raise RuntimeError(f"could not place {names} without overlap")


def is_clear(point: np.ndarray, objects: Objects, ignore: Sequence[str] = (), margin: float = 0.03) -> bool:
    """True when a block set down at `point` would touch none of `objects` (except `ignore`) and stays inside
    the workspace with 5 cm to spare."""
    lo, hi = BOUNDS[:2, 0] + 0.05, BOUNDS[:2, 1] - 0.05
    if np.any(point < lo) or np.any(point > hi):
        return False
    return all(
        np.linalg.norm(point - np.asarray(p)) >= RADIUS["block"] + RADIUS[kind_of(n)] + margin
        for n, p in objects
        if n not in ignore
    )
