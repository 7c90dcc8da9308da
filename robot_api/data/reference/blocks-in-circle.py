# Hand-written reference program (not model output) for the blocks-in-circle family.
# Points evenly spaced on the circle; blocks are matched to points by angle, and the rotation chosen is the one
# whose points stay clearest of the blocks not meant to go there.
import numpy as np
center = get_obj_pos("middle")
radius = task["cm"] / 100
blocks = [n for n in get_obj_names() if n.endswith("block")]
blocks.sort(key=lambda n: np.arctan2(*(get_obj_pos(n) - center)[::-1]))


def plan(rotation):
    angles = rotation + 2 * np.pi * np.arange(len(blocks)) / len(blocks)
    return list(zip(blocks, [center + radius * np.array([np.cos(a), np.sin(a)]) for a in angles]))


def clearance(pairs):
    return min(np.linalg.norm(p - get_obj_pos(n)) for block, p in pairs for n in blocks if n != block)


best = max((plan(r) for r in np.linspace(0, 2 * np.pi, 24, endpoint=False)), key=clearance)
for block, target in best:
    put_first_on_second(block, target)
