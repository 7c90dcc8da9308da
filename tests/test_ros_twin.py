"""The PyBullet twin built from a Perception snapshot (robot_api/twin.py), the Switch that points the tabletop
API at twin or robot, the safety limits' wrapper, and the robot config file (documented defaults, errors)."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest

from robot_api.protocols import SafetyError
from robot_api.ros.config import DEFAULT_TOML, ConfigError, RosConfig, apply, load_config
from robot_api.ros.safety import Guarded, Limits
from robot_api.tabletop import TabletopAPI
from robot_api.tasks import get_task
from robot_api.twin import Switch, build_twin


class Snapshot:
    """A Perception in memory: what a detector might report, including an object cap has no model of."""

    def __init__(self, boxes: dict[str, tuple[float, ...]]):
        self.boxes = {n: np.array(b, dtype=float) for n, b in boxes.items()}

    def object_names(self):
        return list(self.boxes)

    def object_position(self, name):
        b = self.boxes[name]
        return (b[:3] + b[3:]) / 2

    def object_bbox(self, name):
        return self.boxes[name].copy()

    def object_color(self, name):
        return (0.2, 0.3, 0.4)

    def object_visible(self, name):
        return name in self.boxes


def test_twin_of_a_simulated_scene_has_the_same_objects_in_the_same_order(sim):
    inst = get_task("stack-blocks").instance(3)
    sim.reset(inst.objects)
    twin = build_twin(sim, tool_position=(0.0, -0.5, 0.2))
    try:
        assert twin.object_names() == sim.object_names()
        for name in sim.object_names():
            np.testing.assert_allclose(twin.object_bbox(name), sim.object_bbox(name), atol=0.003)
        np.testing.assert_allclose(twin.ee_pose()[0], (0.0, -0.5, 0.2), atol=0.003)
    finally:
        twin.close()


def test_twin_keeps_stacks_and_unknown_objects_as_boxes():
    snap = Snapshot(
        {
            "red block": (-0.02, -0.52, 0.0, 0.02, -0.48, 0.04),
            "blue block": (-0.02, -0.52, 0.04, 0.02, -0.48, 0.08),  # on the red one
            "coffee mug": (0.1, -0.4, 0.0, 0.18, -0.32, 0.1),
        }
    )
    twin = build_twin(snap)
    try:
        assert twin.object_names() == ["red block", "blue block", "coffee mug"]
        assert twin.object_bbox("blue block")[2] == pytest.approx(0.04, abs=0.003)  # still on top
        np.testing.assert_allclose(twin.object_bbox("coffee mug"), snap.boxes["coffee mug"], atol=0.003)
        api = TabletopAPI(twin, twin)
        api.put_first_on_second("coffee mug", "middle")  # a policy can act on it in the rehearsal
        np.testing.assert_allclose(api.get_obj_pos("coffee mug"), api.get_obj_pos("middle"), atol=0.02)
    finally:
        twin.close()


def test_switch_points_one_api_at_twin_or_robot(sim):
    sim.reset([("red block", (0.0, -0.5))])
    other = Snapshot({"green block": (0.1, -0.4, 0.0, 0.14, -0.36, 0.04)})
    switch = Switch(sim, sim)
    api = TabletopAPI(switch, switch)
    assert api.get_obj_names() == ["red block"]
    switch.point_at(sim, other)
    assert api.get_obj_names() == ["green block"]
    with pytest.raises(AttributeError):
        switch.not_a_method  # noqa: B018


def test_guarded_twin_refuses_what_the_robot_limits_refuse(sim):
    sim.reset([])
    limits = Limits(((-0.1, 0.1), (-0.6, -0.4), (0.05, 0.3)), max_speed=0.5)
    guarded = Guarded(sim, limits)
    before = sim.ee_pose()[0]
    for target, speed in (((0.2, -0.5, 0.2), 0.5), ((0.0, -0.5, 0.2), 0.8), ((0.0, -0.5, 0.01), 0.5)):
        with pytest.raises(SafetyError):
            guarded.move_to(target, speed)
    np.testing.assert_allclose(sim.ee_pose()[0], before, atol=1e-9)  # nothing moved
    guarded.move_to((0.0, -0.5, 0.2), 0.5)
    np.testing.assert_allclose(sim.ee_pose()[0], (0.0, -0.5, 0.2), atol=0.003)


def test_documented_defaults_are_the_defaults():
    assert apply(RosConfig(), tomllib.loads(DEFAULT_TOML)) == RosConfig()


def test_config_files_toml_and_json(tmp_path):
    toml = tmp_path / "robot.toml"
    toml.write_text('[motion]\ninterface = "pose_service"\n[safety]\ngoal_timeout = 5\n')
    cfg = load_config(toml)
    assert cfg.motion.interface == "pose_service" and cfg.safety.goal_timeout == 5.0
    js = tmp_path / "robot.json"
    js.write_text(json.dumps({"frames": {"table": "table_link"}}))
    assert load_config(js).frames.table == "table_link"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[motoin]\n", "unknown section [motoin]"),
        ("[motion]\nactoin = '/x'\n", "unknown key motion.actoin"),
        ("[safety]\ngoal_timeout = 'long'\n", "safety.goal_timeout must be a float"),
        ("[motion]\ninterface = 'teleport'\n", "must be one of ['moveit', 'pose_service']"),
        ("[safety]\nworkspace = [[1, 0], [0, 1], [0, 1]]\n", "safety.workspace must be"),
        ("[safety\n", "is not valid TOML"),
    ],
)
def test_config_errors_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "robot.toml"
    path.write_text(text)
    with pytest.raises(
        ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
    ):
        load_config(path)
