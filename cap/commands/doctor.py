"""`cap doctor`: which sandbox isolation layers work on this machine (each one tried, not assumed), and which
optional parts are installed.

Generated code never runs without an OS isolation layer (Landlock or seccomp) unless you opt in with
CAP_ALLOW_UNISOLATED=1; this command says which layers you have and why one is missing. Exit code 0 when the
sandbox is isolated and works, 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from typing import Any

from cap.robot_options import add_robot_arguments, robot_doctor


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_robot_arguments(parser, dry_run=False)  # --robot URL: check a ROS robot instead


def run(args: argparse.Namespace) -> int:
    if args.robot:
        return robot_doctor(args)
    from sandbox import LAYERS, isolation_report

    report: dict[str, Any] = isolation_report()
    report["allow_unisolated"] = os.environ.get("CAP_ALLOW_UNISOLATED") == "1"
    report["optional"] = {
        m: importlib.util.find_spec(m) is not None
        for m in ("pybullet", "RestrictedPython", "smolagents", "roslibpy")
    }
    works = bool(report["verified"]) and not report["problems"]
    report["works"] = works
    if args.json:
        print(json.dumps(report))
    else:
        abi = report["landlock_abi"]
        print(f"python {report['python']}, kernel {report['kernel']}, landlock ABI {abi or 'none'}")
        for name, what in LAYERS.items():
            active = report["layers"].get(name)
            checked = report["verified"].get(name, active)
            mark = "active" if active and checked else "NOT AVAILABLE"
            print(f"  {name:15} {mark:14} {what}")
        for problem in report["problems"]:
            print(f"  problem: {problem}")
        if report.get("isolated"):
            print("sandbox is isolated and works")
        else:
            print(
                "no OS isolation layer works here: generated code will not run unless CAP_ALLOW_UNISOLATED=1 "
                "is set (then only the process and rlimits layers protect you)"
            )
        missing = [m for m, ok in report["optional"].items() if not ok]
        if missing:
            print(f"optional, not installed: {', '.join(missing)}")
    return 0 if works and report.get("isolated") else 1
