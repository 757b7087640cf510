"""What analytics plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.analytics import tasks  # noqa: F401 - its @job/@periodic register analytics.fold_slots


def register() -> None:
    """Nothing beyond the periodic fold, registered by importing ``tasks``."""
