"""`--robot ros://HOST:PORT`, `--robot-config FILE` and `--no-dry-run` for `cap run`, `cap exec`, `cap repl`
(and `cap doctor --robot`), converted here, at the edge, into the session the command drives.

Without `--robot` the commands use the simulated tabletop exactly as before.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from cap.errors import CapError


def add_robot_arguments(parser: argparse.ArgumentParser, dry_run: bool = True) -> None:
    group = parser.add_argument_group("real robot (ROS 2 through rosbridge; pip install 'cap[ros]')")
    group.add_argument(
        "--robot",
        metavar="ros://HOST:PORT",
        help="drive a real robot through rosbridge_server instead of the simulation (port default 9090)",
    )
    group.add_argument(
        "--robot-config",
        metavar="FILE",
        help="TOML/JSON with the robot's topic, action and frame names and cap's safety limits "
        "(defaults: python -m robot_api.ros.config)",
    )
    if dry_run:
        group.add_argument(
            "--no-dry-run",
            action="store_true",
            help="skip the rehearsal on a PyBullet twin of the perceived scene before the robot moves "
            "(by default nothing moves unless the twin run ends ok)",
        )


def _robot_config(args: argparse.Namespace) -> Any:
    from robot_api.ros.config import ConfigError, load_config

    try:
        return load_config(getattr(args, "robot_config", None))
    except ConfigError as exc:
        raise CapError(str(exc), hint="print the defaults with: python -m robot_api.ros.config") from None


def _connect_error(url: str, exc: Exception) -> CapError:
    return CapError(str(exc), hint=f"check the robot with: cap doctor --robot {url}")


def open_session(
    args: argparse.Namespace,
    extra_api: Mapping[str, Callable[..., Any]] | None = None,
    gui: bool = False,
    on_say: Callable[[str], None] | None = None,
    tracing: bool = False,
):
    """The session a command runs episodes in: the PyBullet tabletop, or the robot named by --robot.
    `tracing`: the simulator's session reports the policy line running (for the GIF's caption strip)."""
    url = getattr(args, "robot", None)
    if not url:
        from cap.evals.tabletop import TabletopSession
        from cap.policy_trace import TracingSession

        cls = TracingSession if tracing else TabletopSession
        cpu = getattr(args, "cpu_seconds", None)
        return cls(extra_api=extra_api, timeout=args.timeout, gui=gui, on_say=on_say, cpu_seconds=cpu)
    if gui or getattr(args, "gif", None):
        raise CapError(
            "--gui and --gif show the simulation; with --robot there is none to show", hint="drop them"
        )
    from robot_api.ros import RobotError, parse_url

    try:
        parse_url(url)
    except ValueError as exc:
        raise CapError(str(exc), hint="e.g. --robot ros://192.168.1.10:9090") from None
    config = _robot_config(args)
    try:
        from cap.robot_session import RosSession

        return RosSession(
            url,
            config,
            extra_api=extra_api,
            timeout=args.timeout,
            on_say=on_say,
            dry_run=not getattr(args, "no_dry_run", False),
        )
    except RobotError as exc:
        raise _connect_error(url, exc) from None


def exec_on_robot(code: str, args: argparse.Namespace):
    """`cap exec POLICY.py --robot URL [--task T]`: the policy on the robot (dry-run first), checked if --task."""
    from robot_api.tasks import get_task

    with open_session(args, gui=getattr(args, "gui", False)) as session:
        inputs: dict[str, Any] = {}
        if args.task:
            try:
                get_task(args.task)
            except KeyError as exc:
                raise CapError(str(exc.args[0])) from None
            inst = session.setup(args.task, args.seed)
            inputs = {"task": dict(inst.attributes), "command": inst.command}
        ep = session.episode(code, inputs)
        if getattr(args, "png", None):
            _save_png(session, args.png)
    return ep


def _save_png(session: Any, path: str) -> None:
    from robot_api.render import save_png

    twin = session.sim
    try:
        save_png(twin, path)
    except OSError as exc:
        raise CapError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        twin.close()


def robot_doctor(args: argparse.Namespace) -> int:
    """`cap doctor --robot URL`: connect, list what the robot offers, say what the config expects and misses."""
    import json

    from robot_api.ros import parse_url
    from robot_api.ros.doctor import check_robot

    try:
        parse_url(args.robot)
    except ValueError as exc:
        raise CapError(str(exc), hint="e.g. --robot ros://192.168.1.10:9090") from None
    report = check_robot(args.robot, _robot_config(args))
    if args.json:
        print(json.dumps(report))
    else:
        print(f"rosbridge at {report['url']}: {'connected' if report['connected'] else 'NOT CONNECTED'}")
        for key in ("topics", "services", "action_servers"):
            if key in report:
                names = report[key]
                print(f"  found {len(names)} {key.replace('_', ' ')}: {', '.join(names)}")
        for item in report["checks"]:
            mark = "ok     " if item["ok"] else "MISSING"
            print(f"  {mark} {item['what']:34} {item['name']:40} {item['detail']}")
        for problem in report["problems"]:
            print(f"  problem: {problem}")
        print("robot is ready for cap" if report["works"] else "robot is NOT ready for cap")
    return 0 if report["works"] else 1
