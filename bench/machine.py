"""What a bench prints about the machine it ran on: on two shared cores a figure means little
without the load average it was taken at."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from pathlib import Path


def load_average(averages: tuple[float, float, float] | None = None) -> str:
    """The 1, 5 and 15 minute load averages (now, or as taken earlier), e.g. ``0.61 1.63 2.12``."""
    return " ".join(f"{x:.2f}" for x in averages or os.getloadavg())


def machine() -> str:
    """The processor, its cores and the Python, e.g. ``x86_64 2 CPUs, Python 3.11.7``."""
    return f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"


def runqueue_seconds(pids: Iterable[int]) -> float:
    """The time these processes' threads spent runnable but waiting for a core so far (the
    scheduler's own count, ``/proc/PID/schedstat``): what a loaded machine takes from them."""
    total = 0
    for pid in pids:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            total += int(stat.read_text().split()[1])
    return total / 1e9


def cpu_seconds(pids: Iterable[int]) -> float:
    """The CPU time (user + system) these processes used so far: unlike a rate, it hardly moves
    with what else the machine is running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks
