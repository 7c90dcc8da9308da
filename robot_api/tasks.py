"""The tabletop benchmark's tasks: every instruction family in a `seen` and an `unseen` attribute split.

A task is named `<family>` (seen attributes) or `<family>-unseen` (unseen attributes, see
`robot_api.attributes`). `Task.instance(seed)` is deterministic: the same seed gives the same scene and command.
Families and their checkers live in `robot_api.families`; tolerances are stated in `robot_api.checkers`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robot_api.attributes import SEEN, UNSEEN
from robot_api.families import FAMILIES, Family
from robot_api.protocols import Perception

__all__ = ["FAMILIES", "TASKS", "Family", "Instance", "Task", "get_task"]


@dataclass
class Instance:
    """One episode's setup. `attributes` is what the command says (reference programs receive it as `task`);
    `answer` is what only the checker may know (e.g. which block "the second block from the left" is)."""

    task: str
    seed: int
    objects: list[tuple[str, tuple[float, float]]]
    command: str
    attributes: dict[str, Any] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    name: str
    family: str
    description: str
    seen: bool
    instructions: str

    def instance(self, seed: int) -> Instance:
        """The scene and command for `seed` (numpy's PCG64 seeded by the seed and a hash of the task name)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"a seed is a non-negative integer, got {seed!r}")
        rng = np.random.default_rng([int(seed), _stable_hash(self.name)])
        setup = FAMILIES[self.family].generate(rng, SEEN if self.seen else UNSEEN)
        return Instance(self.name, int(seed), setup.objects, setup.command, setup.attributes, setup.answer)

    def check(self, perception: Perception, instance: Instance) -> tuple[bool, str]:
        """(success, reason) measured on the current state."""
        ok, why = FAMILIES[self.family].check(perception, instance.attributes, instance.answer)
        return bool(ok), why

    def as_dict(self) -> dict[str, Any]:
        """The `cap tasks --json` row (pinned keys first, then the paper's instruction split)."""
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "seen": self.seen,
            "instructions": self.instructions,
        }


def _stable_hash(text: str) -> int:
    """A fixed number per task name (Python's hash() changes between runs; recorded demos rely on this one)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % (2**31)


TASKS: dict[str, Task] = {}
for _fam in FAMILIES.values():
    TASKS[_fam.name] = Task(_fam.name, _fam.name, _fam.description, True, _fam.instructions)
    TASKS[f"{_fam.name}-unseen"] = Task(
        f"{_fam.name}-unseen", _fam.name, f"{_fam.description} (unseen attributes)", False, _fam.instructions
    )


def get_task(name: str) -> Task:
    """The task called `name`, or a KeyError whose message suggests close names."""
    try:
        return TASKS[name]
    except KeyError:
        near = difflib.get_close_matches(str(name), TASKS, n=3)
        hint = f" Did you mean {', '.join(near)}?" if near else " Run `cap tasks` to list them."
        raise KeyError(f"unknown task {name!r}.{hint}") from None
