"""Run a policy file in the sandbox's policy profile, against a task's scene (--task) or alone with only `say`.

Exits 0 only when the policy ran to the end (status ok). The task's parameters are available to the policy
as the dict `task`, and the command text as `command`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cap.errors import CapError
from cap.output import print_json, show_episode
from cap.robot_options import add_robot_arguments, exec_on_robot

POLICY_MODULES = ("numpy", "shapely", "math")  # what a policy may import (same as cap.evals.tabletop)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", metavar="POLICY.py", help="the policy file to run")
    parser.add_argument("--task", help="build this task's scene and check success (see `cap tasks`)")
    parser.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    parser.add_argument("--png", metavar="OUT.png", help="write a picture of the final scene")
    parser.add_argument("--gif", metavar="OUT.gif", help="write an animation of the episode")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="wall-clock limit in seconds (default 120)"
    )
    parser.add_argument("--gui", action="store_true", help="show the PyBullet window (needs a display)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the pinned shape)")
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
    for out in (args.png, args.gif):
        if out and not Path(out).resolve().parent.is_dir():
            raise CapError(f"cannot write {out}: its folder does not exist")
    if args.robot:
        ep = exec_on_robot(code, args)
    elif args.task:
        ep = _run_on_task(code, args)
    else:
        if args.png or args.gif:
            raise CapError("--png and --gif need a scene", hint="add --task NAME (see `cap tasks`)")
        ep = _run_alone(code, args.timeout)
    if args.json:
        print_json(ep.pinned())
    else:
        show_episode(ep)
    return 0 if ep.status == "ok" else 1


def _run_on_task(code: str, args: argparse.Namespace):
    from cap.evals.tabletop import TabletopSession
    from robot_api.render import GifRecorder, save_png
    from robot_api.tasks import get_task

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
    with TabletopSession(timeout=args.timeout, gui=args.gui) as session:
        inst = session.setup(args.task, args.seed)
        inputs = {"task": dict(inst.attributes), "command": inst.command}
        if args.gif:
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
    return ep


def _run_alone(code: str, timeout: float):
    from cap.episode import Episode
    from sandbox import Sandbox

    said: list[str] = []
    started = time.perf_counter()
    api = {"say": lambda msg: said.append(str(msg))}
    with Sandbox(api=api, modules=POLICY_MODULES, timeout=timeout, profile="policy") as sb:
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
