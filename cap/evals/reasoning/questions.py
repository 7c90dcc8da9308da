"""A seeded generator of tabletop scenes and questions with exact answers, written for this project.

Object selection ("which block is closest to the red bowl?") has one object name as its answer, and the
generator only keeps a question whose best answer beats the runner-up by a clear margin (MARGIN), so the
answer is exact, not a coin toss between near-equal distances. Position selection ("a point midway between
the blue block and the green bowl") has an (x, y) answer, scored within a tolerance (score.py). A `Question` holds only
what an answerer may see (the scene and the text); its `Answer` is kept apart, for the scorer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cap.evals.common.scene import Scene, random_scene
from robot_api.scene import CORNERS, PLACES

MARGIN = 0.03  # metres by which the right object must beat the next best one


@dataclass(frozen=True)
class Question:
    id: str
    group: str  # "object" | "position"
    text: str
    scene: Scene


@dataclass(frozen=True)
class Answer:
    kind: str  # "object" | "position"
    value: str | tuple[float, float]


def _dist(scene: Scene, a: str, point: np.ndarray) -> float:
    return float(np.linalg.norm(scene.position(a) - point))


def _ranked(scene: Scene, names: list[str], point: np.ndarray, reverse: bool = False) -> list[str] | None:
    """`names` by distance to `point` (nearest first), or None when the top two are too close to call."""
    order = sorted(names, key=lambda n: _dist(scene, n, point), reverse=reverse)
    if len(order) < 2 or abs(_dist(scene, order[0], point) - _dist(scene, order[1], point)) < MARGIN:
        return None
    return order


Maker = Callable[[np.random.Generator, Scene], "tuple[str, Answer] | None"]


def _closest_block_to_bowl(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    bowl = str(rng.choice([n for n in scene.names() if n.endswith("bowl")]))
    order = _ranked(scene, [n for n in scene.names() if n.endswith("block")], scene.position(bowl))
    return None if order is None else (f"which block is closest to the {bowl}?", Answer("object", order[0]))


def _farthest_block_from(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    ref = str(rng.choice(scene.names()))
    blocks = [n for n in scene.names() if n.endswith("block") and n != ref]
    order = _ranked(scene, blocks, scene.position(ref), reverse=True)
    return None if order is None else (f"which block is farthest from the {ref}?", Answer("object", order[0]))


def _closest_bowl_to_block(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    block = str(rng.choice([n for n in scene.names() if n.endswith("block")]))
    order = _ranked(scene, [n for n in scene.names() if n.endswith("bowl")], scene.position(block))
    return None if order is None else (f"which bowl is closest to the {block}?", Answer("object", order[0]))


def _block_nearest_corner(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    corner = str(rng.choice(CORNERS))
    order = _ranked(scene, [n for n in scene.names() if n.endswith("block")], PLACES[corner])
    return None if order is None else (f"which block is nearest to the {corner}?", Answer("object", order[0]))


def _left_most_object(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    kind = str(rng.choice(["block", "bowl"]))
    names = sorted((n for n in scene.names() if n.endswith(kind)), key=lambda n: scene.position(n)[0])
    if len(names) < 2 or scene.position(names[1])[0] - scene.position(names[0])[0] < MARGIN:
        return None
    return f"which {kind} is the furthest to the left?", Answer("object", names[0])


def _second_closest_block(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    bowl = str(rng.choice([n for n in scene.names() if n.endswith("bowl")]))
    blocks = [n for n in scene.names() if n.endswith("block")]
    point = scene.position(bowl)
    order = sorted(blocks, key=lambda n: _dist(scene, n, point))
    d = [_dist(scene, n, point) for n in order]
    if len(order) < 3 or d[1] - d[0] < MARGIN or d[2] - d[1] < MARGIN:
        return None
    return f"which block is the second closest to the {bowl}?", Answer("object", order[1])


def _midpoint(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    a, b = (str(n) for n in rng.choice(scene.names(), 2, replace=False))
    p = (scene.position(a) + scene.position(b)) / 2
    return f"a point midway between the {a} and the {b}", Answer("position", (float(p[0]), float(p[1])))


def _offset(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    obj = str(rng.choice(scene.names()))
    cm = int(rng.choice([5, 10, 15]))
    direction, delta = [("left of", (-1, 0)), ("right of", (1, 0)), ("above", (0, 1)), ("below", (0, -1))][
        int(rng.integers(4))
    ]
    p = scene.position(obj) + np.array(delta) * cm / 100
    return f"a point {cm} cm {direction} the {obj}", Answer("position", (float(p[0]), float(p[1])))


def _centroid_of_kind(rng: np.random.Generator, scene: Scene) -> tuple[str, Answer] | None:
    kind = str(rng.choice(["block", "bowl"]))
    p = np.mean([scene.position(n) for n in scene.names() if n.endswith(kind)], axis=0)
    return f"the centroid of all the {kind}s", Answer("position", (float(p[0]), float(p[1])))


OBJECT_MAKERS: tuple[Maker, ...] = (
    _closest_block_to_bowl,
    _farthest_block_from,
    _closest_bowl_to_block,
    _block_nearest_corner,
    _left_most_object,
    _second_closest_block,
)
POSITION_MAKERS: tuple[Maker, ...] = (_midpoint, _offset, _centroid_of_kind)


def generate(count: int, seed: int = 0, position_share: float = 0.5) -> list[tuple[Question, Answer]]:
    """`count` questions with their answers, the same for the same seed; about `position_share` of them ask
    for a position. Each question has a scene of its own (3-4 blocks, 2-3 bowls)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[Question, Answer]] = []
    while len(out) < count:
        scene = random_scene(rng, blocks=int(rng.integers(3, 5)), bowls=int(rng.integers(2, 4)))
        group = "position" if rng.random() < position_share else "object"
        makers = POSITION_MAKERS if group == "position" else OBJECT_MAKERS
        made = makers[int(rng.integers(len(makers)))](rng, scene)
        if made is None:
            continue
        text, answer = made
        out.append((Question(f"q{len(out):03d}", group, text, scene), answer))
    return out
