"""Pictures of the simulated tabletop: a top-down and an oblique view side by side, and GIFs of episodes.

Uses PyBullet's TinyRenderer (works headless, no GPU) and Pillow; object names can be drawn as labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from robot_api.pb import pybullet as pb
from robot_api.pybullet_sim import PyBulletTabletop

VIEWS = {
    "top": dict(eye=(0.0, -0.5, 1.0), target=(0.0, -0.5, 0.0), up=(0, 1, 0), fov=40),
    "oblique": dict(eye=(0.0, -1.35, 0.75), target=(0.0, -0.45, 0.0), up=(0, 0, 1), fov=45),
}


def _camera(view: str, width: int, height: int) -> tuple[list[float], list[float]]:
    v = VIEWS[view]
    view_m = pb.computeViewMatrix(v["eye"], v["target"], v["up"])
    proj_m = pb.computeProjectionMatrixFOV(v["fov"], width / height, 0.05, 5.0)
    return list(view_m), list(proj_m)


def render_view(
    sim: PyBulletTabletop, view: str = "top", width: int = 480, height: int = 360, labels: bool = False
) -> Image.Image:
    view_m, proj_m = _camera(view, width, height)
    _, _, rgba, _, _ = pb.getCameraImage(
        width, height, view_m, proj_m, renderer=pb.ER_TINY_RENDERER, physicsClientId=sim.client
    )
    image = Image.fromarray(np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[:, :, :3])
    if labels:
        draw = ImageDraw.Draw(image)
        V = np.array(view_m).reshape(4, 4).T
        P = np.array(proj_m).reshape(4, 4).T
        for name in sim.object_names():
            x, y, z = sim.object_position(name)
            clip = P @ V @ np.array([x, y, z + 0.03, 1.0])
            if clip[3] <= 0:
                continue
            u = (clip[0] / clip[3] + 1) / 2 * width
            v_ = (1 - clip[1] / clip[3]) / 2 * height
            draw.text((u - 3 * len(name), v_ - 14), name, fill=(20, 20, 20))
    return image


def render_scene(
    sim: PyBulletTabletop, labels: bool = True, width: int = 480, height: int = 360
) -> Image.Image:
    """Top-down and oblique views side by side (the arm folded out of the way while the picture is taken)."""
    with sim.tucked():
        views = [render_view(sim, v, width, height, labels) for v in ("top", "oblique")]
    canvas = Image.new("RGB", (width * 2, height), "white")
    for i, img in enumerate(views):
        canvas.paste(img, (i * width, 0))
    return canvas


def save_png(sim: PyBulletTabletop, path: str | Path, labels: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_scene(sim, labels=labels).save(path)
    return path


class GifRecorder:
    """Captures small oblique frames while the simulation moves; `save` writes an animated GIF."""

    def __init__(self, sim: PyBulletTabletop, width: int = 320, height: int = 240, every: int = 2):
        self.sim, self.width, self.height, self.every = sim, width, height, every
        self.frames: list[Image.Image] = []
        self._calls = 0

    def __enter__(self) -> GifRecorder:
        self.sim.frame_hook = self._capture
        self._capture()
        return self

    def __exit__(self, *exc: object) -> None:
        self._capture()
        self.sim.frame_hook = None

    def _capture(self) -> None:
        self._calls += 1
        if self._calls % self.every == 1 or self.every == 1:
            self.frames.append(render_view(self.sim, "oblique", self.width, self.height))

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.frames:
            raise ValueError("no frames were captured")
        self.frames[0].save(path, save_all=True, append_images=self.frames[1:], duration=80, loop=0)
        return path
