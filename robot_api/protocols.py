"""What a robot must offer to run policies: the tabletop API is written against these two protocols only,
so real hardware plugs in by implementing them (see demos/embed_robot_app.py)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


class SafetyError(Exception):
    """A motion was refused before it started (outside the workspace, unreachable, into the table).

    The robot stays where it was; policies may catch this and try something else.
    """


@runtime_checkable
class Robot(Protocol):
    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """End-effector position (x, y, z) in metres and orientation quaternion (x, y, z, w), table frame."""
        ...

    def move_to(self, position: np.ndarray, speed: float = 1.0) -> None:
        """Move the end-effector (pointing down) to `position`; raise SafetyError if the motion is unsafe."""
        ...

    def gripper_close(self) -> bool:
        """Grasp (or apply suction to) what is under the end-effector; True if something is held."""
        ...

    def gripper_open(self) -> None:
        """Release whatever is held and wait until it comes to rest."""
        ...

    def joint_state(self) -> np.ndarray:
        """Arm joint angles in radians."""
        ...

    def holding(self) -> str | None:
        """Name of the held object, if any."""
        ...

    def stop(self) -> None:
        """Stop all motion now and hold position."""
        ...


@runtime_checkable
class Perception(Protocol):
    def object_names(self) -> list[str]: ...

    def object_position(self, name: str) -> np.ndarray:
        """Centre of the object (x, y, z) in metres."""
        ...

    def object_bbox(self, name: str) -> np.ndarray:
        """Axis-aligned box (x_min, y_min, z_min, x_max, y_max, z_max)."""
        ...

    def object_color(self, name: str) -> tuple[float, float, float]: ...

    def object_visible(self, name: str) -> bool: ...
