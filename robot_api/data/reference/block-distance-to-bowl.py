# Hand-written reference program (not model output) for the block-distance-to-bowl family.
# Which block the command means is computed here from the scene, not read from the answer key.
import numpy as np
bowl_xy = get_obj_pos(task["bowl"])
blocks = [n for n in get_obj_names() if n.endswith("block")]
distance = lambda n: np.linalg.norm(get_obj_pos(n) - bowl_xy)
block = min(blocks, key=distance) if task["which"] == "closest" else max(blocks, key=distance)
put_first_on_second(block, task["place"])
