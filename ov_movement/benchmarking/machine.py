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


class BackgroundMeter:
    """CPU that processes other than us and our waited-for children used while a measurement ran,
    in cores (1.0 = one core busy all along), from /proc/stat (user to steal: a hypervisor taking
    the CPU counts as background too). None where /proc/stat cannot be read.

    Why it exists: two busy loops sharing the 2 cores leave benchmark_app's per-round ratios almost
    steady while every absolute figure is halved; the direct reading tells that machine from a
    quiet one where rounds drift alike for other reasons (docs/benchmarking.md)."""

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _busy_seconds() -> float | None:
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                fields = stat.readline().split()
        except OSError:
            return None
        if not fields or fields[0] != "cpu" or len(fields) < 9:
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @classmethod
    def _sample(cls) -> tuple[float | None, float, float]:
        import resource
        import time

        ours = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = ours.ru_utime + ours.ru_stime + children.ru_utime + children.ru_stime
        return cls._busy_seconds(), own, time.monotonic()

    def cores(self) -> float | None:
        """Background cores since construction (call after the measured child was waited for)."""
        busy0, own0, t0 = self._start
        busy1, own1, t1 = self._sample()
        if busy0 is None or busy1 is None or t1 <= t0:
            return None
        # Clock-tick rounding can leave a hair below zero on a quiet machine.
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))
