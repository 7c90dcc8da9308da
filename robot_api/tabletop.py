"""The perception and control API that policies call, with the original Code as Policies names and meaning.

Written against the `Robot` and `Perception` protocols only: any robot that implements them runs the same
policies. Positions are (x, y) numpy arrays in metres in the table frame (see `robot_api.scene`).
Return shapes follow the original: `get_bbox` is pybullet's AABB (two 3-tuples), `get_color` RGBA,
`get_robot_pos` (x, y, z); `denormalize_xy` maps [0, 1]^2 onto the rectangle of the named places (the workspace
inset by 5 cm), so `denormalize_xy([1, 1])` is the top right corner place. Names may be written the loose ways
the original accepted ('the blue block', 'blue_block', 'green circle', 'top_left_corner'; see robot_api.names).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from robot_api.names import resolve_name
from robot_api.protocols import Perception, Robot, SafetyError
from robot_api.scene import BOUNDS, CORNERS, NORMALIZED_EXTENT, NORMALIZED_ORIGIN, PLACES, SIDES

SAFE_Z = 0.2
RELEASE_GAP = 0.005
PICK_GAP = 0.002


class TabletopAPI:
    def __init__(self, robot: Robot, perception: Perception, on_say: Callable[[str], None] | None = None):
        self.robot = robot
        self.perception = perception
        self.said: list[str] = []
        self._on_say = on_say

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """`say` reaches no listener meanwhile (a rehearsal of a program must not speak for the robot)."""
        listener, self._on_say = self._on_say, None
        try:
            yield
        finally:
            self._on_say = listener

    # -- perception --------------------------------------------------------------------------------
    def get_obj_names(self) -> list[str]:
        """Names of the objects on the table, e.g. ['blue block', 'red bowl']."""
        return list(self.perception.object_names())

    def _resolve(self, name: str) -> str:
        """The canonical object or place name `name` stands for ('the blue block', 'top_left_corner', ...)."""
        if not isinstance(name, str):
            raise TypeError(f"expected an object name (str), got {_describe(name)}")
        if name in PLACES or self.perception.object_visible(name):
            return name
        resolved = resolve_name(name, [*self.perception.object_names(), *PLACES])
        if resolved is None:
            raise ValueError(
                f"unknown object {name!r}; objects: {self.get_obj_names()}; places: {list(PLACES)}"
            )
        return resolved

    def get_obj_pos(self, obj_name: str) -> np.ndarray:
        """(x, y) of an object, or of a named place such as 'top left corner'."""
        name = self._resolve(obj_name)
        if name in PLACES:
            return PLACES[name].copy()
        return np.asarray(self.perception.object_position(name), dtype=float)[:2].copy()

    def get_bbox(self, obj_name: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """Axis-aligned box as pybullet's getAABB gives it: ((x_min, y_min, z_min), (x_max, y_max, z_max))."""
        name = self._resolve(obj_name)
        if name in PLACES:
            x, y = (float(v) for v in PLACES[name])
            return ((x, y, 0.0), (x, y, 0.0))
        box = [float(v) for v in self.perception.object_bbox(name)]
        return (tuple(box[:3]), tuple(box[3:6]))  # type: ignore[return-value]

    def get_color(self, obj_name: str) -> tuple[float, float, float, float]:
        """RGBA of an object, each in [0, 1] (alpha is 1 for opaque objects)."""
        name = self._resolve(obj_name)
        rgba = [float(v) for v in self.perception.object_color(name)]
        return tuple(rgba if len(rgba) == 4 else [*rgba[:3], 1.0])  # type: ignore[return-value]

    def is_obj_visible(self, obj_name: str) -> bool:
        """True when the object is on the table and seen."""
        if not isinstance(obj_name, str):
            return False
        name = resolve_name(obj_name, self.perception.object_names())
        return bool(name is not None and self.perception.object_visible(name))

    # -- places --------------------------------------------------------------------------------------
    def denormalize_xy(self, pos_normalized: Sequence[float]) -> np.ndarray:
        """Map [0, 1]^2 onto the named places' frame: [0, 0] is the bottom left corner place, [1, 1] the top right."""
        p = np.asarray(pos_normalized, dtype=float)
        return NORMALIZED_ORIGIN + p * NORMALIZED_EXTENT

    def get_corner_name(self, pos: Sequence[float]) -> str:
        """The corner nearest to (x, y), e.g. 'top left corner'."""
        return min(CORNERS, key=lambda c: float(np.linalg.norm(PLACES[c] - np.asarray(pos)[:2])))

    def get_side_name(self, pos: Sequence[float]) -> str:
        """The side nearest to (x, y), e.g. 'left side'."""
        return min(SIDES, key=lambda s: float(np.linalg.norm(PLACES[s] - np.asarray(pos)[:2])))

    # -- control -------------------------------------------------------------------------------------
    def _xy(self, obj_or_pos: str | Sequence[float]) -> np.ndarray:
        if isinstance(obj_or_pos, str):
            return self.get_obj_pos(obj_or_pos)
        if isinstance(obj_or_pos, (list, tuple)) and any(isinstance(v, str) for v in obj_or_pos):
            raise TypeError(
                f"expected an object name (str) or an (x, y) position, got {_describe(obj_or_pos)}"
            )
        p = np.asarray(obj_or_pos, dtype=float).reshape(-1)
        if p.size < 2 or not np.all(np.isfinite(p)):
            raise ValueError(f"expected an (x, y) position or an object name, got {obj_or_pos!r}")
        return p[:2]

    def _top_at(self, xy: np.ndarray, exclude: str | None = None, half_width: float = 0.02) -> float:
        """Height of the highest surface under a footprint at `xy` (the table is 0)."""
        top = 0.0
        for name in self.perception.object_names():
            if name == exclude:
                continue
            x0, y0, _, x1, y1, z1 = self.perception.object_bbox(name)
            if (
                x0 < xy[0] + half_width
                and x1 > xy[0] - half_width
                and y0 < xy[1] + half_width
                and y1 > xy[1] - half_width
            ):
                top = max(top, float(z1))
        return top

    def put_first_on_second(self, arg1: str | Sequence[float], arg2: str | Sequence[float]) -> None:
        """Pick the object (or whatever is at the position) arg1, and place it on the object or position arg2."""
        pick_xy, place_xy = self._xy(arg1), self._xy(arg2)
        for xy in (pick_xy, place_xy):  # refuse before moving: the robot must not stop halfway
            _check_workspace(xy)
        what = arg1 if isinstance(arg1, str) else f"position {np.round(pick_xy, 3).tolist()}"
        surface = self._top_at(pick_xy, half_width=0.005)
        if surface <= 0.0:  # only the table there: refuse before moving
            raise ValueError(f"nothing to pick up at {what}")
        self.robot.move_to((*pick_xy, SAFE_Z))
        self.robot.move_to((*pick_xy, surface + PICK_GAP))
        if not self.robot.gripper_close():
            self.robot.move_to((*pick_xy, SAFE_Z))
            raise ValueError(f"nothing to pick up at {what}")
        self.robot.move_to((*pick_xy, SAFE_Z))
        held = self.robot.holding()
        extent = SAFE_Z - float(self.perception.object_bbox(held)[2]) if held else 0.0
        place_z = self._top_at(place_xy, exclude=held) + extent + RELEASE_GAP
        self.robot.move_to((*place_xy, SAFE_Z))
        self.robot.move_to((*place_xy, place_z))
        self.robot.gripper_open()
        self.robot.move_to((*place_xy, SAFE_Z))

    def goto_pos(self, position_xy: Sequence[float]) -> None:
        """Move the gripper over (x, y) at its current height (or to (x, y, z) when given)."""
        p = np.asarray(position_xy, dtype=float).reshape(-1)
        z = p[2] if p.size >= 3 else float(self.robot.ee_pose()[0][2])
        self.robot.move_to((p[0], p[1], z))

    def follow_traj(self, traj: Sequence[Sequence[float]]) -> None:
        """Move the gripper through each (x, y) or (x, y, z) point in turn (checked before the first move)."""
        points = [np.asarray(p, dtype=float).reshape(-1) for p in traj]
        for p in points:
            if p.size < 2 or not np.all(np.isfinite(p)):
                raise ValueError(f"expected (x, y) or (x, y, z) points, got {p.tolist()}")
            _check_workspace(p[:2])
        for p in points:
            self.goto_pos(p)

    def get_robot_pos(self) -> np.ndarray:
        """(x, y, z) of the gripper."""
        return np.asarray(self.robot.ee_pose()[0], dtype=float)[:3].copy()

    def say(self, msg: str) -> None:
        """Tell the user something."""
        text = str(msg)
        self.said.append(text)
        if self._on_say:
            self._on_say(text)

    # -- for sandboxes and prompts -------------------------------------------------------------------
    NAMES = (
        "get_obj_names",
        "get_obj_pos",
        "get_bbox",
        "get_color",
        "is_obj_visible",
        "put_first_on_second",
        "denormalize_xy",
        "get_corner_name",
        "get_side_name",
        "say",
        "goto_pos",
        "follow_traj",
        "get_robot_pos",
    )

    def functions(self) -> dict[str, Callable[..., Any]]:
        """The API as the mapping handed to the sandbox."""
        return {name: getattr(self, name) for name in self.NAMES}

    @classmethod
    def describe(cls) -> list[dict[str, str]]:
        """Name, signature and one-line doc of each function, for rendering prompts from the real API."""
        out = []
        for name in cls.NAMES:
            fn = getattr(cls, name)
            sig = inspect.signature(fn)
            params = [p for p in sig.parameters.values() if p.name != "self"]
            doc = (inspect.getdoc(fn) or "").split("\n")[0]
            out.append(
                {"name": name, "signature": f"{name}({', '.join(p.name for p in params)})", "doc": doc}
            )
        return out


def _check_workspace(xy: np.ndarray, slack: float = 0.02) -> None:
    (x0, x1), (y0, y1) = BOUNDS[0], BOUNDS[1]
    if not (x0 - slack <= xy[0] <= x1 + slack and y0 - slack <= xy[1] <= y1 + slack):
        raise SafetyError(
            f"position ({xy[0]:.3f}, {xy[1]:.3f}) is outside the workspace x in [{x0}, {x1}], y in [{y0}, {y1}]"
        )


ERRORS = (SafetyError,)


def _describe(value: object) -> str:
    """What a wrong argument is, worded so that the fix is plain (a list of names is the usual mistake)."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        kind = type(value).__name__
        return f"the {kind} of names {list(value)!r}: pass one name at a time"
    return type(value).__name__
