"""Free scenes for `cap exec`, `cap run` and `cap repl`: blocks and bowls a person chooses, no task attached.

The original demo let a person pick 0-4 blocks and 0-4 bowls and their colors; here `--blocks red,blue
--bowls green` names the colors, and `--blocks 3 --bowls 2` draws that many distinct colors (seeded by
`--seed`). Objects are placed overlap-free by the same sampler as the tasks' scenes. Without a task there is
no success check (`task_success` is null).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from cap.errors import CapError
from robot_api.scene import COLORS

MAX_BLOCKS = 10  # one per color
MAX_BOWLS = 5  # bowls are 12 cm across: more do not fit beside the places


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("free scene (instead of a task's scene)")
    group.add_argument(
        "--blocks",
        metavar="COLORS|N",
        help=f"blocks to put on the table: colors (red,blue) or a count (0-{MAX_BLOCKS}) of random colors",
    )
    group.add_argument(
        "--bowls",
        metavar="COLORS|N",
        help=f"bowls to put on the table: colors (green) or a count (0-{MAX_BOWLS}) of random colors",
    )


@dataclass(frozen=True)
class FreeScene:
    """What a person asked to see on the table."""

    blocks: tuple[str, ...]
    bowls: tuple[str, ...]
    seed: int

    def objects(self) -> list[tuple[str, tuple[float, float]]]:
        from robot_api.scene_sampling import sample_scene

        rng = np.random.default_rng([self.seed, 16])
        try:
            return sample_scene(rng, self.blocks, self.bowls)
        except RuntimeError:
            raise CapError(
                f"cannot place {len(self.blocks)} blocks and {len(self.bowls)} bowls without overlap",
                hint="use fewer objects, or another --seed",
            ) from None

    def describe(self) -> str:
        names = [f"{c} block" for c in self.blocks] + [f"{c} bowl" for c in self.bowls]
        return ", ".join(names) or "an empty table"


def free_scene_from_args(args: argparse.Namespace) -> FreeScene | None:
    """The free scene the flags ask for, None when neither --blocks nor --bowls is given."""
    blocks_spec, bowls_spec = getattr(args, "blocks", None), getattr(args, "bowls", None)
    if blocks_spec is None and bowls_spec is None:
        return None
    if getattr(args, "task", None):
        raise CapError(
            "--blocks/--bowls build a free scene, --task builds the task's scene: give one or the other",
            hint="drop --task (no success check then), or drop --blocks/--bowls",
        )
    seed = int(getattr(args, "seed", 0) or 0)
    rng = np.random.default_rng([seed, 61])
    blocks = _colors(blocks_spec, "--blocks", MAX_BLOCKS, rng)
    bowls = _colors(bowls_spec, "--bowls", MAX_BOWLS, rng)
    return FreeScene(blocks, bowls, seed)


def _colors(spec: str | None, flag: str, limit: int, rng: np.random.Generator) -> tuple[str, ...]:
    if spec is None or spec.strip() == "":
        return ()
    spec = spec.strip().lower()
    if spec.isdigit():
        count = int(spec)
        if count > limit:
            raise CapError(f"{flag} {count}: at most {limit}", hint=f"{flag} 0 to {limit}")
        return tuple(str(c) for c in rng.choice(list(COLORS), size=count, replace=False))
    colors = [c.strip() for c in spec.split(",") if c.strip()]
    unknown = [c for c in colors if c not in COLORS]
    if unknown:
        raise CapError(
            f"{flag}: unknown color{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
            hint=f"colors are {', '.join(COLORS)}; or give a count, e.g. {flag} 3",
        )
    if len(set(colors)) != len(colors):
        raise CapError(f"{flag}: each color at most once (object names must be unique)")
    if len(colors) > limit:
        raise CapError(f"{flag}: at most {limit}")
    return tuple(colors)


def use_free_scene(session, scene: FreeScene) -> list[str]:
    """Put the scene's objects on `session`'s table, with no task to check; returns the object names."""
    session.sim.reset(scene.objects())
    session.task = None
    session.instance = None
    session.api.said.clear()
    return session.api.get_obj_names()
