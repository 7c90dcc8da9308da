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


TABLETOP_PROMPTS = (
    "tabletop_ui",
    "parse_obj_name",
    "parse_position",
    "parse_question",
    "transform_shape_pts",
    "fgen",
)


def unseen_phrases() -> list[str]:
    """What a query may not say: every unseen attribute as it appears in the benchmark's commands."""
    from robot_api.attributes import UNSEEN

    phrases = [*UNSEEN.places, *UNSEEN.distances, *UNSEEN.magnitudes, *UNSEEN.nths, *UNSEEN.lines]
    phrases += [f"{w} the {d}" for d in UNSEEN.directions for w in ("to", "from")]
    phrases += [f"{d} most" for d in UNSEEN.directions]
    phrases += [f"{cm}{sep}cm" for cm in UNSEEN.offsets_cm for sep in ("", " ")]
    return phrases


def unseen_in(example: prompts.Example) -> list[str]:
    """The unseen attributes an example shows: an unseen color anywhere (scene, query, code), any other unseen
    attribute (place, direction, distance, ordinal, ...) in its query."""
    import re

    from robot_api.scene import UNSEEN_COLORS

    text = f"{example.context}\n{example.query}\n{example.code}"
    shown = [c for c in UNSEEN_COLORS if re.search(rf"\b{c}\b", text)]
    return shown + [p for p in unseen_phrases() if re.search(rf"\b{re.escape(p)}\b", example.query)]


@pytest.mark.parametrize("name", TABLETOP_PROMPTS)
def test_examples_show_only_seen_attributes(name):
    """The unseen split measures attributes the prompt never showed (the paper's protocol), so no example may
    show one."""
    for ex in prompts.examples(name):
        assert not unseen_in(ex), f"{name}: {ex.query!r} shows unseen attributes {unseen_in(ex)}"


def test_the_seen_attribute_check_catches_unseen_examples():
    bad = prompts.Example(
        "pick up the block to the right of the red bowl and place it on the bottom side", "x = 1"
    )
    assert set(unseen_in(bad)) == {"to the right", "bottom side"}
    assert unseen_in(prompts.Example("the blocks", "ret_val = []", "objects = ['pink block']")) == ["pink"]
    assert unseen_in(prompts.Example("put the blocks on the farthest bowl", "x = 1")) == ["farthest"]
    assert unseen_in(prompts.Example("move it 5cm up", "x = 1")) == ["5cm"]
    assert not unseen_in(prompts.Example("move the green block to the top right corner", "x = 1"))
