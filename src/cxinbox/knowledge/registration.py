"""What the knowledge base plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.knowledge import tasks  # noqa: F401 - its @job/@periodic register ingestion, embedding and the sweep
from cxinbox.knowledge.events import DOCUMENT_EVENTS, agents_see_no_documents
from cxinbox.knowledge.repository import count_documents
from cxinbox.plans.limits import KNOWLEDGE_DOCUMENTS, register_usage
from cxinbox.realtime.visibility import register_event_filter


def register() -> None:
    register_event_filter(DOCUMENT_EVENTS, agents_see_no_documents)
    register_usage(KNOWLEDGE_DOCUMENTS)(count_documents)
