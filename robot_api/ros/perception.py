"""`Perception` over a detections topic (vision_msgs/msg/Detection3DArray by default).

Each detection's `results[0].hypothesis.class_id` (or the older `results[0].id`) is the object's name, e.g.
"red block"; `bbox.center` and `bbox.size` give its pose and extent. Detections in another frame than the
table frame are transformed through tf; the box is kept axis-aligned in the table frame. Colours come from a
colour word in the name (cap's ten colours); other objects are grey.

Answers are fresh: after the robot moved, the next question waits (up to `fresh_timeout`) for a detections
message that arrived after the motion ended, so a policy never plans from where things were before.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_api.ros.bridge import Latest, RobotError
from robot_api.ros.transforms import TfTree, frame, matrix, quat, vec
from robot_api.scene import COLORS, color_of

UNKNOWN_COLOR = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class Detection:
    name: str
    center: np.ndarray  # (3,) table frame
    size: np.ndarray  # (3,) axis-aligned extents in the table frame


def parse_detections(msg: dict[str, Any], table: str, tf: TfTree | None) -> list[Detection]:
    """Detections of a Detection3DArray dict in the table frame; ValueError/KeyError/TypeError when malformed."""
    source = frame(msg.get("header", {}).get("frame_id", table) or table)
    to_table = np.eye(4)
    if source != frame(table):
        found = tf.lookup(table, source) if tf is not None else None
        if found is None:
            raise ValueError(f"no tf from {source!r} to the table frame {table!r}")
        to_table = found
    out: list[Detection] = []
    names: dict[str, int] = {}
    for det in msg["detections"]:
        results = det.get("results") or []
        hyp = results[0] if results else {}
        name = hyp.get("hypothesis", {}).get("class_id") if isinstance(hyp.get("hypothesis"), dict) else None
        name = name if name is not None else hyp.get("id")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a detection without a name: {det!r:.120}")
        name = name.strip()
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name = f"{name} ({names[name]})"
        center = det["bbox"]["center"]
        pose = to_table @ matrix(
            vec(center["position"]), quat(center.get("orientation", {"x": 0, "y": 0, "z": 0, "w": 1}))
        )
        size = vec(det["bbox"]["size"])
        if np.any(size < 0):
            raise ValueError(f"negative size for {name!r}")
        extent = np.abs(pose[:3, :3]) @ size
        out.append(Detection(name, pose[:3, 3].copy(), extent))
    return out


class RosPerception:
    """Implements `Perception` from the latest fresh detections."""

    def __init__(self, bridge: Any, config: Any, tf: TfTree | None = None):
        self.bridge, self.config, self.tf = bridge, config, tf
        self.latest = Latest(config.perception.fresh_messages)
        self.stale_since = -np.inf  # monotonic time of the last motion's end: older detections are stale
        self._lock = threading.Lock()
        bridge.subscribe(config.perception.detections, config.perception.detections_type, self._on_message)

    def _on_message(self, msg: dict[str, Any]) -> None:
        self.latest.put(parse_detections(msg, self.config.frames.table, self.tf))

    def mark_stale(self) -> None:
        """The world may have changed (a motion ended now): the next answer waits for newer detections."""
        self.stale_since = time.monotonic()

    def detections(self) -> list[Detection]:
        value = self.latest.newer_than(self.stale_since, self.config.perception.fresh_timeout)
        if value is None:
            self.bridge.require_connection(f"read {self.config.perception.detections}")
            raise RobotError(
                f"no fresh detections on {self.config.perception.detections} within "
                f"{self.config.perception.fresh_timeout:g} s (perception.fresh_timeout)"
            )
        return value

    def _find(self, name: str) -> Detection:
        dets = self.detections()
        for d in dets:
            if d.name == name:
                return d
        raise KeyError(f"no object named {name!r}; objects are {[d.name for d in dets]}")

    def object_names(self) -> list[str]:
        return [d.name for d in self.detections()]

    def object_position(self, name: str) -> np.ndarray:
        return self._find(name).center.copy()

    def object_bbox(self, name: str) -> np.ndarray:
        d = self._find(name)
        return np.concatenate([d.center - d.size / 2, d.center + d.size / 2])

    def object_color(self, name: str) -> tuple[float, float, float]:
        self._find(name)
        return COLORS.get(color_of(name), UNKNOWN_COLOR)

    def object_visible(self, name: str) -> bool:
        return any(d.name == name for d in self.detections())
