"""Scene vocabulary shared by the simulator, the API and the tasks: colors, sizes, the workspace, named places.

Frame: metres, table surface at z = 0, robot base at (0, -0.1); the workspace is the original Code as Policies
one, x in [-0.3, 0.3], y in [-0.8, -0.2]. "top" is the +y edge (near the robot), "left" the -x edge.
"""

from __future__ import annotations

import numpy as np

COLORS: dict[str, tuple[float, float, float]] = {
    "blue": (78 / 255, 121 / 255, 167 / 255),
    "red": (255 / 255, 87 / 255, 89 / 255),
    "green": (89 / 255, 169 / 255, 79 / 255),
    "orange": (242 / 255, 142 / 255, 43 / 255),
    "yellow": (237 / 255, 201 / 255, 72 / 255),
    "purple": (176 / 255, 122 / 255, 161 / 255),
    "pink": (255 / 255, 157 / 255, 167 / 255),
    "cyan": (118 / 255, 183 / 255, 178 / 255),
    "brown": (156 / 255, 117 / 255, 95 / 255),
    "gray": (186 / 255, 176 / 255, 172 / 255),
}
SEEN_COLORS = ("blue", "red", "green", "orange", "yellow")
UNSEEN_COLORS = ("purple", "pink", "cyan", "brown", "gray")

BOUNDS = np.array([[-0.3, 0.3], [-0.8, -0.2], [0.0, 0.15]])
ROBOT_BASE = (0.0, -0.1, 0.0)
BLOCK_SIZE = 0.04
BOWL_RADIUS = 0.06
BOWL_HEIGHT = 0.035
PLACE_MARGIN = 0.05

_X0, _X1 = BOUNDS[0] + [PLACE_MARGIN, -PLACE_MARGIN]
_Y0, _Y1 = BOUNDS[1] + [PLACE_MARGIN, -PLACE_MARGIN]
_XM, _YM = BOUNDS[0].mean(), BOUNDS[1].mean()
PLACES: dict[str, np.ndarray] = {
    "top left corner": np.array([_X0, _Y1]),
    "top side": np.array([_XM, _Y1]),
    "top right corner": np.array([_X1, _Y1]),
    "left side": np.array([_X0, _YM]),
    "middle": np.array([_XM, _YM]),
    "right side": np.array([_X1, _YM]),
    "bottom left corner": np.array([_X0, _Y0]),
    "bottom side": np.array([_XM, _Y0]),
    "bottom right corner": np.array([_X1, _Y0]),
}
# The frame of `denormalize_xy`: [0, 1]^2 onto the rectangle of the named places, i.e. the workspace inset by
# PLACE_MARGIN, as in the original (its `coords` config: bottom_left (-0.25, -0.75), top_right (0.25, -0.25)).
# So denormalize_xy([0, 0]) is the bottom left corner place, [0.5, 0.5] the middle, [1, 1] the top right corner.
NORMALIZED_ORIGIN = PLACES["bottom left corner"].copy()
NORMALIZED_EXTENT = PLACES["top right corner"] - PLACES["bottom left corner"]
CORNERS = ("top left corner", "top right corner", "bottom left corner", "bottom right corner")
SIDES = ("top side", "left side", "right side", "bottom side")


def kind_of(name: str) -> str:
    """'block' or 'bowl' from '<color> block' / '<color> bowl'."""
    return name.rsplit(" ", 1)[-1]


def color_of(name: str) -> str:
    return name.rsplit(" ", 1)[0]
