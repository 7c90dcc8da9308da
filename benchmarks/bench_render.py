"""Picture and video cost: a captioned two-view picture, one video frame, and what filming adds to an episode.

Prints one JSON object (medians, seconds). Also the overhead of the line tracing that names the executing
policy line (one RPC per executed line that calls something), on a policy with a 200-iteration loop.
    .venv/bin/python benchmarks/bench_render.py [--reps N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cap.evals.tabletop import TabletopSession  # noqa: E402
from cap.policy_trace import TracingSession  # noqa: E402
from robot_api.render import Caption, GifRecorder, annotated_view, compose_scene  # noqa: E402
from robot_api.tasks import get_task  # noqa: E402

STACK = "put_first_on_second('red block', 'blue block')\nput_first_on_second('green block', 'red block')"
LOOP = "total = 0\nfor i in range(200):\n    total = total + len(get_obj_names())\nsay(str(total))"


def _median(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    inst = get_task("stack-blocks").instance(0)
    out: dict[str, float | int] = {}
    with TracingSession() as traced, TabletopSession() as plain:
        traced.setup("stack-blocks", 0)
        sim = traced.sim
        caption = Caption(
            command=inst.command, task=inst.task, seed=0, success=True, reason="all conditions hold"
        )
        out["picture_seconds"] = _median(lambda: compose_scene(sim, caption=caption), args.reps)
        out["video_frame_seconds"] = _median(lambda: annotated_view(sim, "oblique", 480, 360), args.reps)

        def episode(film: bool) -> None:
            traced.setup("stack-blocks", 0)
            if film:
                with GifRecorder(sim, marker=traced.tracker.current) as rec:
                    traced.episode(STACK)
                with tempfile.TemporaryDirectory() as tmp:
                    rec.save(Path(tmp) / "ep.gif")
                out["video_frames"] = len(rec.frames)
            else:
                traced.episode(STACK)

        out["episode_seconds"] = _median(lambda: episode(False), args.reps)
        out["filmed_episode_seconds"] = _median(lambda: episode(True), args.reps)
        plain.setup("stack-blocks", 0)
        out["loop_policy_seconds_untraced"] = _median(lambda: plain.episode(LOOP), args.reps)
        out["loop_policy_seconds_traced"] = _median(lambda: traced.episode(LOOP), args.reps)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
