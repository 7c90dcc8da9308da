"""Embedding cap in a robot application: your robot, your extra API, your prompt, your handling of outcomes.

What this shows, end to end, without PyBullet:
1. `ConveyorCell` is *your* robot: it implements the `Robot` and `Perception` protocols (here in memory; on
   hardware these methods would call your driver and your vision system). `TabletopAPI` drives it unchanged.
2. `inspect_part` is *your* extra API function, handed to the sandbox next to the tabletop API.
3. An `LMP` with *your* prompt turns an operator's sentence into policy code. Offline, the answer comes from a
   scripted backend (hand-written, labeled as such); point `--base-url/--model` at a real endpoint to use a model.
4. The code runs only in the sandbox; each outcome status is handled the way a robot application should.

Run: .venv/bin/python demos/embed_robot_app.py [--base-url URL --model NAME]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from lmp import LLMClient
from lmp.backends.scripted import ScriptedBackend
from lmp.lmp import LMP, LMPConfig
from robot_api.protocols import SafetyError
from robot_api.tabletop import TabletopAPI
from sandbox import Sandbox

BLOCK = 0.04


class ConveyorCell:
    """A robot cell kept in memory: a gripper position, objects at known poses, an ideal suction gripper.

    Replace the bodies of these methods with calls to your arm's driver and your perception stack.
    """

    def __init__(self, objects: dict[str, tuple[float, float]]):
        self.pos = np.array([0.0, -0.3, 0.3])
        self.objects = {name: np.array([x, y, BLOCK / 2]) for name, (x, y) in objects.items()}
        self.held: str | None = None
        self.log: list[str] = []

    # Robot protocol
    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        return self.pos.copy(), np.array([1.0, 0.0, 0.0, 0.0])

    def move_to(self, position, speed: float = 1.0) -> None:
        x, y, z = (float(v) for v in position)
        if not (-0.3 <= x <= 0.3 and -0.8 <= y <= -0.2) or z < 0.0:
            raise SafetyError(f"({x:.2f}, {y:.2f}, {z:.2f}) is outside this cell's workspace")
        self.pos = np.array([x, y, z])
        if self.held:
            self.objects[self.held] = self.pos - [0, 0, BLOCK / 2]

    def gripper_close(self) -> bool:
        below = [
            n
            for n, p in self.objects.items()
            if np.linalg.norm(p[:2] - self.pos[:2]) < 0.02 and self.pos[2] - p[2] < 0.04
        ]
        if below:
            self.held = max(below, key=lambda n: self.objects[n][2])
            self.log.append(f"picked {self.held}")
        return self.held is not None

    def gripper_open(self) -> None:
        if self.held:
            under = [
                p[2]
                for n, p in self.objects.items()
                if n != self.held and np.linalg.norm(p[:2] - self.pos[:2]) < BLOCK
            ]
            self.objects[self.held] = np.array([*self.pos[:2], (max(under) + BLOCK) if under else BLOCK / 2])
            self.log.append(f"placed {self.held} at {np.round(self.pos[:2], 2).tolist()}")
            self.held = None

    def joint_state(self) -> np.ndarray:
        return np.zeros(6)

    def holding(self) -> str | None:
        return self.held

    def stop(self) -> None:
        self.log.append("stopped")

    # Perception protocol
    def object_names(self) -> list[str]:
        return list(self.objects)

    def object_position(self, name: str) -> np.ndarray:
        return self.objects[name].copy()

    def object_bbox(self, name: str) -> np.ndarray:
        c = self.objects[name]
        return np.array([*(c - BLOCK / 2), *(c + BLOCK / 2)])

    def object_color(self, name: str) -> tuple[float, float, float]:
        return {"red": (1.0, 0.2, 0.2), "green": (0.2, 0.8, 0.2)}.get(name.split()[0], (0.5, 0.5, 0.5))

    def object_visible(self, name: str) -> bool:
        return name in self.objects


class QualityError(Exception):
    """Raised by this application's own API when a part fails inspection; policies may catch it by name."""


PROMPT = """# Python policies for a two-bin sorting cell.
# API: get_obj_names(), get_obj_pos(name), put_first_on_second(obj, target_or_xy), inspect_part(name) -> bool, say(msg)
objects = ['red block', 'green block']
# move the red block to the top left corner.
put_first_on_second('red block', 'top left corner')
"""

# What a model would answer to the operator's sentence: hand-written for this offline demo, not model output.
SCRIPTED_ANSWER = """for name in get_obj_names():
    if not name.endswith('block'):
        continue
    if inspect_part(name):
        put_first_on_second(name, 'top right corner')
    else:
        say(f'{name} rejected')
        put_first_on_second(name, 'bottom right corner')
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    args = parser.parse_args(argv)

    cell = ConveyorCell({"red block": (-0.1, -0.5), "green block": (0.1, -0.4), "gray block": (0.0, -0.65)})
    api = TabletopAPI(cell, cell, on_say=lambda m: print(f"  robot says: {m}"))

    def inspect_part(name: str) -> bool:
        """This application's own perception: here, gray parts fail inspection."""
        return not name.startswith("gray")

    if args.model:
        from lmp.backends.openai_backend import OpenAIBackend

        client = LLMClient(OpenAIBackend(args.model, base_url=args.base_url))
    else:
        client = LLMClient(ScriptedBackend(lambda request: SCRIPTED_ANSWER))
        print("(offline: the model's answer is a hand-written script, not model output)")
    sorter = LMP(LMPConfig(name="sorting_cell", prompt=PROMPT), client)

    command = "sort the blocks: good ones to the top right corner, rejects to the bottom right corner"
    generation = sorter.generate(command, context=f"objects = {cell.object_names()}")
    print(f"command: {command}\ncode:\n{generation.code}")

    functions = {**api.functions(), "inspect_part": inspect_part}
    with Sandbox(api=functions, errors=[SafetyError, QualityError], timeout=30) as sandbox:
        outcome = sandbox.run(generation.to_exec)

    if outcome.status == "ok":
        sorter.record_success(generation)  # only successful commands join the session history
        print("done:", "; ".join(cell.log))
        return 0
    if outcome.status == "violation":
        print(f"refused before running: {outcome.error}", file=sys.stderr)
    elif outcome.status == "timeout":
        cell.stop()
        print(f"stopped the robot: {outcome.error}", file=sys.stderr)
    else:  # error or resource
        cell.stop()
        print(f"policy failed ({outcome.status}): {outcome.error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
