"""Every checker against constructed positive and negative states, and every reference policy on 2 seeds."""

import numpy as np
import pytest

from cap.evals.tabletop import TabletopSession
from robot_api.scene import PLACES
from robot_api.tasks import FAMILIES, TASKS, Instance

pytestmark = pytest.mark.xdist_group("sim")


def check(sim, family, objects, attrs, answer):
    sim.reset(objects)
    return FAMILIES[family].check(sim, attrs, answer)[0]


TL, BR, MID = PLACES["top left corner"], PLACES["bottom right corner"], PLACES["middle"]


def at(p, dx=0.0, dy=0.0, z=None):
    return (float(p[0] + dx), float(p[1] + dy)) + (() if z is None else (z,))


DIAGONAL = [("red block", at(MID, -0.1, -0.1)), ("blue block", at(MID)), ("green block", at(MID, 0.1, 0.11))]
# family or case name: (family, attributes, answer, positive objects, negative objects)
CASES = {
    "pick-place": (
        "pick-place",
        {"block": "red block", "target": "blue bowl"},
        {},
        [("red block", at(MID, 0.01)), ("blue bowl", at(MID))],
        [("red block", at(MID, 0.08)), ("blue bowl", at(MID))],
    ),
    "pick-place-on-block": (
        "pick-place",
        {"block": "red block", "target": "blue block"},
        {},
        [("blue block", at(MID)), ("red block", at(MID, 0.01, z=0.04))],
        [("blue block", at(MID)), ("red block", at(MID, 0.035))],  # beside it, not on it
    ),
    "stack-blocks": (
        "stack-blocks",
        {},
        {},
        [("red block", at(MID)), ("blue block", at(MID, 0.01, z=0.04)), ("green block", at(MID, z=0.08))],
        [("red block", at(MID)), ("blue block", at(MID, 0.1)), ("green block", at(MID, z=0.04))],
    ),
    "blocks-to-corner": (
        "blocks-to-corner",
        {"place": "top left corner"},
        {},
        [("red block", at(TL)), ("blue block", at(TL, z=0.04))],
        [("red block", at(TL)), ("blue block", at(TL, 0.07))],
    ),
    "blocks-in-bowl": (
        "blocks-in-bowl",
        {"bowl": "blue bowl"},
        {},
        [("red block", at(MID)), ("blue bowl", at(MID))],
        [("red block", at(MID, 0.12)), ("blue bowl", at(MID))],
    ),
    "blocks-in-matching-bowls": (
        "blocks-in-matching-bowls",
        {},
        {},
        [("red block", at(MID)), ("red bowl", at(MID)), ("blue block", at(BR)), ("blue bowl", at(BR))],
        [("red block", at(BR)), ("red bowl", at(MID)), ("blue block", at(MID)), ("blue bowl", at(BR))],
    ),
    "blocks-in-mismatched-bowls": (
        "blocks-in-mismatched-bowls",
        {},
        {},
        [("red block", at(BR)), ("red bowl", at(MID)), ("blue block", at(MID)), ("blue bowl", at(BR))],
        [("red block", at(MID)), ("red bowl", at(MID)), ("blue block", at(BR)), ("blue bowl", at(BR))],
    ),
    "block-direction-of-bowl": (
        "block-direction-of-bowl",
        {"place": "middle", "direction": "left", "bowl": "blue bowl"},
        {"block": "red block"},
        [("red block", at(MID, 0.05)), ("green block", at(TL))],
        [("red block", at(MID, 0.07)), ("green block", at(MID))],  # the wrong block went there
    ),
    "blocks-in-different-corners": (
        "blocks-in-different-corners",
        {},
        {},
        [("red block", at(TL)), ("blue block", at(BR))],
        [("red block", at(TL)), ("blue block", at(TL, z=0.04))],
    ),
    "stack-blocks-on-place": (
        "stack-blocks-on-place",
        {"place": "bottom right corner"},
        {},
        [("red block", at(BR)), ("blue block", at(BR, z=0.04))],
        [("red block", at(MID)), ("blue block", at(MID, z=0.04))],
    ),
    "block-relative-to-bowl-little": (
        "block-relative-to-bowl",
        {"block": "red block", "bowl": "blue bowl", "direction": "left", "magnitude": "a little"},
        {},
        [("red block", at(MID, -0.12)), ("blue bowl", at(MID))],
        [("red block", at(MID, 0.12)), ("blue bowl", at(MID))],  # the wrong side
    ),
    "block-relative-to-bowl-lot": (
        "block-relative-to-bowl",
        {"block": "red block", "bowl": "blue bowl", "direction": "bottom", "magnitude": "a lot"},
        {},
        [("red block", at(MID, 0.0, -0.25)), ("blue bowl", at(MID))],
        [("red block", at(MID, 0.0, -0.12)), ("blue bowl", at(MID))],  # only a little
    ),
    "block-in-corner-by-distance": (
        "block-in-corner-by-distance",
        {"block": "red block", "bowl": "blue bowl", "distance": "closest"},
        {"corner": "top left corner"},
        [("red block", at(TL, 0.02)), ("blue bowl", at(TL, 0.1, -0.1))],
        [("red block", at(BR)), ("blue bowl", at(TL, 0.1, -0.1))],
    ),
    "line-of-blocks": (
        "line-of-blocks",
        {"line": "horizontal"},
        {},
        [("red block", at(MID, -0.1)), ("blue block", at(MID)), ("green block", at(MID, 0.1, 0.01))],
        [("red block", at(MID, -0.1)), ("blue block", at(MID, 0, 0.08)), ("green block", at(MID, 0.1))],
    ),
    "line-of-blocks-vertical": (
        "line-of-blocks",
        {"line": "vertical"},
        {},
        [("red block", at(MID, 0, -0.1)), ("blue block", at(MID)), ("green block", at(MID, 0.005, 0.1))],
        [("red block", at(MID, -0.1)), ("blue block", at(MID)), ("green block", at(MID, 0.1))],  # horizontal
    ),
    "line-of-blocks-diagonal": (
        "line-of-blocks",
        {"line": "diagonal"},
        {},
        DIAGONAL,
        DIAGONAL[:2] + [("green block", at(MID, z=0.04))],  # stacked, not in a line
    ),
    "place-relative-to-block": (
        "place-relative-to-block",
        {"block": "red block", "reference": "blue block", "direction": "left", "cm": 10},
        {},
        [("red block", at(MID, -0.1)), ("blue block", at(MID))],
        [("red block", at(MID, -0.15)), ("blue block", at(MID))],
    ),
    "blocks-in-circle": (
        "blocks-in-circle",
        {"cm": 10},
        {},
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


@pytest.mark.parametrize("case", list(CASES))
def test_checker_positive_and_negative(sim, case):
    family, attrs, answer, positive, negative = CASES[case]
    assert check(sim, family, positive, attrs, answer) is True
    assert check(sim, family, negative, attrs, answer) is False


def test_every_family_has_a_checker_case_or_shares_one():
    shared = {"block-distance-to-bowl", "nth-block-from-direction"}  # same checker as block-direction-of-bowl
    assert set(FAMILIES) == {c[0] for c in CASES.values()} | shared
    assert all(FAMILIES[f].check is FAMILIES["block-direction-of-bowl"].check for f in shared)


def test_failed_check_says_why(sim):
    _, attrs, answer, _, negative = CASES["blocks-in-bowl"]
    sim.reset(negative)
    ok, why = FAMILIES["blocks-in-bowl"].check(sim, attrs, answer)
    assert not ok and "red block is 12.0 cm from the blue bowl" in why


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
    ep = session.episode("say('doing nothing')", {"task": inst.attributes})
    assert ep.status == "ok" and ep.task_success is False and ep.said == ["doing nothing"]
    assert np.isfinite(ep.seconds)


def test_unsafe_motion_in_a_policy_is_an_error_the_policy_can_catch(session):
    session.setup("pick-place", 0)
    ep = session.episode("goto_pos([0.9, -0.5, 0.2])")
    assert ep.status == "error" and "SafetyError" in ep.error and "outside the workspace" in ep.error
    ep = session.episode("try:\n    goto_pos([0.9, -0.5, 0.2])\nexcept SafetyError as e:\n    say('refused')")
    assert ep.status == "ok" and ep.said == ["refused"]


def test_unknown_object_in_a_policy_lists_the_objects(session):
    inst = session.setup("pick-place", 0)
    ep = session.episode("put_first_on_second('purple block', 'middle')")
    assert ep.status == "error" and "purple block" in ep.error
    assert all(name in ep.error for name, _ in inst.objects)


@pytest.mark.parametrize("task", ["blocks-to-corner", "stack-blocks-on-place"])
def test_three_blocks_stack_on_the_place_closest_to_the_robot(session, task):
    """The top side is 15 cm in front of the arm's base, where a hand pointing down reached mid heights only
    to within 3-5 mm: the third block of a stack there was refused as unreachable (the reference program
    raised on every top-side seed, while the checker still counted it a success)."""
    seed = next(s for s in range(50) if session.setup(task, s).attributes.get("place") == "top side")
    ep = session.reference_episode(task, seed)
    assert ep.status == "ok" and ep.task_success, (task, seed, ep.error, ep.reason)
