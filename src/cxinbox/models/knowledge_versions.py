"""A counter per organization that every change to its knowledge chunks raises, in the same
transaction: the vector matrix a process keeps (``cxinbox.knowledge.vectors``) is current while its
counter is, told by one primary-key read instead of counting the organization's chunks per question."""

from __future__ import annotations

from sqlalchemy import Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxinbox.models.base import TenantModel


class KnowledgeVersion(TenantModel):
    __tablename__ = "knowledge_versions"
    __table_args__ = (UniqueConstraint("organization_id"),)
    organization_id_indexed = False  # the unique constraint leads with it

    version: Mapped[int] = mapped_column(Integer, default=0)
