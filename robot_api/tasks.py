"""The tabletop benchmark: the instruction families of the original Code as Policies simulated evaluation.

Each family has a seeded scene generator, a command with attributes filled in, and a success checker that
reads the simulated state. Every family comes in two attribute splits: `seen` (colors blue, red, green,
orange, yellow) and `unseen` (purple, pink, cyan, brown, gray), named `<family>` and `<family>-unseen`.
Instruction families 1-8 are the paper's seen instructions, 9-14 its unseen ones (`instructions` field).

Tolerances (as in the original where it states them): on top of a bowl or a named place: within 6 cm in x-y;
on a block: within 4 cm in x-y and above it; relative placement: within 3 cm of the asked point; lines: every
block within 3 cm of the line, neighbours at least 4 cm apart; circles: every block within 3 cm of the radius,
neighbours at least 4 cm apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robot_api.protocols import Perception
from robot_api.scene import BOUNDS, CORNERS, PLACES, SEEN_COLORS, SIDES, UNSEEN_COLORS, color_of, kind_of

ON_BOWL = 0.06
ON_BLOCK = 0.04
NEAR_POINT = 0.03
ORDINALS = ("first", "second", "third")
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "top": (0, 1), "bottom": (0, -1)}


@dataclass
class Instance:
    """One episode's setup: the scene, the command, and the parameters the checker (and references) use."""

    task: str
    seed: int
    objects: list[tuple[str, tuple[float, float]]]
    command: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    instructions: str  # "seen" or "unseen" instruction family in the paper
    generate: Callable[
        [np.random.Generator, tuple[str, ...]], tuple[list[tuple[str, tuple[float, float]]], str, dict]
    ]
    check: Callable[[Perception, dict], tuple[bool, str]]


@dataclass(frozen=True)
class Task:
    name: str
    family: str
    description: str
    seen: bool
    instructions: str

    def instance(self, seed: int) -> Instance:
        fam = FAMILIES[self.family]
        colors = SEEN_COLORS if self.seen else UNSEEN_COLORS
        rng = np.random.default_rng([seed, _stable_hash(self.name)])
        objects, command, params = fam.generate(rng, colors)
        return Instance(self.name, seed, objects, command, params)

    def check(self, perception: Perception, instance: Instance) -> tuple[bool, str]:
        return FAMILIES[self.family].check(perception, instance.params)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "seen": self.seen,
            "instructions": self.instructions,
        }


def _stable_hash(text: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % (2**31)


# -- scene sampling ------------------------------------------------------------------------------------
RADIUS = {"block": 0.029, "bowl": 0.066}  # footprint radius: half the block's diagonal, the bowl's rim
CLEARANCE = 0.025


def _scene(rng, blocks: list[str], bowls: list[str]) -> list[tuple[str, tuple[float, float]]]:
    """Non-overlapping positions (footprints at least 2.5 cm apart), bowls first since they need more room;
    objects keep 6 cm clear of the corner and side places so those stay free to place on."""
    names = [f"{c} bowl" for c in bowls] + [f"{c} block" for c in blocks]
    lo = BOUNDS[:2, 0] + 0.08
    hi = BOUNDS[:2, 1] - 0.08
    for _ in range(200):
        placed: list[tuple[str, np.ndarray]] = []
        for name in names:
            r = RADIUS[kind_of(name)]
            for _ in range(500):
                p = rng.uniform(lo, hi)
                if all(
                    np.linalg.norm(p - q) >= r + RADIUS[kind_of(n)] + CLEARANCE for n, q in placed
                ) and all(np.linalg.norm(p - PLACES[k]) >= r + 0.03 for k in (*CORNERS, *SIDES)):
                    placed.append((name, p))
                    break
            else:
                break
        if len(placed) == len(names):
            order = {
                n: i for i, n in enumerate([f"{c} block" for c in blocks] + [f"{c} bowl" for c in bowls])
            }
            placed.sort(key=lambda item: order[item[0]])
            return [(n, (float(p[0]), float(p[1]))) for n, p in placed]
    raise RuntimeError(f"could not place {names} without overlap")


def _axis_sign(direction: str) -> tuple[int, int]:
    """Which coordinate a direction runs along (0 = x, 1 = y) and which way (+1 or -1)."""
    dx, dy = DIRECTIONS[direction]
    return (0, dx) if dx else (1, dy)


def _pick(rng, seq, k):
    return [str(x) for x in rng.choice(list(seq), size=k, replace=False)]


# -- checkers ----------------------------------------------------------------------------------------
def _xy(per: Perception, name: str) -> np.ndarray:
    return np.asarray(per.object_position(name))[:2]


def _on(per: Perception, obj: str, target: str) -> tuple[bool, str]:
    if target in PLACES:
        d = float(np.linalg.norm(_xy(per, obj) - PLACES[target]))
        return d <= ON_BOWL, f"{obj} is {d * 100:.1f} cm from the {target}"
    d = float(np.linalg.norm(_xy(per, obj) - _xy(per, target)))
    if kind_of(target) == "bowl":
        return d <= ON_BOWL, f"{obj} is {d * 100:.1f} cm from the {target}"
    above = per.object_position(obj)[2] > per.object_position(target)[2] + 0.02
    return d <= ON_BLOCK and above, f"{obj} is {d * 100:.1f} cm from the {target}" + (
        "" if above else ", not above it"
    )


def _all(results: list[tuple[bool, str]]) -> tuple[bool, str]:
    failed = [why for ok, why in results if not ok]
    return (not failed, "; ".join(failed) if failed else "all conditions hold")


def _blocks(per: Perception) -> list[str]:
    return [n for n in per.object_names() if kind_of(n) == "block"]


def _stacked(per: Perception, blocks: list[str]) -> tuple[bool, str]:
    order = sorted(blocks, key=lambda b: per.object_position(b)[2])
    return _all([_on(per, upper, lower) for lower, upper in zip(order, order[1:], strict=False)])


# -- the families ------------------------------------------------------------------------------------
def gen_pick_place(rng, colors):
    blocks = _pick(rng, colors, 3)
    bowls = _pick(rng, colors, 2)
    target = str(rng.choice([f"{blocks[1]} block", f"{bowls[0]} bowl"]))
    return (
        _scene(rng, blocks, bowls),
        f"pick up the {blocks[0]} block and place it on the {target}",
        {"block": f"{blocks[0]} block", "target": target},
    )


def gen_stack(rng, colors):
    blocks = _pick(rng, colors, int(rng.integers(3, 5)))
    return _scene(rng, blocks, _pick(rng, colors, 1)), "stack all the blocks", {}


def gen_blocks_to_place(rng, colors):
    place = str(rng.choice(CORNERS + SIDES))
    return (
        _scene(rng, _pick(rng, colors, 3), _pick(rng, colors, 1)),
        f"put all the blocks on the {place}",
        {"place": place},
    )


def gen_blocks_in_bowl(rng, colors):
    bowls = _pick(rng, colors, 2)
    return (
        _scene(rng, _pick(rng, colors, 3), bowls),
        f"put the blocks in the {bowls[0]} bowl",
        {"bowl": f"{bowls[0]} bowl"},
    )


def gen_matching(rng, colors):
    cs = _pick(rng, colors, 3)
    return (
        _scene(rng, cs, list(rng.permutation(cs))),
        "put all the blocks in the bowls with matching colors",
        {},
    )


def gen_mismatched(rng, colors):
    cs = _pick(rng, colors, 3)
    return (
        _scene(rng, cs, list(rng.permutation(cs))),
        "put the blocks in the bowls with mismatched colors",
        {},
    )


def gen_direction_of_bowl(rng, colors):
    bowl = _pick(rng, colors, 1)[0]
    blocks = _pick(rng, colors, 3)
    direction = str(rng.choice(list(DIRECTIONS)))
    place = str(rng.choice(CORNERS + SIDES))
    for _ in range(1000):
        objects = _scene(rng, blocks, [bowl])
        pos = dict(objects)
        axis, sign = _axis_sign(direction)
        rel = [sign * (pos[f"{b} block"][axis] - pos[f"{bowl} bowl"][axis]) for b in blocks]
        on_side = [i for i, r in enumerate(rel) if r > 0.05]
        if len(on_side) == 1 and all(r < -0.05 for i, r in enumerate(rel) if i != on_side[0]):
            target = f"{blocks[on_side[0]]} block"
            cmd = f"pick up the block to the {direction} of the {bowl} bowl and place it on the {place}"
            return (
                objects,
                cmd,
                {"block": target, "place": place, "bowl": f"{bowl} bowl", "direction": direction},
            )
    raise RuntimeError("could not generate a direction scene")


def gen_distance_to_bowl(rng, colors):
    bowl = _pick(rng, colors, 1)[0]
    blocks = _pick(rng, colors, 3)
    which = str(rng.choice(["closest", "farthest"]))
    place = str(rng.choice(CORNERS + SIDES))
    for _ in range(1000):
        objects = _scene(rng, blocks, [bowl])
        pos = dict(objects)
        d = sorted(
            (float(np.linalg.norm(np.subtract(pos[f"{b} block"], pos[f"{bowl} bowl"]))), b) for b in blocks
        )
        if d[1][0] - d[0][0] > 0.05 and d[2][0] - d[1][0] > 0.05:
            target = f"{(d[0] if which == 'closest' else d[-1])[1]} block"
            cmd = f"pick up the block {which} to the {bowl} bowl and place it on the {place}"
            return objects, cmd, {"block": target, "place": place, "bowl": f"{bowl} bowl", "which": which}
    raise RuntimeError("could not generate a distance scene")


def gen_nth_from_direction(rng, colors):
    blocks = _pick(rng, colors, 3)
    direction = str(rng.choice(list(DIRECTIONS)))
    n = int(rng.integers(0, 3))
    place = str(rng.choice(CORNERS + SIDES))
    for _ in range(1000):
        objects = _scene(rng, blocks, _pick(rng, colors, 1))
        pos = dict(objects)
        axis, sign = _axis_sign(direction)
        order = sorted(blocks, key=lambda b: -sign * pos[f"{b} block"][axis])
        coords = sorted(pos[f"{b} block"][axis] for b in blocks)
        if min(np.diff(coords)) > 0.04:
            cmd = f"pick up the {ORDINALS[n]} block from the {direction} and place it on the {place}"
            return (
                objects,
                cmd,
                {"block": f"{order[n]} block", "place": place, "direction": direction, "n": n},
            )
    raise RuntimeError("could not generate an ordering scene")


def gen_different_corners(rng, colors):
    return (
        _scene(rng, _pick(rng, colors, int(rng.integers(2, 5))), _pick(rng, colors, 1)),
        "put all the blocks in different corners",
        {},
    )


def gen_stack_on_place(rng, colors):
    place = str(rng.choice(CORNERS + SIDES))
    return (
        _scene(rng, _pick(rng, colors, 3), _pick(rng, colors, 1)),
        f"stack all the blocks on the {place}",
        {"place": place},
    )


def gen_relative(rng, colors):
    blocks = _pick(rng, colors, 3)
    direction = str(rng.choice(list(DIRECTIONS)))
    cm = int(rng.choice([10, 15]))
    for _ in range(1000):
        objects = _scene(rng, blocks, _pick(rng, colors, 1))
        ref = np.array(dict(objects)[f"{blocks[1]} block"])
        goal = ref + np.array(DIRECTIONS[direction]) * cm / 100
        lo, hi = BOUNDS[:2, 0] + 0.05, BOUNDS[:2, 1] - 0.05
        others = [np.array(p) for n, p in objects if n not in (f"{blocks[0]} block", f"{blocks[1]} block")]
        if np.all(goal >= lo) and np.all(goal <= hi) and all(np.linalg.norm(goal - o) > 0.1 for o in others):
            cmd = f"place the {blocks[0]} block {cm} cm to the {direction} of the {blocks[1]} block"
            return (
                objects,
                cmd,
                {
                    "block": f"{blocks[0]} block",
                    "reference": f"{blocks[1]} block",
                    "direction": direction,
                    "cm": cm,
                },
            )
    raise RuntimeError("could not generate a relative placement scene")


def gen_line(rng, colors):
    orientation = str(rng.choice(["horizontal", "vertical"]))
    return (
        _scene(rng, _pick(rng, colors, int(rng.integers(3, 5))), _pick(rng, colors, 1)),
        f"put all the blocks in a {orientation} line",
        {"orientation": orientation},
    )


def gen_circle(rng, colors):
    cm = int(rng.choice([10, 12, 15]))
    return (
        _scene(rng, _pick(rng, colors, int(rng.integers(3, 6))), []),
        f"arrange all the blocks in a circle of radius {cm} cm around the middle",
        {"cm": cm},
    )


def check_pick_place(per, p):
    return _on(per, p["block"], p["target"])


def check_stack(per, p):
    return _stacked(per, _blocks(per))


def check_blocks_to_place(per, p):
    return _all([_on(per, b, p["place"]) for b in _blocks(per)])


def check_blocks_in_bowl(per, p):
    return _all([_on(per, b, p["bowl"]) for b in _blocks(per)])


def check_matching(per, p):
    return _all([_on(per, b, f"{color_of(b)} bowl") for b in _blocks(per)])


def check_mismatched(per, p):
    bowls = [n for n in per.object_names() if kind_of(n) == "bowl"]
    used: list[str] = []
    results = []
    for b in _blocks(per):
        inside = [w for w in bowls if _on(per, b, w)[0]]
        ok = len(inside) == 1 and color_of(inside[0]) != color_of(b) and inside[0] not in used
        used += inside
        results.append((ok, f"{b} is in {inside or 'no bowl'}"))
    return _all(results)


def check_block_to_place(per, p):
    return _on(per, p["block"], p["place"])


def check_different_corners(per, p):
    corner_of = {}
    for b in _blocks(per):
        near = [c for c in CORNERS if _on(per, b, c)[0]]
        corner_of[b] = near[0] if near else None
    ok = all(corner_of.values()) and len(set(corner_of.values())) == len(corner_of)
    return ok, f"corners: {corner_of}"


def check_stack_on_place(per, p):
    return _all([_stacked(per, _blocks(per))] + [_on(per, b, p["place"]) for b in _blocks(per)])


def check_relative(per, p):
    goal = _xy(per, p["reference"]) + np.array(DIRECTIONS[p["direction"]]) * p["cm"] / 100
    d = float(np.linalg.norm(_xy(per, p["block"]) - goal))
    return d <= NEAR_POINT, f"{p['block']} is {d * 100:.1f} cm from the asked point"


def check_line(per, p):
    pts = np.array([_xy(per, b) for b in _blocks(per)])
    along, across = (0, 1) if p["orientation"] == "horizontal" else (1, 0)
    spread = float(np.ptp(pts[:, across]))
    gaps = np.diff(np.sort(pts[:, along]))
    on_table = all(per.object_position(b)[2] < 0.03 for b in _blocks(per))
    ok = spread <= 2 * NEAR_POINT and float(gaps.min()) >= 0.04 and on_table
    return ok, f"across-line spread {spread * 100:.1f} cm, smallest gap {gaps.min() * 100:.1f} cm"


def check_circle(per, p):
    pts = np.array([_xy(per, b) for b in _blocks(per)])
    r = np.linalg.norm(pts - PLACES["middle"], axis=1)
    err = float(np.max(np.abs(r - p["cm"] / 100)))
    pair = min(float(np.linalg.norm(a - b)) for i, a in enumerate(pts) for b in pts[i + 1 :])
    return (
        err <= NEAR_POINT and pair >= 0.04,
        f"radius error {err * 100:.1f} cm, closest pair {pair * 100:.1f} cm",
    )


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            "pick-place",
            "pick up a block and place it on another block or a bowl",
            "seen",
            gen_pick_place,
            check_pick_place,
        ),
        Family("stack-blocks", "stack all the blocks", "seen", gen_stack, check_stack),
        Family(
            "blocks-to-corner",
            "put all the blocks on a corner or side",
            "seen",
            gen_blocks_to_place,
            check_blocks_to_place,
        ),
        Family(
            "blocks-in-bowl", "put the blocks in a bowl", "seen", gen_blocks_in_bowl, check_blocks_in_bowl
        ),
        Family(
            "blocks-in-matching-bowls",
            "put all the blocks in the bowls with matching colors",
            "seen",
            gen_matching,
            check_matching,
        ),
        Family(
            "block-direction-of-bowl",
            "pick up the block to a direction of a bowl and place it on a corner or side",
            "seen",
            gen_direction_of_bowl,
            check_block_to_place,
        ),
        Family(
            "block-distance-to-bowl",
            "pick up the block closest/farthest to a bowl and place it on a corner or side",
            "seen",
            gen_distance_to_bowl,
            check_block_to_place,
        ),
        Family(
            "nth-block-from-direction",
            "pick up the n-th block from a direction and place it on a corner or side",
            "seen",
            gen_nth_from_direction,
            check_block_to_place,
        ),
        Family(
            "blocks-in-different-corners",
            "put all the blocks in different corners",
            "unseen",
            gen_different_corners,
            check_different_corners,
        ),
        Family(
            "blocks-in-mismatched-bowls",
            "put the blocks in the bowls with mismatched colors",
            "unseen",
            gen_mismatched,
            check_mismatched,
        ),
        Family(
            "stack-blocks-on-place",
            "stack all the blocks on a corner or side",
            "unseen",
            gen_stack_on_place,
            check_stack_on_place,
        ),
        Family(
            "place-relative-to-block",
            "place a block some cm to a direction of another block",
            "unseen",
            gen_relative,
            check_relative,
        ),
        Family(
            "line-of-blocks",
            "put all the blocks in a horizontal or vertical line",
            "unseen",
            gen_line,
            check_line,
        ),
        Family(
            "blocks-in-circle",
            "arrange the blocks in a circle of a given radius around the middle",
            "unseen",
            gen_circle,
            check_circle,
        ),
    ]
}

TASKS: dict[str, Task] = {}
for _fam in FAMILIES.values():
    TASKS[_fam.name] = Task(_fam.name, _fam.name, _fam.description, True, _fam.instructions)
    TASKS[f"{_fam.name}-unseen"] = Task(
        f"{_fam.name}-unseen", _fam.name, _fam.description + " (unseen colors)", False, _fam.instructions
    )


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(name, TASKS, n=3)
        hint = f" Did you mean {', '.join(near)}?" if near else " Run `cap tasks` to list them."
        raise KeyError(f"unknown task {name!r}.{hint}") from None
