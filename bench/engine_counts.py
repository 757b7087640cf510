"""Statements and transactions of every engine of a process, for the benches' load-robust figures.

``count_all()`` counts, from then on, each cursor execution (an ``executemany`` is one) and each
transaction begun by any SQLAlchemy engine of the process. A bench reads its own process's counts
with ``counts()``; its worker processes it starts as ``python -m bench.engine_counts <cxinbox cli
arguments>``, which counts and writes its counts to ``$BENCH_COUNTS_DIR/<pid>.json`` whenever it is
sent SIGUSR1 (``worker_counts`` does both).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

COUNTS_DIR = "BENCH_COUNTS_DIR"
_COUNTS = {"statements": 0, "transactions": 0}


def count_all() -> None:
    """Count every engine's statements and transactions from now on (once per process)."""
    if event.contains(Engine, "begin", _begin):
        return
    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "begin", _begin)


def _statement(*_: Any) -> None:
    _COUNTS["statements"] += 1


def _begin(*_: Any) -> None:
    _COUNTS["transactions"] += 1


def counts() -> dict[str, int]:
    return dict(_COUNTS)


def worker_counts(workers: list[subprocess.Popen[bytes]], directory: Path) -> dict[str, int]:
    """The counts so far of ``workers`` (started through this module with ``COUNTS_DIR`` set to
    ``directory``), summed."""
    total = {name: 0 for name in _COUNTS}
    for process in workers:
        path = directory / f"{process.pid}.json"
        path.unlink(missing_ok=True)
        process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {process.pid} wrote no counts")
            time.sleep(0.01)
        for name, value in json.loads(path.read_text()).items():
            total[name] += value
    return total


def _dump(*_: Any) -> None:
    directory = Path(os.environ[COUNTS_DIR])
    written = directory / f".{os.getpid()}.json"
    written.write_text(json.dumps(counts()))
    written.rename(directory / f"{os.getpid()}.json")  # whole when it appears


def main() -> None:
    count_all()
    signal.signal(signal.SIGUSR1, _dump)
    from cxinbox.cli import app

    sys.argv = ["cxinbox", *sys.argv[1:]]
    app()


if __name__ == "__main__":
    main()
