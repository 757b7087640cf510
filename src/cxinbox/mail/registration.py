"""What the mail area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.mail import tasks  # noqa: F401 - its @job/@periodic register mail.deliver and mail.sweep


def register() -> None:
    """Nothing beyond the jobs its ``tasks`` module registers when imported (above)."""
