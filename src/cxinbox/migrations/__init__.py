"""Alembic migrations for SQLite and PostgreSQL, runnable without an ini file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent

#: suffix of the PostgreSQL-only indexes (trigram GIN for substring search) that revisions create by
#: hand: the models do not declare them, so comparing models and schema leaves them out
POSTGRESQL_ONLY_INDEX_SUFFIX = "_trgm"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter for autogenerate and for comparing the models with the schema."""
    return not (type_ == "index" and name is not None and name.endswith(POSTGRESQL_ONLY_INDEX_SUFFIX))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the schema up to ``revision``. Blocking: call from a thread inside an event loop."""
    command.upgrade(alembic_config(database_url), revision)
