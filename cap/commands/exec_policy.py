"""Run a policy file in the sandbox's policy profile: against a task's scene (--task), a free scene (--blocks,
--bowls), or alone with only `say`.

Every program starts with the original Code as Policies globals already bound: `np`, and the names of
`shapely.geometry` and `shapely.affinity` (see `cap.policy_globals`). In a scene, the whole tabletop API is
there; `--functions FILE` adds the definitions of a saved function library (e.g. from `cap run
--save-functions`); with `--model M` or `--replay FILE`, the nested LMPs (`parse_obj_name`, `parse_position`,
`parse_question`, `transform_shape_pts`) answer from that model or transcript, as inside `cap run`, and the
functions the policy calls that nobody defined are generated (fgen) and reported in `functions`.

Exits 0 only when the policy ran to the end (status ok). With --task, the task's parameters are available to
the policy as the dict `task`, and the command text as `command`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from cap.errors import CapError
from cap.llm_options import add_llm_arguments, build_client
from cap.output import print_json, show_episode
from cap.robot_options import add_robot_arguments, exec_on_robot
from cap.scene_options import FreeScene, add_scene_arguments, free_scene_from_args, use_free_scene

POLICY_MODULES = ("numpy", "shapely", "math")  # what a policy may import (same as cap.evals.tabletop)
NESTED_LMPS = ("parse_obj_name", "parse_position", "parse_question", "transform_shape_pts")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", metavar="POLICY.py", help="the policy file to run")
    parser.add_argument("--task", help="build this task's scene and check success (see `cap tasks`)")
    parser.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    add_scene_arguments(parser)
    parser.add_argument(
        "--functions", metavar="FILE", help="define the functions of this file (a saved library) first"
    )
    parser.add_argument("--png", metavar="OUT.png", help="write a picture of the final scene")
    parser.add_argument("--gif", metavar="OUT.gif", help="write an animation of the episode")
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="wall-clock limit in seconds on the policy's own time; time in API calls (the robot moving, nested LMPs) is not counted (default 120)",
    )
    parser.add_argument(
        "--cpu-seconds",
        type=float,
        default=5.0,
        help="CPU seconds the policy code itself may use (default 5; robot motion does not count)",
    )
    parser.add_argument("--gui", action="store_true", help="show the PyBullet window (needs a display)")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the pinned shape, plus `said`)"
    )
    add_llm_arguments(parser, local_api="completions")
    parser.epilog = "--model/--replay make the nested LMPs available to the policy; without them, calling one is an error."
    add_robot_arguments(parser)


def run(args: argparse.Namespace) -> int:
    path = Path(args.policy)
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CapError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if args.seed < 0:
        raise CapError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.timeout <= 0:
        raise CapError(f"--timeout must be positive, got {args.timeout}")
    if args.cpu_seconds <= 0:
        raise CapError(f"--cpu-seconds must be positive, got {args.cpu_seconds}")
    for out in (args.png, args.gif):
        if out and not Path(out).resolve().parent.is_dir():
            raise CapError(f"cannot write {out}: its folder does not exist")
    scene = free_scene_from_args(args)
    definitions = _load_functions(args.functions) if args.functions else ""
    wants_model = bool(args.model or args.replay)
    if args.robot:
        ep = exec_on_robot(code, args)
    elif args.task or scene is not None:
        ep = _run_in_scene(code, args, scene, definitions, wants_model)
    else:
        if args.png or args.gif:
            raise CapError(
                "--png and --gif need a scene", hint="add --task NAME (see `cap tasks`) or --blocks/--bowls"
            )
        if wants_model:
            raise CapError(
                "the nested LMPs work on a scene",
                hint="add --task NAME or --blocks/--bowls (e.g. --blocks 3)",
            )
        ep = _run_alone(code, args.timeout, args.cpu_seconds, definitions, args.functions)
    if args.json:
        print_json(ep.pinned())
    else:
        show_episode(ep)
    return 0 if ep.status == "ok" else 1


def _load_functions(path: str) -> str:
    from lmp.library import FunctionLibrary

    try:
        return FunctionLibrary.load(path).source()
    except ValueError as exc:
        raise CapError(str(exc), hint="--functions takes a file of top-level function definitions") from None


def _define(sandbox: Any, definitions: str, path: str | None) -> None:
    if not definitions:
        return
    refused = sandbox.define(definitions)
    if refused.status != "ok":
        raise CapError(f"{path}: the functions cannot run in the policy sandbox: {refused.error}")


def _unavailable(name: str):
    def call(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"{name} is a nested LMP and needs a language model: run cap exec with --model NAME "
            "(and --base-url URL) or --replay FILE"
        )

    return call


def _run_in_scene(
    code: str, args: argparse.Namespace, scene: FreeScene | None, definitions: str, wants_model: bool
):
    from cap.evals.tabletop import TabletopSession
    from robot_api.render import GifRecorder, save_png
    from robot_api.tasks import get_task

    if args.task:
        try:
            get_task(args.task)
        except KeyError as exc:
            raise CapError(str(exc.args[0])) from None
    if args.gui:
        from robot_api.pybullet_sim import check_display

        try:
            check_display()
        except RuntimeError as exc:
            raise CapError(str(exc), hint="drop --gui; use --png/--gif for pictures") from None
    client = stack = None
    if wants_model:
        from cap.policy_stack import PolicyStack
        from lmp.library import FunctionLibrary
        from robot_api.tabletop import TabletopAPI

        client = build_client(args)
        library = FunctionLibrary.load(args.functions) if args.functions else None
        stack = PolicyStack(client, TabletopAPI.describe(), library=library)
        extra = stack.nested_functions()
    else:
        extra = {name: _unavailable(name) for name in NESTED_LMPS}
    try:
        with TabletopSession(
            extra_api=extra, timeout=args.timeout, gui=args.gui, cpu_seconds=args.cpu_seconds
        ) as session:
            if stack is not None:
                stack.bind(session.sandbox.run)
            _define(session.sandbox, definitions, args.functions)
            if args.task:
                inst = session.setup(args.task, args.seed)
                inputs = {"task": dict(inst.attributes), "command": inst.command}
            else:
                use_free_scene(session, scene)
                inputs = {}
            before = set(stack.library.names()) if stack else set()
            failed = _generate_missing(stack, code, session.sandbox) if stack else ""
            if failed:
                ep = _generation_failed(failed, session, code)
            elif args.gif:
                with GifRecorder(session.sim) as rec:
                    ep = session.episode(code, inputs)
                try:
                    rec.save(args.gif)
                except OSError as exc:
                    raise CapError(f"cannot write {args.gif}: {exc.strerror or exc}") from None
            else:
                ep = session.episode(code, inputs)
            try:
                if args.png:
                    save_png(session.sim, args.png)
            except OSError as exc:
                raise CapError(f"cannot write {args.png}: {exc.strerror or exc}") from None
    finally:
        if client is not None and client.transcript is not None:
            client.transcript.close()
    if stack is not None:
        ep.functions = [n for n in stack.library.names() if n not in before]
        ep.llm_calls = client.calls
    return ep


def _generate_missing(stack: Any, code: str, sandbox: Any) -> str:
    """With a model: generate the functions the policy calls that nobody defined (fgen, as `cap run` does)
    and define them in the sandbox. Returns why generation failed, "" when it did not."""
    import ast

    from lmp.lmp import LMPError

    try:
        ast.parse(code)
    except SyntaxError:
        return ""  # the sandbox reports it, with its line
    try:
        made = stack.fgen.resolve(code)
    except LMPError as exc:
        return f"generation failed: {exc}"
    if made:
        _define(sandbox, "\n\n".join(fn.source for fn in made), "generated functions")
    return ""


def _generation_failed(error: str, session: Any, code: str):
    """The episode of a policy that never ran because a function it needs could not be generated."""
    from cap.episode import Episode

    success, reason = session.check() if session.task else (None, "")
    inst = session.instance if session.task else None
    return Episode(
        task=inst.task if inst else None,
        seed=inst.seed if inst else None,
        command=inst.command if inst else "",
        status="error",
        task_success=success,
        reason=reason,
        error=error,
        code=code,
    )


def _run_alone(code: str, timeout: float, cpu_seconds: float, definitions: str, path: str | None):
    from cap.episode import Episode
    from cap.policy_globals import bind_globals
    from sandbox import Sandbox

    said: list[str] = []
    started = time.perf_counter()
    api = {"say": lambda msg: said.append(str(msg))}
    with Sandbox(
        api=api, modules=POLICY_MODULES, timeout=timeout, cpu_seconds=cpu_seconds, profile="policy"
    ) as sb:
        bind_globals(sb)
        _define(sb, definitions, path or "--functions")
        out = sb.run(code)
    return Episode(
        task=None,
        seed=None,
        command="",
        status=out.status,
        task_success=None,
        error=out.error,
        stdout=out.stdout,
        said=said,
        seconds=time.perf_counter() - started,
        code=code,
    )
