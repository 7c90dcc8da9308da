"""Pictures of the simulated tabletop for people: a top-down and an oblique view side by side, and videos.

Each view is PyBullet's TinyRenderer (headless, no GPU) with Pillow drawing on top: the workspace frame, the
nine named places (`robot_api.scene.PLACES`), and object labels placed so that none covers another or an
object (`render_layout`), with a leader line when a label had to move away. A caption says which command ran,
on which task, and what the task check said. `GifRecorder` films the oblique view at a steady rate of
simulated time and writes GIF or MP4, with a strip naming what the policy is doing (any text the caller's
`marker` returns, e.g. the policy line being executed).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from robot_api.pb import pybullet as pb
from robot_api.pybullet_sim import PyBulletTabletop
from robot_api.render_layout import Box, Placement, place_labels
from robot_api.scene import BOUNDS, COLORS, PLACES, color_of

VIEWS = {
    # Looking straight down, image up = +y ("top", towards the robot), image right = +x: the named places
    # read as they are named. Framed to show the whole workspace and the robot's base.
    "top": dict(eye=(0.0, -0.415, 1.6), target=(0.0, -0.415, 0.0), up=(0, 1, 0), fov=31),
    "oblique": dict(eye=(0.0, -1.32, 0.72), target=(0.0, -0.42, 0.0), up=(0, 0, 1), fov=46),
}
TITLES = {"top": "top-down", "oblique": "oblique (from the bottom side)"}
PANEL = (480, 400)
FRAMES_PER_SECOND = 10  # GifRecorder: the simulator calls frame_hook every 24 steps of 1/240 s

INK = (34, 34, 38)
MUTED = (105, 105, 112)
FRAME_COLOR = (60, 64, 72)
GREEN = (24, 128, 56)
RED = (190, 40, 40)
BACKGROUND = (248, 248, 246)


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font: the same glyphs on every machine, no system font needed."""
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Camera:
    view: str
    width: int
    height: int
    view_matrix: tuple[float, ...]
    proj_matrix: tuple[float, ...]

    @classmethod
    def of(cls, view: str, width: int, height: int) -> Camera:
        v = VIEWS[view]
        view_m = pb.computeViewMatrix(v["eye"], v["target"], v["up"])
        proj_m = pb.computeProjectionMatrixFOV(v["fov"], width / height, 0.05, 5.0)
        return cls(view, width, height, tuple(view_m), tuple(proj_m))

    def project(self, xyz: Sequence[float]) -> tuple[float, float] | None:
        """Pixel (u, v) of a world point, None behind the camera."""
        V = np.array(self.view_matrix).reshape(4, 4).T
        P = np.array(self.proj_matrix).reshape(4, 4).T
        clip = P @ V @ np.array([*xyz[:3], 1.0])
        if clip[3] <= 0:
            return None
        return (
            float((clip[0] / clip[3] + 1) / 2 * self.width),
            float((1 - clip[1] / clip[3]) / 2 * self.height),
        )

    def project_box(self, lo: Sequence[float], hi: Sequence[float]) -> Box | None:
        """The pixel rectangle around the eight corners of a world box."""
        pts = [
            self.project((x, y, z)) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])
        ]
        pts = [p for p in pts if p is not None]
        if not pts:
            return None
        us, vs = zip(*pts, strict=True)
        return Box(min(us), min(vs), max(us), max(vs))

    def workspace(self) -> list[tuple[float, float]]:
        """The workspace rectangle on the table, in pixels (corners in order)."""
        (x0, x1), (y0, y1) = BOUNDS[0], BOUNDS[1]
        pts = [self.project((x, y, 0.001)) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        return [p for p in pts if p is not None]


@dataclass(frozen=True)
class Caption:
    """What a picture says under the views: the command, the task and its check, the run's status."""

    command: str = ""
    task: str | None = None
    seed: int | None = None
    success: bool | None = None
    reason: str = ""
    status: str = ""
    error: str = ""

    @classmethod
    def of_episode(cls, ep: Any) -> Caption:
        """From a `cap.episode.Episode` (or anything with its fields)."""
        return cls(
            command=getattr(ep, "command", "") or "",
            task=getattr(ep, "task", None),
            seed=getattr(ep, "seed", None),
            success=getattr(ep, "task_success", None),
            reason=getattr(ep, "reason", "") or "",
            status=getattr(ep, "status", "") or "",
            error=getattr(ep, "error", "") or "",
        )

    def lines(self) -> list[tuple[str, tuple[int, int, int], int]]:
        """(text, color, font size) per line, wrapped for the picture's width."""
        out: list[tuple[str, tuple[int, int, int], int]] = []
        if self.command:
            for i, part in enumerate(textwrap.wrap(f"“{self.command}”", 96)):
                out.append(((f"command  {part}" if i == 0 else f"         {part}"), INK, 16))
        if self.task:
            seed = f", seed {self.seed}" if self.seed is not None else ""
            out.append((f"task  {self.task}{seed}", MUTED, 14))
        if self.success is not None:
            mark, color = ("success", GREEN) if self.success else ("FAILURE", RED)
            reason = f": {self.reason}" if self.reason else ""
            for part in textwrap.wrap(f"check  {mark}{reason}", 110):
                out.append((part, color, 14))
        if self.status and self.status != "ok":
            for part in textwrap.wrap(
                f"policy  {self.status}: {self.error}" if self.error else self.status, 110
            ):
                out.append((part, RED, 14))
        return out


@dataclass
class Picture:
    """A composed picture and where things went, so tests can check the geometry."""

    image: Image.Image
    panels: list[Box] = field(default_factory=list)  # each view's rectangle in the image
    frames: list[list[tuple[float, float]]] = field(default_factory=list)  # workspace corners, image pixels
    labels: list[Placement] = field(default_factory=list)  # object labels, image pixels
    place_labels: list[Box] = field(default_factory=list)  # named-place labels, image pixels
    objects: list[Box] = field(default_factory=list)  # object footprints, image pixels


def render_view(
    sim: PyBulletTabletop,
    view: str = "top",
    width: int = PANEL[0],
    height: int = PANEL[1],
    labels: bool = False,
) -> Image.Image:
    """One camera's picture; with `labels`, annotated (frame, named places, object names)."""
    if labels:
        return annotated_view(sim, view, width, height).image
    return _raw(sim, Camera.of(view, width, height))


def _raw(sim: PyBulletTabletop, cam: Camera) -> Image.Image:
    _, _, rgba, _, _ = pb.getCameraImage(
        cam.width,
        cam.height,
        list(cam.view_matrix),
        list(cam.proj_matrix),
        renderer=pb.ER_TINY_RENDERER,
        physicsClientId=sim.client,
    )
    return Image.fromarray(np.asarray(rgba, dtype=np.uint8).reshape(cam.height, cam.width, 4)[:, :, :3])


def annotated_view(sim: PyBulletTabletop, view: str, width: int, height: int, labels: bool = True) -> Picture:
    """A view with the workspace frame, the named places and (optionally) non-overlapping object labels."""
    cam = Camera.of(view, width, height)
    image = _raw(sim, cam)
    draw = ImageDraw.Draw(image, "RGBA")
    frame = cam.workspace()
    draw.line([*frame, frame[0]], fill=FRAME_COLOR, width=2)
    place_boxes = _draw_places(draw, cam, names=view == "top")
    footprints, anchors, names = [], [], []
    for name in sim.object_names():
        lo, hi = (np.asarray(v, dtype=float) for v in np.split(np.asarray(sim.object_bbox(name)), 2))
        fp = cam.project_box(lo, hi)
        top = cam.project(((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2]))
        if fp is None or top is None:
            continue
        footprints.append(fp)
        anchors.append(top)
        names.append(name)
    placements: list[Placement] = []
    if labels and names:
        f = font(13)
        sizes = [(_text_width(f, n) + 12, 19) for n in names]
        panel = Box(2, 2, width - 2, height - 2)
        order = sorted(range(len(names)), key=lambda i: anchors[i][1])  # far (upper) objects first
        placed = place_labels(
            [anchors[i] for i in order],
            [sizes[i] for i in order],
            panel,
            obstacles=[*footprints, *place_boxes],
            targets=[footprints[i] for i in order],
        )
        placements = [Placement(Box(0, 0, 0, 0), (0, 0), False)] * len(names)
        for i, p in zip(order, placed, strict=True):
            placements[i] = p
        for name, p in zip(names, placements, strict=True):
            _draw_label(draw, name, p, f)
    return Picture(image, [Box(0, 0, width, height)], [frame], placements, place_boxes, footprints)


def _draw_places(draw: ImageDraw.ImageDraw, cam: Camera, names: bool) -> list[Box]:
    """A small cross on each named place; with `names`, its name outside the frame (the middle's inside)."""
    f = font(11)
    boxes = []
    frame = cam.workspace()
    us = [p[0] for p in frame]
    vs = [p[1] for p in frame]
    left, right, top, bottom = min(us), max(us), min(vs), max(vs)
    for name, xy in PLACES.items():
        p = cam.project((xy[0], xy[1], 0.001))
        if p is None:
            continue
        u, v = p
        draw.line([(u - 5, v), (u + 5, v)], fill=MUTED + (220,), width=1)
        draw.line([(u, v - 5), (u, v + 5)], fill=MUTED + (220,), width=1)
        if not names:
            continue
        w = _text_width(f, name)
        h = 13
        if name == "middle":
            x, y = u + 6, v + 4
        elif name.startswith("top") or name.startswith("bottom"):
            y = top - h - 5 if name.startswith("top") else bottom + 4
            # corner names centred on the frame's corners, leaving the middle of the edge to the side's name
            x = left - w / 2 if "left" in name else (right - w / 2 if "right" in name else u - w / 2)
        else:  # left side / right side
            y = v - h / 2
            x = left - w - 8 if name.startswith("left") else right + 8
        box = Box(x - 2, y, x + w + 2, y + h)
        draw.rounded_rectangle((box.left, box.top, box.right, box.bottom), 3, fill=(255, 255, 255, 150))
        draw.text((x, y), name, font=f, fill=MUTED)
        boxes.append(box)
    return boxes


def _draw_label(draw: ImageDraw.ImageDraw, name: str, p: Placement, f: Any) -> None:
    rgb = tuple(int(c * 255 * 0.7) for c in COLORS.get(color_of(name), (0.4, 0.4, 0.4)))
    if p.leader:
        end = p.box.nearest_point(*p.anchor)
        draw.line([p.anchor, end], fill=(40, 40, 40, 230), width=1)
        ax, ay = p.anchor
        draw.ellipse((ax - 2.5, ay - 2.5, ax + 2.5, ay + 2.5), fill=(40, 40, 40, 230))
    b = p.box
    draw.rounded_rectangle(
        (b.left, b.top, b.right - 1, b.bottom - 1), 5, fill=(255, 255, 255, 225), outline=rgb, width=2
    )
    draw.text((b.left + 6, b.top + 2), name, font=f, fill=INK)


def _text_width(f: Any, text: str) -> int:
    return int(np.ceil(f.getlength(text)))


def compose_scene(
    sim: PyBulletTabletop, labels: bool = True, caption: Caption | None = None, panel: tuple[int, int] = PANEL
) -> Picture:
    """Top-down and oblique views side by side with titles, and the caption under them.

    The arm is folded out of the way while the picture is taken (and put back exactly)."""
    width, height = panel
    margin, title_h = 12, 26
    lines = caption.lines() if caption else []
    caption_h = (sum(size + 7 for _, _, size in lines) + 14) if lines else 0
    canvas = Image.new("RGB", (margin * 3 + width * 2, title_h + height + margin * 2 + caption_h), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    out = Picture(canvas)
    with sim.tucked():
        for i, view in enumerate(("top", "oblique")):
            pic = annotated_view(sim, view, width, height, labels)
            x, y = margin + i * (width + margin), margin + title_h
            canvas.paste(pic.image, (x, y))
            draw.rectangle((x - 1, y - 1, x + width, y + height), outline=(200, 200, 198))
            draw.text((x, margin + 2), TITLES[view], font=font(15), fill=INK)
            out.panels.append(Box(x, y, x + width, y + height))
            out.frames.append([(u + x, v + y) for u, v in pic.frames[0]])
            out.labels += [
                Placement(p.box.shift(x, y), (p.anchor[0] + x, p.anchor[1] + y), p.leader) for p in pic.labels
            ]
            out.place_labels += [b.shift(x, y) for b in pic.place_labels]
            out.objects += [b.shift(x, y) for b in pic.objects]
    y = margin + title_h + height + margin + 4
    for text, color, size in lines:
        if color in (GREEN, RED):  # the check's verdict gets a colored dot (no font has every symbol)
            draw.ellipse((margin, y + 3, margin + 10, y + 13), fill=color)
            draw.text((margin + 16, y), text, font=font(size), fill=color)
        else:
            draw.text((margin, y), text, font=font(size), fill=color)
        y += size + 7
    return out


def render_scene(
    sim: PyBulletTabletop, labels: bool = True, caption: Caption | None = None, panel: tuple[int, int] = PANEL
) -> Image.Image:
    """Top-down and oblique views side by side (see `compose_scene`)."""
    return compose_scene(sim, labels, caption, panel).image


def save_png(
    sim: PyBulletTabletop, path: str | Path, labels: bool = True, caption: Caption | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_scene(sim, labels=labels, caption=caption).save(path)
    return path


class GifRecorder:
    """Films the oblique view while the simulation moves; `save` writes a GIF or an MP4.

    The simulator calls the hook every 24 physics steps (0.1 s of simulated time), so frames are evenly spaced
    in the robot's time and play back at a steady `FRAMES_PER_SECOND`, however busy the machine was.
    `marker` (optional) is asked at each frame what the policy is doing; `save(describe=...)` turns that into
    the text of the strip under the frame (so a caller can resolve it once the whole program is known).
    """

    def __init__(
        self,
        sim: PyBulletTabletop,
        width: int = PANEL[0],
        height: int = 360,
        every: int = 1,
        marker: Callable[[], Any] | None = None,
        title: str = "",
    ):
        self.sim, self.width, self.height, self.every = sim, width, height, every
        self.marker, self.title = marker, title
        self.frames: list[tuple[Image.Image, Any]] = []
        self._calls = 0

    def __enter__(self) -> GifRecorder:
        self.sim.frame_hook = self._capture
        self._capture(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._capture(force=True)
        self.sim.frame_hook = None

    def _capture(self, force: bool = False) -> None:
        self._calls += 1
        if force or self.every <= 1 or self._calls % self.every == 1:
            pic = annotated_view(self.sim, "oblique", self.width, self.height)
            self.frames.append((pic.image, self.marker() if self.marker else None))

    def images(self, describe: Callable[[Any], str] | None = None) -> list[Image.Image]:
        """The frames with the title above and what the policy was doing below."""
        f_title, f_line = font(14), font(13)
        texts = [describe(m) if describe else ("" if m is None else str(m)) for _, m in self.frames]
        rows = max((len(t.split("\n")) for t in texts if t), default=0)
        top = 24 if self.title else 0
        strip = 10 + 18 * rows if rows else 0
        out = []
        for (image, _), text in zip(self.frames, texts, strict=True):
            frame = Image.new("RGB", (self.width, top + self.height + strip), BACKGROUND)
            draw = ImageDraw.Draw(frame)
            if self.title:
                draw.text((8, 4), _fit(f_title, self.title, self.width - 16), font=f_title, fill=INK)
            frame.paste(image, (0, top))
            for k, row in enumerate(text.split("\n") if text else []):
                y = top + self.height + 5 + 18 * k
                x = 22 + 14 * k
                if k == 0:  # a "playing" triangle before the running line
                    draw.polygon([(8, y + 3), (8, y + 14), (17, y + 8.5)], fill=GREEN)
                else:
                    draw.line([(x - 10, y + 1), (x - 10, y + 8), (x - 3, y + 8)], fill=MUTED, width=1)
                draw.text(
                    (x, y), _fit(f_line, row, self.width - x - 8), font=f_line, fill=INK if k == 0 else MUTED
                )
            out.append(frame)
        return out

    def save(self, path: str | Path, describe: Callable[[Any], str] | None = None) -> Path:
        """GIF (Pillow) or MP4 (imageio with imageio-ffmpeg) by the file's suffix."""
        path = Path(path)
        if not self.frames:
            raise ValueError("no frames were captured")
        path.parent.mkdir(parents=True, exist_ok=True)
        frames = self.images(describe)
        if path.suffix.lower() == ".mp4":
            write_mp4(frames, path)
        else:
            hold = [1000 // FRAMES_PER_SECOND] * len(frames)
            hold[-1] = 1500  # rest on the final scene before looping
            frames[0].save(path, save_all=True, append_images=frames[1:], duration=hold, loop=0)
        return path


def write_mp4(frames: list[Image.Image], path: Path, fps: int = FRAMES_PER_SECOND) -> None:
    """H.264 MP4 through imageio-ffmpeg (`pip install 'cap[ui]'`); a clear error when it is missing."""
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401  (the ffmpeg binary ships in this wheel)
    except ImportError:
        raise RuntimeError(
            "writing MP4 needs imageio and imageio-ffmpeg: pip install 'cap[ui]' (or write a .gif)"
        ) from None
    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=2, quality=7) as writer:
        for frame in [*frames, *[frames[-1]] * fps]:  # a second's rest on the final scene
            writer.append_data(np.asarray(frame))


def _fit(f: Any, text: str, width: int) -> str:
    """`text` cut with an ellipsis to fit `width` pixels."""
    if f.getlength(text) <= width:
        return text
    while text and f.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"
