"""Where a ROS robot keeps its topics, actions and frames, and cap's own safety limits for it.

Read from a small TOML or JSON file (`--robot-config FILE`); every key is optional and falls back to the
defaults below, which match a MoveIt 2 arm (`move_action`, `joint_states`, tf) with a
`control_msgs/GripperCommand` gripper controller and a `vision_msgs/Detection3DArray` detector. Print them
with `python -m robot_api.ros.config` and edit what differs on your robot.

The protocol is rosbridge v2 with ROS 2 actions (`send_action_goal`, `action_feedback`, `action_result`,
`cancel_action_goal`), as served by `rosbridge_server` on ROS 2 (Humble and later).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

DEFAULT_TOML = """\
# cap robot config for rosbridge (ROS 2). Every key is optional; these are the defaults.

[frames]
table = "world"          # frame of cap's table coordinates (metres, table surface z = 0); publish a static
                         # tf from it to your robot's base if they differ
end_effector = "panda_hand_tcp"  # the tool point: between the fingertips / the suction cup

[motion]
interface = "moveit"     # "moveit": moveit_msgs/action/MoveGroup pose goals; "pose_service": a service that
                         # takes {pose: geometry_msgs/PoseStamped, speed: float64} and answers {success, message}
action = "/move_action"
action_type = "moveit_msgs/action/MoveGroup"
group = "panda_arm"
service = "/cap/move_to_pose"
service_type = "cap_msgs/srv/MoveToPose"
position_tolerance = 0.002      # metres
orientation_tolerance = 0.05    # radians per axis
planning_time = 5.0             # seconds MoveIt may plan
down_orientation = [1.0, 0.0, 0.0, 0.0]  # (x, y, z, w) of the tool pointing down in the table frame

[gripper]
action = "/gripper_controller/gripper_cmd"
action_type = "control_msgs/action/GripperCommand"
open_position = 0.04     # metres (per finger for a Panda hand)
closed_position = 0.0
max_effort = 40.0
held_if = "stalled"      # "stalled": something is held when the gripper stalls before closing fully;
                         # "not_closed": when the final position stays above closed_position + 2 mm

[state]
joint_states = "/joint_states"
arm_joints = []          # names of the arm joints in order; empty = every joint in the message
ee_pose_source = "tf"    # "tf" (from /tf and /tf_static) or "topic" (geometry_msgs/PoseStamped, table frame)
ee_pose_topic = "/cap/ee_pose"

[perception]
detections = "/cap/detections"
detections_type = "vision_msgs/msg/Detection3DArray"  # class_id = the object's name, e.g. "red block"
fresh_timeout = 3.0      # seconds to wait for detections (and joint states, tool pose) newer than the
                         # last motion before answering
fresh_messages = 2       # ... counting as fresh the 2nd message that arrives after the motion (the 1st may
                         # have been measured before the motion ended and been on its way)

[stop]
topic = "/trajectory_execution_event"   # MoveIt's execution-event topic; "stop" halts the trajectory
type = "std_msgs/msg/String"
data = "stop"

[safety]
workspace = [[-0.32, 0.32], [-0.82, -0.18], [0.005, 0.5]]  # x, y, z ranges in the table frame, metres
max_speed = 1.0          # a move_to(speed=...) above this is refused (policies move at speed 1.0)
speed_scale = 0.1        # MoveIt velocity/acceleration scaling = speed x speed_scale: speed 1.0 moves at
                         # 10 % of the arm's limits; lower this to make everything slower
goal_timeout = 30.0      # watchdog: a motion or gripper goal without a result by then is cancelled
connect_timeout = 10.0   # seconds to connect to rosbridge
reconnect_timeout = 5.0  # after a lost connection, how long to try to reconnect to send the stop
"""


@dataclass
class Frames:
    table: str = "world"
    end_effector: str = "panda_hand_tcp"


@dataclass
class Motion:
    interface: str = "moveit"
    action: str = "/move_action"
    action_type: str = "moveit_msgs/action/MoveGroup"
    group: str = "panda_arm"
    service: str = "/cap/move_to_pose"
    service_type: str = "cap_msgs/srv/MoveToPose"
    position_tolerance: float = 0.002
    orientation_tolerance: float = 0.05
    planning_time: float = 5.0
    down_orientation: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])


@dataclass
class Gripper:
    action: str = "/gripper_controller/gripper_cmd"
    action_type: str = "control_msgs/action/GripperCommand"
    open_position: float = 0.04
    closed_position: float = 0.0
    max_effort: float = 40.0
    held_if: str = "stalled"


@dataclass
class State:
    joint_states: str = "/joint_states"
    arm_joints: list[str] = field(default_factory=list)
    ee_pose_source: str = "tf"
    ee_pose_topic: str = "/cap/ee_pose"


@dataclass
class PerceptionConfig:
    detections: str = "/cap/detections"
    detections_type: str = "vision_msgs/msg/Detection3DArray"
    fresh_timeout: float = 3.0
    fresh_messages: int = 2


@dataclass
class Stop:
    topic: str = "/trajectory_execution_event"
    type: str = "std_msgs/msg/String"
    data: str = "stop"


@dataclass
class Safety:
    workspace: list[list[float]] = field(
        default_factory=lambda: [[-0.32, 0.32], [-0.82, -0.18], [0.005, 0.5]]
    )
    max_speed: float = 1.0
    speed_scale: float = 0.1
    goal_timeout: float = 30.0
    connect_timeout: float = 10.0
    reconnect_timeout: float = 5.0


@dataclass
class RosConfig:
    frames: Frames = field(default_factory=Frames)
    motion: Motion = field(default_factory=Motion)
    gripper: Gripper = field(default_factory=Gripper)
    state: State = field(default_factory=State)
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    stop: Stop = field(default_factory=Stop)
    safety: Safety = field(default_factory=Safety)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConfigError(ValueError):
    """The robot config file is unreadable or names an unknown key or a wrong type (the message says which)."""


CHOICES = {
    ("motion", "interface"): ("moveit", "pose_service"),
    ("gripper", "held_if"): ("stalled", "not_closed"),
    ("state", "ee_pose_source"): ("tf", "topic"),
}


def load_config(path: str | Path | None) -> RosConfig:
    """The defaults, overridden by the TOML (.toml) or JSON (anything else) file at `path` when given."""
    config = RosConfig()
    if path is None:
        return config
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read robot config {p}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"robot config {p} is not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"robot config {p} must be a table of sections")
    return apply(config, data, str(p))


def apply(config: RosConfig, data: dict[str, Any], source: str = "config") -> RosConfig:
    """Override `config` in place with the sections of `data`, checking every key and type."""
    sections = {f.name: f for f in fields(config)}
    for section, values in data.items():
        if section not in sections:
            raise ConfigError(f"{source}: unknown section [{section}]; sections are {sorted(sections)}")
        target = getattr(config, section)
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{section}] must be a table")
        known = {f.name: f for f in fields(target)}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown key {section}.{key}; keys are {sorted(known)}")
            default = getattr(target, key)
            setattr(target, key, _checked(f"{section}.{key}", value, default, source))
            choices = CHOICES.get((section, key))
            if choices and value not in choices:
                raise ConfigError(f"{source}: {section}.{key} must be one of {list(choices)}, got {value!r}")
    _check_workspace(config.safety.workspace, source)
    return config


def _checked(name: str, value: Any, default: Any, source: str) -> Any:
    if isinstance(default, bool) or is_dataclass(default):
        ok = isinstance(value, type(default))
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(f"{source}: {name} must be a {type(default).__name__}, got {value!r}")
    return value


def _check_workspace(ws: Any, source: str) -> None:
    try:
        ok = len(ws) == 3 and all(len(r) == 2 and float(r[0]) < float(r[1]) for r in ws)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            f"{source}: safety.workspace must be [[x_min, x_max], [y_min, y_max], [z_min, z_max]]"
        )


if __name__ == "__main__":
    print(DEFAULT_TOML, end="")
