"""Rigid transforms from ROS messages, and a tf tree built from /tf and /tf_static (tf2_msgs/TFMessage).

A pure-Python lookup (no tf2 needed): each child frame keeps its latest transform from its parent; a lookup
walks both frames up to their common ancestor. Enough for the few frames cap needs (table, base, tool).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from robot_api.ros.bridge import Latest


def _num(d: Any, key: str) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise ValueError(f"{key} must be a finite number, got {v!r}")
    return float(v)


def vec(d: Any) -> np.ndarray:
    """geometry_msgs Point/Vector3 -> (3,)."""
    return np.array([_num(d, "x"), _num(d, "y"), _num(d, "z")])


def quat(d: Any) -> np.ndarray:
    """geometry_msgs Quaternion -> (x, y, z, w), normalised."""
    q = np.array([_num(d, "x"), _num(d, "y"), _num(d, "z"), _num(d, "w")])
    n = np.linalg.norm(q)
    if n < 1e-9:
        raise ValueError("zero quaternion")
    return q / n


def matrix(position: np.ndarray, orientation: np.ndarray) -> np.ndarray:
    """4x4 homogeneous matrix from a position and an (x, y, z, w) quaternion."""
    x, y, z, w = orientation
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = r, position
    return m


def quat_of(m: np.ndarray) -> np.ndarray:
    """(x, y, z, w) of a 4x4 matrix's rotation."""
    r = m[:3, :3]
    w = np.sqrt(max(0.0, 1 + r[0, 0] + r[1, 1] + r[2, 2])) / 2
    x = np.copysign(np.sqrt(max(0.0, 1 + r[0, 0] - r[1, 1] - r[2, 2])) / 2, r[2, 1] - r[1, 2])
    y = np.copysign(np.sqrt(max(0.0, 1 - r[0, 0] + r[1, 1] - r[2, 2])) / 2, r[0, 2] - r[2, 0])
    z = np.copysign(np.sqrt(max(0.0, 1 - r[0, 0] - r[1, 1] + r[2, 2])) / 2, r[1, 0] - r[0, 1])
    q = np.array([x, y, z, w])
    return q / np.linalg.norm(q)


def frame(name: Any) -> str:
    if not isinstance(name, str):
        raise ValueError(f"frame id must be a string, got {name!r}")
    return name.lstrip("/")


class TfTree:
    """Latest transforms parent -> child, fed with TFMessage dicts from /tf and /tf_static."""

    def __init__(self, fresh_messages: int = 2) -> None:
        self._lock = threading.Condition()
        self._parent: dict[str, tuple[str, np.ndarray]] = {}
        self.dynamic = Latest(fresh_messages)  # arrivals of /tf (not /tf_static), for freshness

    def add_static(self, msg: dict[str, Any]) -> None:
        self.add(msg, static=True)

    def add(self, msg: dict[str, Any], static: bool = False) -> None:
        """Store every transform of a tf2_msgs/TFMessage; a malformed message raises ValueError, nothing kept."""
        items = []
        for t in msg["transforms"]:
            tr = t["transform"]
            items.append(
                (
                    frame(t["child_frame_id"]),
                    frame(t["header"]["frame_id"]),
                    matrix(vec(tr["translation"]), quat(tr["rotation"])),
                )
            )
        with self._lock:
            for child, parent, m in items:
                if child != parent:
                    self._parent[child] = (parent, m)
        if not static:
            self.dynamic.put(True)

    def frames(self) -> list[str]:
        with self._lock:
            return sorted(set(self._parent) | {p for p, _ in self._parent.values()})

    def _to_root(self, name: str) -> list[tuple[str, np.ndarray]]:
        chain, seen = [(name, np.eye(4))], {name}
        m = np.eye(4)
        while name in self._parent:
            parent, t = self._parent[name]
            if parent in seen:
                break  # a loop in a broken tree
            m = t @ m
            name = parent
            seen.add(name)
            chain.append((name, m.copy()))
        return chain  # (ancestor, pose of the start frame in that ancestor)

    def lookup(self, target: str, source: str) -> np.ndarray | None:
        """Pose of `source` in `target` as a 4x4 matrix, or None when the tree does not connect them."""
        target, source = frame(target), frame(source)
        with self._lock:
            up_source = dict(self._to_root(source))
            for ancestor, target_in_ancestor in self._to_root(target):
                if ancestor in up_source:
                    return np.linalg.inv(target_in_ancestor) @ up_source[ancestor]
        return None

    def wait_newer(self, since: float, timeout: float) -> bool:
        """True once /tf is fresh after `since` (see `Latest`), False if not within `timeout`."""
        return self.dynamic.newer_than(since, timeout) is not None
