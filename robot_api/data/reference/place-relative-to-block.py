# Hand-written reference program (not model output) for the place-relative-to-block family.
import numpy as np
offset = {"left": [-1, 0], "right": [1, 0], "top": [0, 1], "bottom": [0, -1]}[task["direction"]]
target = get_obj_pos(task["reference"]) + np.array(offset) * task["cm"] / 100
put_first_on_second(task["block"], target)
