"""Runs untrusted Python: validation, restricted namespace, isolated warm workers. Knows nothing of LLMs or robots.

from sandbox import Sandbox
with Sandbox(api={"say": say}, modules=("numpy", "shapely", "math"), timeout=10.0, memory_mb=1024) as sb:
    outcome = sb.run(code)   # outcome.status in {"ok", "violation", "error", "timeout", "resource"}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.outcome import STATUSES, Outcome
    from sandbox.report import LAYERS, isolation_report
    from sandbox.sandbox import Sandbox
    from sandbox.session import Session
    from sandbox.validate import Violation, validate
    from sandbox.zygote import SandboxUnavailable

# Loaded on first use: a warm worker imports `sandbox.worker`, and every module it does not need is time
# added to each worker start.
_EXPORTS = {
    "LAYERS": "sandbox.report",
    "STATUSES": "sandbox.outcome",
    "Outcome": "sandbox.outcome",
    "Sandbox": "sandbox.sandbox",
    "SandboxUnavailable": "sandbox.zygote",
    "Session": "sandbox.session",
    "Violation": "sandbox.validate",
    "isolation_report": "sandbox.report",
    "validate": "sandbox.validate",
}
__all__ = [
    "LAYERS",
    "STATUSES",
    "Outcome",
    "Sandbox",
    "SandboxUnavailable",
    "Session",
    "Violation",
    "isolation_report",
    "validate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
