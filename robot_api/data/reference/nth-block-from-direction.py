# Hand-written reference program (not model output) for the nth-block-from-direction family.
# Which block the command means is computed here from the scene, not read from the answer key.
axis, sign = {"left": (0, -1), "right": (0, 1), "top": (1, 1), "bottom": (1, -1)}[task["direction"]]
blocks = [n for n in get_obj_names() if n.endswith("block")]
ordered = sorted(blocks, key=lambda n: -sign * get_obj_pos(n)[axis])
put_first_on_second(ordered[task["n"]], task["place"])
