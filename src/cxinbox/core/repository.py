"""Repository bases. A ``TenantRepository`` adds ``organization_id = …`` to its base statement, so
no query built from ``select()`` can leave the tenant out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.errors import NotFound
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.base import Base, TenantModel

M = TypeVar("M", bound=Base)
TM = TypeVar("TM", bound=TenantModel)
#: any SELECT, whatever columns it returns
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


class Repository(Generic[M]):
    model: type[M]
    not_found_message = "Not found"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[M]:
        return select(self.model)

    async def get(self, id: str) -> M | None:
        stmt = self.select().where(self.model.id == id)  # type: ignore[attr-defined]
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_or_404(self, id: str) -> M:
        obj = await self.get(id)
        if obj is None:
            raise NotFound(self.not_found_message)
        return obj

    async def list(self, stmt: Select[M] | None = None) -> Sequence[M]:
        return (await self.session.scalars(stmt if stmt is not None else self.select())).all()

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    async def delete(self, obj: M) -> None:
        await self.session.delete(obj)

    async def flush(self) -> None:
        await self.session.flush()


class TenantRepository(Repository[TM]):
    def __init__(self, session: AsyncSession, tenant: TenantContext) -> None:
        super().__init__(session)
        self.tenant = tenant

    def select(self) -> Select[TM]:
        return select(self.model).where(self.model.organization_id == self.tenant.organization_id)

    def add(self, obj: TM) -> TM:
        obj.organization_id = self.tenant.organization_id
        return super().add(obj)

    def scoped(self, stmt: S) -> S:
        """Scope a hand-built statement over this repository's model to the tenant."""
        return stmt.where(self.model.organization_id == self.tenant.organization_id)
