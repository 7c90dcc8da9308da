"""Report which sandbox isolation layers work on this machine, and which optional parts are present.

Generated code never runs without an OS isolation layer unless you opt in with CAP_ALLOW_UNISOLATED=1.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from sandbox import Sandbox, SandboxUnavailable

    report: dict = {"python": platform.python_version(), "kernel": platform.release()}
    try:
        with Sandbox(allow_unisolated=True) as sb:
            layers = sb.layers
            probe = sb.run("import numpy as np\nret_val = float(np.sum([1, 2]))", return_name="ret_val")
        report["sandbox"] = {"layers": layers, "works": probe.status == "ok" and probe.value == 3.0}
    except SandboxUnavailable as exc:
        report["sandbox"] = {"layers": {}, "works": False, "problem": str(exc)}
    report["isolated"] = bool(
        report["sandbox"]["layers"].get("landlock") or report["sandbox"]["layers"].get("seccomp")
    )
    report["optional"] = {
        m: importlib.util.find_spec(m) is not None for m in ("pybullet", "RestrictedPython", "smolagents")
    }
    if args.json:
        print(json.dumps(report))
    else:
        layers = report["sandbox"]["layers"]
        print(f"python {report['python']}, kernel {report['kernel']}")
        for name in ("process", "rlimits", "landlock", "seccomp"):
            mark = "active" if layers.get(name) else "NOT AVAILABLE"
            print(f"  {name:9} {mark}")
        if layers.get("landlock_error"):
            print(f"  landlock problem: {layers['landlock_error']}")
        print("sandbox works" if report["sandbox"]["works"] else "sandbox does NOT work")
        if not report["isolated"]:
            print("no OS isolation layer: generated code will not run unless CAP_ALLOW_UNISOLATED=1 is set")
    return 0 if report["sandbox"]["works"] and report["isolated"] else 1
