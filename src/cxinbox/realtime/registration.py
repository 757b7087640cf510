"""What the realtime stream plugs into every process (see ``cxinbox.areas``): the purge of its replay log."""

from __future__ import annotations

from cxinbox.realtime import tasks  # noqa: F401 - its @job/@periodic register events.purge_old


def register() -> None:
    """Nothing beyond the purge job its ``tasks`` module registers when imported (above)."""
