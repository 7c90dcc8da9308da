# Hand-written reference program (not model output) for the nth-block-from-direction family.
# Which block the command means is worked out here from the scene. `task` holds only what the command says.
n = ["first", "second", "third", "fourth"].index(task["nth"])
axis, sign = {"left": (0, -1), "right": (0, 1), "top": (1, 1), "bottom": (1, -1)}[task["direction"]]
blocks = [name for name in get_obj_names() if name.endswith("block")]
ordered = sorted(blocks, key=lambda name: -sign * get_obj_pos(name)[axis])
put_first_on_second(ordered[n], task["place"])
