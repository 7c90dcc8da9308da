"""What a rosbridge robot offers, against what the config expects: `cap doctor --robot ros://HOST:PORT`.

Connects, asks rosapi for topics, services and action servers, waits briefly for joint states, the tool pose
and detections, and reports each as found or missing (with the name the config looked for), so a lab sees
at once which key of its robot config to change.
"""

from __future__ import annotations

import time
from typing import Any

from robot_api.ros.bridge import RobotError
from robot_api.ros.config import RosConfig

WAIT = 3.0


def _check(what: str, name: str, ok: bool, detail: str = "") -> dict[str, Any]:
    return {"what": what, "name": name, "ok": bool(ok), "detail": detail}


def check_robot(url: str, config: RosConfig) -> dict[str, Any]:
    from robot_api.ros import connect

    report: dict[str, Any] = {"url": url, "connected": False, "checks": [], "problems": [], "works": False}
    started = time.monotonic()
    try:
        arm = connect(url, config)
    except RobotError as exc:
        report["problems"].append(str(exc))
        return report
    try:
        report["connected"] = True
        report["connect_seconds"] = round(time.monotonic() - started, 3)
        checks = report["checks"]
        listing = {}
        for key, service in (
            ("topics", "/rosapi/topics"),
            ("services", "/rosapi/services"),
            ("action_servers", "/rosapi/action_servers"),
        ):
            try:
                listing[key] = list(arm.bridge.call_service(service, {}, WAIT).get(key, []))
            except RobotError as exc:
                report["problems"].append(
                    f"{service}: {exc} (is rosapi running? rosbridge's launch file starts it)"
                )
        report.update(listing)
        m, g, s = config.motion, config.gripper, config.stop
        if m.interface == "moveit":
            checks.append(_listed("motion action", m.action, listing.get("action_servers")))
        else:
            checks.append(_listed("pose service", m.service, listing.get("services")))
        checks.append(_listed("gripper action", g.action, listing.get("action_servers")))
        checks.append(_listed("stop topic", s.topic, listing.get("topics")))
        robot, perception = arm.robot, arm.perception
        for what, name, probe in (
            ("joint states", config.state.joint_states, lambda: f"{len(robot.joint_state())} joints"),
            (
                "tool pose",
                f"{config.frames.table} -> {config.frames.end_effector}"
                if config.state.ee_pose_source == "tf"
                else config.state.ee_pose_topic,
                lambda: "at " + ", ".join(f"{v:.3f}" for v in robot.ee_pose()[0]),
            ),
            ("detections", config.perception.detections, lambda: _objects(perception)),
        ):
            try:
                checks.append(_check(what, name, True, probe()))
            except (RobotError, KeyError, ValueError) as exc:
                checks.append(_check(what, name, False, str(exc)))
        if arm.bridge.malformed:
            report["problems"].append(
                f"{arm.bridge.malformed} malformed or unhandled messages were dropped (last: {arm.bridge.last_malformed})"
            )
        report["works"] = all(c["ok"] for c in checks)
    finally:
        arm.close()
    return report


def _listed(what: str, name: str, names: list[str] | None) -> dict[str, Any]:
    if names is None:
        return _check(what, name, False, "unknown: rosapi did not answer")
    ok = name in names or name.lstrip("/") in (n.lstrip("/") for n in names)
    return _check(what, name, ok, "" if ok else f"not among {len(names)} listed")


def _objects(perception: Any) -> str:
    names = perception.object_names()
    return f"{len(names)} objects: {', '.join(names)}" if names else "no objects"
