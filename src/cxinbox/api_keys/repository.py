from __future__ import annotations

from collections.abc import Sequence

from cxinbox.core.repository import TenantRepository
from cxinbox.models.identity import ApiKey


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey
    not_found_message = "API key not found"

    async def all_newest_first(self) -> Sequence[ApiKey]:
        return await self.list(self.select().order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
