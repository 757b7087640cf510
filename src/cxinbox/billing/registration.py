"""What the billing area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.billing import tasks  # noqa: F401 - its @job/@periodic register the Stripe event jobs


def register() -> None:
    """Nothing beyond the jobs its ``tasks`` module registers when imported (above)."""
