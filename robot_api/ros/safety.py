"""cap's own limits for a real robot, checked before anything is sent: whatever the robot's driver allows,
a policy's motion outside the configured workspace, or faster than the configured speed, is a `SafetyError`
and nothing moves. The same limits wrap the PyBullet twin, so the dry run refuses exactly what the robot would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_api.protocols import SafetyError


@dataclass(frozen=True)
class Limits:
    workspace: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    max_speed: float

    @classmethod
    def from_config(cls, safety: Any) -> Limits:
        ws = tuple((float(lo), float(hi)) for lo, hi in safety.workspace)
        return cls(ws, float(safety.max_speed))  # type: ignore[arg-type]

    def check(self, position: Sequence[float], speed: float) -> np.ndarray:
        """The target as a float array, or SafetyError saying which limit it breaks."""
        p = np.asarray(position, dtype=float).reshape(-1)
        if p.size != 3 or not np.all(np.isfinite(p)):
            raise SafetyError(f"expected a finite (x, y, z) target, got {list(np.round(p, 4))}")
        if not (isinstance(speed, int | float) and np.isfinite(speed) and 0 < speed <= self.max_speed):
            raise SafetyError(f"speed {speed!r} is outside (0, {self.max_speed:g}] (safety.max_speed)")
        for axis, value, (lo, hi) in zip("xyz", p, self.workspace, strict=True):
            if not lo <= value <= hi:
                raise SafetyError(
                    f"{axis} = {value:.3f} m is outside the robot's workspace {axis} in [{lo:g}, {hi:g}] "
                    "(safety.workspace)"
                )
        return p


class Guarded:
    """A robot (e.g. the PyBullet twin) behind `Limits`: refuses what the real robot would refuse."""

    def __init__(self, robot: Any, limits: Limits):
        self._robot, self.limits = robot, limits

    def move_to(self, position: Sequence[float], speed: float = 1.0) -> None:
        self._robot.move_to(self.limits.check(position, speed), speed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._robot, name)
