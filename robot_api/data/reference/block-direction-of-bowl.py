# Hand-written reference program (not model output) for the block-direction-of-bowl family.
# Which block the command means is computed here from the scene, not read from the answer key.
bowl_xy = get_obj_pos(task["bowl"])
axis, sign = {"left": (0, -1), "right": (0, 1), "top": (1, 1), "bottom": (1, -1)}[task["direction"]]
blocks = [n for n in get_obj_names() if n.endswith("block")]
block = max(blocks, key=lambda n: sign * (get_obj_pos(n)[axis] - bowl_xy[axis]))
put_first_on_second(block, task["place"])
