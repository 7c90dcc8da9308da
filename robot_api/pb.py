"""`import pybullet` without its build banner, which its C code writes to stderr of every command."""

from __future__ import annotations

import os


def _import_without_banner():
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            import pybullet
            import pybullet_data
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return pybullet, pybullet_data


pybullet, pybullet_data = _import_without_banner()
__all__ = ["pybullet", "pybullet_data"]
