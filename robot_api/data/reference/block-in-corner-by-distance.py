# Hand-written reference program (not model output) for the block-in-corner-by-distance family.
import numpy as np
bowl_xy = get_obj_pos(task["bowl"])
corners = ["top left corner", "top right corner", "bottom left corner", "bottom right corner"]
by_distance = sorted(corners, key=lambda c: np.linalg.norm(get_obj_pos(c) - bowl_xy))
put_first_on_second(task["block"], by_distance[0] if task["distance"] == "closest" else by_distance[-1])
