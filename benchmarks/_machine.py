"""What the benchmarks record about the machine they ran on."""

from __future__ import annotations

import platform
import subprocess

__all__ = ["cpu_model"]


def cpu_model() -> str:
    """The processor's model name as ``lscpu`` prints it (``platform.processor()`` without it)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
