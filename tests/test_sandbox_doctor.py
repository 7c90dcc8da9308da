"""`cap doctor` and `isolation_report()`: the layers are tried, not assumed, and the report says so."""

import json
import subprocess
import sys

import pytest

from sandbox import LAYERS, isolation

pytestmark = pytest.mark.xdist_group("sandbox")


def test_doctor_json_reports_every_layer_and_matches_the_kernel():
    proc = subprocess.run(
        [sys.executable, "-m", "cap", "doctor", "--json"], capture_output=True, text=True, timeout=120
    )
    report = json.loads(proc.stdout)
    assert set(report["layers"]) == set(LAYERS)
    # What the doctor claims agrees with an independent check in a throwaway child of this process.
    probe = isolation.probe()
    assert report["layers"]["landlock"] == probe["landlock"]
    assert report["layers"]["seccomp"] == probe["seccomp"]
    assert proc.returncode == (0 if report["isolated"] and not report["problems"] else 1)
    if report["isolated"]:
        assert report["verified"]["environment"] is True


def test_doctor_text_names_the_layers():
    proc = subprocess.run(
        [sys.executable, "-m", "cap", "doctor"], capture_output=True, text=True, timeout=120
    )
    for name in LAYERS:
        assert name in proc.stdout
    assert "Traceback" not in proc.stderr
