"""A PyBullet twin of a perceived scene, and a switch that points the tabletop API at the twin or the robot.

`build_twin(perception)` snapshots what a `Perception` sees (names, boxes) into a fresh `PyBulletTabletop`:
'<color> block' / '<color> bowl' become the simulator's own objects; anything else becomes a box of its
detected size and colour. Run a policy against the twin first and you learn, without moving anything real,
whether it raises, refuses a motion (SafetyError) or times out on this very scene.

`Switch` is a `Robot` and a `Perception` that forwards to whichever target it points at, so one
`TabletopAPI` (and one sandbox bound to its functions) can run the same program on the twin and then on the
robot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robot_api.pb import pybullet as pb
from robot_api.protocols import Perception, SafetyError
from robot_api.pybullet_sim import PyBulletTabletop
from robot_api.scene import COLORS, color_of, kind_of


def _native(name: str) -> bool:
    return kind_of(name) in ("block", "bowl") and color_of(name) in COLORS


def build_twin(perception: Perception, tool_position: Any = None) -> PyBulletTabletop:
    """A headless PyBullet tabletop holding what `perception` sees now; the arm over `tool_position` if given
    (and reachable). The caller closes it."""
    names = list(perception.object_names())
    boxes = {n: np.asarray(perception.object_bbox(n), dtype=float) for n in names}
    sim = PyBulletTabletop()
    try:
        sim.reset(
            [(n, (*((b[:2] + b[3:5]) / 2), max(0.0, float(b[2])))) for n, b in boxes.items() if _native(n)]
        )
        for n in names:
            if not _native(n):
                _add_box(sim, n, boxes[n], perception.object_color(n))
        sim.settle()
        if tool_position is not None:
            try:
                sim.move_to(np.asarray(tool_position, dtype=float))
            except SafetyError:
                pass  # the twin starts from its rest pose instead
        # Keep the perceived order: policies (and prompts) see the names as the robot reports them.
        sim.objects = {n: sim.objects[n] for n in names}
    except BaseException:
        sim.close()
        raise
    return sim


def _add_box(sim: PyBulletTabletop, name: str, box: np.ndarray, color: Any) -> None:
    c = sim.client
    half = np.maximum((box[3:] - box[:3]) / 2, 0.005)
    center = (box[:3] + box[3:]) / 2
    center[2] = max(center[2], half[2])
    col = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=half.tolist(), physicsClientId=c)
    vis = pb.createVisualShape(
        pb.GEOM_BOX, halfExtents=half.tolist(), rgbaColor=(*color, 1.0), physicsClientId=c
    )
    body = pb.createMultiBody(0.1, col, vis, center.tolist(), physicsClientId=c)
    for link in range(-1, pb.getNumJoints(sim.robot, physicsClientId=c)):
        pb.setCollisionFilterPair(sim.robot, body, link, -1, 0, physicsClientId=c)
    sim.objects[name] = body


ROBOT_METHODS = ("ee_pose", "move_to", "gripper_close", "gripper_open", "joint_state", "holding", "stop")
PERCEPTION_METHODS = ("object_names", "object_position", "object_bbox", "object_color", "object_visible")


class Switch:
    """Forwards the Robot and Perception methods to `robot` / `perception`; `point_at` changes both."""

    def __init__(self, robot: Any, perception: Any):
        self.point_at(robot, perception)

    def point_at(self, robot: Any, perception: Any) -> None:
        self.robot, self.perception = robot, perception

    def __getattr__(self, name: str) -> Any:
        if name in ROBOT_METHODS:
            return getattr(self.robot, name)
        if name in PERCEPTION_METHODS:
            return getattr(self.perception, name)
        raise AttributeError(name)
