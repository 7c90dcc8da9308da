"""Where labels go in a picture so that none covers another: a greedy search around each anchor.

Pure geometry (no drawing, no simulator), so tests can check it directly: every placed box lies inside the
bounds and intersects no other box nor any obstacle. A label that could not sit right next to its anchor is
marked `leader`, and the picture draws a line from the label to what it names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels: left, top, right, bottom (right/bottom exclusive)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def intersects(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )

    def inside(self, outer: Box) -> bool:
        return (
            self.left >= outer.left
            and self.top >= outer.top
            and self.right <= outer.right
            and self.bottom <= outer.bottom
        )

    def grow(self, pad: float) -> Box:
        return Box(self.left - pad, self.top - pad, self.right + pad, self.bottom + pad)

    def shift(self, dx: float, dy: float) -> Box:
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)

    def distance_to(self, x: float, y: float) -> float:
        dx = max(self.left - x, 0.0, x - self.right)
        dy = max(self.top - y, 0.0, y - self.bottom)
        return math.hypot(dx, dy)

    def gap(self, other: Box) -> float:
        """Distance between the nearest edges (0 when they touch or overlap)."""
        dx = max(other.left - self.right, 0.0, self.left - other.right)
        dy = max(other.top - self.bottom, 0.0, self.top - other.bottom)
        return math.hypot(dx, dy)

    def nearest_point(self, x: float, y: float) -> tuple[float, float]:
        return (min(max(x, self.left), self.right), min(max(y, self.top), self.bottom))


@dataclass(frozen=True)
class Placement:
    box: Box
    anchor: tuple[float, float]
    leader: bool  # drawn with a line from the box to the anchor


# Directions tried around an anchor, best first: above, then the sides, then below (labels above objects read
# most naturally, and the oblique view has free table space above each object).
_DIRECTIONS = [(0, -1), (1, -1), (-1, -1), (1, 0), (-1, 0), (0, 1), (1, 1), (-1, 1)]
_RADII = tuple(range(6, 160, 5))
LEADER_DISTANCE = 8.0  # a label farther than this from what it names gets a leader line


def place_labels(
    anchors: Sequence[tuple[float, float]],
    sizes: Sequence[tuple[float, float]],
    bounds: Box,
    obstacles: Sequence[Box] = (),
    gap: float = 2.0,
    targets: Sequence[Box] | None = None,
) -> list[Placement]:
    """A box for each (anchor, size), inside `bounds`, overlapping no other box or obstacle.

    `targets` (optional, one per anchor) is the region each label names, e.g. the object's footprint: a label
    next to it needs no leader line even when it is far from the anchor point.

    Greedy: anchors are served in the given order and each takes the first free candidate, trying nearer
    rings first. When no candidate is free (a scene too crowded for its picture), the label goes where it
    overlaps the least, so it is still drawn; `overlaps` tells whether that happened.
    """
    placed: list[Box] = []
    fixed = [o.grow(gap) for o in obstacles]
    out: list[Placement] = []
    for k, ((ax, ay), (w, h)) in enumerate(zip(anchors, sizes, strict=True)):
        best: tuple[float, Box] | None = None
        for box in _candidates(ax, ay, w, h):
            box = _clamp(box, bounds)
            if box is None:
                continue
            grown = box.grow(gap)
            hits = sum(grown.intersects(b) for b in placed) + sum(grown.intersects(b) for b in fixed)
            if hits == 0:
                best = (0, box)
                break
            if best is None or hits < best[0]:
                best = (hits, box)
        # best is None only when the label is larger than the bounds: it goes at the top left
        box = Box(bounds.left, bounds.top, bounds.left + w, bounds.top + h) if best is None else best[1]
        placed.append(box)
        target = targets[k] if targets is not None else Box(ax, ay, ax, ay)
        out.append(Placement(box, (ax, ay), box.gap(target) > LEADER_DISTANCE))
    return out


def overlaps(placements: Sequence[Placement], obstacles: Sequence[Box] = ()) -> list[tuple[int, int]]:
    """Pairs (i, j) of labels whose boxes intersect (j == -1: label i covers an obstacle)."""
    pairs = []
    for i, a in enumerate(placements):
        for j in range(i + 1, len(placements)):
            if a.box.intersects(placements[j].box):
                pairs.append((i, j))
        if any(a.box.intersects(o) for o in obstacles):
            pairs.append((i, -1))
    return pairs


def _candidates(ax: float, ay: float, w: float, h: float):
    for r in _RADII:
        for dx, dy in _DIRECTIONS:
            # the box edge nearest the anchor sits r pixels away in that direction
            cx = ax + dx * (r + w / 2) if dx else ax
            cy = ay + dy * (r + h / 2) if dy else ay
            yield Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _clamp(box: Box, bounds: Box) -> Box | None:
    """`box` slid inside `bounds`, or None if it does not fit at all."""
    if box.width > bounds.width or box.height > bounds.height:
        return None
    dx = max(bounds.left - box.left, 0.0) - max(box.right - bounds.right, 0.0)
    dy = max(bounds.top - box.top, 0.0) - max(box.bottom - bounds.bottom, 0.0)
    return box.shift(dx, dy)
