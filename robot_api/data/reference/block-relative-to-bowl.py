# Hand-written reference program (not model output) for the block-relative-to-bowl family.
# "A little" is taken as 12 cm and "a lot" as 25 cm from the bowl's centre.
import numpy as np
step = {"a little": 0.12, "a lot": 0.25}[task["magnitude"]]
offset = {"left": [-1, 0], "right": [1, 0], "top": [0, 1], "bottom": [0, -1]}[task["direction"]]
put_first_on_second(task["block"], get_obj_pos(task["bowl"]) + step * np.array(offset))
