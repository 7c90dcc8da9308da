"""No task hands out a scene that is already solved: a policy that does nothing (or crashes on its first line)
must fail its checker. Checked on the generated layout for many seeds of every task (both attribute splits),
and on the settled PyBullet scene for a few seeds of each, which must agree with the layout."""

import numpy as np
import pytest

from robot_api.families import FAMILIES, Setup, unsolved
from robot_api.layout import LayoutPerception
from robot_api.tasks import TASKS, get_task

LAYOUT_SEEDS = 200
SIM_SEEDS = 3


@pytest.mark.parametrize("name", list(TASKS))
def test_initial_layout_fails_the_checker(name):
    task = get_task(name)
    solved = []
    for seed in range(LAYOUT_SEEDS):
        inst = task.instance(seed)
        ok, why = task.check(LayoutPerception(inst.objects), inst)
        if ok:
            solved.append((seed, why))
    assert not solved, f"{name}: initial scenes already satisfy the checker: {solved[:5]}"


def test_both_splits_of_every_family_are_covered():
    assert {t.family for t in TASKS.values() if t.seen} == set(FAMILIES)
    assert {t.family for t in TASKS.values() if not t.seen} == set(FAMILIES)


@pytest.mark.parametrize("name", list(TASKS))
def test_settled_simulation_fails_the_checker_and_matches_the_layout(sim, name):
    task = get_task(name)
    for seed in range(SIM_SEEDS):
        inst = task.instance(seed)
        sim.reset(inst.objects)
        ok, why = task.check(sim, inst)
        assert not ok, f"{name} seed {seed}: the settled scene already satisfies the checker ({why})"
        layout = LayoutPerception(inst.objects)
        for obj in sim.object_names():
            assert np.abs(sim.object_position(obj) - layout.object_position(obj)).max() < 0.003, (name, obj)


def test_seed_0_of_block_relative_to_bowl_was_solved_before_and_is_not_now():
    """The scene the issue reported (seed 0 of the seen split put the block 10 cm above the bowl, as asked)."""
    family = FAMILIES["block-relative-to-bowl"]
    raw = family.generate.__wrapped__ if hasattr(family.generate, "__wrapped__") else None
    assert raw is not None
    inst = get_task("block-relative-to-bowl").instance(0)
    rng = np.random.default_rng([0, _hash("block-relative-to-bowl")])
    from robot_api.attributes import SEEN

    first = raw(rng, SEEN)
    assert family.check(LayoutPerception(first.objects), first.attributes, first.answer)[0]
    assert not family.check(LayoutPerception(inst.objects), inst.attributes, inst.answer)[0]


def test_unsolved_draws_again_until_the_checker_fails():
    draws = iter([True, True, False])

    def generate(rng, attributes):
        solved = next(draws)
        return Setup([("red block", (0.0, -0.5))], "cmd", {"solved": solved}, {})

    def check(per, attrs, answer):
        assert per.object_names() == ["red block"]
        return attrs["solved"], ""

    setup = unsolved(generate, check)(np.random.default_rng(0), None)
    assert setup.attributes == {"solved": False}

    def solved_scene(rng, attributes):
        return Setup([("red block", (0.0, -0.5))], "cmd", {"solved": True}, {})

    with pytest.raises(RuntimeError, match="need no motion"):
        unsolved(solved_scene, check)(np.random.default_rng(0), None)


def _hash(text: str) -> int:
    from robot_api.tasks import _stable_hash

    return _stable_hash(text)
