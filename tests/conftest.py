import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from openai_server import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def openai_server():
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test touches the user's real cache or reads a real key."""
    monkeypatch.setenv("CAP_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture(scope="module")
def sim():
    """One headless PyBullet tabletop per test module (start-up is the slow part)."""
    from robot_api.pybullet_sim import PyBulletTabletop

    s = PyBulletTabletop()
    yield s
    s.close()
