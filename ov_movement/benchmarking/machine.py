"""Which machine ran a benchmark: a speedup means little without the CPU and thread count."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any


def cpu_model_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores (all / usable by this process), notable ISA flags, versions."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS/Windows
        usable = os.cpu_count() or 0
    try:
        openvino_version = metadata.version("openvino")
    except metadata.PackageNotFoundError:
        openvino_version = "not installed"
    # bf16/AMX decide what the CPU plugin's "default" precision is, so they belong in the record.
    isa = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8"})
    return {
        "cpu": cpu_model_name(),
        "logical_cores": os.cpu_count() or 0,
        "usable_cores": usable,
        "isa": isa,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "openvino": openvino_version,
    }


__all__ = ["cpu_flags", "cpu_model_name", "machine_info"]
