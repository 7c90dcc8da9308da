"""`Robot` over rosbridge: MoveIt pose goals (or a pose service), a GripperCommand gripper, joint states and
the tool pose from topics / tf, with cap's safety around every motion.

Safety, whatever the robot does:
- limits (`Limits`: workspace, speed) are checked before a goal is sent; a refusal is a `SafetyError`;
- a watchdog cancels any goal without a result after `safety.goal_timeout`, and the run's own time limit
  (`deadline`, set by the session from the sandbox timeout) cancels it too;
- Ctrl-C (KeyboardInterrupt) while waiting cancels the goal and stops the robot before it propagates;
- a lost connection fails the goal at once; the stop (cancel + the stop topic) is queued and sent as soon as
  roslibpy reconnects, and the call waits up to `safety.reconnect_timeout` to say whether it got through;
- after any of these the robot is *halted*: every further motion in this run raises `RobotError` without
  sending anything, until the session re-arms it for the next run.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from robot_api.protocols import SafetyError
from robot_api.ros.bridge import ConnectionLost, Latest, RobotError
from robot_api.ros.perception import RosPerception
from robot_api.ros.safety import Limits
from robot_api.ros.transforms import TfTree, quat, quat_of, vec

# MoveIt error codes (moveit_msgs/MoveItErrorCodes) that mean "refused before moving".
MOVEIT_REFUSED = {
    -1: "PLANNING_FAILED",
    -2: "INVALID_MOTION_PLAN",
    -10: "START_STATE_IN_COLLISION",
    -11: "START_STATE_VIOLATES_PATH_CONSTRAINTS",
    -12: "GOAL_IN_COLLISION",
    -13: "GOAL_VIOLATES_PATH_CONSTRAINTS",
    -14: "GOAL_CONSTRAINTS_VIOLATED",
    -15: "INVALID_GROUP_NAME",
    -16: "INVALID_GOAL_CONSTRAINTS",
    -21: "FRAME_TRANSFORM_FAILURE",
    -31: "NO_IK_SOLUTION",
}
MOVEIT_OTHER = {
    -3: "MOTION_PLAN_INVALIDATED_BY_ENVIRONMENT_CHANGE",
    -4: "CONTROL_FAILED",
    -6: "TIMED_OUT",
    -7: "PREEMPTED",
}
STATUS = {
    0: "UNKNOWN",
    1: "ACCEPTED",
    2: "EXECUTING",
    3: "CANCELING",
    4: "SUCCEEDED",
    5: "CANCELED",
    6: "ABORTED",
}


class RosRobot:
    """Implements `Robot`. Shares the bridge and the perception (to name what the gripper holds)."""

    def __init__(self, bridge: Any, config: Any, perception: RosPerception, tf: TfTree):
        self.bridge, self.config, self.perception, self.tf = bridge, config, perception, tf
        self.limits = Limits.from_config(config.safety)
        self.deadline = math.inf  # monotonic; the session sets it from the sandbox timeout
        self.halted: str | None = None
        self.sent_goals = 0
        self._held: str | None = None
        self._joints = Latest(config.perception.fresh_messages)
        self._ee_topic = Latest(config.perception.fresh_messages)
        self._motion_end = -math.inf
        self._active: dict[str, Any] = {}  # goal id -> roslibpy ActionClient
        self._lock = threading.Lock()
        bridge.subscribe(config.state.joint_states, "sensor_msgs/msg/JointState", self._on_joints)
        if config.state.ee_pose_source == "topic":
            bridge.subscribe(config.state.ee_pose_topic, "geometry_msgs/msg/PoseStamped", self._on_ee)

    # -- streams -----------------------------------------------------------------------------------------
    def _on_joints(self, msg: dict[str, Any]) -> None:
        names, pos = msg["name"], msg["position"]
        if not (isinstance(names, list) and isinstance(pos, list) and len(names) == len(pos)):
            raise ValueError("JointState name/position mismatch")
        self._joints.put(dict(zip(names, (float(p) for p in pos), strict=True)))

    def _on_ee(self, msg: dict[str, Any]) -> None:
        frame_id = str(msg.get("header", {}).get("frame_id", "")).lstrip("/")
        if frame_id and frame_id != self.config.frames.table.lstrip("/"):
            raise ValueError(
                f"tool pose in frame {frame_id!r}, not the table frame {self.config.frames.table!r}"
            )
        pose = msg["pose"]
        self._ee_topic.put((vec(pose["position"]), quat(pose["orientation"])))

    # -- Robot protocol ------------------------------------------------------------------------------------
    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        if cfg.state.ee_pose_source == "topic":
            value = self._ee_topic.newer_than(self._motion_end, self.config.perception.fresh_timeout)
            if value is None:
                raise RobotError(
                    f"no tool pose on {cfg.state.ee_pose_topic} within {self.config.perception.fresh_timeout:g} s"
                )
            return value[0].copy(), value[1].copy()
        self.tf.wait_newer(self._motion_end, self.config.perception.fresh_timeout)
        m = self.tf.lookup(cfg.frames.table, cfg.frames.end_effector)
        if m is None:
            self.bridge.require_connection("read tf")
            raise RobotError(
                f"no tf from {cfg.frames.table!r} to {cfg.frames.end_effector!r} (frames seen: {self.tf.frames()})"
            )
        return m[:3, 3].copy(), quat_of(m)

    def joint_state(self) -> np.ndarray:
        value = self._joints.newer_than(self._motion_end, self.config.perception.fresh_timeout)
        if value is None:
            raise RobotError(
                f"no joint states on {self.config.state.joint_states} within {self.config.perception.fresh_timeout:g} s"
            )
        names = self.config.state.arm_joints or list(value)
        missing = [n for n in names if n not in value]
        if missing:
            raise RobotError(f"joint states lack {missing} (state.arm_joints)")
        return np.array([value[n] for n in names])

    def holding(self) -> str | None:
        return self._held

    def move_to(self, position: Sequence[float], speed: float = 1.0) -> None:
        """Send the tool (pointing down) to `position` in the table frame; SafetyError before sending if unsafe."""
        target = self.limits.check(position, speed)
        self._refuse_if_halted()
        if self.config.motion.interface == "pose_service":
            self._run("motion", lambda: self._pose_service(target, speed))
        else:
            self._run("motion", lambda: self._moveit_move(target, speed))

    def gripper_close(self) -> bool:
        g = self.config.gripper
        self._refuse_if_halted()
        values = self._run("gripper", lambda: self._gripper(g.closed_position))
        stalled, position = values.get("stalled", False), values.get("position", g.closed_position)
        if (
            not isinstance(stalled, bool)
            or isinstance(position, bool)
            or not isinstance(position, int | float)
        ):
            self._halt("malformed gripper result")
            raise RobotError(f"the gripper answered a malformed result: {values!r:.200}")
        held = stalled if g.held_if == "stalled" else position > g.closed_position + 0.002
        self._held = self._object_under_tool() if held else None
        return held

    def gripper_open(self) -> None:
        self._refuse_if_halted()
        self._run("gripper", lambda: self._gripper(self.config.gripper.open_position))
        self._held = None
        self.perception.detections()  # "wait until it comes to rest": the next fresh view after the release

    def stop(self) -> None:
        """Cancel every goal in flight and publish the stop event (MoveIt's trajectory_execution_event)."""
        with self._lock:
            active = list(self._active.items())
            self._active.clear()
        for gid, client in active:
            try:
                client.cancel_goal(gid)
            except Exception:
                pass
        s = self.config.stop
        self.bridge.publish(s.topic, s.type, {"data": s.data})
        self.bridge.flush()

    def rearm(self, deadline: float = math.inf) -> None:
        """A new run: forget a halt of the previous run, and stop waiting at `deadline` (monotonic)."""
        self.halted, self.deadline = None, deadline

    # -- internals -----------------------------------------------------------------------------------------
    def _refuse_if_halted(self) -> None:
        if self.halted:
            raise RobotError(f"the robot was stopped earlier in this run ({self.halted}); no further motion")

    def _run(self, what: str, call: Any) -> Any:
        """Run one goal; on any failure or interruption stop the robot and halt it, then re-raise."""
        try:
            values = call()
        except SafetyError:
            raise
        except ConnectionLost as exc:
            self._halt(str(exc))
            raise RobotError(f"{exc}; {self._stop_after_loss()}") from None
        except BaseException as exc:  # watchdog, deadline, goal errors, Ctrl-C
            self._halt(str(exc) or type(exc).__name__)
            self.stop()
            raise
        finally:
            self._motion_end = time.monotonic()
            self.perception.mark_stale()
        return values

    def _halt(self, reason: str) -> None:
        self.halted = reason

    def _stop_after_loss(self) -> str:
        s = self.config.stop
        sent = self.bridge.publish(s.topic, s.type, {"data": s.data})
        with self._lock:
            self._active.clear()
        if sent.wait(self.config.safety.reconnect_timeout):
            return "reconnected and sent the stop"
        return (
            f"could not reconnect within {self.config.safety.reconnect_timeout:g} s to send the stop; "
            "the stop stays queued: CHECK THE ROBOT"
        )

    def _goal(self, action: str, action_type: str, goal: dict[str, Any], what: str) -> dict[str, Any]:
        import roslibpy

        self.bridge.require_connection(f"send {what}")
        client = roslibpy.ActionClient(self.bridge.ros, action, action_type)
        box: dict[str, Any] = {}
        done = threading.Event()

        def result(r: Any) -> None:
            box["result"] = dict(r)
            done.set()

        def error(e: Any) -> None:
            box["error"] = e
            done.set()

        def rejected(message: str) -> None:
            error({"status": "rejected by rosbridge", "values": message})

        predicted = f"send_action_goal:{action}:{self.bridge.ros._id_counter + 1}"  # roslibpy's next goal id
        self.bridge.on_error_status(predicted, rejected)  # before sending: the answer may be quick
        gid = client.send_goal(roslibpy.Goal(goal), result, lambda _f: None, error)
        if gid != predicted:
            self.bridge.on_error_status(predicted, None)
            self.bridge.on_error_status(gid, rejected)
        self.sent_goals += 1
        with self._lock:
            self._active[gid] = client
        try:
            self.bridge.wait(done, self.config.safety.goal_timeout, self.deadline, f"{what} on {action}")
        except BaseException:  # watchdog, deadline, Ctrl-C, lost connection: cancel this goal first
            try:
                client.cancel_goal(gid)
            except Exception:
                pass
            raise
        finally:
            self.bridge.on_error_status(gid, None)
            with self._lock:
                self._active.pop(gid, None)
        if "error" in box:
            err = box["error"]
            status = err.get("status") if isinstance(err, dict) else None
            values = err.get("values") if isinstance(err, dict) else err
            code = _error_code(values, None)
            if code in MOVEIT_REFUSED:
                self._moveit_failed(code)
            name = getattr(status, "name", status)
            raise RobotError(f"{what} on {action} failed: status {name}, {values!r:.200}")
        res = box["result"]
        status = getattr(res.get("status"), "value", res.get("status"))
        if status not in (None, 4):
            raise RobotError(f"{what} on {action} ended with status {STATUS.get(status, status)}")
        values = res.get("values")
        if not isinstance(values, dict):
            raise RobotError(f"{what} on {action} answered a malformed result: {values!r:.200}")
        return values

    def _moveit_move(self, target: np.ndarray, speed: float) -> dict[str, Any]:
        m = self.config.motion
        values = self._goal(m.action, m.action_type, self._moveit_goal(target, speed), "the motion goal")
        code = _error_code(values, 1)
        if code != 1:
            self._moveit_failed(code)
        return values

    def _moveit_failed(self, code: Any) -> None:
        if code in MOVEIT_REFUSED:
            raise SafetyError(f"MoveIt refused the motion: {MOVEIT_REFUSED[code]} (error code {code})")
        raise RobotError(f"MoveIt failed the motion: {MOVEIT_OTHER.get(code, 'error')} (error code {code})")

    def _pose(self, target: np.ndarray) -> dict[str, Any]:
        x, y, z, w = (float(v) for v in self.config.motion.down_orientation)
        return {
            "header": {"frame_id": self.config.frames.table},
            "pose": {
                "position": {"x": float(target[0]), "y": float(target[1]), "z": float(target[2])},
                "orientation": {"x": x, "y": y, "z": z, "w": w},
            },
        }

    def _moveit_goal(self, target: np.ndarray, speed: float) -> dict[str, Any]:
        """moveit_msgs/action/MoveGroup goal: one position (sphere) + orientation constraint on the tool."""
        m, f = self.config.motion, self.config.frames
        pose = self._pose(target)
        scale = min(1.0, speed * self.config.safety.speed_scale)
        tol = m.orientation_tolerance
        return {
            "request": {
                "group_name": m.group,
                "num_planning_attempts": 1,
                "allowed_planning_time": m.planning_time,
                "max_velocity_scaling_factor": scale,
                "max_acceleration_scaling_factor": scale,
                "start_state": {"is_diff": True},
                "goal_constraints": [
                    {
                        "name": "cap_pose_goal",
                        "position_constraints": [
                            {
                                "header": pose["header"],
                                "link_name": f.end_effector,
                                "constraint_region": {
                                    "primitives": [{"type": 2, "dimensions": [m.position_tolerance]}],
                                    "primitive_poses": [
                                        {
                                            "position": pose["pose"]["position"],
                                            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
                                        }
                                    ],
                                },
                                "weight": 1.0,
                            }
                        ],
                        "orientation_constraints": [
                            {
                                "header": pose["header"],
                                "link_name": f.end_effector,
                                "orientation": pose["pose"]["orientation"],
                                "absolute_x_axis_tolerance": tol,
                                "absolute_y_axis_tolerance": tol,
                                "absolute_z_axis_tolerance": 2 * math.pi,  # any yaw: the tool points down
                                "weight": 1.0,
                            }
                        ],
                    }
                ],
            },
            "planning_options": {"plan_only": False, "look_around": False, "replan": False},
        }

    def _pose_service(self, target: np.ndarray, speed: float) -> dict[str, Any]:
        m = self.config.motion
        self.sent_goals += 1
        values = self.bridge.call_service(
            m.service,
            {"pose": self._pose(target), "speed": float(speed)},
            self.config.safety.goal_timeout,
            self.deadline,
        )
        if not values.get("success"):
            raise RobotError(f"{m.service} refused the motion: {values.get('message', '')!s:.200}")
        return values

    def _gripper(self, position: float) -> dict[str, Any]:
        g = self.config.gripper
        goal = {"command": {"position": float(position), "max_effort": float(g.max_effort)}}
        return self._goal(g.action, g.action_type, goal, "the gripper goal")

    def _object_under_tool(self) -> str | None:
        """The highest detected object under the tool: what a closing gripper holds."""
        tip = self.ee_pose()[0]
        best, best_top = None, -math.inf
        for d in self.perception.detections():
            lo, hi = d.center - d.size / 2, d.center + d.size / 2
            inside = lo[0] - 0.01 <= tip[0] <= hi[0] + 0.01 and lo[1] - 0.01 <= tip[1] <= hi[1] + 0.01
            if inside and -0.02 <= tip[2] - hi[2] <= 0.03 and hi[2] > best_top:
                best, best_top = d.name, hi[2]
        return best


def _error_code(values: Any, default: Any) -> Any:
    """`values.error_code.val` of a MoveIt result (moveit_msgs/MoveItErrorCodes), or `default`."""
    error_code = values.get("error_code") if isinstance(values, dict) else None
    return error_code.get("val", default) if isinstance(error_code, dict) else default
