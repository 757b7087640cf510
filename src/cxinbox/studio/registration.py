"""What the studio plugs into every process (see ``cxinbox.areas``): the bundle's sections, the
shadow run's job and the periodic fold of the metrics' days."""

from __future__ import annotations

from cxinbox.studio import (
    metric_days,  # noqa: F401 - its @periodic job folds the day changes
    shadow,  # noqa: F401 - its @job runs shadow runs
)
from cxinbox.studio.bundle import sections


def register() -> None:
    sections.register()
