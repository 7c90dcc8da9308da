"""demos/quickstart.ipynb runs top to bottom in a real Jupyter kernel (nbclient), offline on the bundled replay."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parent.parent / "demos" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.delenv("CAP_MODEL", raising=False)  # the replayed, hand-written answers: offline
    monkeypatch.setenv("CAP_CACHE", str(tmp_path / "cache.sqlite"))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # shipped without outputs
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs) + "".join(
        o.get("data", {}).get("text/markdown", "") for o in outputs
    )
    assert "hand-written reference answers" in text
    assert "status: ok   task success: True" in text
    assert "# generated function put_blocks_in_matching_bowls" in text
    assert '"success_rate": 1.0' in text  # the reference policies pass their own checkers
    assert text.count("| ok | True |") == 3  # the three demo commands through the whole stack
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    gifs = [o for o in outputs if "image/gif" in o.get("data", {})]
    assert len(pictures) >= 2 and gifs
    assert (tmp_path / "quickstart-motion.gif").read_bytes()[:6] == b"GIF89a"
    assert os.path.getsize(tmp_path / "quickstart-motion.gif") > 10_000
