"""What the browser UI does, without the browser: one live scene, commands one after another, files to show.

The same flow as `cap repl` (tabletop_ui LMP with session history -> hierarchical fgen -> sandbox -> PyBullet),
built from the same pieces (`build_stack`, `run_command`), with pictures instead of terminal text: each command
leaves a captioned PNG of the scene, an animation whose strip names the policy line being executed
(`cap.policy_trace`), and the generated functions. Framework-free, so tests drive it directly and the Gradio
layer (`cap.ui.app`) only lays it out.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cap.episode import Episode
from cap.errors import CapError
from cap.policy_trace import TracingSession

FREE_SCENE = "(free scene)"


@dataclass
class CommandResult:
    """One command as the UI shows it."""

    episode: Episode
    functions: dict[str, str]  # name -> source, the functions this command generated (in order)
    picture: Path  # the scene afterwards, captioned
    animation: Path | None  # the motion (GIF), None when the robot did not move
    executed: list[str] = field(default_factory=list)  # the command's lines in the order they ran

    @property
    def code(self) -> str:
        return self.episode.code


@dataclass(frozen=True)
class HistoryEntry:
    command: str
    status: str
    task_success: bool | None
    functions: tuple[str, ...]


def parse_objects(text: str) -> list[str]:
    """'red block, blue bowl' -> ['red block', 'blue bowl'], or a CapError naming what is wrong."""
    from robot_api.scene import COLORS

    names = [" ".join(part.split()).lower() for part in text.replace(";", ",").split(",") if part.strip()]
    if not names:
        raise CapError("a free scene needs objects", hint="e.g. red block, blue block, green bowl")
    for name in names:
        color, _, kind = name.rpartition(" ")
        if kind not in ("block", "bowl") or color not in COLORS:
            raise CapError(
                f"unknown object {name!r}",
                hint=f"objects are '<color> block' or '<color> bowl' with a color from {', '.join(COLORS)}",
            )
    if len(set(names)) != len(names):
        raise CapError("each object may appear once")
    return names


class UISession:
    """A live scene, the LMP stack with its session history, and the files each command leaves in `out_dir`."""

    def __init__(self, client: Any, stack: Any, out_dir: Path, timeout: float = 120.0):
        self.client, self.stack = client, stack
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.session = TracingSession(extra_api=stack.nested_functions(), timeout=timeout)
        stack.bind(self.session.sandbox.run)
        self.lock = threading.Lock()  # one simulator: commands from several tabs run one at a time
        self.history: list[HistoryEntry] = []
        self.scene = ("", 0)
        self._count = 0

    def close(self) -> None:
        self.session.close()

    # -- scenes --------------------------------------------------------------------------------------
    def new_scene(self, task: str | None, seed: int = 0, objects: str = "") -> Path:
        """A task's scene (its check applies) or a free scene of the named objects; a fresh session history.

        Returns the picture of the new scene. Bad input is a `CapError` and leaves the current scene as it was.
        """
        from robot_api.scene import kind_of
        from robot_api.scene_sampling import sample_scene
        from robot_api.tasks import get_task

        with self.lock:
            if task and task != FREE_SCENE:
                try:
                    get_task(task)
                except KeyError as exc:
                    raise CapError(str(exc.args[0])) from None
                self.session.setup(task, int(seed))
            else:
                names = parse_objects(objects)
                colors = {
                    k: [n.rsplit(" ", 1)[0] for n in names if kind_of(n) == k] for k in ("block", "bowl")
                }
                try:
                    placed = sample_scene(np.random.default_rng(int(seed)), colors["block"], colors["bowl"])
                except RuntimeError:
                    raise CapError("these objects do not fit on the table", hint="name fewer bowls") from None
                self.session.sim.reset(placed)
                self.session.task, self.session.instance = None, None
                self.session.api.said.clear()
            self.stack.ui.lmp.clear_history()
            self.history = []
            self.scene = (task if task and task != FREE_SCENE else FREE_SCENE, int(seed))
            return self._picture(None)

    @property
    def task_command(self) -> str:
        """The current task's own command (empty for a free scene)."""
        inst = self.session.instance
        return inst.command if inst is not None and self.session.task is not None else ""

    def objects(self) -> list[str]:
        return self.session.api.get_obj_names()

    # -- commands ------------------------------------------------------------------------------------
    def run(self, command: str) -> CommandResult:
        """Generate and run `command` in the current scene; never raises for a bad command or bad code."""
        from cap.llm_episode import run_command
        from robot_api.render import GifRecorder

        command = " ".join(command.split())
        if not command:
            raise CapError("type a command for the robot", hint="e.g. put the red block on the blue bowl")
        with self.lock:
            before = set(self.stack.library.names())
            self._count += 1
            rec = GifRecorder(self.session.sim, marker=self.session.tracker.current, title=command)
            try:
                with rec:
                    ep = run_command(self.session, self.stack, command)
            except Exception as exc:  # an infrastructure failure (LLM endpoint down, ...): shown, not fatal
                ep = Episode(None, None, command, "error", None, error=f"{type(exc).__name__}: {exc}")
            self.session.sim.stop()
            functions = {
                n: self.stack.library.get(n).source for n in self.stack.library.names() if n not in before
            }
            animation = None
            if len(rec.frames) > 2:  # more than the first and last frame: the robot moved
                animation = rec.save(
                    self.out_dir / f"{self._count:03d}-motion.gif",
                    lambda mark: self.session.describe(ep.code, mark),
                )
            executed = self._executed(ep.code)
            self.history.append(HistoryEntry(command, ep.status, ep.task_success, tuple(functions)))
            return CommandResult(ep, functions, self._picture(ep), animation, executed)

    def _executed(self, code: str) -> list[str]:
        lines, seen = [], set()
        for line in self.session.tracker.history:
            where = self.session.describe(code, _mark(line))
            if where and where not in seen:
                seen.add(where)
                lines.append(where.split("\n")[0])
        return lines

    def _picture(self, ep: Episode | None) -> Path:
        from robot_api.render import Caption, save_png

        if ep is None:
            task, seed = self.session.task, self.session.instance
            caption = Caption(
                command=self.task_command and f"(this task's command) {self.task_command}",
                task=task.name if task else None,
                seed=seed.seed if seed else None,
            )
        else:
            caption = Caption.of_episode(ep)
        self._count += ep is None
        return save_png(self.session.sim, self.out_dir / f"{self._count:03d}-scene.png", caption=caption)

    # -- downloads -----------------------------------------------------------------------------------
    def transcript(self) -> Path | None:
        """A copy of the transcript so far (every LLM call of this server), or None when none is kept."""
        writer = self.client.transcript
        if writer is None:
            return None
        source = Path(getattr(writer, "path", ""))
        if not source.is_file():
            return None
        out = self.out_dir / "transcript.jsonl"
        shutil.copyfile(source, out)
        return out

    def functions_file(self) -> Path:
        path = self.out_dir / "functions.py"
        self.stack.library.save(path)
        return path


def _mark(line: int):
    from cap.policy_trace import Mark

    return Mark(line, line)
