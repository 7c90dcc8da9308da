import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# A shell that starts the suite in the background (`make test &`, `nohup ... &`) hands it SIGINT ignored, every
# process it starts inherits that, and Python then installs no KeyboardInterrupt handler: the Ctrl-C tests
# would fail for the way the suite was started. Restore the default, which children get as SIG_DFL.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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
