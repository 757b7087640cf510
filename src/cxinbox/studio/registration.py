"""What the studio plugs into every process (see ``cxinbox.areas``): the bundle's sections."""

from __future__ import annotations

from cxinbox.studio.bundle import sections


def register() -> None:
    sections.register()
