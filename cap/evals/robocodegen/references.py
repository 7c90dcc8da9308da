# ruff: noqa: F821 - the object-API functions (get_obj_names, ...) exist in the sandbox, not here
"""Reference solutions of the robocodegen problems, written for this project (not the original's).

This file is data: `problems.reference_source(name)` cuts each function out by its name and the scorer runs it
in the sandbox (policy profile, the same globals as generated code) to get the expected outputs. Nothing
imports it as code.
"""

import numpy as np
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box


# -- NumPy geometry ----------------------------------------------------------------------------------------
def get_farthest_idx(points_np, ref_pt):
    d = np.linalg.norm(np.asarray(points_np, dtype=float) - np.asarray(ref_pt, dtype=float), axis=1)
    return int(np.argmax(d))


def get_centroid(points_np):
    return np.mean(np.asarray(points_np, dtype=float), axis=0)


def get_pairwise_dists(points_np):
    p = np.asarray(points_np, dtype=float)
    return np.linalg.norm(p[:, None, :] - p[None, :, :], axis=2)


def get_polygon_area(vertices_np):
    v = np.asarray(vertices_np, dtype=float)
    x, y = v[:, 0], v[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def rotate_pts_about_origin(points_np, angle_rad):
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.asarray(points_np, dtype=float) @ np.array([[c, s], [-s, c]])


def pts_in_circle(points_np, center, radius):
    d = np.linalg.norm(np.asarray(points_np, dtype=float) - np.asarray(center, dtype=float), axis=1)
    return [bool(v) for v in d <= radius]


def normalize_vectors(vectors_np):
    v = np.asarray(vectors_np, dtype=float)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def sample_pts_on_segment(start, end, n):
    t = np.linspace(0.0, 1.0, n)[:, None]
    return np.asarray(start, dtype=float) * (1 - t) + np.asarray(end, dtype=float) * t


def get_bbox_np(points_np):
    p = np.asarray(points_np, dtype=float)
    return np.concatenate([np.min(p, axis=0), np.max(p, axis=0)])


def get_signed_dists_along_axis(points_np, axis_vec):
    a = np.asarray(axis_vec, dtype=float)
    return np.asarray(points_np, dtype=float) @ (a / np.linalg.norm(a))


# -- control -----------------------------------------------------------------------------------------------
def pd_control(error, error_rate, kp, kd):
    return kp * error + kd * error_rate


def saturate(u_cmd, u_max):
    return float(np.clip(u_cmd, -u_max, u_max))


def euler_step(x, x_dot, dt):
    return np.asarray(x, dtype=float) + np.asarray(x_dot, dtype=float) * dt


def is_discrete_stable(a_matrix):
    return bool(np.all(np.abs(np.linalg.eig(np.asarray(a_matrix, dtype=float))[0]) < 1))


def spring_damper_force(pos, vel, target_pos, stiffness, damping):
    return stiffness * (
        np.asarray(target_pos, dtype=float) - np.asarray(pos, dtype=float)
    ) - damping * np.asarray(vel, dtype=float)


def get_spectral_radius(a_matrix):
    return float(np.max(np.abs(np.linalg.eig(np.asarray(a_matrix, dtype=float))[0])))


def euler_integrate_first_order(x0, tau, dt, steps):
    x = float(x0)
    for _ in range(steps):
        x = x - dt * x / tau
    return x


def pid_step(error, integral, prev_error, kp, ki, kd, dt):
    new_integral = integral + error * dt
    u = kp * error + ki * new_integral + kd * (error - prev_error) / dt
    return u, new_integral


def get_percent_overshoot(response, target):
    return float(max(0.0, (np.max(response) - target) / target * 100.0))


def discretize_euler(a_matrix, dt):
    a = np.asarray(a_matrix, dtype=float)
    return np.eye(a.shape[0]) + a * dt


# -- Shapely -----------------------------------------------------------------------------------------------
def make_circle(center, radius):
    return Point(center).buffer(radius)


def make_rectangle(center, width, height):
    return box(center[0] - width / 2, center[1] - height / 2, center[0] + width / 2, center[1] + height / 2)


def get_dist_pt_to_polyline(polyline_pts, point):
    return float(LineString(polyline_pts).distance(Point(point)))


def get_overlap_area(bbox_a, bbox_b):
    return float(box(*bbox_a).intersection(box(*bbox_b)).area)


def get_convex_hull(points_np):
    return MultiPoint([tuple(p) for p in points_np]).convex_hull


def make_ring(center, inner_radius, outer_radius):
    return Point(center).buffer(outer_radius).difference(Point(center).buffer(inner_radius))


def is_pt_in_polygon(polygon_pts, point):
    return bool(Polygon(polygon_pts).contains(Point(point)))


def interpolate_along_polyline(polyline_pts, n):
    line = LineString(polyline_pts)
    return np.array([line.interpolate(t, normalized=True).coords[0] for t in np.linspace(0, 1, n)])


def scale_polygon_about_centroid(polygon_pts, factor):
    poly = Polygon(polygon_pts)
    c = np.array(poly.centroid.coords[0])
    return Polygon((np.asarray(polygon_pts, dtype=float) - c) * factor + c)


def get_polyline_length(polyline_pts):
    return float(LineString(polyline_pts).length)


# -- object API on a fixed scene ---------------------------------------------------------------------------
def get_objs_of_kind(kind):
    return [name for name in get_obj_names() if name.endswith(kind)]


def get_nearest_other_obj(ref_name):
    ref = get_obj_pos(ref_name)
    others = [name for name in get_obj_names() if name != ref_name]
    return min(others, key=lambda name: np.linalg.norm(get_obj_pos(name) - ref))


def get_objs_left_of(ref_name):
    x = get_obj_pos(ref_name)[0]
    return [name for name in get_obj_names() if get_obj_pos(name)[0] < x]


def get_dist_between(obj_a, obj_b):
    return float(np.linalg.norm(get_obj_pos(obj_a) - get_obj_pos(obj_b)))


def get_obj_nearest_pt(point):
    return min(get_obj_names(), key=lambda name: np.linalg.norm(get_obj_pos(name) - np.asarray(point)))


def sort_objs_by_dist(obj_names, point):
    return sorted(obj_names, key=lambda name: np.linalg.norm(get_obj_pos(name) - np.asarray(point)))


def count_objs_in_region(x_min, y_min, x_max, y_max):
    count = 0
    for name in get_obj_names():
        x, y = get_obj_pos(name)
        if x_min <= x <= x_max and y_min <= y <= y_max:
            count += 1
    return count


def get_midpoint_between(obj_a, obj_b):
    return (get_obj_pos(obj_a) + get_obj_pos(obj_b)) / 2


def get_bbox_width(obj_name):
    (x_min, _, _), (x_max, _, _) = get_bbox(obj_name)
    return float(x_max - x_min)


def get_obj_farthest_from(ref_name):
    ref = get_obj_pos(ref_name)
    return max(get_obj_names(), key=lambda name: np.linalg.norm(get_obj_pos(name) - ref))
