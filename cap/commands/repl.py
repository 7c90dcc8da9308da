"""Type natural-language commands, one after another, against a live simulation.

Each command goes through the tabletop_ui LMP (which remembers the commands that worked, as in the original
Code as Policies session, and keeps the variables they assigned: "draw a triangle" then "make it smaller"
works), hierarchical function generation and the sandbox; the code, the generated functions and the result are
shown. `--blocks`/`--bowls` start in a free scene instead of a task's; `:debug on` shows code without running
it. Ctrl-C stops a running policy (the robot stops) and returns to the prompt; Ctrl-D or :quit leaves. Type
:help for the colon commands.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from cap.commands.run import add_stack_arguments, build_stack
from cap.errors import CapError
from cap.llm_options import add_llm_arguments, build_client
from cap.output import err, show_code, show_episode
from cap.robot_options import add_robot_arguments, open_session
from cap.scene_options import add_scene_arguments, free_scene_from_args, use_free_scene

HELP = """commands:
  <anything else>      a command for the robot, e.g. "put the red block on the blue bowl"
  :help                this help
  :code                the last program that ran
  :functions           the generated functions of this session
  :vars                the variables carried from earlier commands to the next one
  :debug on|off        on: generate and show the code of each command, run nothing (the original's debug_mode)
  :reset               a fresh scene (same task or free scene, same seed), history and variables
  :task NAME [SEED]    switch to another task's scene (see `cap tasks`)
  :scene BLOCKS [BOWLS]
                       a free scene, e.g. ":scene red,blue green" or ":scene 3 2" (colors or counts)
  :png FILE            write a picture of the scene
  :save PREFIX         write PREFIX.jsonl (transcript of every LLM call) and PREFIX_functions.py
  :quit                leave (Ctrl-D works too)"""


DEFAULT_TASK = "stack-blocks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help=f"the scene to start in (default {DEFAULT_TASK})")
    parser.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    add_scene_arguments(parser)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="wall-clock limit per command (default 120)"
    )
    parser.add_argument(
        "--cpu-seconds",
        type=float,
        default=5.0,
        help="CPU seconds the policy code itself may use (default 5; robot motion does not count)",
    )
    parser.add_argument(
        "--history",
        default=str(Path.home() / ".cache" / "cap" / "repl_history"),
        help="file that keeps typed lines across sessions",
    )
    add_stack_arguments(parser)
    add_llm_arguments(parser, local_api="completions")
    add_robot_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from robot_api.tasks import get_task

    scene = free_scene_from_args(args)  # an explicit --task conflicts with --blocks/--bowls
    args.task = args.task or DEFAULT_TASK
    try:
        get_task(args.task)
    except KeyError as exc:
        raise CapError(str(exc.args[0])) from None
    if not args.transcript:  # the REPL always records, so :save has something to save
        args.transcript = str(Path.home() / ".cache" / "cap" / f"repl-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    client = build_client(args)
    stack = build_stack(args, client)
    _setup_readline(args.history)
    try:
        return Repl(args, client, stack, scene).loop()
    finally:
        _save_readline(args.history)
        if client.transcript is not None:
            client.transcript.close()


class Repl:
    def __init__(self, args: argparse.Namespace, client, stack, scene=None):
        self.args, self.client, self.stack = args, client, stack
        self.session = open_session(args, extra_api=stack.nested_functions())
        stack.bind(self.session.sandbox.run)
        self.task, self.seed = args.task, args.seed
        self.scene = scene  # a free scene replaces the task's scene until :task
        self.debug = False
        self.last_code = ""
        self._new_scene()

    def _new_scene(self) -> None:
        if self.scene is not None:
            names = use_free_scene(self.session, self.scene)
            err.print(
                f"scene: free (seed {self.seed}, no task to check); objects: {', '.join(names) or 'none'}"
            )
            return
        inst = self.session.setup(self.task, self.seed)
        err.print(
            f"scene: task [bold]{self.task}[/bold], seed {self.seed}; objects: {', '.join(self.session.api.get_obj_names())}"
        )
        err.print(f'this task\'s command: "{inst.command}"')

    def loop(self) -> int:
        source = f"replaying {self.args.replay}" if self.args.replay else f"model {self.client.model}"
        err.print(f"cap repl ({source}). Type a command, or :help.")
        try:
            while True:
                try:
                    line = input("cap> ").strip()
                except KeyboardInterrupt:
                    print()
                    continue
                except EOFError:
                    print()
                    return 0
                if not line:
                    continue
                if line.startswith(":"):
                    if self.colon(line) == "quit":
                        return 0
                else:
                    self.command(line)
        finally:
            self.session.close()

    def command(self, text: str) -> None:
        from cap.generate_only import generate_command
        from cap.llm_episode import run_command

        try:
            if self.debug:
                ep = generate_command(self.session, self.stack, text)
            else:
                ep = run_command(self.session, self.stack, text)
        except KeyboardInterrupt:
            self.session.sim.stop()
            err.print("[yellow]stopped: the policy was interrupted and the robot holds still[/yellow]")
            return
        except Exception as exc:  # the REPL never dies of one bad command
            err.print(f"[red]error:[/red] {exc}")
            return
        from cap.llm_episode import attempt_lines

        for line in attempt_lines(ep):
            err.print(line, markup=False)
        if ep.code:
            self.last_code = ep.code
            show_code(ep.code, title="generated code")
        for name in ep.functions:
            fn = self.stack.library.get(name)
            if fn is not None:
                show_code(fn.source, title=f"generated function {name}")
        show_episode(ep)

    def colon(self, line: str) -> str | None:
        cmd, *rest = line[1:].split()
        if cmd in ("q", "quit", "exit"):
            return "quit"
        if cmd == "help":
            print(HELP)
        elif cmd == "code":
            show_code(self.last_code) if self.last_code else err.print("no program has run yet")
        elif cmd == "functions":
            names = self.stack.library.names()
            if not names:
                err.print("no functions generated yet")
            for name in names:
                show_code(self.stack.library.get(name).source, title=name)
        elif cmd == "vars":
            values = self.stack.session_vars.inputs()
            if not values:
                err.print("no variables carried yet")
            for name, value in values.items():
                err.print(f"{name} = {_short(value)}")
        elif cmd == "debug":
            if rest not in (["on"], ["off"]):
                err.print(f"usage: :debug on|off (now {'on' if self.debug else 'off'})")
                return None
            self.debug = rest == ["on"]
            err.print("debug on: commands are generated and shown, not run" if self.debug else "debug off")
        elif cmd == "reset":
            self.stack.clear_session()
            self._new_scene()
        elif cmd == "task":
            if not rest:
                err.print("usage: :task NAME [SEED]")
                return None
            from robot_api.tasks import get_task

            try:
                get_task(rest[0])
                seed = int(rest[1]) if len(rest) > 1 else 0
            except (KeyError, ValueError) as exc:
                err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
                return None
            self.task, self.seed, self.scene = rest[0], seed, None
            self.stack.clear_session()
            self._new_scene()
        elif cmd == "scene":
            if not rest or len(rest) > 2:
                err.print("usage: :scene BLOCKS [BOWLS]  (colors like red,blue, or counts like 3)")
                return None
            spec = argparse.Namespace(blocks=rest[0], bowls=rest[1] if len(rest) > 1 else "0", seed=self.seed)
            try:
                scene = free_scene_from_args(spec)
                scene.objects()  # fails here, before anything changes, when they cannot be placed
            except CapError as exc:
                err.print(f"[red]error:[/red] {exc}" + (f"\nhint: {exc.hint}" if exc.hint else ""))
                return None
            self.scene = scene
            self.stack.clear_session()
            self._new_scene()
        elif cmd == "png":
            if not rest:
                err.print("usage: :png FILE")
                return None
            from robot_api.render import save_png

            err.print(f"wrote {save_png(self.session.sim, rest[0])}")
        elif cmd == "save":
            if not rest:
                err.print("usage: :save PREFIX")
                return None
            self._save(rest[0])
        else:
            err.print(f"unknown command :{cmd}; type :help")
        return None

    def _save(self, prefix: str) -> None:
        transcript = Path(self.args.transcript)
        try:
            Path(prefix).parent.mkdir(parents=True, exist_ok=True)
            if transcript.exists():
                shutil.copyfile(transcript, f"{prefix}.jsonl")
            self.stack.library.save(f"{prefix}_functions.py")
        except OSError as exc:
            err.print(f"[red]error:[/red] cannot save: {exc.strerror or exc}")
            return
        err.print(f"wrote {prefix}.jsonl and {prefix}_functions.py")


def _short(value: object, limit: int = 120) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _setup_readline(path: str) -> None:
    try:
        import readline
    except ImportError:  # not on every platform; the REPL works without history
        return
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)


def _save_readline(path: str) -> None:
    try:
        import readline

        os.makedirs(os.path.dirname(path), exist_ok=True)
        readline.write_history_file(path)
    except (ImportError, OSError):
        pass
