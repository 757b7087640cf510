"""The bundle's sections, registered by name. Each section says the lowest tier that carries it,
how to export it for a config, how to validate what a bundle holds for it (before anything is
written) and how to write the validated value into a config. Import runs them in registration
order, all in the request's one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.models.bot import BotConfig
from cxinbox.runtime import Runtime

FORMAT = "cxinbox.bot-bundle"
VERSION = 1


class Tier(StrEnum):
    CONFIG = "config"
    STANDARD = "standard"
    FULL = "full"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)

    def carries(self, other: Tier) -> bool:
        return self.rank >= other.rank


@dataclass
class ExportContext:
    session: AsyncSession
    runtime: Runtime
    config: BotConfig
    tier: Tier
    #: the ZIP's other members (path -> bytes), when the bundle is a ZIP; None for a JSON file
    files: dict[str, bytes] | None = None


@dataclass
class ImportContext:
    session: AsyncSession
    runtime: Runtime
    editor: Actor
    config: BotConfig
    #: the ZIP's other members (path -> bytes); empty for a JSON file
    files: Mapping[str, bytes] = field(default_factory=dict)
    #: what a section skipped, told to whoever imports (the import's answer)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    name: str
    tier: Tier
    export: Callable[[ExportContext], Awaitable[Any]]
    #: the section's value checked and parsed; raises ``ValueError`` (or a pydantic error)
    validate: Callable[[Any], Any]
    write: Callable[[ImportContext, Any], Awaitable[None]]


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> None:
    """Idempotent: a process may register the areas more than once."""
    _SECTIONS[section.name] = section


def sections() -> list[Section]:
    return list(_SECTIONS.values())
