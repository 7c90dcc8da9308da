"""The names every tabletop program starts with, on every path: the original Code as Policies `fixed_vars`.

The original ran each program with `np` and every name of `shapely.geometry` and `shapely.affinity` already
bound. Here they are bound by an import prelude that the sandbox runs before each program (`Sandbox.define`,
so the program's own line numbers stay its own): `cap exec`, `cap run`, the REPL, nested LMPs, generated
functions and the benchmarks all see the same names. The prelude names only what the policy sandbox's
allow-list offers; `missing_original_names()` says what of the original set is not (yet) there.
"""

from __future__ import annotations

import shapely.affinity
import shapely.geometry

from sandbox.namespace import ALLOW


def _offered(module: str, names: list[str]) -> list[str]:
    allowed = ALLOW.get(module, frozenset())
    return [n for n in names if n in allowed]


ORIGINAL_GEOMETRY = sorted(shapely.geometry.__all__)
ORIGINAL_AFFINITY = sorted(shapely.affinity.__all__)
GEOMETRY = _offered("shapely.geometry", ORIGINAL_GEOMETRY)
AFFINITY = _offered("shapely.affinity", ORIGINAL_AFFINITY)

PRELUDE = (
    "import numpy as np\n"
    f"from shapely.geometry import {', '.join(GEOMETRY)}\n"
    f"from shapely.affinity import {', '.join(AFFINITY)}"
)
"""Three lines, also shown at the top of every prompt, so what the model is told exists is exactly what does."""

NAMES = frozenset({"np", *GEOMETRY, *AFFINITY})


def missing_original_names() -> list[str]:
    """Names the original bound that the sandbox does not offer (empty once its allow-list has them all)."""
    return sorted({*ORIGINAL_GEOMETRY, *ORIGINAL_AFFINITY} - NAMES)


def bind_globals(sandbox) -> None:
    """Make every later `sandbox.run` start with the prelude's names (raises if the sandbox refuses them)."""
    outcome = sandbox.define(PRELUDE)
    if outcome.status != "ok":
        raise RuntimeError(f"the policy sandbox refused the globals prelude: {outcome.error}")
