## Few-shot examples of the fgen LMP: a call site in, the function definition out. The tabletop examples
## call these helpers without defining them; fgen generates them on first use.
# define function: total = get_total(xs=numbers).
def get_total(xs):
    return np.sum(xs)
# define function: pt = get_pt_to_the_left(pt, dist).
def get_pt_to_the_left(pt, dist):
    return np.asarray(pt) + [-dist, 0]
# define function: stack_objects_in_order(object_names=order_bottom_to_top).
def stack_objects_in_order(object_names):
    for lower, upper in zip(object_names, object_names[1:]):
        put_first_on_second(upper, lower)
# define function: block_positions = get_obj_positions_np(block_names).
def get_obj_positions_np(obj_names):
    return np.array([get_obj_pos(name) for name in obj_names])
# define function: closest_block_idx = get_closest_idx(points=block_positions, point=get_obj_pos('blue bowl')).
def get_closest_idx(points, point):
    distances = np.linalg.norm(np.asarray(points) - np.asarray(point), axis=1)
    return int(np.argmin(distances))
# define function: line = make_line(start=start_pos, end=end_pos).
def make_line(start, end):
    return LineString([start, end])
# define function: points = interpolate_pts_on_line(line=line, n=3).
def interpolate_pts_on_line(line, n):
    return np.array([line.interpolate(t, normalized=True).coords[0] for t in np.linspace(0, 1, n)])
# define function: polygon = make_triangle(size=0.1, center=center_pos).
def make_triangle(size, center):
    angles = np.deg2rad([90, 210, 330])
    radius = size / np.sqrt(3)
    return Polygon([(center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)) for a in angles])
# define function: points = get_points_from_polygon(polygon).
def get_points_from_polygon(polygon):
    return np.array(polygon.exterior.coords)[:-1]
# define function: new_pts = translate_pts_np(pts, delta=[0.1, 0]).
def translate_pts_np(pts, delta):
    return np.asarray(pts) + np.asarray(delta)
# define function: new_pts = scale_pts_around_centroid_np(pts, scale_x=1.5, scale_y=1.5).
def scale_pts_around_centroid_np(pts, scale_x, scale_y):
    pts = np.asarray(pts)
    centroid = np.mean(pts, axis=0)
    return (pts - centroid) * [scale_x, scale_y] + centroid
# define function: new_pts = rotate_pts_around_centroid_np(pts, angle=np.deg2rad(30)).
def rotate_pts_around_centroid_np(pts, angle):
    pts = np.asarray(pts)
    centroid = np.mean(pts, axis=0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (pts - centroid) @ rotation.T + centroid
# define function: inside = bbox_contains_pt(container_name='green bowl', obj_name='red block').
def bbox_contains_pt(container_name, obj_name):
    (x_min, y_min, _), (x_max, y_max, _) = get_bbox(container_name)
    x, y = get_obj_pos(obj_name)
    return bool(x_min <= x <= x_max and y_min <= y <= y_max)
