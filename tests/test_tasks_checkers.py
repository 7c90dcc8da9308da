"""Every checker against constructed positive and negative states, and every reference policy on 2 seeds."""

import numpy as np
import pytest

from cap.evals.tabletop import TabletopSession
from robot_api.pybullet_sim import PyBulletTabletop
from robot_api.scene import PLACES
from robot_api.tasks import FAMILIES, TASKS, Instance

pytestmark = pytest.mark.xdist_group("sim")


@pytest.fixture(scope="module")
def sim():
    s = PyBulletTabletop()
    yield s
    s.close()


def check(sim, family, objects, params):
    sim.reset(objects)
    return FAMILIES[family].check(sim, params)[0]


TL, BR, MID = PLACES["top left corner"], PLACES["bottom right corner"], PLACES["middle"]


def at(p, dx=0.0, dy=0.0, z=None):
    return (float(p[0] + dx), float(p[1] + dy)) + (() if z is None else (z,))


CASES = {
    # family: (params, positive objects, negative objects)
    "pick-place": (
        {"block": "red block", "target": "blue bowl"},
        [("red block", at(MID, 0.01)), ("blue bowl", at(MID))],
        [("red block", at(MID, 0.08)), ("blue bowl", at(MID))],
    ),
    "stack-blocks": (
        {},
        [("red block", at(MID)), ("blue block", at(MID, 0.01, z=0.04)), ("green block", at(MID, z=0.08))],
        [("red block", at(MID)), ("blue block", at(MID, 0.1)), ("green block", at(MID, z=0.04))],
    ),
    "blocks-to-corner": (
        {"place": "top left corner"},
        [("red block", at(TL)), ("blue block", at(TL, z=0.04))],
        [("red block", at(TL)), ("blue block", at(TL, 0.07))],
    ),
    "blocks-in-bowl": (
        {"bowl": "blue bowl"},
        [("red block", at(MID)), ("blue bowl", at(MID))],
        [("red block", at(MID, 0.12)), ("blue bowl", at(MID))],
    ),
    "blocks-in-matching-bowls": (
        {},
        [("red block", at(MID)), ("red bowl", at(MID)), ("blue block", at(BR)), ("blue bowl", at(BR))],
        [("red block", at(BR)), ("red bowl", at(MID)), ("blue block", at(MID)), ("blue bowl", at(BR))],
    ),
    "blocks-in-mismatched-bowls": (
        {},
        [("red block", at(BR)), ("red bowl", at(MID)), ("blue block", at(MID)), ("blue bowl", at(BR))],
        [("red block", at(MID)), ("red bowl", at(MID)), ("blue block", at(BR)), ("blue bowl", at(BR))],
    ),
    "block-direction-of-bowl": (
        {"block": "red block", "place": "middle"},
        [("red block", at(MID, 0.05))],
        [("red block", at(MID, 0.07))],
    ),
    "blocks-in-different-corners": (
        {},
        [("red block", at(TL)), ("blue block", at(BR))],
        [("red block", at(TL)), ("blue block", at(TL, z=0.04))],
    ),
    "stack-blocks-on-place": (
        {"place": "bottom right corner"},
        [("red block", at(BR)), ("blue block", at(BR, z=0.04))],
        [("red block", at(MID)), ("blue block", at(MID, z=0.04))],
    ),
    "place-relative-to-block": (
        {"block": "red block", "reference": "blue block", "direction": "left", "cm": 10},
        [("red block", at(MID, -0.1)), ("blue block", at(MID))],
        [("red block", at(MID, -0.15)), ("blue block", at(MID))],
    ),
    "line-of-blocks": (
        {"orientation": "horizontal"},
        [("red block", at(MID, -0.1)), ("blue block", at(MID)), ("green block", at(MID, 0.1, 0.01))],
        [("red block", at(MID, -0.1)), ("blue block", at(MID, 0, 0.08)), ("green block", at(MID, 0.1))],
    ),
    "blocks-in-circle": (
        {"cm": 10},
        [
            ("red block", at(MID, 0.1)),
            ("blue block", at(MID, -0.05, 0.0866)),
            ("green block", at(MID, -0.05, -0.0866)),
        ],
        [
            ("red block", at(MID, 0.1)),
            ("blue block", at(MID, -0.02)),
            ("green block", at(MID, -0.05, -0.0866)),
        ],
    ),
}


@pytest.mark.parametrize("family", list(CASES))
def test_checker_positive_and_negative(sim, family):
    params, positive, negative = CASES[family]
    assert check(sim, family, positive, params) is True
    assert check(sim, family, negative, params) is False


def test_every_family_has_a_checker_case_or_shares_one():
    shared = {"block-distance-to-bowl", "nth-block-from-direction"}  # same checker as block-direction-of-bowl
    assert set(FAMILIES) == set(CASES) | shared
    assert all(FAMILIES[f].check is FAMILIES["block-direction-of-bowl"].check for f in shared)


@pytest.fixture(scope="module")
def session():
    with TabletopSession() as s:
        yield s


@pytest.mark.parametrize("task", list(TASKS))
def test_reference_policy_succeeds(session, task):
    for seed in (0, 1):
        ep = session.reference_episode(task, seed)
        assert ep.status == "ok" and ep.task_success, (task, seed, ep.error, ep.reason)


def test_failing_policy_is_reported_not_hidden(session):
    inst: Instance = session.setup("stack-blocks", 0)
    ep = session.episode("say('doing nothing')", {"task": inst.params})
    assert ep.status == "ok" and ep.task_success is False and ep.said == ["doing nothing"]
    assert np.isfinite(ep.seconds)
