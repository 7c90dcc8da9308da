"""The PyBullet tabletop and the tabletop API, on the real simulator."""

import numpy as np
import pytest

from robot_api.protocols import Perception, Robot, SafetyError
from robot_api.pybullet_sim import PyBulletTabletop
from robot_api.scene import PLACES
from robot_api.tabletop import TabletopAPI
from robot_api.tasks import get_task

pytestmark = pytest.mark.xdist_group("sim")


@pytest.fixture
def api(sim):
    sim.reset([("red block", (0.1, -0.4)), ("blue block", (-0.1, -0.6)), ("green bowl", (0.15, -0.65))])
    return TabletopAPI(sim, sim)


def test_sim_implements_the_protocols(sim):
    assert isinstance(sim, Robot) and isinstance(sim, Perception)


def test_objects_rest_where_generated(sim):
    inst = get_task("blocks-in-matching-bowls").instance(3)
    sim.reset(inst.objects)
    for name, xy in inst.objects:
        assert np.linalg.norm(sim.object_position(name)[:2] - np.array(xy)) < 0.005, name


def test_put_first_on_second_stacks_precisely(api, sim):
    api.put_first_on_second("red block", "blue block")
    red, blue = sim.object_position("red block"), sim.object_position("blue block")
    assert np.linalg.norm(red[:2] - blue[:2]) < 0.01
    assert red[2] == pytest.approx(blue[2] + 0.04, abs=0.005)
    api.put_first_on_second("red block", "green bowl")
    assert np.linalg.norm(sim.object_position("red block")[:2] - sim.object_position("green bowl")[:2]) < 0.03


def test_places_positions_and_names(api):
    assert np.allclose(api.get_obj_pos("top left corner"), PLACES["top left corner"])
    api.put_first_on_second("blue block", "bottom right corner")
    assert np.linalg.norm(api.get_obj_pos("blue block") - PLACES["bottom right corner"]) < 0.01
    assert api.get_corner_name(api.get_obj_pos("blue block")) == "bottom right corner"
    assert api.get_side_name([0.0, -0.21]) == "top side"
    # the original's frame: [0, 1]^2 onto the named places' rectangle (the workspace inset by 5 cm)
    assert np.allclose(api.denormalize_xy([0, 0]), PLACES["bottom left corner"])
    assert np.allclose(api.denormalize_xy([1, 1]), PLACES["top right corner"])


def test_unknown_name_lists_what_exists(api):
    with pytest.raises(ValueError) as exc:
        api.get_obj_pos("purple block")
    assert "red block" in str(exc.value) and "top left corner" in str(exc.value)
    assert api.is_obj_visible("purple block") is False


@pytest.mark.parametrize(
    "target",
    [[0.6, -0.5], [0.0, -1.2], [0.0, 0.3]],
    ids=["outside-x", "outside-y", "behind-robot"],
)
def test_unsafe_targets_raise_before_moving(api, sim, target):
    before_q, before_red = sim.joint_state(), sim.object_position("red block")
    with pytest.raises(SafetyError):
        api.put_first_on_second("red block", target)
    assert np.allclose(sim.joint_state(), before_q) and np.allclose(
        sim.object_position("red block"), before_red
    )


def test_moving_into_the_table_is_refused(sim):
    with pytest.raises(SafetyError, match="table"):
        sim.move_to((0.0, -0.5, -0.01))


def test_goto_and_follow_traj(api):
    api.goto_pos([0.1, -0.5, 0.15])
    assert np.allclose(api.get_robot_pos(), [0.1, -0.5, 0.15], atol=0.005)
    api.follow_traj([[0.0, -0.4], [-0.1, -0.45]])
    assert np.allclose(api.get_robot_pos(), [-0.1, -0.45, 0.15], atol=0.005)


def test_describe_comes_from_the_real_api():
    names = [d["name"] for d in TabletopAPI.describe()]
    assert names == list(TabletopAPI.NAMES)
    sigs = {d["name"]: d["signature"] for d in TabletopAPI.describe()}
    assert sigs["put_first_on_second"] == "put_first_on_second(arg1, arg2)"


def test_follow_traj_refuses_before_moving_when_any_point_is_unsafe(api, sim):
    before = sim.joint_state()
    with pytest.raises(SafetyError, match="outside the workspace"):
        api.follow_traj([[0.0, -0.4], [0.1, -0.5], [0.9, -0.5]])
    assert np.allclose(sim.joint_state(), before)


def test_goto_pos_above_the_workspace_is_refused(api, sim):
    before = sim.joint_state()
    with pytest.raises(SafetyError, match="above the workspace"):
        api.goto_pos([0.0, -0.5, 0.9])
    assert np.allclose(sim.joint_state(), before)


def test_bad_arguments_are_clear(api):
    with pytest.raises(ValueError, match="expected an"):
        api.put_first_on_second("red block", [float("nan"), 0.0])
    with pytest.raises(TypeError, match="object name"):
        api.get_obj_pos(3)
    with pytest.raises(ValueError, match="nothing to pick up"):
        api.put_first_on_second([0.2, -0.3], "green bowl")
    # a list of names where one name belongs: the message names the mistake, so a repair round can fix it
    with pytest.raises(TypeError, match=r"the list of names \['red block'\]: pass one name at a time"):
        api.put_first_on_second(["red block"], "green bowl")
    with pytest.raises(TypeError, match="list of names"):
        api.get_obj_pos(["red block", "green bowl"])


def test_values_handed_to_policies_are_plain(api):
    assert isinstance(api.get_obj_names(), list) and all(isinstance(n, str) for n in api.get_obj_names())
    assert isinstance(api.get_obj_pos("red block"), np.ndarray) and api.get_obj_pos("red block").shape == (2,)
    lo, hi = api.get_bbox("red block")
    assert all(type(v) is float for v in (*lo, *hi, *api.get_color("red block")))
    assert type(api.is_obj_visible("red block")) is bool
    assert set(api.functions()) == set(TabletopAPI.NAMES)
    assert all(d["doc"] for d in TabletopAPI.describe())


def test_gif_and_png_of_an_episode(api, sim, tmp_path):
    from PIL import Image

    from robot_api.render import GifRecorder, render_scene, save_png

    with GifRecorder(sim) as rec:
        api.put_first_on_second("red block", "green bowl")
    gif = rec.save(tmp_path / "episode.gif")
    with Image.open(gif) as img:
        assert img.format == "GIF" and img.n_frames >= 3
    png = save_png(sim, tmp_path / "scene.png")
    with Image.open(png) as img:
        assert img.size == render_scene(sim).size
        pixels = np.asarray(img.convert("RGB"), dtype=float)
    assert pixels.std() > 10  # a real picture, not a blank canvas


def test_gui_needs_a_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(RuntimeError, match="display"):
        PyBulletTabletop(gui=True)
