# Hand-written reference program (not model output) for the line-of-blocks family.
import numpy as np
blocks = [n for n in get_obj_names() if n.endswith("block")]
bowls = [get_obj_pos(n) for n in get_obj_names() if n.endswith("bowl")]
vertical = task["orientation"] == "vertical"


def line_points(offset):
    a, b = ([offset, 0.15], [offset, 0.85]) if vertical else ([0.15, offset], [0.85, offset])
    return np.linspace(denormalize_xy(a), denormalize_xy(b), len(blocks))


def clearance(offset):
    return min([np.linalg.norm(p - w) for p in line_points(offset) for w in bowls] + [1.0])


# Lay the line where it stays clear of the bowls.
best = max([0.5, 0.35, 0.65, 0.25, 0.75], key=clearance)
for block, target in zip(blocks, line_points(best)):
    put_first_on_second(block, target)
