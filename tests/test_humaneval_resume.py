"""An evaluation killed midway keeps its finished verdicts on disk, and --resume runs only the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import all_gone, descendants

from cap.cli import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PROBLEM = {
    "task_id": "T/0",
    "prompt": "def inc(x):\n",
    "test": "def check(candidate):\n    assert candidate(1) == 2\n",
    "entry_point": "inc",
}
FAST = "    return x + 1\n"
SLOW = "    import time\n    time.sleep(60)\n"
N_FAST, N_SLOW = 4, 24


def _journal_results(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines()[1:] if line.startswith('{"i"'))


def _inputs(tmp_path: Path) -> tuple[Path, Path, list[str], Path]:
    """The problems file, the samples file (fast samples, then slow ones), the completions, the journal."""
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps(PROBLEM) + "\n")
    samples = tmp_path / "s.jsonl"
    completions = [FAST] * N_FAST + [SLOW] * N_SLOW
    samples.write_text("".join(json.dumps({"task_id": "T/0", "completion": c}) + "\n" for c in completions))
    return problems, samples, completions, tmp_path / "s.jsonl_results.jsonl.partial"


def test_killed_run_resumes(tmp_path, capsys):
    problems, samples, completions, journal = _inputs(tmp_path)
    args = [
        "bench",
        "evaluate",
        str(samples),
        "--problems",
        str(problems),
        "--timeout",
        "1",
        "--workers",
        "1",
    ]

    proc = subprocess.Popen([sys.executable, "-m", "cap", *args], cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _journal_results(journal) < N_FAST and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = _journal_results(journal)
    assert kept >= N_FAST, proc.stderr.read().decode()
    assert kept < N_FAST + N_SLOW  # killed before the end: the rest still has to run
    assert not (tmp_path / "s.jsonl_results.jsonl").exists()

    # without --resume the finished verdicts are not thrown away silently
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err

    assert main([*args, "--resume"]) == 0
    captured = capsys.readouterr()
    assert f"resuming: {kept} of {N_FAST + N_SLOW} verdicts kept" in captured.err
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["result"] for r in rows] == ["passed"] * N_FAST + ["timed out"] * N_SLOW
    assert [r["completion"] for r in rows] == completions
    assert not journal.exists()


def test_ctrl_c_stops_cleanly(tmp_path):
    """Ctrl-C while samples run: the message, exit code 130, the verdicts so far on disk, no traceback, and
    no sandbox process left (lanes and the interrupt close workers concurrently)."""
    problems, samples, _, journal = _inputs(tmp_path)
    args = ["bench", "evaluate", str(samples), "--problems", str(problems), "--timeout", "5"]
    proc = subprocess.Popen([sys.executable, "-m", "cap", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _journal_results(journal) < N_FAST and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # hanging samples running side by side now
    pids = descendants(proc.pid)
    assert pids
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err, err
    assert _journal_results(journal) >= N_FAST
    assert all_gone(pids)


def test_journal_of_other_inputs_is_refused(tmp_path, capsys):
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps(PROBLEM) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "T/0", "completion": FAST}) + "\n")
    journal = tmp_path / "s.jsonl_results.jsonl.partial"
    journal.write_text(json.dumps({"format": "cap-humaneval-journal/1", "samples_sha256": "0" * 64}) + "\n")
    assert main(["bench", "evaluate", str(samples), "--problems", str(problems), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "different" in err and "samples_sha256" in err
    assert journal.exists()  # still there: deciding to delete it is the user's call


def test_torn_last_line_is_ignored(tmp_path, capsys):
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps(PROBLEM) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(
        "".join(json.dumps({"task_id": "T/0", "completion": c}) + "\n" for c in (FAST, "    return x\n"))
    )
    from cap.evals.common.journal import file_digest

    header = {"format": "cap-humaneval-journal/1", "samples_sha256": file_digest(samples),
              "problems_sha256": file_digest(problems), "timeout": 3.0}  # fmt: skip
    journal = tmp_path / "s.jsonl_results.jsonl.partial"
    journal.write_text(json.dumps(header) + '\n{"i": 0, "result": "passed"}\n{"i": 1, "res')
    assert main(["bench", "evaluate", str(samples), "--problems", str(problems), "--resume"]) == 0
    assert "resuming: 1 of 2 verdicts kept" in capsys.readouterr().err
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["result"] for r in rows] == ["passed", "failed: "]
