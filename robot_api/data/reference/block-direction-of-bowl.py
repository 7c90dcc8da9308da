# Hand-written reference program (not model output) for the block-direction-of-bowl family.
# Which block the command means is worked out here from the scene: of the blocks on that side of the bowl,
# the one nearest to it. `task` holds only what the command says.
import numpy as np
bowl_xy = get_obj_pos(task["bowl"])
axis, sign = {"left": (0, -1), "right": (0, 1), "top": (1, 1), "bottom": (1, -1)}[task["direction"]]
blocks = [n for n in get_obj_names() if n.endswith("block")]
beyond = [n for n in blocks if sign * (get_obj_pos(n)[axis] - bowl_xy[axis]) > 0]
block = min(beyond, key=lambda n: np.linalg.norm(get_obj_pos(n) - bowl_xy))
put_first_on_second(block, task["place"])
