"""Every few-shot example program of the tabletop prompts runs successfully in the simulator.

Each tabletop_ui example runs through the real stack (LMP -> fgen -> sandbox -> PyBullet) in a scene holding
exactly its objects; its nested-LMP calls and helper functions are answered by the matching examples of the
nested and fgen prompts. Nested examples also run on their own. A failing example here is a bad prompt.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pybullet")

from example_answers import DEFAULT_OBJECTS, example_key, fgen_name, layout  # noqa: E402
from example_answers import example_responder as responder  # noqa: E402

import prompts  # noqa: E402
from cap.evals.tabletop import TabletopSession  # noqa: E402
from cap.policy_stack import PolicyStack, scene_context, with_imports  # noqa: E402
from lmp import LLMClient  # noqa: E402
from lmp.backends.scripted import ScriptedBackend  # noqa: E402
from robot_api.tabletop import TabletopAPI  # noqa: E402

UI = prompts.examples("tabletop_ui")
NESTED = [
    (name, ex)
    for name in ("parse_obj_name", "parse_position", "parse_question", "transform_shape_pts")
    for ex in prompts.examples(name)
]


@pytest.fixture(scope="module")
def world():
    client = LLMClient(ScriptedBackend(responder))
    stack = PolicyStack(client, TabletopAPI.describe())
    with TabletopSession(extra_api=stack.nested_functions(), timeout=60) as session:
        stack.bind(session.sandbox.run)
        yield stack, session


def _scene(session, objects):
    session.sim.reset(layout(objects))
    session.task = session.instance = None
    assert session.api.get_obj_names() == objects


@pytest.mark.parametrize("example", UI, ids=[ex.query for ex in UI])
def test_tabletop_ui_example_runs(world, example):
    stack, session = world
    stack.reset()
    _scene(session, example.objects)
    run = stack.prepare(example.query, scene_context(example.objects))
    assert run.generation.code == example.code
    ep = session.episode(with_imports(run.program))
    assert ep.status == "ok", f"{example.query}: {ep.error}"


@pytest.mark.parametrize("name,example", NESTED, ids=[f"{n}: {ex.query}" for n, ex in NESTED])
def test_nested_example_runs(world, name, example):
    stack, session = world
    stack.reset()
    _scene(session, example.objects or DEFAULT_OBJECTS)
    inputs = (
        {"shape_pts": [[0.0, -0.45], [-0.05, -0.53], [0.05, -0.53]]} if name == "transform_shape_pts" else {}
    )
    value = stack.nested[name](example.query, example.context, **inputs)
    assert value is not None


def test_fgen_examples_define_their_function(world):
    stack, session = world
    for ex in prompts.examples("fgen"):
        name = fgen_name(f"# {ex.query}.")
        out = session.sandbox.run(with_imports(ex.code) + f"\nok = callable({name})", return_name="ok")
        assert out.status == "ok" and out.value is True, f"{name}: {out.error}"


def test_examples_are_keyed_uniquely():
    for name in ("tabletop_ui", "parse_obj_name", "parse_position", "parse_question", "transform_shape_pts"):
        keys = [example_key(ex) for ex in prompts.examples(name)]
        assert len(keys) == len(set(keys)), name
