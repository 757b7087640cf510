"""Declarative base, shared column types and the tenant mixin."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy import DateTime, Enum, ForeignKey, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from cxinbox.core.clock import as_utc, utcnow
from cxinbox.core.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every database (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UtcDateTime(),
        # enums are stored as their value in a plain VARCHAR: no native database enum types to migrate
        enum.Enum: Enum(
            enum.Enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
        ),
    }


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantModel(IdMixin, TimestampMixin, Base):
    """Every row of a tenant table belongs to one organization; repositories scope by it."""

    __abstract__ = True
    #: a table whose own composite indexes lead with ``organization_id`` sets this to False: an
    #: index on the column alone would only cost every write
    organization_id_indexed: ClassVar[bool] = True

    @declared_attr
    def organization_id(cls) -> Mapped[str]:  # noqa: N805
        return mapped_column(
            String(36),
            ForeignKey("organizations.id", ondelete="CASCADE"),
            index=cls.organization_id_indexed,
            nullable=False,
        )


class OneRowPerOrganization:
    """A settings table with at most one row per organization, created on its first change."""

    @classmethod
    def with_defaults(cls, organization_id: str) -> Self:
        """An unsaved row holding the defaults (column defaults apply only when a row is inserted)."""
        defaults = {
            column.key: column.default.arg
            for column in cls.__table__.columns  # type: ignore[attr-defined]
            if column.default is not None and column.default.is_scalar
        }
        return cls(organization_id=organization_id, **defaults)  # type: ignore[call-arg]
