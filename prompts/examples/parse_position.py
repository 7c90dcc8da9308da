## Few-shot examples of the parse_position LMP: ret_val is an (x, y) array, or a list/array of them.
## Without an objects line, the examples run against tests' default scene (blue/red/green blocks and bowls).
## Only seen attributes appear in the queries (see tabletop_ui.py).
# the top right corner.
ret_val = get_obj_pos('top right corner')
# the top side.
ret_val = get_obj_pos('top side')
# the left side.
ret_val = get_obj_pos('left side')
# the top corners.
ret_val = [get_obj_pos('top left corner'), get_obj_pos('top right corner')]
# a 30cm horizontal line in the middle with 3 points.
middle_pos = get_obj_pos('middle')
line = make_line(start=middle_pos + [-0.3 / 2, 0], end=middle_pos + [0.3 / 2, 0])
ret_val = interpolate_pts_on_line(line=line, n=3)
# a 30cm vertical line on the left with 3 points.
left_pos = get_obj_pos('left side')
line = make_line(start=left_pos + [0, -0.3 / 2], end=left_pos + [0, 0.3 / 2])
ret_val = interpolate_pts_on_line(line=line, n=3)
# a triangle with size 10cm around the middle with 3 points.
polygon = make_triangle(size=0.1, center=get_obj_pos('middle'))
ret_val = get_points_from_polygon(polygon)
# a point in the middle of the top half.
ret_val = denormalize_xy([0.5, 0.75])
# a point 10cm left of the green bowl.
ret_val = get_obj_pos('green bowl') + [-0.1, 0]
# the corner closest to the red block.
corner_names = ['top left corner', 'top right corner', 'bottom left corner', 'bottom right corner']
corner_positions = np.array([get_obj_pos(name) for name in corner_names])
ret_val = corner_positions[get_closest_idx(points=corner_positions, point=get_obj_pos('red block'))]
