"""Robot protocol, tabletop perception/control API, PyBullet simulation, tasks and checkers. Knows nothing of LLMs."""
