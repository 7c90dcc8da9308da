"""A rosbridge v2 protocol server backed by the PyBullet tabletop: the robot the ROS tests drive over the wire.

It speaks the JSON operations of rosbridge_suite's protocol, ROS 2 flavour (what `rosbridge_server` serves on
Humble and later): `advertise`/`unadvertise`, `publish`, `subscribe`/`unsubscribe`, `call_service` ->
`service_response`, `send_action_goal` -> `action_feedback`* + `action_result`, `cancel_action_goal`,
`fragment` (reassembled from clients; sent to clients when `fragment_size` is set) and `status` errors. Not a
mock of cap: it knows nothing of cap's adapter, only the protocol and the message types a MoveIt 2 arm offers:

- action `/move_action` (moveit_msgs/action/MoveGroup): the first position constraint's sphere centre is the
  tool target (frame `world`); velocity scaling / 0.1 is the sim speed. Planning failures answer NO_IK_SOLUTION.
- action `/gripper_controller/gripper_cmd` (control_msgs/action/GripperCommand): position <= 1 mm closes
  (suction model: `stalled` when something is held), anything else opens.
- service `/cap/move_to_pose` ({pose: PoseStamped, speed} -> {success, message}); rosapi `/rosapi/topics`,
  `/rosapi/services`, `/rosapi/action_servers`.
- topics `/joint_states`, `/tf` (panda_link0 -> panda_hand_tcp), `/tf_static` (world -> panda_link0, the base
  turned -90 degrees as in the sim), `/cap/detections` (vision_msgs/Detection3DArray in frame panda_link0), at
  `/cap/ee_pose` (PoseStamped, world) at `rate` Hz; `/trajectory_execution_event` "stop" halts any motion (as MoveIt does).

Faults (`fault=`, hitting the `fault_goal`-th motion goal): "drop" closes the TCP connection mid-motion while the
arm keeps moving until told to stop ("vanish": and the server stops listening, so no stop can arrive); "goal_error" aborts the goal with CONTROL_FAILED; "never_answer" keeps moving
and never answers; "malformed_result" moves, then answers with broken JSON; "malformed" sends garbage frames and
bad detections all along (every motion succeeds).

Run by hand: python tests/ros_server.py --task stack-blocks --seed 0 --port 9090 [--fault F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.server import serve

from robot_api.pb import pybullet as pb
from robot_api.protocols import SafetyError
from robot_api.pybullet_sim import ARM_JOINTS, PyBulletTabletop
from robot_api.scene import ROBOT_BASE
from robot_api.tasks import get_task

FAULTS = ("drop", "vanish", "goal_error", "never_answer", "malformed_result", "malformed")
MOVE_ACTION, GRIPPER_ACTION, POSE_SERVICE = (
    "/move_action",
    "/gripper_controller/gripper_cmd",
    "/cap/move_to_pose",
)
STOP_TOPIC = "/trajectory_execution_event"
TOPICS = {
    "/joint_states": "sensor_msgs/msg/JointState",
    "/tf": "tf2_msgs/msg/TFMessage",
    "/tf_static": "tf2_msgs/msg/TFMessage",
    "/cap/detections": "vision_msgs/msg/Detection3DArray",
    "/cap/ee_pose": "geometry_msgs/msg/PoseStamped",
    STOP_TOPIC: "std_msgs/msg/String",
}
BASE_YAW = -math.pi / 2
HANG_LIMIT = 120.0  # a hung motion gives up by itself after this long (so a broken test cannot hang forever)


class _Aborted(Exception):
    pass


class Client:
    def __init__(self, ws: Any):
        self.ws = ws
        self.subs: dict[str, str] = {}  # topic -> subscription id
        self.fragments: dict[str, dict[int, str]] = {}
        self.goals: dict[str, asyncio.Task] = {}


class SimRobotServer:
    """`start()` returns the port; `close()` ends it. Counters tell tests what happened on the robot side."""

    def __init__(
        self,
        task: str = "stack-blocks",
        seed: int = 0,
        fault: str | None = None,
        fault_goal: int = 2,
        fragment_size: int | None = None,
        rate: float = 20.0,
        port: int = 0,
    ):
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; faults are {FAULTS}")
        self.task, self.seed, self.fault, self.fault_goal = task, seed, fault, fault_goal
        self.fragment_size, self.rate, self.port = fragment_size, rate, port
        self.instance = get_task(task).instance(seed)
        self.moving = False
        self.stops = self.cancels = self.move_goals = self.gripper_goals = self.connections = 0
        self.bad_from_client = 0
        self.errors: list[str] = []
        self.ops: list[str] = []
        self.fragments_sent = 0
        self._abort = threading.Event()
        self._sim_pool = ThreadPoolExecutor(1, thread_name_prefix="sim")
        self.sim: PyBulletTabletop | None = None
        self._clients: set[Client] = set()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._server: Any = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> int:
        self._thread = threading.Thread(target=self._run, daemon=True, name="ros-server")
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the rosbridge test server did not start")
        if self._error:
            raise self._error
        return self.port

    def close(self) -> None:
        if self._loop and self._done:
            self._loop.call_soon_threadsafe(self._done.set)
        if self._thread:
            self._thread.join(10)
        self._abort.set()
        if self.sim is not None:
            self._sim_pool.submit(self.sim.close).result(10)
        self._sim_pool.shutdown()

    def __enter__(self) -> SimRobotServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sim_call(self, fn: Any, *args: Any) -> Any:
        """Run `fn(sim, *args)` on the simulator's thread (tests read the final state with it)."""
        return self._sim_pool.submit(fn, self.sim, *args).result(60)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()

    async def _sim(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._sim_pool, fn, *args)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()

        def build() -> PyBulletTabletop:
            sim = PyBulletTabletop()
            sim.reset(self.instance.objects)
            sim.frame_hook = self._hook
            return sim

        self.sim = await self._sim(build)
        async with serve(self._serve_client, "127.0.0.1", self.port, max_size=2**24) as server:
            self._server = server
            self.port = server.sockets[0].getsockname()[1]
            ticker = asyncio.create_task(self._tick())
            noise = asyncio.create_task(self._noise()) if self.fault == "malformed" else None
            self._ready.set()
            await self._done.wait()
            ticker.cancel()
            if noise:
                noise.cancel()

    def _hook(self) -> None:  # on the sim thread, every few steps of a motion
        if self._abort.is_set():
            raise _Aborted()

    # -- sending ---------------------------------------------------------------------------------------------
    async def _send(self, client: Client, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        try:
            if self.fragment_size and len(text) > self.fragment_size:
                size = self.fragment_size
                chunks = [text[i : i + size] for i in range(0, len(text), size)]
                fid = f"frag:{time.monotonic_ns()}"
                for i, chunk in enumerate(chunks):
                    await client.ws.send(
                        json.dumps(
                            {"op": "fragment", "id": fid, "data": chunk, "num": i, "total": len(chunks)}
                        )
                    )
                self.fragments_sent += 1
            else:
                await client.ws.send(text)
        except websockets.ConnectionClosed:
            pass

    async def _publish(self, topic: str, msg: dict[str, Any]) -> None:
        for client in list(self._clients):
            if topic in client.subs:
                await self._send(client, {"op": "publish", "topic": topic, "msg": msg})

    async def _tick(self) -> None:
        while True:
            try:
                state = await self._sim(self._snapshot)
                for topic, msg in state.items():
                    await self._publish(topic, msg)
            except Exception as exc:  # kept for tests to see; the robot keeps publishing
                self.errors.append(f"tick: {type(exc).__name__}: {exc}")
            await asyncio.sleep(1 / self.rate)

    async def _noise(self) -> None:
        garbage = [
            "{not json",
            '{"op": "publish", "topic": "/cap/detections", "msg": {"detections": "nope"}}',
            "[]",
            '{"op": "action_result", "id": "no-such-goal", "values": {}, "status": 4, "result": true}',
            '{"op": "publish", "topic": "/joint_states", "msg": {"name": ["a"], "position": []}}',
            '{"op": "fragment", "id": "x", "data": 5, "num": 0, "total": 2}',
            '{"op": "no_such_op"}',
            "\u0000\u00ff",
            b"\x00\x01binary",
        ]
        i = 0
        while True:
            for client in list(self._clients):
                try:
                    await client.ws.send(garbage[i % len(garbage)])
                except websockets.ConnectionClosed:
                    pass
            i += 1
            await asyncio.sleep(0.5 / self.rate)

    def _snapshot(self) -> dict[str, Any]:
        sim = self.sim
        assert sim is not None
        stamp = _stamp()
        base_pos, base_q = (
            np.array(ROBOT_BASE, dtype=float),
            np.array(pb.getQuaternionFromEuler((0, 0, BASE_YAW))),
        )
        inv_pos, inv_q = pb.invertTransform(base_pos.tolist(), base_q.tolist())
        ee_pos, ee_q = sim.ee_pose()
        rel_pos, rel_q = pb.multiplyTransforms(inv_pos, inv_q, ee_pos.tolist(), ee_q.tolist())
        detections = []
        for name in sim.object_names():
            box = sim.object_bbox(name)
            center = (box[:3] + box[3:]) / 2
            c_pos, c_q = pb.multiplyTransforms(inv_pos, inv_q, center.tolist(), (0, 0, 0, 1))
            size = box[3:] - box[:3]
            detections.append(
                {
                    "header": {"stamp": stamp, "frame_id": "panda_link0"},
                    "results": [{"hypothesis": {"class_id": name, "score": 1.0}, "pose": {}}],
                    "bbox": {"center": {"position": _xyz(c_pos), "orientation": _q(c_q)}, "size": _xyz(size)},
                    "id": name,
                }
            )
        joints = sim.joint_state()
        return {
            "/tf_static": {"transforms": [_tf("world", "panda_link0", base_pos, base_q, stamp)]},
            "/tf": {"transforms": [_tf("panda_link0", "panda_hand_tcp", rel_pos, rel_q, stamp)]},
            "/joint_states": {
                "header": {"stamp": stamp, "frame_id": ""},
                "name": [f"panda_joint{j + 1}" for j in ARM_JOINTS],
                "position": [float(v) for v in joints],
                "velocity": [],
                "effort": [],
            },
            "/cap/detections": {
                "header": {"stamp": stamp, "frame_id": "panda_link0"},
                "detections": detections,
            },
            "/cap/ee_pose": {
                "header": {"stamp": stamp, "frame_id": "world"},
                "pose": {"position": _xyz(ee_pos), "orientation": _q(ee_q)},
            },
        }

    # -- receiving -------------------------------------------------------------------------------------------
    async def _serve_client(self, ws: Any) -> None:
        client = Client(ws)
        self.connections += 1
        self._clients.add(client)
        try:
            async for raw in ws:
                await self._receive(client, raw)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)

    async def _status(self, client: Client, msg: str, id_: Any = None) -> None:
        await self._send(
            client, {"op": "status", "level": "error", "msg": msg, **({"id": id_} if id_ else {})}
        )

    async def _receive(self, client: Client, raw: Any) -> None:
        try:
            message = json.loads(raw)
            if not isinstance(message, dict) or not isinstance(message.get("op"), str):
                raise ValueError("not a rosbridge operation")
        except (ValueError, TypeError) as exc:
            self.bad_from_client += 1
            await self._status(client, f"malformed message: {exc}")
            return
        op = message["op"]
        self.ops.append(op)
        if op == "fragment":
            await self._fragment(client, message)
        elif op == "advertise" or op == "unadvertise":
            pass
        elif op == "subscribe":
            topic = message.get("topic")
            client.subs[topic] = message.get("id", "")
        elif op == "unsubscribe":
            client.subs.pop(message.get("topic"), None)
        elif op == "publish":
            if message.get("topic") == STOP_TOPIC and (message.get("msg") or {}).get("data") == "stop":
                self.stops += 1
                self._abort.set()
        elif op == "call_service":
            asyncio.create_task(self._service(client, message))
        elif op == "send_action_goal":
            gid = message.get("id")
            client.goals[gid] = asyncio.create_task(self._action(client, message))
        elif op == "cancel_action_goal":
            self.cancels += 1
            if message.get("id") in client.goals or self.moving:
                self._abort.set()
        else:
            await self._status(client, f"unknown operation {op!r}", message.get("id"))

    async def _fragment(self, client: Client, message: dict[str, Any]) -> None:
        fid, data, num, total = (message.get(k) for k in ("id", "data", "num", "total"))
        if not (
            isinstance(data, str) and isinstance(num, int) and isinstance(total, int) and 0 <= num < total
        ):
            self.bad_from_client += 1
            return
        parts = client.fragments.setdefault(fid, {})
        parts[num] = data
        if len(parts) == total:
            del client.fragments[fid]
            await self._receive(client, "".join(parts[i] for i in range(total)))

    # -- services --------------------------------------------------------------------------------------------
    async def _service(self, client: Client, message: dict[str, Any]) -> None:
        name, args = message.get("service"), message.get("args") or {}
        reply = {"op": "service_response", "service": name, "id": message.get("id")}
        if name == "/rosapi/topics":
            values = {"topics": list(TOPICS), "types": list(TOPICS.values())}
        elif name == "/rosapi/services":
            values = {
                "services": ["/rosapi/topics", "/rosapi/services", "/rosapi/action_servers", POSE_SERVICE]
            }
        elif name == "/rosapi/action_servers":
            values = {"action_servers": [MOVE_ACTION, GRIPPER_ACTION]}
        elif name == POSE_SERVICE:
            try:
                target = [float(args["pose"]["pose"]["position"][k]) for k in "xyz"]
                speed = float(args.get("speed", 1.0))
            except (KeyError, TypeError, ValueError) as exc:
                await self._send(client, {**reply, "values": f"bad request: {exc}", "result": False})
                return
            code = await self._move(target, speed)
            values = {"success": code == 1, "message": "" if code == 1 else f"error code {code}"}
        else:
            await self._send(client, {**reply, "values": f"Service {name} does not exist", "result": False})
            return
        await self._send(client, {**reply, "values": values, "result": True})

    # -- actions ---------------------------------------------------------------------------------------------
    async def _action(self, client: Client, message: dict[str, Any]) -> None:
        name, gid, goal = message.get("action"), message.get("id"), message.get("args") or {}
        try:
            if name == MOVE_ACTION:
                await self._move_goal(client, gid, goal)
            elif name == GRIPPER_ACTION:
                await self._gripper_goal(client, gid, goal)
            else:
                await self._status(client, f"Action {name} does not exist", gid)
        finally:
            client.goals.pop(gid, None)

    async def _result(
        self, client: Client, gid: str, action: str, values: dict[str, Any], status: int
    ) -> None:
        await self._send(
            client,
            {
                "op": "action_result",
                "id": gid,
                "action": action,
                "values": values,
                "status": status,
                "result": status == 4,
            },
        )

    async def _move_goal(self, client: Client, gid: str, goal: dict[str, Any]) -> None:
        try:
            request = goal["request"]
            constraint = request["goal_constraints"][0]["position_constraints"][0]
            if constraint["header"]["frame_id"].lstrip("/") != "world":
                await self._result(client, gid, MOVE_ACTION, {"error_code": {"val": -21}}, 6)
                return
            position = constraint["constraint_region"]["primitive_poses"][0]["position"]
            target = [float(position[k]) for k in "xyz"]
            speed = float(request.get("max_velocity_scaling_factor", 0.1)) / 0.1
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            await self._result(
                client, gid, MOVE_ACTION, {"error_code": {"val": -16}}, 6
            )  # INVALID_GOAL_CONSTRAINTS
            return
        self.move_goals += 1
        await self._send(
            client,
            {"op": "action_feedback", "id": gid, "action": MOVE_ACTION, "values": {"state": "PLANNING"}},
        )
        fault = self.fault if self.move_goals == self.fault_goal else None
        if fault in ("drop", "vanish", "never_answer"):
            await self._hang(client if fault != "never_answer" else None, vanish=fault == "vanish")
            return
        if fault == "goal_error":
            await self._result(client, gid, MOVE_ACTION, {"error_code": {"val": -4}}, 6)
            return
        code = await self._move(target, speed)
        if code == "aborted":
            await self._result(client, gid, MOVE_ACTION, {"error_code": {"val": -7}}, 5)
            return
        if fault == "malformed_result":
            await client.ws.send('{"op": "action_result", "id": "' + gid + '", "values": {"error_co')
            return
        await self._result(client, gid, MOVE_ACTION, {"error_code": {"val": code}}, 4 if code == 1 else 6)

    async def _hang(self, drop: Client | None, vanish: bool = False) -> None:
        """A motion that goes on until a stop or cancel arrives (optionally cutting the connection first;
        with `vanish` the server stops listening too, so nobody can reconnect)."""
        self._abort.clear()
        self.moving = True
        if drop is not None:
            await asyncio.sleep(0.2)
            if vanish and self._server is not None:
                self._server.close(close_connections=False)
            drop.ws.transport.abort()  # no close handshake: the cable was pulled
        started = time.monotonic()
        while not self._abort.is_set() and time.monotonic() - started < HANG_LIMIT:
            await asyncio.sleep(0.02)
        self.moving = False

    async def _move(self, target: list[float], speed: float) -> Any:
        """1 on success, -31 (NO_IK_SOLUTION) for a refused target, "aborted" when stopped midway."""
        assert self.sim is not None
        self._abort.clear()
        self.moving = True
        try:
            await self._sim(self.sim.move_to, target, max(speed, 0.1))
            return 1
        except SafetyError:
            return -31
        except _Aborted:
            return "aborted"
        finally:
            self.moving = False

    async def _gripper_goal(self, client: Client, gid: str, goal: dict[str, Any]) -> None:
        assert self.sim is not None
        self.gripper_goals += 1
        self._abort.clear()
        try:
            position = float(goal["command"]["position"])
        except (KeyError, TypeError, ValueError):
            await self._result(client, gid, GRIPPER_ACTION, {}, 6)
            return
        if position <= 0.001:
            held = await self._sim(self.sim.gripper_close)
            values = {
                "position": 0.02 if held else 0.0,
                "effort": 10.0,
                "stalled": bool(held),
                "reached_goal": not held,
            }
        else:
            await self._sim(self.sim.gripper_open)
            values = {"position": position, "effort": 0.0, "stalled": False, "reached_goal": True}
        await self._result(client, gid, GRIPPER_ACTION, values, 4)


def _stamp() -> dict[str, int]:
    t = time.time()
    return {"sec": int(t), "nanosec": int((t % 1) * 1e9)}


def _xyz(v: Any) -> dict[str, float]:
    return {"x": float(v[0]), "y": float(v[1]), "z": float(v[2])}


def _q(q: Any) -> dict[str, float]:
    return {"x": float(q[0]), "y": float(q[1]), "z": float(q[2]), "w": float(q[3])}


def _tf(parent: str, child: str, pos: Any, q: Any, stamp: dict[str, int]) -> dict[str, Any]:
    return {
        "header": {"stamp": stamp, "frame_id": parent},
        "child_frame_id": child,
        "transform": {"translation": _xyz(pos), "rotation": _q(q)},
    }


def write_config(path: Any, **sections: dict[str, Any]) -> str:
    """A robot config (TOML) for tests: generous waits (the machine is busy) unless a test overrides them."""
    base: dict[str, dict[str, Any]] = {
        "safety": {"goal_timeout": 60.0, "connect_timeout": 20.0, "reconnect_timeout": 20.0},
        "perception": {"fresh_timeout": 20.0},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    lines = []
    for name, values in base.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    from pathlib import Path

    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="stack-blocks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--fault", choices=FAULTS)
    parser.add_argument("--fault-goal", type=int, default=2)
    parser.add_argument("--fragment-size", type=int)
    args = parser.parse_args()
    server = SimRobotServer(
        args.task, args.seed, args.fault, args.fault_goal, args.fragment_size, port=args.port
    )
    port = server.start()
    print(f"rosbridge test server on ws://127.0.0.1:{port} ({args.task}, seed {args.seed})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
