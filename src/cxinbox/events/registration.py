"""What the event log plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.events import tasks  # noqa: F401 - its @job/@periodic register events.purge_old


def register() -> None:
    """Nothing beyond the purge job its ``tasks`` module registers when imported (above)."""
