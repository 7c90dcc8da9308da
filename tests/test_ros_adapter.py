"""The ROS adapter in this process against the rosbridge-protocol server (tests/ros_server.py): perception
and tf against the server's own simulator, safety refusals that send nothing, fragments both ways, the
pose-service interface, the halt latch after a failure, and malformed traffic counted and dropped."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("roslibpy")
pytest.importorskip("websockets")

from ros_server import SimRobotServer  # noqa: E402

from robot_api.protocols import Perception, Robot, SafetyError  # noqa: E402
from robot_api.ros import connect, parse_url  # noqa: E402
from robot_api.ros.bridge import RobotError  # noqa: E402
from robot_api.ros.config import RosConfig, apply  # noqa: E402


def config(**sections) -> RosConfig:
    base = {"safety": {"goal_timeout": 60.0, "connect_timeout": 20.0}, "perception": {"fresh_timeout": 20.0}}
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return apply(RosConfig(), base)


@pytest.fixture
def server():
    with SimRobotServer("stack-blocks", 0) as s:
        yield s


def test_parse_url():
    assert parse_url("ros://10.0.0.5:9091") == ("10.0.0.5", 9091)
    assert parse_url("ros://robot") == ("robot", 9090)
    for bad in ("http://robot:9090", "ros://:9090", "ros://robot:99999"):
        with pytest.raises(ValueError, match="ros://HOST:PORT"):
            parse_url(bad)


def test_perception_and_tool_pose_match_the_servers_simulator(server):
    with connect(f"ros://127.0.0.1:{server.port}", config()) as arm:
        assert isinstance(arm.robot, Robot) and isinstance(arm.perception, Perception)
        names = arm.perception.object_names()
        assert names == server.sim_call(lambda sim: sim.object_names())
        for name in names:  # detections arrive in the base frame (turned 90 degrees): tf brings them back
            expected = server.sim_call(lambda sim, n=name: sim.object_bbox(n))
            np.testing.assert_allclose(arm.perception.object_bbox(name), expected, atol=1e-6)
        pos, orn = arm.robot.ee_pose()
        sim_pos, sim_orn = server.sim_call(lambda sim: sim.ee_pose())
        np.testing.assert_allclose(pos, sim_pos, atol=1e-6)
        assert abs(abs(float(np.dot(orn, sim_orn))) - 1) < 1e-6
        np.testing.assert_allclose(
            arm.robot.joint_state(), server.sim_call(lambda sim: sim.joint_state()), atol=1e-9
        )
        assert arm.perception.object_color("red block") == pytest.approx((1.0, 87 / 255, 89 / 255))


def test_tool_pose_from_a_pose_topic(server):
    with connect(f"ros://127.0.0.1:{server.port}", config(state={"ee_pose_source": "topic"})) as arm:
        arm.robot.move_to((0.1, -0.45, 0.15))
        np.testing.assert_allclose(
            arm.robot.ee_pose()[0], server.sim_call(lambda sim: sim.ee_pose()[0]), atol=1e-6
        )
        np.testing.assert_allclose(arm.robot.ee_pose()[0], (0.1, -0.45, 0.15), atol=0.003)


def test_a_pick_and_place_moves_the_servers_block(server):
    with connect(f"ros://127.0.0.1:{server.port}", config()) as arm:
        robot, per = arm.robot, arm.perception
        x, y, _ = per.object_position("red block")
        robot.move_to((x, y, 0.2))
        robot.move_to((x, y, per.object_bbox("red block")[5] + 0.002))
        assert robot.gripper_close() is True and robot.holding() == "red block"
        robot.move_to((0.0, -0.5, 0.2))
        robot.gripper_open()
        assert robot.holding() is None
        np.testing.assert_allclose(per.object_position("red block")[:2], (0.0, -0.5), atol=0.01)
        np.testing.assert_allclose(
            server.sim_call(lambda sim: sim.object_position("red block"))[:2], (0.0, -0.5), atol=0.01
        )


@pytest.mark.parametrize(
    ("target", "speed", "message"),
    [
        ((0.5, -0.5, 0.2), 1.0, "x = 0.500 m is outside"),
        ((0.0, -0.5, 0.0), 1.0, "z = 0.000 m is outside"),
        ((0.0, -0.5, float("nan")), 1.0, "finite"),
        ((0.0, -0.5, 0.2), 3.0, "speed 3.0 is outside"),
        ((0.0, -0.5, 0.2), 0.0, "speed 0.0 is outside"),
    ],
)
def test_limits_refuse_before_anything_is_sent(server, target, speed, message):
    with connect(f"ros://127.0.0.1:{server.port}", config()) as arm:
        with pytest.raises(SafetyError, match=message):
            arm.robot.move_to(target, speed)
        assert server.move_goals == 0 and arm.robot.sent_goals == 0


def test_an_unreachable_target_is_a_safety_error_and_the_robot_stays_usable(server):
    # Inside cap's (wide) workspace but out of the arm's reach: the server answers NO_IK_SOLUTION.
    cfg = config(safety={"workspace": [[-2.0, 2.0], [-2.0, 2.0], [0.005, 2.0]]})
    with connect(f"ros://127.0.0.1:{server.port}", cfg) as arm:
        with pytest.raises(SafetyError, match="NO_IK_SOLUTION"):
            arm.robot.move_to((1.5, -1.5, 0.2))
        arm.robot.move_to((0.0, -0.5, 0.2))  # a refusal does not halt the robot
        assert server.move_goals == 2


def test_after_a_failed_goal_no_further_motion_is_sent():
    with (
        SimRobotServer("stack-blocks", 0, fault="goal_error", fault_goal=1) as server,
        connect(f"ros://127.0.0.1:{server.port}", config()) as arm,
    ):
        with pytest.raises(RobotError, match="ABORTED"):
            arm.robot.move_to((0.0, -0.5, 0.2))
        with pytest.raises(RobotError, match="stopped earlier in this run"):
            arm.robot.move_to((0.0, -0.5, 0.25))
        with pytest.raises(RobotError, match="stopped earlier"):
            arm.robot.gripper_close()
        assert server.move_goals == 1 and server.gripper_goals == 0
        assert wait_for(lambda: server.stops >= 1)
        arm.robot.rearm()  # the next run may move again
        arm.robot.move_to((0.0, -0.5, 0.25))
        assert server.move_goals == 2


def test_a_goal_rosbridge_rejects_fails_at_once_not_at_the_watchdog(server):
    cfg = config(motion={"action": "/no_such_action"}, safety={"goal_timeout": 120.0})
    with connect(f"ros://127.0.0.1:{server.port}", cfg) as arm:
        with pytest.raises(RobotError, match="rejected by rosbridge.*Action /no_such_action does not exist"):
            arm.robot.move_to((0.0, -0.5, 0.2))
        assert any("does not exist" in r for r in arm.bridge.status_reports)
        with pytest.raises(RobotError, match="Service /no_such_service does not exist"):
            arm.bridge.call_service("/no_such_service", {}, timeout=120.0)


def test_the_pose_service_interface(server):
    with connect(f"ros://127.0.0.1:{server.port}", config(motion={"interface": "pose_service"})) as arm:
        arm.robot.move_to((0.1, -0.4, 0.2))
        np.testing.assert_allclose(arm.robot.ee_pose()[0], (0.1, -0.4, 0.2), atol=0.003)
        assert "call_service" in server.ops and server.move_goals == 0


def test_fragments_from_the_server_are_reassembled():
    with (
        SimRobotServer("stack-blocks", 0, fragment_size=97) as server,
        connect(f"ros://127.0.0.1:{server.port}", config()) as arm,
    ):
        assert len(arm.perception.object_names()) == 4
        arm.robot.move_to((0.0, -0.5, 0.2))
        assert server.fragments_sent >= 3


def test_fragments_from_a_client_are_reassembled_by_the_server(server):
    with connect(f"ros://127.0.0.1:{server.port}", config()) as arm:
        whole = json.dumps({"op": "publish", "topic": "/trajectory_execution_event", "msg": {"data": "stop"}})
        parts = [whole[i : i + 10] for i in range(0, len(whole), 10)]
        for i, part in reversed(list(enumerate(parts))):  # out of order, as the protocol allows
            arm.bridge.send({"op": "fragment", "id": "f1", "data": part, "num": i, "total": len(parts)})
        assert wait_for(lambda: server.stops == 1)


def test_malformed_traffic_is_counted_and_dropped():
    with (
        SimRobotServer("stack-blocks", 0, fault="malformed") as server,
        connect(f"ros://127.0.0.1:{server.port}", config()) as arm,
    ):
        assert wait_for(lambda: arm.bridge.malformed >= 8)
        assert arm.bridge.connected
        assert arm.perception.object_names() == ["blue block", "green block", "red block", "green bowl"]
        arm.robot.move_to((0.0, -0.5, 0.2))


def wait_for(predicate, seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False
