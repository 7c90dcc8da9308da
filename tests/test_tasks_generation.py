"""Task generation without a simulator: determinism, no overlaps, attribute splits, unambiguous answers."""

import numpy as np
import pytest

from cap.evals.tabletop import reference_program
from robot_api.attributes import SEEN, UNSEEN
from robot_api.families import FAMILIES
from robot_api.scene import PLACES, color_of
from robot_api.scene_sampling import CLEARANCE, RADIUS
from robot_api.tasks import TASKS, get_task


@pytest.mark.parametrize("name", list(TASKS))
def test_scene_generation_is_deterministic_and_overlap_free(name):
    task = get_task(name)
    a, b = task.instance(7), task.instance(7)
    assert (a.objects, a.command, a.attributes, a.answer) == (b.objects, b.command, b.attributes, b.answer)
    assert task.instance(8).objects != a.objects
    for seed in range(5):
        objects = task.instance(seed).objects
        for i, (n1, p1) in enumerate(objects):
            for n2, p2 in objects[i + 1 :]:
                gap = np.linalg.norm(np.subtract(p1, p2)) - RADIUS[n1.split()[-1]] - RADIUS[n2.split()[-1]]
                assert gap >= CLEARANCE - 1e-9, (name, seed, n1, n2)


@pytest.mark.parametrize("name", list(TASKS))
def test_attribute_split(name):
    """Unseen tasks draw every attribute (colors, places, directions, ...) from the unseen pools only."""
    task = get_task(name)
    pools = SEEN if task.seen else UNSEEN
    allowed = {
        "place": pools.places,
        "direction": pools.directions,
        "distance": pools.distances,
        "magnitude": pools.magnitudes,
        "nth": pools.nths,
        "line": pools.lines,
    }
    for seed in range(5):
        inst = task.instance(seed)
        assert {color_of(n) for n, _ in inst.objects} <= set(pools.colors), (name, seed)
        for key, value in inst.attributes.items():
            if key in allowed:
                assert value in allowed[key], (name, seed, key, value)
            if isinstance(value, str) and value.endswith(("block", "bowl")):
                assert value in dict(inst.objects), (name, seed, value)
        assert all(v in inst.command for v in inst.attributes.values() if isinstance(v, str))


def test_splits_are_disjoint():
    for field in ("colors", "places", "directions", "distances", "magnitudes", "nths", "lines"):
        assert not set(getattr(SEEN, field)) & set(getattr(UNSEEN, field)), field
    assert set(SEEN.places) | set(UNSEEN.places) == set(PLACES) - {"middle"}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_reference_programs_are_labelled(family):
    first = reference_program(family).splitlines()[0]
    assert first.startswith("# Hand-written reference program (not model output)")


def test_paper_families_and_stable_names_exist():
    counts = {"seen": 0, "unseen": 0, "extra": 0}
    for fam in FAMILIES.values():
        counts[fam.instructions] += 1
    assert counts == {"seen": 8, "unseen": 6, "extra": 2}
    for stable in ["pick-place", "stack-blocks", "blocks-in-matching-bowls", "blocks-to-corner"]:
        assert stable in TASKS and f"{stable}-unseen" in TASKS
    assert {"line-of-blocks", "blocks-in-circle"} <= set(TASKS)


def test_unknown_task_suggests_close_names():
    with pytest.raises(KeyError, match="stack-blocks"):
        get_task("stak-blocks")
