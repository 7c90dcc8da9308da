"""Seen and unseen attribute splits, as in the original Code as Policies tabletop evaluation.

The paper measures generalisation to attributes the prompt never showed: every attribute slot of a command
(colors, corner/side, direction, distance, magnitude, ordinal, line orientation) draws from a disjoint pool in
the `seen` and `unseen` splits. The pools follow the original benchmark; "right side", which it leaves out of
both, is unseen here. Radii and centimetre offsets (the extra circle and relative-placement families) are split
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from robot_api.scene import SEEN_COLORS, UNSEEN_COLORS


@dataclass(frozen=True)
class Attributes:
    colors: tuple[str, ...]
    places: tuple[str, ...]  # corners and sides a command may name
    directions: tuple[str, ...]
    distances: tuple[str, ...]
    magnitudes: tuple[str, ...]
    nths: tuple[str, ...]
    lines: tuple[str, ...]
    radii_cm: tuple[int, ...]
    offsets_cm: tuple[int, ...]


SEEN = Attributes(
    colors=SEEN_COLORS,
    places=("left side", "top left corner", "top side", "top right corner"),
    directions=("top", "left"),
    distances=("closest",),
    magnitudes=("a little",),
    nths=("first", "second"),
    lines=("horizontal", "vertical"),
    radii_cm=(10, 12),
    offsets_cm=(10, 15),
)

UNSEEN = Attributes(
    colors=UNSEEN_COLORS,
    places=("bottom right corner", "bottom side", "bottom left corner", "right side"),
    directions=("bottom", "right"),
    distances=("farthest",),
    magnitudes=("a lot",),
    nths=("third", "fourth"),
    lines=("diagonal",),
    radii_cm=(15,),
    offsets_cm=(5, 20),
)

ORDINALS = ("first", "second", "third", "fourth")
DIRECTIONS: dict[str, tuple[int, int]] = {"left": (-1, 0), "right": (1, 0), "top": (0, 1), "bottom": (0, -1)}
# Metres along the axis: "a little" is at most a third of the 60 cm workspace, "a lot" is more (the original).
MAGNITUDE_SPLIT = 0.2


def axis_sign(direction: str) -> tuple[int, int]:
    """Which coordinate a direction runs along (0 = x, 1 = y) and which way (+1 or -1)."""
    dx, dy = DIRECTIONS[direction]
    return (0, dx) if dx else (1, dy)
