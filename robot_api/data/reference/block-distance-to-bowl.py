# Hand-written reference program (not model output) for the block-distance-to-bowl family.
# Which block the command means is worked out here from the scene. `task` holds only what the command says.
import numpy as np
bowl_xy = get_obj_pos(task["bowl"])
blocks = [n for n in get_obj_names() if n.endswith("block")]
by_distance = sorted(blocks, key=lambda n: np.linalg.norm(get_obj_pos(n) - bowl_xy))
block = by_distance[0] if task["distance"] == "closest" else by_distance[-1]
put_first_on_second(block, task["place"])
