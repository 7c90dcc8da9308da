"""The `Perception` of a scene as generated (before any physics): where each object was put, and its size.

Task generators use it to ask their own checker about the initial state without building a simulation: a scene
that already satisfies its checker would score a policy that does nothing, so it is never handed out (see
`robot_api.families`). Generated objects rest on the table (or on `z_bottom` when given) without touching each
other, so a simulator's settled scene agrees with this one to within a few millimetres (tests/test_tasks_initial.py
checks that against PyBullet).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robot_api.scene import BLOCK_SIZE, BOWL_HEIGHT, BOWL_RADIUS, COLORS, color_of, kind_of

BOWL_RIM = BOWL_RADIUS + 0.006  # the simulated bowl's wall is 6 mm thick, outside the radius


class LayoutPerception:
    def __init__(self, objects: Sequence[tuple[str, Sequence[float]]]):
        self._boxes: dict[str, np.ndarray] = {}
        for name, where in objects:
            x, y = float(where[0]), float(where[1])
            z0 = float(where[2]) if len(where) > 2 else 0.0
            if kind_of(name) == "bowl":
                half, height = BOWL_RIM, BOWL_HEIGHT
            else:
                half, height = BLOCK_SIZE / 2, BLOCK_SIZE
            self._boxes[name] = np.array([x - half, y - half, z0, x + half, y + half, z0 + height])

    def object_names(self) -> list[str]:
        return list(self._boxes)

    def object_position(self, name: str) -> np.ndarray:
        box = self._boxes[name]
        return (box[:3] + box[3:]) / 2

    def object_bbox(self, name: str) -> np.ndarray:
        return self._boxes[name].copy()

    def object_color(self, name: str) -> tuple[float, float, float]:
        return COLORS[color_of(name)]

    def object_visible(self, name: str) -> bool:
        return name in self._boxes
