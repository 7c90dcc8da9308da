"""The two few-shot prompts of robocodegen, written for this project: flat and hierarchical.

Both define functions from `# define function: <signature>.` lines, on the same tasks. In the flat prompt each
example is self-contained; in the hierarchical one, examples call helper functions: some defined earlier in
the prompt, some not defined anywhere (the header says such helpers are written separately), which is the
style hierarchical generation (lmp.fgen) can complete. None of the examples is a benchmark problem.
"""

from __future__ import annotations

HEADER = """\
# Python functions for robot code. Each one is defined from the way it is called.
import numpy as np
from shapely.geometry import Point, LineString, Polygon, MultiPoint, box
from shapely.affinity import rotate, scale, translate
# Perception functions of the robot (already defined): get_obj_names() -> list of names such as
# 'red block' or 'blue bowl'; get_obj_pos(name) -> np.array([x, y]); get_bbox(name) -> ((x_min, y_min, z_min),
# (x_max, y_max, z_max)); get_color(name) -> (r, g, b, a). x grows to the right, y towards the top of the table.
"""

HIERARCHICAL_NOTE = """\
# A function may call helper functions that are not defined yet: give them clear names and arguments, and they
# will be defined the same way.
"""

FLAT_EXAMPLES = """\
# define function: total = get_total_length(segments_np).
def get_total_length(segments_np):
    segments_np = np.asarray(segments_np, dtype=float)
    return float(np.sum(np.linalg.norm(segments_np[:, 1] - segments_np[:, 0], axis=1)))
# define function: pt = get_lowest_pt(points_np).
def get_lowest_pt(points_np):
    points_np = np.asarray(points_np, dtype=float)
    return points_np[np.argmin(points_np[:, 1])]
# define function: v = clamp_speed(v_cmd, v_limit).
def clamp_speed(v_cmd, v_limit):
    v_cmd = np.asarray(v_cmd, dtype=float)
    speed = np.linalg.norm(v_cmd)
    if speed <= v_limit:
        return v_cmd
    return v_cmd * v_limit / speed
# define function: tri = make_triangle(center, side).
def make_triangle(center, side):
    radius = side / np.sqrt(3)
    angles = np.deg2rad([90, 210, 330])
    return Polygon([(center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)) for a in angles])
# define function: names = get_bowls_right_of(obj_name).
def get_bowls_right_of(obj_name):
    x = get_obj_pos(obj_name)[0]
    return [name for name in get_obj_names() if name.endswith('bowl') and get_obj_pos(name)[0] > x]
# define function: err = get_tracking_error(positions, targets).
def get_tracking_error(positions, targets):
    diff = np.asarray(positions, dtype=float) - np.asarray(targets, dtype=float)
    return float(np.sqrt(np.mean(np.sum(diff ** 2, axis=-1))))
"""

HIERARCHICAL_EXAMPLES = """\
# define function: lengths = get_segment_lengths(segments_np).
def get_segment_lengths(segments_np):
    segments_np = np.asarray(segments_np, dtype=float)
    return np.linalg.norm(segments_np[:, 1] - segments_np[:, 0], axis=1)
# define function: total = get_total_length(segments_np).
def get_total_length(segments_np):
    return float(np.sum(get_segment_lengths(segments_np)))
# define function: pt = get_lowest_pt(points_np).
def get_lowest_pt(points_np):
    points_np = np.asarray(points_np, dtype=float)
    return points_np[get_min_idx(points_np[:, 1])]
# define function: v = clamp_speed(v_cmd, v_limit).
def clamp_speed(v_cmd, v_limit):
    speed = get_norm(v_cmd)
    if speed <= v_limit:
        return np.asarray(v_cmd, dtype=float)
    return scale_vector(v_cmd, v_limit / speed)
# define function: pts = get_regular_polygon_pts(center, radius, n).
def get_regular_polygon_pts(center, radius, n):
    angles = np.pi / 2 + np.arange(n) * 2 * np.pi / n
    return np.c_[center[0] + radius * np.cos(angles), center[1] + radius * np.sin(angles)]
# define function: tri = make_triangle(center, side).
def make_triangle(center, side):
    return Polygon(get_regular_polygon_pts(center, side / np.sqrt(3), 3))
# define function: names = get_bowls_right_of(obj_name).
def get_bowls_right_of(obj_name):
    x = get_obj_pos(obj_name)[0]
    return [name for name in get_bowl_names() if get_obj_pos(name)[0] > x]
# define function: err = get_tracking_error(positions, targets).
def get_tracking_error(positions, targets):
    return get_rms(get_norms(np.asarray(positions, dtype=float) - np.asarray(targets, dtype=float)))
"""


def prompt(style: str) -> str:
    """The prompt text of `style` ("flat" or "hierarchical")."""
    if style == "flat":
        return HEADER + FLAT_EXAMPLES
    if style == "hierarchical":
        return HEADER + HIERARCHICAL_NOTE + HIERARCHICAL_EXAMPLES
    raise ValueError(f"unknown prompt style {style!r}: use flat or hierarchical")
