"""The instruction families of the original Code as Policies simulated tabletop benchmark, plus two extras.

Families 1-8 are the paper's seen instructions, 9-14 its unseen instructions; `place-relative-to-block` and
`blocks-in-circle` are extra spatial-geometric families (exact distances, circles) kept for this toolkit.
Each family has a generator (scene, command, the command's attributes, and a hidden answer the checker needs,
e.g. which block "the block to the left of the blue bowl" is) and a checker on the state (`robot_api.checkers`).
Generators only build scenes where the command has one unambiguous reading with at least 5 cm to spare, and
never one whose initial state already satisfies the checker (a policy that does nothing would score; see
`unsolved`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from robot_api import checkers as ck
from robot_api.attributes import DIRECTIONS, MAGNITUDE_SPLIT, ORDINALS, Attributes, axis_sign
from robot_api.layout import LayoutPerception
from robot_api.protocols import Perception
from robot_api.scene import CORNERS, PLACES, color_of
from robot_api.scene_sampling import Objects, is_clear, sample_scene

MARGIN = 0.05  # how clearly a generated scene separates the right answer from the others
LITTLE, LOT = 0.12, 0.25  # what the reference programs take "a little" / "a lot" to mean (metres)


class Setup(NamedTuple):
    objects: Objects
    command: str
    attributes: dict[str, Any]  # what the command says (given to reference programs)
    answer: dict[str, Any]  # what only the checker knows


Generator = Callable[[np.random.Generator, Attributes], Setup]
Checker = Callable[[Perception, dict[str, Any], dict[str, Any]], ck.Result]


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    instructions: str  # "seen" or "unseen" instruction in the paper, or "extra"
    generate: Generator
    check: Checker


def _pick(rng: np.random.Generator, pool: Sequence[str], k: int) -> list[str]:
    return [str(x) for x in rng.choice(list(pool), size=k, replace=False)]


def _one(rng: np.random.Generator, pool: Sequence[Any]) -> Any:
    return rng.choice(list(pool)).item()


def _retry(make: Callable[[], Setup | None], what: str) -> Setup:
    for _ in range(2000):
        setup = make()
        if setup is not None:
            return setup
    raise RuntimeError(f"could not generate an unambiguous {what} scene")


def unsolved(generate: Generator, check: Checker) -> Generator:
    """`generate`, drawing again (from the same random stream) while the scene already satisfies `check`.

    A scene that needs no motion is checked on its layout (`robot_api.layout`), so it costs no simulation; a
    scene that was fine keeps exactly the draws it had, so recorded replays of it stay valid.
    """

    def generate_unsolved(rng: np.random.Generator, a: Attributes) -> Setup:
        for _ in range(200):
            setup = generate(rng, a)
            if not check(LayoutPerception(setup.objects), setup.attributes, setup.answer)[0]:
                return setup
        raise RuntimeError(f"{generate.__name__} keeps generating scenes that need no motion")

    generate_unsolved.__name__ = generate.__name__
    generate_unsolved.__wrapped__ = generate  # type: ignore[attr-defined]
    return generate_unsolved


# -- seen instructions -----------------------------------------------------------------------------------
def gen_pick_place(rng: np.random.Generator, a: Attributes) -> Setup:
    blocks, bowls = _pick(rng, a.colors, 3), _pick(rng, a.colors, 2)
    target = str(_one(rng, [f"{blocks[1]} block", f"{bowls[0]} bowl"]))
    block = f"{blocks[0]} block"
    cmd = f"pick up the {block} and place it on the {target}"
    return Setup(sample_scene(rng, blocks, bowls), cmd, {"block": block, "target": target}, {})


def check_pick_place(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.on_top_of(per, attrs["block"], attrs["target"])


def gen_stack(rng: np.random.Generator, a: Attributes) -> Setup:
    blocks = _pick(rng, a.colors, int(rng.integers(3, 5)))
    return Setup(sample_scene(rng, blocks, _pick(rng, a.colors, 1)), "stack all the blocks", {}, {})


def check_stack(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.stacked(per, ck.blocks(per))


def gen_blocks_to_place(rng: np.random.Generator, a: Attributes) -> Setup:
    place = str(_one(rng, a.places))
    objects = sample_scene(rng, _pick(rng, a.colors, 3), _pick(rng, a.colors, 1))
    return Setup(objects, f"put all the blocks on the {place}", {"place": place}, {})


def check_blocks_to_place(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.all_hold([ck.on_top_of(per, b, attrs["place"]) for b in ck.blocks(per)])


def gen_blocks_in_bowl(rng: np.random.Generator, a: Attributes) -> Setup:
    bowls = _pick(rng, a.colors, 2)
    bowl = f"{bowls[0]} bowl"
    objects = sample_scene(rng, _pick(rng, a.colors, 3), bowls)
    return Setup(objects, f"put the blocks in the {bowl}", {"bowl": bowl}, {})


def check_blocks_in_bowl(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.all_hold([ck.on_top_of(per, b, attrs["bowl"]) for b in ck.blocks(per)])


def gen_matching(rng: np.random.Generator, a: Attributes) -> Setup:
    colors = _pick(rng, a.colors, 3)
    objects = sample_scene(rng, colors, [str(c) for c in rng.permutation(colors)])
    return Setup(objects, "put all the blocks in the bowls with matching colors", {}, {})


def check_matching(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    """As in the original: a block whose color has no bowl is free."""
    names = set(per.object_names())
    return ck.all_hold(
        [
            ck.on_top_of(per, b, f"{color_of(b)} bowl")
            for b in ck.blocks(per)
            if f"{color_of(b)} bowl" in names
        ]
    )


def gen_direction_of_bowl(rng: np.random.Generator, a: Attributes) -> Setup:
    bowl, blocks = _pick(rng, a.colors, 1)[0], _pick(rng, a.colors, 3)
    direction, place = str(_one(rng, a.directions)), str(_one(rng, a.places))
    axis, sign = axis_sign(direction)

    def make() -> Setup | None:
        objects = sample_scene(rng, blocks, [bowl])
        pos = dict(objects)
        rel = [sign * (pos[f"{b} block"][axis] - pos[f"{bowl} bowl"][axis]) for b in blocks]
        beyond = [i for i, r in enumerate(rel) if r > MARGIN]
        if len(beyond) != 1 or any(r > -MARGIN for i, r in enumerate(rel) if i != beyond[0]):
            return None
        cmd = f"pick up the block to the {direction} of the {bowl} bowl and place it on the {place}"
        attrs = {"direction": direction, "bowl": f"{bowl} bowl", "place": place}
        return Setup(objects, cmd, attrs, {"block": f"{blocks[beyond[0]]} block"})

    return _retry(make, "direction")


def check_answer_block_on_place(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.on_top_of(per, answer["block"], attrs["place"])


def gen_distance_to_bowl(rng: np.random.Generator, a: Attributes) -> Setup:
    bowl, blocks = _pick(rng, a.colors, 1)[0], _pick(rng, a.colors, 3)
    distance, place = str(_one(rng, a.distances)), str(_one(rng, a.places))

    def make() -> Setup | None:
        objects = sample_scene(rng, blocks, [bowl])
        pos = dict(objects)
        d = sorted(
            (float(np.linalg.norm(np.subtract(pos[f"{b} block"], pos[f"{bowl} bowl"]))), b) for b in blocks
        )
        if d[1][0] - d[0][0] <= MARGIN or d[2][0] - d[1][0] <= MARGIN:
            return None
        block = f"{(d[0] if distance == 'closest' else d[-1])[1]} block"
        cmd = f"pick up the block {distance} to the {bowl} bowl and place it on the {place}"
        return Setup(
            objects, cmd, {"distance": distance, "bowl": f"{bowl} bowl", "place": place}, {"block": block}
        )

    return _retry(make, "distance")


def gen_nth_from_direction(rng: np.random.Generator, a: Attributes) -> Setup:
    blocks = _pick(rng, a.colors, 4)  # the original samples four or more so "fourth" always exists
    direction, nth, place = str(_one(rng, a.directions)), str(_one(rng, a.nths)), str(_one(rng, a.places))
    axis, sign = axis_sign(direction)

    def make() -> Setup | None:
        objects = sample_scene(rng, blocks, _pick(rng, a.colors, 1))
        pos = dict(objects)
        if min(np.diff(sorted(pos[f"{b} block"][axis] for b in blocks))) <= 0.04:
            return None
        order = sorted(blocks, key=lambda b: -sign * pos[f"{b} block"][axis])
        cmd = f"pick up the {nth} block from the {direction} and place it on the {place}"
        answer = {"block": f"{order[ORDINALS.index(nth)]} block"}
        return Setup(objects, cmd, {"nth": nth, "direction": direction, "place": place}, answer)

    return _retry(make, "ordinal")


# -- unseen instructions ---------------------------------------------------------------------------------
def gen_different_corners(rng: np.random.Generator, a: Attributes) -> Setup:
    objects = sample_scene(rng, _pick(rng, a.colors, int(rng.integers(2, 5))), _pick(rng, a.colors, 1))
    return Setup(objects, "put all the blocks in different corners", {}, {})


def check_different_corners(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    corner_of = {}
    for b in ck.blocks(per):
        near = [c for c in CORNERS if ck.on_top_of(per, b, c)[0]]
        corner_of[b] = near[0] if near else None
    ok = all(corner_of.values()) and len(set(corner_of.values())) == len(corner_of)
    return ok, f"corners: {corner_of}"


def gen_mismatched(rng: np.random.Generator, a: Attributes) -> Setup:
    colors = _pick(rng, a.colors, 3)
    objects = sample_scene(rng, colors, [str(c) for c in rng.permutation(colors)])
    return Setup(objects, "put the blocks in the bowls with mismatched colors", {}, {})


def check_mismatched(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    """As in the original: every block is on some bowl of another color."""
    results = []
    for b in ck.blocks(per):
        inside = [w for w in ck.bowls(per) if ck.on_top_of(per, b, w)[0]]
        ok = any(color_of(w) != color_of(b) for w in inside)
        results.append((ok, f"{b} is in {inside or 'no bowl'}"))
    return ck.all_hold(results)


def gen_stack_on_place(rng: np.random.Generator, a: Attributes) -> Setup:
    place = str(_one(rng, a.places))
    objects = sample_scene(rng, _pick(rng, a.colors, 3), _pick(rng, a.colors, 1))
    return Setup(objects, f"stack all the blocks on the {place}", {"place": place}, {})


def check_stack_on_place(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    names = ck.blocks(per)
    return ck.all_hold([ck.stacked(per, names)] + [ck.on_top_of(per, b, attrs["place"]) for b in names])


def gen_relative_to_bowl(rng: np.random.Generator, a: Attributes) -> Setup:
    blocks, bowls = _pick(rng, a.colors, 3), _pick(rng, a.colors, 2)
    block, bowl = f"{blocks[0]} block", f"{bowls[0]} bowl"
    direction, magnitude = str(_one(rng, a.directions)), str(_one(rng, a.magnitudes))
    step = LITTLE if magnitude == "a little" else LOT

    def make() -> Setup | None:
        objects = sample_scene(rng, blocks, bowls)
        goal = np.asarray(dict(objects)[bowl]) + np.array(DIRECTIONS[direction]) * step
        if not is_clear(goal, objects, ignore=[block, bowl]) or not is_clear(goal, objects, margin=0.005):
            return None
        cmd = f"pick up the {block} and place it {magnitude} to the {direction} of the {bowl}"
        return Setup(
            objects, cmd, {"block": block, "bowl": bowl, "direction": direction, "magnitude": magnitude}, {}
        )

    return _retry(make, "relative placement")


def check_relative_to_bowl(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    """As in the original: on the asked side of the bowl, at most a third of the workspace away along that axis
    for "a little", more for "a lot"; and not in the bowl."""
    axis, sign = axis_sign(attrs["direction"])
    along = sign * float(ck.xy(per, attrs["block"])[axis] - ck.xy(per, attrs["bowl"])[axis])
    little = attrs["magnitude"] == "a little"
    in_bowl = ck.on_top_of(per, attrs["block"], attrs["bowl"])[0]
    ok = along > 0 and (along <= MAGNITUDE_SPLIT if little else along > MAGNITUDE_SPLIT) and not in_bowl
    return (
        ok,
        f"{attrs['block']} is {along * 100:.1f} cm to the {attrs['direction']} of the {attrs['bowl']}"
        + (" (in it)" if in_bowl else ""),
    )


def gen_corner_by_distance(rng: np.random.Generator, a: Attributes) -> Setup:
    blocks, bowl = _pick(rng, a.colors, 3), _pick(rng, a.colors, 1)[0]
    block, distance = f"{blocks[0]} block", str(_one(rng, a.distances))

    def make() -> Setup | None:
        objects = sample_scene(rng, blocks, [bowl])
        where = np.asarray(dict(objects)[f"{bowl} bowl"])
        d = sorted((float(np.linalg.norm(PLACES[c] - where)), c) for c in CORNERS)
        if (distance == "closest" and d[1][0] - d[0][0] <= MARGIN) or (
            distance == "farthest" and d[-1][0] - d[-2][0] <= MARGIN
        ):
            return None
        corner = (d[0] if distance == "closest" else d[-1])[1]
        cmd = f"pick up the {block} and place it in the corner {distance} to the {bowl} bowl"
        return Setup(
            objects, cmd, {"block": block, "bowl": f"{bowl} bowl", "distance": distance}, {"corner": corner}
        )

    return _retry(make, "corner distance")


def check_corner_by_distance(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.on_top_of(per, attrs["block"], answer["corner"])


def gen_line(rng: np.random.Generator, a: Attributes) -> Setup:
    line = str(_one(rng, a.lines))
    objects = sample_scene(rng, _pick(rng, a.colors, int(rng.integers(3, 5))), _pick(rng, a.colors, 1))
    return Setup(objects, f"put all the blocks in a {line} line", {"line": line}, {})


def check_line(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.in_line(per, ck.blocks(per), attrs["line"])


# -- extras ----------------------------------------------------------------------------------------------
def gen_relative_to_block(rng: np.random.Generator, a: Attributes) -> Setup:
    blocks = _pick(rng, a.colors, 3)
    block, reference = f"{blocks[0]} block", f"{blocks[1]} block"
    direction, cm = str(_one(rng, a.directions)), int(_one(rng, a.offsets_cm))

    def make() -> Setup | None:
        objects = sample_scene(rng, blocks, _pick(rng, a.colors, 1))
        goal = np.asarray(dict(objects)[reference]) + np.array(DIRECTIONS[direction]) * cm / 100
        if not is_clear(goal, objects, ignore=[block, reference]):
            return None
        cmd = f"place the {block} {cm} cm to the {direction} of the {reference}"
        return Setup(
            objects, cmd, {"block": block, "reference": reference, "direction": direction, "cm": cm}, {}
        )

    return _retry(make, "relative placement")


def check_relative_to_block(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    goal = ck.xy(per, attrs["reference"]) + np.array(DIRECTIONS[attrs["direction"]]) * attrs["cm"] / 100
    d = float(np.linalg.norm(ck.xy(per, attrs["block"]) - goal))
    return d <= ck.NEAR_POINT, f"{attrs['block']} is {d * 100:.1f} cm from the asked point"


def gen_circle(rng: np.random.Generator, a: Attributes) -> Setup:
    cm = int(_one(rng, a.radii_cm))
    objects = sample_scene(rng, _pick(rng, a.colors, int(rng.integers(3, 6))), [])
    return Setup(
        objects, f"arrange all the blocks in a circle of radius {cm} cm around the middle", {"cm": cm}, {}
    )


def check_circle(per: Perception, attrs: dict, answer: dict) -> ck.Result:
    return ck.in_circle(per, ck.blocks(per), PLACES["middle"], attrs["cm"] / 100)


_ON_PLACE = "pick up the block {} and place it on a corner or side"
FAMILIES: dict[str, Family] = {
    f.name: Family(f.name, f.description, f.instructions, unsolved(f.generate, f.check), f.check)
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
            _ON_PLACE.format("to a direction of a bowl"),
            "seen",
            gen_direction_of_bowl,
            check_answer_block_on_place,
        ),
        Family(
            "block-distance-to-bowl",
            _ON_PLACE.format("closest/farthest to a bowl"),
            "seen",
            gen_distance_to_bowl,
            check_answer_block_on_place,
        ),
        Family(
            "nth-block-from-direction",
            "pick up the n-th block from a direction and place it on a corner or side",
            "seen",
            gen_nth_from_direction,
            check_answer_block_on_place,
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
            "block-relative-to-bowl",
            "place a block a little / a lot to a direction of a bowl",
            "unseen",
            gen_relative_to_bowl,
            check_relative_to_bowl,
        ),
        Family(
            "block-in-corner-by-distance",
            "place a block in the corner closest/farthest to a bowl",
            "unseen",
            gen_corner_by_distance,
            check_corner_by_distance,
        ),
        Family(
            "line-of-blocks",
            "put all the blocks in a horizontal, vertical or diagonal line",
            "unseen",
            gen_line,
            check_line,
        ),
        Family(
            "place-relative-to-block",
            "place a block some cm to a direction of another block",
            "extra",
            gen_relative_to_block,
            check_relative_to_block,
        ),
        Family(
            "blocks-in-circle",
            "arrange the blocks in a circle of a given radius around the middle",
            "extra",
            gen_circle,
            check_circle,
        ),
    ]
}
