"""Choosing among programs that all ran cleanly by what they did: keep the outcome most of them agree on.

Best-of-K's first-clean rule cannot tell a clean program that does the task from one that does something
else; on the tabletop most failures of the local model are of that kind (diagnostics: pass@5 far above
pass@1). Execution-based consensus (as MBR-exec and AlphaCode cluster programs by behaviour) needs no
checker: each clean program's dry run leaves a final scene, and the program whose scene the most others end
in (every object within AGREE_M) is the one performed. Programs that agree are likely to have read the
command the same way; one that wanders off alone is likely wrong. Ties go to the earlier sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Scene = Mapping[str, Sequence[float]]  # object name -> (x, y) where it ended

AGREE_M = 0.03  # two final scenes agree when every object ends within 3 cm of where it ends in the other


def scenes_agree(a: Scene, b: Scene, tolerance: float = AGREE_M) -> bool:
    return a.keys() == b.keys() and all(
        abs(a[n][0] - b[n][0]) <= tolerance and abs(a[n][1] - b[n][1]) <= tolerance for n in a
    )


def votes(scenes: Sequence[Scene]) -> list[int]:
    """For each scene, how many of the scenes (itself included) agree with it."""
    return [sum(scenes_agree(s, t) for t in scenes) for s in scenes]


def most_agreed(scenes: Sequence[Scene]) -> int:
    """The index of the scene the most agree with (the earliest of a tie); `scenes` must not be empty."""
    counts = votes(scenes)
    return counts.index(max(counts))
