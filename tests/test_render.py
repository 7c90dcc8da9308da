"""Pictures people read: labels never overlap, the frame and named places are inside the picture, the caption
says what ran, and videos play at a steady rate."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from robot_api.render import (
    FRAMES_PER_SECOND,
    Caption,
    GifRecorder,
    compose_scene,
    save_png,
)
from robot_api.render_layout import Box, overlaps, place_labels
from robot_api.scene import PLACES
from robot_api.tasks import get_task


def test_layout_keeps_labels_apart_inside_the_bounds():
    rng = np.random.default_rng(0)
    bounds = Box(0, 0, 480, 400)
    for _ in range(30):
        # a cluster: eight anchors within 40 px of each other, the hard case for labels
        centre = rng.uniform((120, 120), (360, 280))
        anchors = [tuple(centre + rng.uniform(-20, 20, 2)) for _ in range(8)]
        sizes = [(float(rng.integers(60, 100)), 19.0) for _ in anchors]
        obstacles = [Box(x - 8, y - 8, x + 8, y + 8) for x, y in anchors]
        placed = place_labels(anchors, sizes, bounds, obstacles=obstacles)
        assert overlaps(placed, obstacles) == []
        assert all(p.box.inside(bounds) for p in placed)
        assert np.allclose([(p.box.width, p.box.height) for p in placed], sizes)
        assert any(p.leader for p in placed)  # a cluster this tight needs leader lines


def test_layout_without_room_still_places_every_label():
    placed = place_labels([(10, 10)] * 3, [(90, 19)] * 3, Box(0, 0, 100, 40))
    assert len(placed) == 3 and all(p.box.inside(Box(0, 0, 100, 40)) for p in placed)
    assert overlaps(placed)  # honest: it could not avoid them, and says so


def test_a_label_next_to_its_object_has_no_leader():
    (p,) = place_labels([(200, 200)], [(80, 19)], Box(0, 0, 480, 400))
    assert not p.leader and p.box.bottom <= 200  # right above the anchor


@pytest.mark.parametrize(
    "task, seed",
    [("blocks-in-matching-bowls", 0), ("stack-blocks", 1), ("line-of-blocks", 2), ("pick-place", 3)],
)
def test_scene_picture_geometry(sim, task, seed):
    sim.reset(get_task(task).instance(seed).objects)
    pic = compose_scene(sim, caption=Caption(command="do it", task=task, seed=seed))
    full = Box(0, 0, *pic.image.size)
    assert len(pic.panels) == 2 and not pic.panels[0].intersects(pic.panels[1])
    for panel, frame in zip(pic.panels, pic.frames, strict=True):
        assert panel.inside(full)
        assert len(frame) == 4
        assert all(panel.left < u < panel.right and panel.top < v < panel.bottom for u, v in frame)
    names = sim.object_names()
    assert len(pic.labels) == 2 * len(names)  # every object named in both views
    assert overlaps(pic.labels, pic.place_labels) == []
    # labels also keep off every object's footprint, so no label hides an object
    assert overlaps(pic.labels, pic.objects) == []
    assert len(pic.place_labels) == len(PLACES)  # the nine named places, named in the top-down view
    assert all(b.inside(pic.panels[0]) for b in pic.place_labels)
    assert all(not a.intersects(b) for i, a in enumerate(pic.place_labels) for b in pic.place_labels[i + 1 :])
    assert all(
        p.box.inside(panel)
        for p, panel in zip(
            pic.labels, [pic.panels[0]] * len(names) + [pic.panels[1]] * len(names), strict=True
        )
    )


def test_caption_says_command_task_and_check(sim):
    sim.reset(get_task("pick-place").instance(0).objects)
    bare = compose_scene(sim)
    failed = Caption(
        command="put the red block on the moon", task="pick-place", seed=0, success=False, reason="no"
    )
    lines = [text for text, _, _ in failed.lines()]
    assert lines[0].startswith("command") and "put the red block on the moon" in lines[0]
    assert lines[1] == "task  pick-place, seed 0"
    assert lines[2].startswith("check  FAILURE: no")
    captioned = compose_scene(sim, caption=failed)
    assert captioned.image.size[1] > bare.image.size[1]
    strip = np.asarray(captioned.image)[bare.image.size[1] :]
    red = (strip[:, :, 0] > 150) & (strip[:, :, 1] < 80) & (strip[:, :, 2] < 80)
    assert red.sum() > 30  # the failure is drawn in red


def test_png_is_a_real_picture(sim, tmp_path):
    sim.reset(get_task("stack-blocks").instance(0).objects)
    path = save_png(sim, tmp_path / "scene.png", caption=Caption(command="stack"))
    with Image.open(path) as img:
        assert img.size[0] > img.size[1]
        assert np.asarray(img.convert("RGB"), dtype=float).std() > 10


def _episode_frames(sim, path, describe=None):
    from robot_api.tabletop import TabletopAPI

    sim.reset(get_task("pick-place").instance(0).objects)
    api = TabletopAPI(sim, sim)
    block = next(n for n in sim.object_names() if n.endswith("block"))
    bowl = next(n for n in sim.object_names() if n.endswith("bowl"))
    steps = iter(range(10_000))
    with GifRecorder(sim, marker=lambda: next(steps), title="put it there") as rec:
        api.put_first_on_second(block, bowl)
    return rec, rec.save(path, describe)


def test_gif_plays_at_a_steady_rate_and_shows_the_marker(sim, tmp_path):
    rec, path = _episode_frames(sim, tmp_path / "ep.gif", describe=lambda m: f"step {m}")
    with Image.open(path) as img:
        assert img.n_frames == len(rec.frames) >= 10
        durations = []
        for i in range(img.n_frames):
            img.seek(i)
            durations.append(img.info["duration"])
    assert set(durations[:-1]) == {1000 // FRAMES_PER_SECOND}
    assert [m for _, m in rec.frames] == sorted(m for _, m in rec.frames)  # the marker asked at each frame
    with_strip = rec.images(lambda m: f"step {m}")[0]
    without = rec.images(lambda m: "")[0]
    assert with_strip.size[1] > without.size[1]


def test_mp4_when_ffmpeg_is_there(sim, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    _, path = _episode_frames(sim, tmp_path / "ep.mp4")
    data = path.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 10_000


@pytest.mark.slow
def test_no_label_covers_another_or_an_object_in_any_task_scene(sim):
    from robot_api.render_layout import overlaps
    from robot_api.tasks import TASKS

    for name, task in TASKS.items():
        inst = task.instance(0)
        sim.reset(inst.objects)
        pic = compose_scene(sim, caption=Caption(command=inst.command))
        assert overlaps(pic.labels, [*pic.place_labels, *pic.objects]) == [], name
        assert len(pic.labels) == 2 * len(inst.objects), name
