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


#: the knowledge base's full-text objects, made by hand per database (revision 0211): SQLite's FTS5
#: table and its shadow tables, PostgreSQL's generated ``tsvector`` column and its GIN index
FULL_TEXT_PREFIXES = ("knowledge_chunks_fts", "search_fts", "ix_knowledge_chunks_search_fts")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter for autogenerate and for comparing the models with the schema."""
    if name is not None and name.startswith(FULL_TEXT_PREFIXES):
        return False
    return not (type_ == "index" and name is not None and name.endswith(POSTGRESQL_ONLY_INDEX_SUFFIX))


#: new revision files are named by the time they were made, so the folder lists them in the order
#: they were written and two areas built side by side never pick the same name; the id is Alembic's
#: random one (a merge is still needed when two branches both revise the same head: the one-head
#: test in the suite says so)
FILE_TEMPLATE = "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s"


def alembic_config(database_url: str, script_location: Path = HERE) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the schema up to ``revision``. Blocking: call from a thread inside an event loop."""
    command.upgrade(alembic_config(database_url), revision)


def new_revision(database_url: str, message: str, script_location: Path = HERE) -> Path:
    """Write a revision that brings the schema at ``database_url`` (migrated to head first) to what
    the models describe; answers the new file. Read and edit it before committing."""
    upgrade(database_url)
    config = alembic_config(database_url, script_location)
    script = command.revision(config, message=message, autogenerate=True)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
