"""The embedded default robot: a Franka Panda over a tabletop of 4 cm blocks and bowls, in PyBullet.

Grasping is a documented suction model: when the gripper closes with its fingertips within 1.5 cm above an
object's top, the object is held rigidly to the hand (an ideal vacuum cup); opening lets it go, and it falls and
settles under physics. `snapshot`/`restore` (and `trial`, a dry run that leaves no trace) save and bring back the
whole state, physics and bookkeeping: a program run after a restore moves everything as it did before it (to
floating-point noise, below a nanometre). The arm is kinematic: it follows IK along 1 cm
waypoints exactly (motors hold each pose), while blocks and bowls are fully dynamic; the arm's links do not collide with
objects (a kinematic arm would hit them with infinite mass), so objects move only when held, when they fall, or
when something dropped on them pushes them; the simulation steps only
while something moves, and releases end by settle detection (every object at rest), not a fixed step count. Implements the `Robot` and `Perception` protocols.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from robot_api.pb import pybullet as pb
from robot_api.pb import pybullet_data
from robot_api.protocols import SafetyError
from robot_api.scene import (
    BLOCK_SIZE,
    BOUNDS,
    BOWL_HEIGHT,
    BOWL_RADIUS,
    COLORS,
    ROBOT_BASE,
    color_of,
    kind_of,
)

ARM_JOINTS = tuple(range(7))
FINGER_JOINTS = (9, 10)
EE_LINK = 11  # panda_grasptarget, between the fingertips
REST = (0.0, -0.3, 0.0, -2.2, 0.0, 2.0, 0.785)
TUCKED = (0.0, -1.76, 0.0, -3.0, 0.0, 1.4, 0.785)  # folded back over the base, out of the cameras' way
LOWER = (-2.9, -1.76, -2.9, -3.07, -2.9, -0.02, -2.9)
UPPER = (2.9, 1.76, 2.9, -0.07, 2.9, 3.75, 2.9)
RANGES = [u - lo for u, lo in zip(UPPER, LOWER, strict=True)]
YAWS = (-math.pi / 2, 0.0, math.pi / 2, math.pi, -math.pi / 4, math.pi / 4)
SAFE_Z = 0.2
# Just in front of the base (the top side, 15 cm from it) a hand pointing down reaches mid heights only to within
# 3-5 mm: accepted there (a block is 4 cm wide), so three blocks can be stacked on the top side.
CLOSE_REACH_TOLERANCE = 6e-3
MAX_JOINT_STEP = 0.05  # radians per simulated step of the kinematic arm
MIN_Z = 0.005  # fingertips may not go lower: that is the table


@dataclass(frozen=True)
class Snapshot:
    """A saved state of one `PyBulletTabletop`: PyBullet's in-memory state plus what the class keeps itself."""

    state_id: int
    held: tuple | None
    yaw: float
    arm_q: tuple[float, ...]
    steps: int
    objects: tuple[tuple[str, int], ...]


def check_display() -> None:
    """Raise RuntimeError unless a window can be opened (PyBullet's GUI would abort the process instead)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise RuntimeError("the PyBullet window needs a display, and none is set (DISPLAY is empty)")


class PyBulletTabletop:
    """One simulated tabletop. `gui=True` opens a window (needs a display); DIRECT (headless) otherwise."""

    def __init__(self, gui: bool = False, time_step: float = 1 / 240):
        if gui:
            check_display()
        self.client = pb.connect(pb.GUI if gui else pb.DIRECT)
        self.time_step = time_step
        self.objects: dict[str, int] = {}
        self.steps = 0
        self._held: tuple[str, int] | None = None
        self._yaw = YAWS[0]
        self.frame_hook: Callable[[], None] | None = None  # called every few steps while moving (GIF capture)
        self.reset([])

    # -- scene -------------------------------------------------------------------------------------
    def reset(self, objects: Sequence[tuple[str, Sequence[float]]]) -> None:
        """Rebuild the scene with `objects` as (name, (x, y)) or (name, (x, y, z_bottom)) pairs; names
        '<color> block' or '<color> bowl'."""
        c = self.client
        pb.resetSimulation(physicsClientId=c)
        pb.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=c)
        pb.setGravity(0, 0, -9.8, physicsClientId=c)
        pb.setTimeStep(self.time_step, physicsClientId=c)
        pb.setPhysicsEngineParameter(numSolverIterations=50, physicsClientId=c)
        self.plane = pb.loadURDF("plane.urdf", (0, 0, -0.001), physicsClientId=c)
        pb.changeVisualShape(
            self.plane, -1, textureUniqueId=-1, rgbaColor=(0.86, 0.84, 0.80, 1), physicsClientId=c
        )
        self.robot = pb.loadURDF(
            "franka_panda/panda.urdf",
            ROBOT_BASE,
            pb.getQuaternionFromEuler((0, 0, -math.pi / 2)),
            useFixedBase=True,
            physicsClientId=c,
        )
        for j, q in zip(ARM_JOINTS, REST, strict=True):
            pb.resetJointState(self.robot, j, q, physicsClientId=c)
        for j in FINGER_JOINTS:
            pb.resetJointState(self.robot, j, 0.0, physicsClientId=c)
        self._hold_arm(REST)
        self.objects = {}
        self._held = None
        self._yaw = YAWS[0]  # an episode must not depend on the one before it
        self._arm_q = list(REST)
        for name, xy in objects:
            self.objects[name] = body = self._add_object(name, xy)
            # The kinematic arm never pushes objects: only what the suction cup holds moves with it.
            for link in range(-1, pb.getNumJoints(self.robot, physicsClientId=c)):
                pb.setCollisionFilterPair(self.robot, body, link, -1, 0, physicsClientId=c)
        self.settle()

    def _add_object(self, name: str, xy: Sequence[float]) -> int:
        kind, color = kind_of(name), color_of(name)
        if color not in COLORS or kind not in ("block", "bowl"):
            raise ValueError(
                f"unknown object {name!r}: use '<color> block' or '<color> bowl' with colors {list(COLORS)}"
            )
        rgba = (*COLORS[color], 1.0)
        c = self.client
        if kind == "block":
            h = BLOCK_SIZE / 2
            col = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=(h, h, h), physicsClientId=c)
            vis = pb.createVisualShape(pb.GEOM_BOX, halfExtents=(h, h, h), rgbaColor=rgba, physicsClientId=c)
            z = (xy[2] if len(xy) > 2 else 0.0) + h
            body = pb.createMultiBody(0.05, col, vis, (xy[0], xy[1], z), physicsClientId=c)
            pb.changeDynamics(body, -1, lateralFriction=0.8, physicsClientId=c)
            return body
        # A bowl: a floor and a ring of wall segments, one compound rigid body.
        n, wall = 12, 0.006
        shapes, positions, extents, orients = [pb.GEOM_CYLINDER], [(0, 0, 0.003)], [None], [(0, 0, 0, 1)]
        seg = 2 * BOWL_RADIUS * math.tan(math.pi / n) + 0.002
        for i in range(n):
            a = 2 * math.pi * i / n
            shapes.append(pb.GEOM_BOX)
            positions.append((BOWL_RADIUS * math.cos(a), BOWL_RADIUS * math.sin(a), BOWL_HEIGHT / 2))
            extents.append((wall / 2, seg / 2, BOWL_HEIGHT / 2))
            orients.append(pb.getQuaternionFromEuler((0, 0, a)))
        kwargs = dict(
            shapeTypes=shapes,
            halfExtents=[e or (0, 0, 0) for e in extents],
            radii=[BOWL_RADIUS + wall / 2] + [0] * n,
            lengths=[0.006] + [0] * n,
            collisionFramePositions=positions,
            collisionFrameOrientations=orients,
            physicsClientId=c,
        )
        col = pb.createCollisionShapeArray(**kwargs)
        vis = pb.createVisualShapeArray(
            shapeTypes=shapes,
            halfExtents=kwargs["halfExtents"],
            radii=kwargs["radii"],
            lengths=kwargs["lengths"],
            visualFramePositions=positions,
            visualFrameOrientations=orients,
            rgbaColors=[rgba] * (n + 1),
            physicsClientId=c,
        )
        body = pb.createMultiBody(
            0.3, col, vis, (xy[0], xy[1], xy[2] if len(xy) > 2 else 0.0), physicsClientId=c
        )
        pb.changeDynamics(body, -1, lateralFriction=0.8, physicsClientId=c)
        return body

    # -- snapshots ---------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """Save the current state (valid until `reset`, `forget` or `close`)."""
        state_id = pb.saveState(physicsClientId=self.client)
        return Snapshot(
            state_id,
            self._held,
            self._yaw,
            tuple(self._arm_q),
            self.steps,
            tuple(self.objects.items()),
        )

    def restore(self, snap: Snapshot) -> None:
        """Bring back the state of `snap` (bodies, velocities, contacts, the held object, the arm's
        commanded pose, the step counter). The snapshot stays valid, so it can be restored again."""
        pb.restoreState(snap.state_id, physicsClientId=self.client)
        self._held, self._yaw, self.steps = snap.held, snap.yaw, snap.steps
        self._arm_q = list(snap.arm_q)
        self.objects = dict(snap.objects)
        self._hold_arm(self._arm_q)  # motor targets are not part of PyBullet's saved state

    def forget(self, snap: Snapshot) -> None:
        """Free a snapshot's memory in PyBullet."""
        if self.client is not None:
            pb.removeState(snap.state_id, physicsClientId=self.client)

    @contextmanager
    def trial(self) -> Iterator[None]:
        """A dry run: whatever moves inside the block is undone when it ends (also on an exception), and no
        frames are captured meanwhile (an animation shows only what really happened)."""
        snap, hook = self.snapshot(), self.frame_hook
        self.frame_hook = None
        try:
            yield
        finally:
            self.frame_hook = hook
            self.restore(snap)
            self.forget(snap)

    def close(self) -> None:
        if self.client is not None:
            pb.disconnect(self.client)
            self.client = None

    # -- perception --------------------------------------------------------------------------------
    def object_names(self) -> list[str]:
        return list(self.objects)

    def _body(self, name: str) -> int:
        try:
            return self.objects[name]
        except KeyError:
            raise KeyError(f"no object named {name!r}; objects are {self.object_names()}") from None

    def object_position(self, name: str) -> np.ndarray:
        lo, hi = pb.getAABB(self._body(name), physicsClientId=self.client)
        pos, _ = pb.getBasePositionAndOrientation(self._body(name), physicsClientId=self.client)
        return np.array([pos[0], pos[1], (lo[2] + hi[2]) / 2])

    def object_bbox(self, name: str) -> np.ndarray:
        lo, hi = pb.getAABB(self._body(name), physicsClientId=self.client)
        return np.array([*lo, *hi])

    def object_color(self, name: str) -> tuple[float, float, float]:
        self._body(name)
        return COLORS[color_of(name)]

    def object_visible(self, name: str) -> bool:
        return name in self.objects

    # -- robot -------------------------------------------------------------------------------------
    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        state = pb.getLinkState(
            self.robot, EE_LINK, computeForwardKinematics=True, physicsClientId=self.client
        )
        return np.array(state[4]), np.array(state[5])

    def joint_state(self) -> np.ndarray:
        return np.array(
            [s[0] for s in pb.getJointStates(self.robot, ARM_JOINTS, physicsClientId=self.client)]
        )

    def holding(self) -> str | None:
        return self._held[0] if self._held else None

    def _ik(self, target: Sequence[float], also: Sequence[Sequence[float]] = ()) -> tuple[np.ndarray, float]:
        """Joint angles reaching `target` pointing down, and the hand yaw used, or SafetyError.

        A suction cup does not care about yaw, so IK tries the hand aligned with the arm's reach first (a
        continuous choice: vertical moves keep their yaw), then fixed yaws, from the current pose and from the rest
        pose. `also` lists points the same yaw must reach. The arm is left where it was.
        """
        c = self.client
        saved = self.joint_state()
        radial = math.atan2(target[1] - ROBOT_BASE[1], target[0] - ROBOT_BASE[0])
        yaws = [
            radial,
            *YAWS,
        ]  # the hand aligned with the arm's reach first: continuous, so columns keep their yaw
        err = float("inf")
        try:
            for seed in (saved, REST):
                for yaw in yaws:
                    for j, v in zip(ARM_JOINTS, seed, strict=True):
                        pb.resetJointState(self.robot, j, v, physicsClientId=c)
                    for _ in range(15):
                        q = self._ik_once(target, yaw, 60, 1e-5)
                        for j, v in zip(ARM_JOINTS, q, strict=True):
                            pb.resetJointState(self.robot, j, v, physicsClientId=c)
                        err = self._pose_error(target)
                        if err < 2e-3:
                            break
                    if err < 2e-3 and all(self._reaches(p, yaw) for p in also):
                        return q, yaw
            for yaw in yaws:  # close to the base, mid-height: descend from a pose that reaches safe height
                q, err = self._ik_from_above(target, yaw)
                if err < CLOSE_REACH_TOLERANCE and all(self._reaches(p, yaw) for p in also):
                    return q, yaw
            raise SafetyError(
                f"position {np.round(target, 3).tolist()} is unreachable (IK error {err * 100:.1f} cm)"
            )
        finally:
            for j, v in zip(ARM_JOINTS, saved, strict=True):
                pb.resetJointState(self.robot, j, v, physicsClientId=c)

    def _ik_from_above(self, target: Sequence[float], yaw: float) -> tuple[np.ndarray, float]:
        """IK by continuation: solve over the target at safe height, then follow the column down (or up) in 2 cm
        steps, each seeded and biased by the last. Near the base (15 cm in front of it) the direct solve
        falls into a bent-elbow minimum at 10-15 cm height that this path never enters."""
        c = self.client
        for j, v in zip(ARM_JOINTS, REST, strict=True):
            pb.resetJointState(self.robot, j, v, physicsClientId=c)
        q, err = np.asarray(REST), float("inf")
        steps = max(2, int(abs(SAFE_Z - float(target[2])) / 0.02) + 1)
        for z in np.linspace(SAFE_Z, float(target[2]), steps):
            point = (float(target[0]), float(target[1]), float(z))
            for _ in range(15):
                q = self._ik_once(point, yaw, 60, 1e-5, rest=q)
                for j, v in zip(ARM_JOINTS, q, strict=True):
                    pb.resetJointState(self.robot, j, v, physicsClientId=c)
                err = self._pose_error(point)
                if err < 2e-3:
                    break
        return q, err

    def _reaches(self, target: Sequence[float], yaw: float) -> bool:
        for _ in range(15):
            q = self._ik_once(target, yaw, 60, 1e-5)
            for j, v in zip(ARM_JOINTS, q, strict=True):
                pb.resetJointState(self.robot, j, v, physicsClientId=self.client)
            if self._pose_error(target) < 2e-3:
                return True
        return False

    def _pose_error(self, target: Sequence[float]) -> float:
        """Position error in metres, or infinity when the hand does not point down (within ~3 degrees)."""
        pos, orn = self.ee_pose()
        z_axis = np.array(pb.getMatrixFromQuaternion(orn.tolist())).reshape(3, 3)[:, 2]
        if z_axis[2] > -0.9986:
            return float("inf")
        return float(np.linalg.norm(pos - np.asarray(target)))

    def _ik_once(
        self,
        target: Sequence[float],
        yaw: float,
        iterations: int,
        threshold: float,
        rest: Sequence[float] = REST,
    ) -> np.ndarray:
        return np.array(
            pb.calculateInverseKinematics(
                self.robot,
                EE_LINK,
                list(target),
                pb.getQuaternionFromEuler((math.pi, 0.0, yaw)),
                lowerLimits=LOWER,
                upperLimits=UPPER,
                jointRanges=RANGES,
                restPoses=list(rest),
                maxNumIterations=iterations,
                residualThreshold=threshold,
                physicsClientId=self.client,
            )[:7]
        )

    def check_safe(self, position: Sequence[float]) -> None:
        x, y, z = (float(v) for v in position)
        (x0, x1), (y0, y1) = BOUNDS[0], BOUNDS[1]
        slack = 0.02
        if not (x0 - slack <= x <= x1 + slack and y0 - slack <= y <= y1 + slack):
            raise SafetyError(
                f"position ({x:.3f}, {y:.3f}) is outside the workspace x in [{x0}, {x1}], y in [{y0}, {y1}]"
            )
        if z < MIN_Z:
            raise SafetyError(f"height {z:.3f} m would drive the gripper into the table")
        if z > 0.5:
            raise SafetyError(f"height {z:.3f} m is above the workspace")

    def move_to(self, position: Sequence[float], speed: float = 1.0) -> None:
        """Move the hand (pointing down) in a straight line to `position`; SafetyError before moving if unsafe."""
        target = np.asarray(position, dtype=float)
        self.check_safe(target)
        start = self.ee_pose()[0]
        # Refuse unreachable goals before moving at all. The hand's yaw is chosen for the whole vertical column
        # (it must also reach down to the table there), so it never has to turn while low among the objects.
        q_goal, self._yaw = self._ik(target, also=[(target[0], target[1], 0.03)])
        distance = float(np.linalg.norm(target - start))
        n = max(1, int(distance / (0.01 * max(speed, 0.1))))
        q_prev = self.joint_state()
        for i in range(1, n + 1):
            waypoint = start + (target - start) * i / n
            q = q_goal if i == n else self._ik_once(waypoint, self._yaw, 40, 1e-4, rest=q_prev)
            # Keep the arm continuous: a jump in joint space (an IK branch flip) is split into small steps,
            # so the held object never jumps through what it might touch.
            substeps = max(1, int(np.ceil(np.max(np.abs(q - q_prev)) / MAX_JOINT_STEP)))
            for k in range(1, substeps + 1):
                self._set_arm(q_prev + (q - q_prev) * k / substeps)
                for _ in range(2):
                    self._step()
            q_prev = q

    def _set_arm(self, q: Sequence[float]) -> None:
        """The arm is kinematic: it goes exactly where IK says and stays there (see `_step`)."""
        self._arm_q = list(q)
        self._pose_arm()
        self._hold_arm(q)

    def _pose_arm(self) -> None:
        for j, v in zip(ARM_JOINTS, self._arm_q, strict=True):
            pb.resetJointState(self.robot, j, v, physicsClientId=self.client)
        if self._held:  # an ideal suction cup: the held object moves rigidly with the hand
            _, body, (rel_pos, rel_orn) = self._held
            ee_pos, ee_orn = self.ee_pose()
            pos, orn = pb.multiplyTransforms(ee_pos.tolist(), ee_orn.tolist(), rel_pos, rel_orn)
            pb.resetBasePositionAndOrientation(body, pos, orn, physicsClientId=self.client)
            pb.resetBaseVelocity(body, (0, 0, 0), (0, 0, 0), physicsClientId=self.client)

    def _hold_arm(self, q: Sequence[float]) -> None:
        pb.setJointMotorControlArray(
            self.robot,
            ARM_JOINTS,
            pb.POSITION_CONTROL,
            targetPositions=list(q),
            forces=[240.0] * 7,
            physicsClientId=self.client,
        )
        pb.setJointMotorControlArray(
            self.robot,
            FINGER_JOINTS,
            pb.POSITION_CONTROL,
            targetPositions=[0.0, 0.0],
            forces=[20.0, 20.0],
            physicsClientId=self.client,
        )

    def _step(self) -> None:
        pb.stepSimulation(physicsClientId=self.client)
        self._pose_arm()  # gravity and motor slack may not move a kinematic arm (or what it holds)
        self.steps += 1
        if self.frame_hook is not None and self.steps % 24 == 0:
            self.frame_hook()

    def gripper_close(self) -> bool:
        """Suction: attach the object whose top is within 1.5 cm below the fingertips and under the hand."""
        if self._held:
            return True
        tip = self.ee_pose()[0]
        best = None
        for name, body in self.objects.items():
            lo, hi = pb.getAABB(body, physicsClientId=self.client)
            inside = lo[0] - 0.01 <= tip[0] <= hi[0] + 0.01 and lo[1] - 0.01 <= tip[1] <= hi[1] + 0.01
            gap = tip[2] - hi[2]
            if inside and -0.01 <= gap <= 0.015 and (best is None or hi[2] > best[2]):
                best = (name, body, hi[2])
        if best is None:
            return False
        name, body, _ = best
        ee_pos, ee_orn = self.ee_pose()
        obj_pos, obj_orn = pb.getBasePositionAndOrientation(body, physicsClientId=self.client)
        inv_pos, inv_orn = pb.invertTransform(ee_pos.tolist(), ee_orn.tolist())
        rel = pb.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
        self._held = (name, body, rel)  # type: ignore[assignment]
        return True

    def gripper_open(self) -> None:
        if self._held:
            pb.resetBaseVelocity(self._held[1], (0, 0, 0), (0, 0, 0), physicsClientId=self.client)
            self._held = None
        self.settle()

    def settle(self, max_seconds: float = 2.0) -> None:
        """Step until every object is at rest (or the time bound passes)."""
        for i in range(int(max_seconds / self.time_step)):
            self._step()
            if i % 10 == 0 and all(
                np.linalg.norm(pb.getBaseVelocity(b, physicsClientId=self.client)[0]) < 2e-3
                for b in self.objects.values()
            ):
                break

    def tucked(self):
        """Context manager: fold the (kinematic) arm out of view for a picture, then put it back exactly."""
        from contextlib import contextmanager

        @contextmanager
        def _tucked():
            saved = self.joint_state()
            for j, v in zip(ARM_JOINTS, TUCKED, strict=True):
                pb.resetJointState(self.robot, j, v, physicsClientId=self.client)
            try:
                yield
            finally:
                for j, v in zip(ARM_JOINTS, saved, strict=True):
                    pb.resetJointState(self.robot, j, v, physicsClientId=self.client)

        return _tucked()

    def stop(self) -> None:
        self._hold_arm(self.joint_state())
