"""Synthetic tabletop scenes without a simulator: objects at known positions, seen through the tabletop API.

The robocodegen object-API problems and the reasoning questions need a scene a policy can perceive
(`get_obj_names`, `get_obj_pos`, `get_bbox`, ...) and whose exact state the scorer knows. A `Scene` is that
state; `perception_api(scene)` is the original API's perception half (`robot_api.tabletop.TabletopAPI` over a
static perception), so names, argument checks and docs are the real ones. Nothing here moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_api.scene import BLOCK_SIZE, BOUNDS, BOWL_HEIGHT, BOWL_RADIUS, COLORS, PLACES, kind_of

PERCEPTION_NAMES = (
    "get_obj_names",
    "get_obj_pos",
    "get_bbox",
    "get_color",
    "is_obj_visible",
    "denormalize_xy",
    "get_corner_name",
    "get_side_name",
)


@dataclass(frozen=True)
class SceneObject:
    name: str  # "<color> block" or "<color> bowl"
    x: float
    y: float

    @property
    def kind(self) -> str:
        return kind_of(self.name)

    @property
    def half_size(self) -> float:
        return BLOCK_SIZE / 2 if self.kind == "block" else BOWL_RADIUS

    @property
    def height(self) -> float:
        return BLOCK_SIZE if self.kind == "block" else BOWL_HEIGHT


@dataclass(frozen=True)
class Scene:
    objects: tuple[SceneObject, ...]

    def names(self) -> list[str]:
        return [o.name for o in self.objects]

    def get(self, name: str) -> SceneObject:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(name)

    def position(self, name: str) -> np.ndarray:
        if name in PLACES:
            return PLACES[name].copy()
        obj = self.get(name)
        return np.array([obj.x, obj.y])

    def describe(self) -> str:
        """The scene in words with coordinates, as a natural-language answerer is shown it."""
        lines = [f"- {o.name} at (x={o.x:.3f}, y={o.y:.3f})" for o in self.objects]
        return "\n".join(lines)

    def to_json(self) -> list[list[Any]]:
        return [[o.name, o.x, o.y] for o in self.objects]


class ScenePerception:
    """The perception protocol TabletopAPI reads, over `scene` (which a benchmark may swap between runs)."""

    def __init__(self, scene: Scene):
        self.scene = scene

    def object_names(self) -> list[str]:
        return self.scene.names()

    def object_visible(self, name: str) -> bool:
        return name in self.scene.names()

    def object_position(self, name: str) -> tuple[float, float, float]:
        obj = self.scene.get(name)
        return (obj.x, obj.y, obj.height / 2)

    def object_bbox(self, name: str) -> tuple[float, ...]:
        o = self.scene.get(name)
        h = o.half_size
        return (o.x - h, o.y - h, 0.0, o.x + h, o.y + h, o.height)

    def object_color(self, name: str) -> tuple[float, float, float]:
        return COLORS[name.rsplit(" ", 1)[0]]


def perception_api(scene: Scene | ScenePerception) -> dict[str, Callable[..., Any]]:
    """The perception functions of the tabletop API over a scene (host callables for a sandbox)."""
    from robot_api.tabletop import TabletopAPI

    perception = scene if isinstance(scene, ScenePerception) else ScenePerception(scene)
    api = TabletopAPI(None, perception)  # type: ignore[arg-type]  # no robot: nothing moves
    return {name: getattr(api, name) for name in PERCEPTION_NAMES}


def perception_docs() -> list[dict[str, str]]:
    """Name, signature and doc of each perception function, for prompts."""
    from robot_api.tabletop import TabletopAPI

    return [f for f in TabletopAPI.describe() if f["name"] in PERCEPTION_NAMES]


def random_scene(rng: np.random.Generator, blocks: int, bowls: int, min_gap: float = 0.1) -> Scene:
    """Distinct colors per kind, positions inside the workspace at least `min_gap` apart (centre to centre)."""
    colors = list(COLORS)
    names = [f"{c} block" for c in rng.choice(colors, blocks, replace=False)]
    names += [f"{c} bowl" for c in rng.choice(colors, bowls, replace=False)]
    placed: list[SceneObject] = []
    margin = 0.06
    for name in names:
        for _ in range(1000):
            x = float(rng.uniform(BOUNDS[0, 0] + margin, BOUNDS[0, 1] - margin))
            y = float(rng.uniform(BOUNDS[1, 0] + margin, BOUNDS[1, 1] - margin))
            if all(np.hypot(x - o.x, y - o.y) >= min_gap for o in placed):
                break
        placed.append(SceneObject(name, round(x, 3), round(y, 3)))
    order = rng.permutation(len(placed))
    return Scene(tuple(placed[i] for i in order))


def nearest(scene: Scene, point: Sequence[float], candidates: Sequence[str]) -> str:
    p = np.asarray(point, dtype=float)
    return min(candidates, key=lambda n: float(np.linalg.norm(scene.position(n) - p)))
