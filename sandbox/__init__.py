"""Runs untrusted Python: validation, restricted namespace, isolated warm workers. Knows nothing of LLMs or robots.

from sandbox import Sandbox
with Sandbox(api={"say": say}, modules=("numpy", "shapely", "math"), timeout=10.0, memory_mb=1024) as sb:
    outcome = sb.run(code)   # outcome.status in {"ok", "violation", "error", "timeout", "resource"}
"""

from sandbox.outcome import STATUSES, Outcome
from sandbox.report import LAYERS, isolation_report
from sandbox.sandbox import Sandbox, SandboxUnavailable
from sandbox.validate import Violation, validate

__all__ = [
    "LAYERS",
    "STATUSES",
    "Outcome",
    "Sandbox",
    "SandboxUnavailable",
    "Violation",
    "isolation_report",
    "validate",
]
