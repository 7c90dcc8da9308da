"""The Gradio page of `cap ui`: a layout over `UISession`, nothing more.

Left: the scene (task and seed, or a free scene of named objects) and the session's history. Right: the
command box, the result (status, task check, what the robot said), the motion, the generated code and
functions, and downloads. Every element a test or a user script needs has an `elem_id`.
"""

from __future__ import annotations

import html
import os
from typing import Any

from cap.errors import CapError
from cap.ui.session import FREE_SCENE, CommandResult, UISession

CSS = """
#result .prose p { margin: 0.2em 0; }
#history { font-size: 0.92em; }
footer { display: none !important; }
"""


def build_app(ui: UISession, source: str, task: str, seed: int) -> Any:
    """The `gr.Blocks` page for `ui` (a scene is set up here, so the page opens on one)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from robot_api.tasks import TASKS

    first_picture = ui.new_scene(task, seed)

    def scene_header() -> str:
        name, s = ui.scene
        what = f"task **{name}**, seed {s}" if name != FREE_SCENE else f"a free scene (seed {s})"
        own = f'<br>this task\'s command: "{_text(ui.task_command)}"' if ui.task_command else ""
        return f"{what}; objects: {', '.join(ui.objects())}{own}"

    def history_md() -> str:
        if not ui.history:
            return "_no commands yet in this scene_"
        rows = []
        for i, h in enumerate(ui.history, 1):
            check = "" if h.task_success is None else (" · task ✓" if h.task_success else " · task ✗")
            fns = f" · made {', '.join(h.functions)}" if h.functions else ""
            rows.append(f"{i}. `{h.status}`{check} — {_text(h.command)}{fns}")
        return "\n".join(rows)

    def on_scene(task_name: str, seed_value: float | None, objects: str):
        try:
            picture = ui.new_scene(task_name, int(seed_value or 0), objects)
        except CapError as exc:
            raise gr.Error(f"{exc}" + (f" ({exc.hint})" if exc.hint else "")) from None
        return picture, scene_header(), history_md(), gr.update(value="", placeholder=ui.task_command or "")

    def on_run(command: str):
        """First a line saying the command is on its way (the model may take a while), then the result."""
        if command.strip():
            running = (
                f"_running “{_text(command.strip())}”: the model writes the code, then the robot moves…_"
            )
            yield (running, *[gr.update() for _ in range(8)])  # the other outputs keep what they show
        try:
            result = ui.run(command)
        except CapError as exc:
            raise gr.Error(f"{exc}" + (f" ({exc.hint})" if exc.hint else "")) from None
        transcript = ui.transcript()
        yield (
            result_md(result),
            result.animation and str(result.animation),
            result.code or "# no code was generated",
            functions_source(result),
            executed_md(result),
            str(result.picture),
            history_md(),
            transcript and str(transcript),
            str(ui.functions_file()),
        )

    def on_task_command() -> str:
        return ui.task_command

    _forget_zope_abc_provides()
    with gr.Blocks(title="cap: Code as Policies", analytics_enabled=False) as app:
        gr.Markdown(
            f"## cap — Code as Policies\nAnswers from {html.escape(source)}. Type a command for the robot."
        )
        with gr.Row():
            with gr.Column(scale=4):
                with gr.Row():
                    task_box = gr.Dropdown(
                        [FREE_SCENE, *TASKS], value=task, label="scene: task", elem_id="task", scale=3
                    )
                    seed_box = gr.Number(value=seed, precision=0, label="seed", elem_id="seed", scale=1)
                objects_box = gr.Textbox(
                    label="objects (for a free scene)",
                    placeholder="red block, blue block, green bowl",
                    elem_id="objects",
                )
                scene_btn = gr.Button("New scene (forgets the session history)", elem_id="new-scene")
                header = gr.Markdown(scene_header(), elem_id="scene-header")
            with gr.Column(scale=6):
                command = gr.Textbox(
                    label="command", placeholder=ui.task_command, elem_id="command", lines=1, max_lines=3
                )
                with gr.Row():
                    run_btn = gr.Button("Run", variant="primary", elem_id="run")
                    own_btn = gr.Button("Use this task's command", elem_id="use-task-command")
                result = gr.Markdown("", elem_id="result")
        with gr.Row():
            with gr.Column(scale=5):
                animation = gr.Image(
                    type="filepath",
                    label="motion (the strip names the policy line running)",
                    show_label=False,
                    elem_id="animation",
                    interactive=False,
                    format="gif",
                )
                executed = gr.Markdown("", elem_id="executed")
            with gr.Column(scale=5):
                code = gr.Code(language="python", label="generated code", elem_id="code", interactive=False)
                functions = gr.Code(
                    language="python", label="generated functions", elem_id="functions", interactive=False
                )
        picture = gr.Image(
            str(first_picture),
            type="filepath",
            label="scene (after the last command)",
            show_label=False,
            elem_id="scene",
            interactive=False,
        )
        with gr.Row():
            with gr.Column(scale=6):
                gr.Markdown("**session history** (the commands the model sees as context)")
                history = gr.Markdown(history_md(), elem_id="history")
            with gr.Column(scale=4):
                transcript = gr.File(label="transcript (JSONL, every LLM call)", elem_id="transcript")
                library = gr.File(label="generated functions (.py)", elem_id="library")
        outputs = [result, animation, code, functions, executed, picture, history, transcript, library]
        run_btn.click(on_run, inputs=[command], outputs=outputs, concurrency_limit=1)
        command.submit(on_run, inputs=[command], outputs=outputs, concurrency_limit=1)
        own_btn.click(on_task_command, outputs=[command])
        scene_btn.click(
            on_scene, inputs=[task_box, seed_box, objects_box], outputs=[picture, header, history, command]
        )
    return app


def result_md(result: CommandResult) -> str:
    ep = result.episode
    ok = ep.status == "ok"
    lines = [f"**status:** `{ep.status}`" + ("" if ok else f" — {_text(ep.error)}")]
    if ep.task_success is not None:
        verdict = "**success** ✓" if ep.task_success else "**failure** ✗"
        lines.append(f"**task check** ({ep.task}, seed {ep.seed}): {verdict} — {_text(ep.reason)}")
    for said in ep.said:
        lines.append(f"**robot says:** {_text(said)}")
    if ep.stdout.strip():
        lines.append(f"**printed:**\n```\n{ep.stdout.strip()[:500]}\n```")
    lines.append(
        f"{ep.llm_calls} LLM calls · {len(result.functions)} functions generated · {ep.seconds:.1f} s"
    )
    return "\n\n".join(lines)


def functions_source(result: CommandResult) -> str:
    if not result.functions:
        return "# no new functions (the code uses only the API and functions made earlier)"
    return "\n\n".join(
        f"# generated function: {name}\n{src.strip()}" for name, src in result.functions.items()
    )


def executed_md(result: CommandResult) -> str:
    if not result.executed:
        return ""
    rows = [f"- `{line.replace(chr(96), chr(39))}`" for line in result.executed]  # no backtick inside
    return "**lines executed, in order:**\n\n" + "\n".join(rows)


def _text(value: str) -> str:
    """Model or user text inside Markdown: shown as written, never as markup."""
    escaped = html.escape(value, quote=False)
    return "".join(f"\\{c}" if c in "\\`*_[]#|~" else c for c in escaped)


def _forget_zope_abc_provides() -> None:
    """Once twisted is imported (roslibpy, the ROS client, uses it), zope.interface leaves a class-only
    `__provides__` descriptor on `abc.ABC`; Gradio's components read every name `dir(cls)` lists from the
    instance and fail on it (AttributeError: __provides__). Nothing of cap declares interfaces on ABC."""
    import abc

    if "__provides__" in vars(abc.ABC):
        del abc.ABC.__provides__
