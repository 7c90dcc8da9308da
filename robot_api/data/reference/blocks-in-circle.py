# Hand-written reference program (not model output) for the blocks-in-circle family.
import numpy as np
center = get_obj_pos("middle")
blocks = [n for n in get_obj_names() if n.endswith("block")]
radius = task["cm"] / 100


def circle(offset):
    angles = offset + 2 * np.pi * np.arange(len(blocks)) / len(blocks)
    return [center + radius * np.array([np.cos(a), np.sin(a)]) for a in angles]


def clearance(offset):
    # How far each circle point stays from the blocks that are not meant to go there.
    points = circle(offset)
    return min(np.linalg.norm(p - get_obj_pos(b)) for i, p in enumerate(points) for j, b in enumerate(blocks) if i != j)


best = max(np.linspace(0, 2 * np.pi / len(blocks), 12, endpoint=False), key=clearance)
for block, target in zip(blocks, circle(best)):
    put_first_on_second(block, target)
