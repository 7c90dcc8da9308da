"""Hierarchical function generation with scripted answers: recursion, parallel siblings, limits, library."""

from __future__ import annotations

import re
import threading

import pytest

from lmp import FgenError, FunctionGenerator, FunctionLibrary, LLMClient, LMPConfig
from lmp.backends.scripted import ScriptedBackend
from lmp.fgen import find_undefined_calls
from lmp.lmp import LMP

VARS = {
    "imports": "import numpy as np",
    "api": [{"name": "say", "signature": "say(msg)", "doc": ""}],
    "nested": [],
}


def fgen_for(definitions: dict[str, str], library=None, hooks=None, **options):
    """An fgen whose scripted model answers with `definitions[name]` for a call to `name`, after running
    `hooks[name]()` if there is one."""

    def answer(request):
        name = re.search(r"# define function: (?:[\w, ]+ = )?(\w+)\(", request.query.splitlines()[-1]).group(
            1
        )
        if hooks and name in hooks:
            hooks[name]()
        return f"```python\n{definitions[name]}\n```"

    backend = ScriptedBackend(answer)
    cfg = LMPConfig(
        "fgen",
        "fgen",
        query_prefix="# define function: ",
        stop=("# define", "# example"),
        include_context=False,
    )
    gen = FunctionGenerator(
        LMP(cfg, LLMClient(backend), VARS), library or FunctionLibrary(), known={"say"}, **options
    )
    return gen, backend


TREE = {
    "plan_route": "def plan_route(start, goal):\n    return [start, midpoint(start, goal), goal]",
    "midpoint": "def midpoint(a, b):\n    return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]",
    "announce": "def announce(route):\n    say(f'{len(route)} stops')",
}
POLICY = "route = plan_route(start=[0, 0], goal=[1, 1])\nannounce(route)\nsay(len(route))"


def test_finds_undefined_calls_with_call_site_and_argument_names():
    sites = find_undefined_calls(
        "x = 1\npts = make_line(start, end=x)\nprint(len(pts))\nsay(x)", known={"say"}
    )
    assert list(sites) == ["make_line"]
    site = sites["make_line"]
    assert site.signature == "pts = make_line(start, end=x)"
    assert site.params == ("start", "end")
    assert "x = 1" in site.context


def test_defined_names_parameters_and_methods_are_not_undefined():
    code = "def f(cb):\n    return cb()\ng = lambda: 1\nf(g)\nnp.mean([1])\n[h for h in []]"
    assert find_undefined_calls(code, known={"np"}) == {}


def test_two_siblings_and_a_grandchild_are_generated_siblings_in_parallel():
    both_in_flight = threading.Barrier(2, timeout=10)  # deadlock guard only: passes as soon as both arrive
    gen, backend = fgen_for(TREE, hooks={"plan_route": both_in_flight.wait, "announce": both_in_flight.wait})
    made = gen.resolve(POLICY)
    assert sorted(f.name for f in made) == ["announce", "midpoint", "plan_route"]
    assert {f.name: f.depth for f in made} == {"plan_route": 1, "announce": 1, "midpoint": 2}
    assert gen.library.get("midpoint").caller == "plan_route"
    asked = [re.search(r"define function: (.*)\.$", r.query).group(1) for r in backend.requests]
    assert sorted(asked[:2]) == ["announce(route)", "route = plan_route(start=[0, 0], goal=[1, 1])"]
    assert asked[2] == "midpoint(start, goal)"
    assert "def plan_route(start, goal)" in backend.requests[2].query  # the call site's code as context
    namespace = {"say": lambda msg: None}
    exec(gen.library.source() + "\n" + POLICY, namespace)
    assert namespace["route"] == [[0, 0], [0.5, 0.5], [1, 1]]


def test_every_sibling_is_asked_even_when_an_earlier_one_fails():
    """The calls a run makes must not depend on thread timing (a replay asks exactly what the recording
    asked): one worker, the first sibling fails at once, the second is slow; the third is still asked."""
    import time

    definitions = {"a": "x = 1", "b": "def b():\n    return 1", "c": "def c():\n    return 2"}
    gen, backend = fgen_for(definitions, hooks={"b": lambda: time.sleep(0.2)}, max_workers=1)
    with pytest.raises(FgenError, match="does not define 'a'"):
        gen.resolve("a()\nb()\nc()")
    asked = [re.search(r"define function: (\w+)", r.query).group(1) for r in backend.requests]
    assert sorted(asked) == ["a", "b", "c"]
    assert len(gen.library) == 0


def test_library_functions_are_reused_by_later_code():
    gen, backend = fgen_for(TREE)
    gen.resolve(POLICY)
    asked = len(backend.requests)
    assert gen.resolve("r = plan_route([0, 0], [2, 2])") == []
    assert len(backend.requests) == asked


def test_flat_mode_generates_nothing():
    gen, backend = fgen_for(TREE, hierarchical=False)
    assert gen.resolve(POLICY) == []
    assert backend.requests == []


def test_depth_limit_names_the_function_and_its_chain():
    chain = {f"f{i}": f"def f{i}():\n    return f{i + 1}()" for i in range(1, 6)}
    gen, _ = fgen_for(chain, max_depth=3)
    with pytest.raises(FgenError, match=r"depth limit \(3\) at 'f4': call chain f1 -> f2 -> f3 -> f4"):
        gen.resolve("f1()")
    assert len(gen.library) == 0  # a failed generation adds nothing


def test_default_depth_limit_is_four():
    chain = {f"f{i}": f"def f{i}():\n    return f{i + 1}()" for i in range(1, 7)}
    chain["f4"] = "def f4():\n    return 4"
    gen, _ = fgen_for(chain)
    assert gen.max_depth == 4
    assert len(gen.resolve("f1()")) == 4


def test_cycle_among_generated_functions_is_an_error_naming_it():
    gen, _ = fgen_for(
        {"outer": "def outer(x):\n    return inner(x)", "inner": "def inner(x):\n    return outer(x - 1)"}
    )
    with pytest.raises(FgenError, match=r"cycle: outer -> inner -> outer"):
        gen.resolve("outer(3)")


def test_self_recursion_is_fine():
    gen, _ = fgen_for({"fact": "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)"})
    assert [f.name for f in gen.resolve("fact(5)")] == ["fact"]


def test_answer_that_does_not_define_the_function_is_an_error():
    gen, _ = fgen_for({"helper": "def other():\n    return 1"})
    with pytest.raises(FgenError, match=r"does not define 'helper': it defines \['other'\]"):
        gen.resolve("helper()")


def test_example_calls_after_the_definition_are_dropped():
    gen, _ = fgen_for({"helper": "def helper():\n    return 1\n\nhelper()\nsay('moved the robot')"})
    (fn,) = gen.resolve("helper()")
    assert fn.source == "def helper():\n    return 1"


def test_library_saves_and_loads(tmp_path):
    gen, _ = fgen_for(TREE)
    gen.resolve(POLICY)
    path = tmp_path / "functions.py"
    gen.library.save(path)
    loaded = FunctionLibrary.load(path)
    assert sorted(loaded.names()) == ["announce", "midpoint", "plan_route"]
    assert "# generated from: route = plan_route(start=[0, 0], goal=[1, 1])" in path.read_text()


def test_loading_a_file_with_statements_is_refused(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    return 1\nx = f()\n")
    with pytest.raises(ValueError, match="bad.py:3: a function library holds only function definitions"):
        FunctionLibrary.load(path)
