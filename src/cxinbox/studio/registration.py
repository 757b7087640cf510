"""What the studio plugs into every process (see ``cxinbox.areas``): the bundle's sections, and the
shadow run's job."""

from __future__ import annotations

from cxinbox.studio import shadow  # noqa: F401 - its @job runs shadow runs
from cxinbox.studio.bundle import sections


def register() -> None:
    sections.register()
