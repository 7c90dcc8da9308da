"""The robocodegen problem set: 40 function-writing problems in four groups, written for this project.

Each problem is a signature written with its return variable (`idx = get_farthest_idx(points_np, ref_pt)`),
asked as `# define function: <signature>.`; a seeded input generator (`cases`, host code: the inputs are
plain data) and how outputs compare (`close`: np.allclose, `equal`: exact, `shape`: same geometry by the area
of the symmetric difference). The reference solutions are in references.py and run in the sandbox.
Groups: geometry (NumPy), control, shapely, object_api (the tabletop perception API over SCENE).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from cap.evals.common.scene import Scene, random_scene

GROUPS = ("geometry", "control", "shapely", "object_api")
CASES = 5  # random inputs per problem
SCENE: Scene = random_scene(np.random.default_rng(2022), blocks=5, bowls=4)

Cases = Callable[[np.random.Generator], tuple[Any, ...]]


@dataclass(frozen=True)
class Problem:
    group: str
    signature: str  # "ret = name(args)", as fgen writes a call site
    compare: str  # "close" | "equal" | "shape"
    make_case: Cases  # one tuple of positional arguments from a seeded generator

    @property
    def name(self) -> str:
        call = ast.parse(self.signature).body[0].value  # type: ignore[attr-defined]
        return call.func.id

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"

    def cases(self, seed: int = 0, count: int = CASES) -> list[tuple[Any, ...]]:
        rng = np.random.default_rng([seed, sum(map(ord, self.id))])
        return [self.make_case(rng) for _ in range(count)]


def _pts(rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    return np.round(rng.uniform(-1, 1, (n or int(rng.integers(4, 9)), 2)), 3)


def _xy(rng: np.random.Generator) -> list[float]:
    return [round(float(v), 3) for v in rng.uniform(-1, 1, 2)]


def _convex(rng: np.random.Generator) -> list[list[float]]:
    """A convex polygon's vertices, counter-clockwise (points on a jittered circle)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7))))
    r = rng.uniform(0.3, 1.0)
    c = rng.uniform(-0.5, 0.5, 2)
    return np.round(c + r * np.c_[np.cos(angles), np.sin(angles)], 3).tolist()


def _stable_or_not(rng: np.random.Generator) -> np.ndarray:
    return np.round(rng.uniform(-0.9, 0.9, (2, 2)), 3)


def _rect(rng: np.random.Generator) -> list[float]:
    x, y = rng.uniform(-1, 0.5, 2)
    w, h = rng.uniform(0.2, 1.0, 2)
    return [round(float(v), 3) for v in (x, y, x + w, y + h)]


def _obj(rng: np.random.Generator) -> str:
    return str(rng.choice(SCENE.names()))


def _table_pt(rng: np.random.Generator) -> list[float]:
    return [round(float(rng.uniform(-0.3, 0.3)), 3), round(float(rng.uniform(-0.8, -0.2)), 3)]


def _region(rng: np.random.Generator) -> tuple[float, float, float, float]:
    xs = sorted(round(float(v), 3) for v in rng.uniform(-0.3, 0.3, 2))
    ys = sorted(round(float(v), 3) for v in rng.uniform(-0.8, -0.2, 2))
    return (xs[0], ys[0], xs[1], ys[1])


P = Problem
PROBLEMS: tuple[Problem, ...] = (
    # NumPy geometry
    P("geometry", "idx = get_farthest_idx(points_np, ref_pt)", "equal", lambda r: (_pts(r), _xy(r))),
    P("geometry", "centroid = get_centroid(points_np)", "close", lambda r: (_pts(r),)),
    P("geometry", "dists = get_pairwise_dists(points_np)", "close", lambda r: (_pts(r),)),
    P("geometry", "area = get_polygon_area(vertices_np)", "close", lambda r: (np.array(_convex(r)),)),
    P(
        "geometry",
        "rotated = rotate_pts_about_origin(points_np, angle_rad)",
        "close",
        lambda r: (_pts(r), round(float(r.uniform(-np.pi, np.pi)), 3)),
    ),
    P(
        "geometry",
        "mask = pts_in_circle(points_np, center, radius)",
        "equal",
        lambda r: (_pts(r, 8), _xy(r), round(float(r.uniform(0.3, 1.2)), 3)),
    ),
    P("geometry", "unit_vecs = normalize_vectors(vectors_np)", "close", lambda r: (_pts(r),)),
    P(
        "geometry",
        "pts = sample_pts_on_segment(start, end, n)",
        "close",
        lambda r: (_xy(r), _xy(r), int(r.integers(2, 8))),
    ),
    P("geometry", "bbox = get_bbox_np(points_np)", "close", lambda r: (_pts(r),)),
    P(
        "geometry",
        "offsets = get_signed_dists_along_axis(points_np, axis_vec)",
        "close",
        lambda r: (_pts(r), _xy(r)),
    ),
    # control
    P(
        "control",
        "u = pd_control(error, error_rate, kp, kd)",
        "close",
        lambda r: tuple(round(float(v), 3) for v in r.uniform([-1, -1, 0, 0], [1, 1, 5, 2])),
    ),
    P(
        "control",
        "u = saturate(u_cmd, u_max)",
        "close",
        lambda r: (round(float(r.uniform(-3, 3)), 3), round(float(r.uniform(0.5, 2)), 3)),
    ),
    P(
        "control",
        "x_next = euler_step(x, x_dot, dt)",
        "close",
        lambda r: (_xy(r), _xy(r), round(float(r.uniform(0.01, 0.1)), 3)),
    ),
    P("control", "stable = is_discrete_stable(a_matrix)", "equal", lambda r: (_stable_or_not(r),)),
    P(
        "control",
        "force = spring_damper_force(pos, vel, target_pos, stiffness, damping)",
        "close",
        lambda r: (
            _xy(r),
            _xy(r),
            _xy(r),
            round(float(r.uniform(10, 100)), 1),
            round(float(r.uniform(1, 10)), 1),
        ),
    ),
    P("control", "rho = get_spectral_radius(a_matrix)", "close", lambda r: (_stable_or_not(r),)),
    P(
        "control",
        "x_final = euler_integrate_first_order(x0, tau, dt, steps)",
        "close",
        lambda r: (
            round(float(r.uniform(-2, 2)), 3),
            round(float(r.uniform(0.5, 2)), 3),
            round(float(r.uniform(0.01, 0.1)), 3),
            int(r.integers(3, 12)),
        ),
    ),
    P(
        "control",
        "u, new_integral = pid_step(error, integral, prev_error, kp, ki, kd, dt)",
        "close",
        lambda r: tuple(
            round(float(v), 3) for v in r.uniform([-1, -1, -1, 0, 0, 0, 0.01], [1, 1, 1, 5, 2, 1, 0.1])
        ),
    ),
    P(
        "control",
        "overshoot = get_percent_overshoot(response, target)",
        "close",
        lambda r: (
            np.round(1 - np.exp(-np.linspace(0, 5, 20)) * np.cos(r.uniform(0, 4) * np.linspace(0, 5, 20)), 4),
            1.0,
        ),
    ),
    P(
        "control",
        "a_d = discretize_euler(a_matrix, dt)",
        "close",
        lambda r: (_stable_or_not(r), round(float(r.uniform(0.01, 0.1)), 3)),
    ),
    # Shapely
    P(
        "shapely",
        "circle = make_circle(center, radius)",
        "shape",
        lambda r: (_xy(r), round(float(r.uniform(0.1, 1)), 3)),
    ),
    P(
        "shapely",
        "rect = make_rectangle(center, width, height)",
        "shape",
        lambda r: (_xy(r), round(float(r.uniform(0.1, 1)), 3), round(float(r.uniform(0.1, 1)), 3)),
    ),
    P(
        "shapely",
        "dist = get_dist_pt_to_polyline(polyline_pts, point)",
        "close",
        lambda r: (_pts(r, 4).tolist(), _xy(r)),
    ),
    P("shapely", "area = get_overlap_area(bbox_a, bbox_b)", "close", lambda r: (_rect(r), _rect(r))),
    P("shapely", "hull = get_convex_hull(points_np)", "shape", lambda r: (_pts(r, 8),)),
    P(
        "shapely",
        "ring = make_ring(center, inner_radius, outer_radius)",
        "shape",
        lambda r: (_xy(r), round(float(r.uniform(0.1, 0.4)), 3), round(float(r.uniform(0.5, 1)), 3)),
    ),
    P("shapely", "inside = is_pt_in_polygon(polygon_pts, point)", "equal", lambda r: (_convex(r), _xy(r))),
    P(
        "shapely",
        "pts = interpolate_along_polyline(polyline_pts, n)",
        "close",
        lambda r: (_pts(r, 4).tolist(), int(r.integers(2, 7))),
    ),
    P(
        "shapely",
        "polygon = scale_polygon_about_centroid(polygon_pts, factor)",
        "shape",
        lambda r: (_convex(r), round(float(r.uniform(0.3, 2)), 3)),
    ),
    P("shapely", "length = get_polyline_length(polyline_pts)", "close", lambda r: (_pts(r, 5).tolist(),)),
    # object API on SCENE
    P("object_api", "names = get_objs_of_kind(kind)", "equal", lambda r: (str(r.choice(["block", "bowl"])),)),
    P("object_api", "name = get_nearest_other_obj(ref_name)", "equal", lambda r: (_obj(r),)),
    P("object_api", "names = get_objs_left_of(ref_name)", "equal", lambda r: (_obj(r),)),
    P("object_api", "dist = get_dist_between(obj_a, obj_b)", "close", lambda r: (_obj(r), _obj(r))),
    P("object_api", "name = get_obj_nearest_pt(point)", "equal", lambda r: (_table_pt(r),)),
    P(
        "object_api",
        "names = sort_objs_by_dist(obj_names, point)",
        "equal",
        lambda r: ([str(n) for n in r.choice(SCENE.names(), 4, replace=False)], _table_pt(r)),
    ),
    P(
        "object_api",
        "count = count_objs_in_region(x_min, y_min, x_max, y_max)",
        "equal",
        _region,
    ),
    P("object_api", "pos = get_midpoint_between(obj_a, obj_b)", "close", lambda r: (_obj(r), _obj(r))),
    P("object_api", "width = get_bbox_width(obj_name)", "close", lambda r: (_obj(r),)),
    P("object_api", "name = get_obj_farthest_from(ref_name)", "equal", lambda r: (_obj(r),)),
)


@cache
def _reference_module() -> tuple[str, dict[str, str]]:
    text = resources.files("cap.evals.robocodegen").joinpath("references.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    return text, {
        node.name: ast.get_source_segment(text, node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def reference_source(name: str) -> str:
    """The reference definition of problem function `name` (a KeyError when there is none)."""
    return _reference_module()[1][name]


def problems(groups: tuple[str, ...] = GROUPS) -> list[Problem]:
    return [p for p in PROBLEMS if p.group in groups]


def describe() -> list[dict[str, str]]:
    """The problem set as data (its digest ties a run directory to it)."""
    return [
        {"id": p.id, "signature": p.signature, "compare": p.compare, "reference": reference_source(p.name)}
        for p in PROBLEMS
    ]
