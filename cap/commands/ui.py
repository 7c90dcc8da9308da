"""A browser UI: pick a task's scene (or name the objects of a free one), type commands, watch the robot.

Each command goes the way `cap repl` sends it (tabletop_ui LMP with the session's history, hierarchical
function generation, the sandbox, PyBullet); the page shows the generated code and each generated function,
the motion as an animation (with the policy line being executed), the task check, what the robot said, and
offers the transcript and the functions for download. One scene per server: commands from several tabs
take turns on it.

Listens on 127.0.0.1 only unless --host says otherwise (anyone who reaches the page can make the robot act
and spend model calls). Needs the `ui` extra: pip install 'cap[ui]'.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cap.commands.run import add_stack_arguments, build_stack
from cap.errors import CapError
from cap.llm_options import add_llm_arguments, build_client
from cap.output import err


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="stack-blocks", help="the scene to open on (default stack-blocks)")
    parser.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860; 0 picks a free one)")
    parser.add_argument(
        "--out",
        default=str(Path.home() / ".cache" / "cap" / "ui"),
        help="where pictures, animations and the transcript of this session go",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="wall-clock limit per command on the policy's own time; API calls not counted (default 120)",
    )
    add_stack_arguments(parser)
    add_llm_arguments(parser, local_api="completions")


def run(args: argparse.Namespace) -> int:
    from robot_api.tasks import get_task

    try:
        get_task(args.task)
    except KeyError as exc:
        raise CapError(str(exc.args[0])) from None
    import importlib.util
    import os

    if importlib.util.find_spec("gradio") is None:
        raise CapError("cap ui needs Gradio", hint="pip install 'cap[ui]'")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no usage reports, no version check
    out = Path(args.out) / time.strftime("%Y%m%d-%H%M%S")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CapError(
            f"cannot write to {out}: {exc.strerror or exc}", hint="pass a writable --out DIR"
        ) from None
    if not args.transcript:  # the UI always records, so the page can offer the transcript
        args.transcript = str(out / "session.jsonl")
    client = build_client(args)
    stack = build_stack(args, client)
    from cap.ui.app import build_app
    from cap.ui.session import UISession

    source = f"the transcript {args.replay} (replayed)" if args.replay else f"model {client.model}"
    ui = UISession(client, stack, out, timeout=args.timeout)
    try:
        app = build_app(ui, source, args.task, args.seed)
        app.queue(default_concurrency_limit=1)
        try:
            _, url, _ = app.launch(
                server_name=args.host,
                server_port=args.port or _free_port(args.host),
                prevent_thread_lock=True,
                quiet=True,
                inbrowser=False,
                share=False,
                show_error=True,
                allowed_paths=[str(out)],
                css=_css(),
            )
        except OSError as exc:  # port taken, address not on this machine
            raise CapError(
                f"cannot listen on {args.host}:{args.port}: {exc}",
                hint="pick another --port (0: any free one)",
            ) from None
        err.print(f"cap ui: {url} ({source}); files in {out}. Ctrl-C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            err.print("stopping")
        finally:
            app.close()
    finally:
        ui.close()
        if client.transcript is not None:
            client.transcript.close()
    return 0


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _css() -> str:
    from cap.ui.app import CSS

    return CSS
