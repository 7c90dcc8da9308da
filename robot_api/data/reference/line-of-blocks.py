# Hand-written reference program (not model output) for the line-of-blocks family.
# Candidate lines of the asked orientation across the workspace; blocks are matched to points in order along
# the line, and the line chosen is the one whose points stay clearest of every object not meant to go there.
import numpy as np
blocks = [n for n in get_obj_names() if n.endswith("block")]
others = [n for n in get_obj_names() if not n.endswith("block")]
ends = {
    "horizontal": lambda o: ([0.15, o], [0.85, o]),
    "vertical": lambda o: ([o, 0.15], [o, 0.85]),
    "diagonal": lambda o: ([0.2 + o, 0.2 - o], [0.8 + o, 0.8 - o]),
}[task["line"]]
offsets = [-0.1, 0.0, 0.1] if task["line"] == "diagonal" else [0.5, 0.35, 0.65, 0.25, 0.75]


def plan(offset):
    a, b = ends(offset)
    points = np.linspace(denormalize_xy(a), denormalize_xy(b), len(blocks))
    direction = points[-1] - points[0]
    order = sorted(blocks, key=lambda n: float(np.dot(get_obj_pos(n), direction)))
    return list(zip(order, points))


def clearance(pairs):
    gaps = [np.linalg.norm(p - get_obj_pos(n)) for block, p in pairs for n in blocks + others if n != block]
    return min(gaps)


best = max((plan(o) for o in offsets), key=clearance)
for block, target in best:
    put_first_on_second(block, target)
