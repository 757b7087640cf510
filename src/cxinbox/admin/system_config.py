"""The effective server configuration as the super admin may see it: every secret masked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.alias_generators import to_camel

from cxinbox.admin.schemas import SystemConfig
from cxinbox.config import Settings
from cxinbox.core.crypto import mask_secret


def _shown(name: str, value: Any) -> Any:
    if name in Settings.SECRET_FIELDS:
        return mask_secret(str(value)) if value else None
    if isinstance(value, Path):
        return str(value)
    return value


def effective_config(settings: Settings) -> SystemConfig:
    return SystemConfig(
        settings={to_camel(name): _shown(name, getattr(settings, name)) for name in Settings.model_fields},
        masked_fields=sorted(to_camel(name) for name in Settings.SECRET_FIELDS),
        database_backend=settings.database_url.split(":", 1)[0].split("+", 1)[0],
        redis_enabled=bool(settings.redis_url),
    )
