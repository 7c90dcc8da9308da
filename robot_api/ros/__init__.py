"""A real robot behind cap's protocols: `Robot` and `Perception` over rosbridge (ROS 2), with roslibpy.

    from robot_api.ros import connect
    with connect("ros://192.168.1.10:9090", "robot.toml") as arm:
        api = TabletopAPI(arm.robot, arm.perception)

Modules: `config` (names and limits, documented defaults), `bridge` (the connection: fragments, malformed
messages, lost connections, watchdog waits), `transforms` (a tf tree), `perception` (detections topic),
`robot` (MoveIt or pose-service motion, GripperCommand gripper, safety), `safety` (workspace and speed limits),
`doctor` (what the robot offers). Install with `pip install 'cap[ros]'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from robot_api.ros.bridge import Bridge, RobotError

if TYPE_CHECKING:
    from robot_api.ros.config import RosConfig

DEFAULT_PORT = 9090

__all__ = ["RosTabletop", "RobotError", "connect", "parse_url"]


def parse_url(url: str) -> tuple[str, int]:
    """'ros://HOST[:PORT]' (or ws://) -> (host, port); ValueError with the expected form otherwise."""
    parsed = urlparse(url)
    try:
        port = parsed.port or DEFAULT_PORT
    except ValueError:
        port = -1
    if parsed.scheme not in ("ros", "ws") or not parsed.hostname or not 0 < port < 65536:
        raise ValueError(f"robot URL {url!r} is not of the form ros://HOST:PORT (rosbridge's WebSocket)")
    return parsed.hostname, port


@dataclass
class RosTabletop:
    """A connected ROS robot: `robot` (Robot), `perception` (Perception), the `bridge` and the `config`."""

    bridge: Bridge
    config: RosConfig
    robot: Any
    perception: Any
    tf: Any

    def close(self) -> None:
        self.bridge.close()

    def __enter__(self) -> RosTabletop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(url: str, config: RosConfig | str | Path | None = None) -> RosTabletop:
    """Connect to rosbridge at `url` and subscribe to what the config names (RobotError if unreachable)."""
    # Imported here, not at the top, so that `python -m robot_api.ros.config` runs without a warning.
    from robot_api.ros.config import RosConfig, load_config
    from robot_api.ros.perception import RosPerception
    from robot_api.ros.robot import RosRobot
    from robot_api.ros.transforms import TfTree

    cfg = config if isinstance(config, RosConfig) else load_config(config)
    host, port = parse_url(url)
    bridge = Bridge(host, port, cfg.safety.connect_timeout, cfg.safety.reconnect_timeout)
    bridge.connect()
    try:
        tf = TfTree(cfg.perception.fresh_messages)
        bridge.subscribe("/tf", "tf2_msgs/msg/TFMessage", tf.add)
        bridge.subscribe("/tf_static", "tf2_msgs/msg/TFMessage", tf.add_static)
        perception = RosPerception(bridge, cfg, tf)
        robot = RosRobot(bridge, cfg, perception, tf)
    except BaseException:
        bridge.close()
        raise
    return RosTabletop(bridge, cfg, robot, perception, tf)
