"""`PyBulletTabletop.snapshot/restore/trial`: a dry run leaves no trace, and a program run after a restore moves
everything as it did the first time, to floating-point noise (< 1 nm) (what execution feedback relies on: the clean dry run is the run)."""

import numpy as np
import pytest

pytest.importorskip("pybullet")

from robot_api.tabletop import TabletopAPI  # noqa: E402
from robot_api.tasks import get_task  # noqa: E402


def state(sim):
    return {n: sim.object_position(n).copy() for n in sim.object_names()}, sim.joint_state().copy()


def same(a, b) -> bool:
    return all(np.allclose(a[0][n], b[0][n], rtol=0, atol=1e-9) for n in a[0]) and np.allclose(
        a[1], b[1], rtol=0, atol=1e-9
    )


def test_trial_undoes_everything_and_a_rerun_does_the_same(sim):
    inst = get_task("stack-blocks").instance(1)
    sim.reset(inst.objects)
    api = TabletopAPI(sim, sim)
    blocks = [n for n in sim.object_names() if n.endswith("block")]
    api.put_first_on_second(blocks[0], blocks[1])  # something already happened before the trial
    before, steps = state(sim), sim.steps
    frames = []
    sim.frame_hook = lambda: frames.append(1)
    try:
        with sim.trial():
            api.put_first_on_second(blocks[2], blocks[0])
            in_trial = state(sim)
        assert not frames  # no animation frames from a dry run
        assert same(state(sim), before) and sim.steps == steps and sim.holding() is None
        assert not same(in_trial, before)
        api.put_first_on_second(blocks[2], blocks[0])
        assert frames  # the real run is recorded
    finally:
        sim.frame_hook = None
    assert same(state(sim), in_trial)  # exactly what the dry run did


def test_restore_while_holding_brings_back_the_held_object(sim):
    sim.reset(get_task("pick-place").instance(0).objects)
    api = TabletopAPI(sim, sim)
    api.goto_pos((*api.get_obj_pos("green block"), 0.2))
    api.goto_pos((*api.get_obj_pos("green block"), 0.042))
    assert sim.gripper_close() and sim.holding() == "green block"
    snap = sim.snapshot()
    sim.gripper_open()
    api.goto_pos((0.1, -0.4, 0.2))
    assert sim.holding() is None
    sim.restore(snap)
    sim.forget(snap)
    assert sim.holding() == "green block"
    api.goto_pos((0.1, -0.4, 0.2))  # the block comes along: the suction hold is part of the state
    assert np.allclose(api.get_obj_pos("green block"), (0.1, -0.4), atol=0.01)
