"""The inbox page: the conversations the person may see, with the API's filters (mine, unassigned,
status, search, unread / needs reply) and counts, kept current in place by the event stream.

On a conversation's event the page (``static/inbox-live.js``) fetches that one row,
``GET /inbox/row/{id}`` with the list's filters: the row as the list shows it when the conversation
is in the list's view (the same query as the list, narrowed to one id), nothing when it is not
(then the page drops it), and the view's counts; the page puts the row in its place by its order
key. The whole list is fetched only on opening the stream (and on reconnecting) and after the
person's own actions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import QueryParams

from cxinbox.auth.principal import Principal
from cxinbox.console.visit import MemberDep, Visit
from cxinbox.conversations import service
from cxinbox.conversations.schemas import (
    ConversationCounts,
    ConversationFilter,
    ConversationOut,
    ConversationSort,
    SubFilter,
)
from cxinbox.conversations.serializers import conversation_out, conversations_out
from cxinbox.core.errors import AppError
from cxinbox.models.inbox import ConversationStatus

router = APIRouter(include_in_schema=False)
VIEWS = ("all", "mine", "unassigned")
PAGE_SIZE = 50
_STATUSES = {s.value for s in ConversationStatus}
_SUB_FILTERS = {s.value for s in SubFilter}


@dataclass(frozen=True)
class InboxQuery:
    """The list's filters as the page's address carries them (anything unknown is ignored)."""

    view: str = "all"
    status: ConversationStatus | None = None
    search: str = ""
    sub: SubFilter | None = None
    cursor: str = ""

    @classmethod
    def parse(cls, params: QueryParams) -> InboxQuery:
        view = params.get("view", "all")
        status = params.get("status", "")
        sub = params.get("sub", "")
        return cls(
            view=view if view in VIEWS else "all",
            status=ConversationStatus(status) if status in _STATUSES else None,
            search=" ".join(params.get("q", "").split())[:200],
            sub=SubFilter(sub) if sub in _SUB_FILTERS else None,
            cursor=params.get("cursor", "")[:500],
        )

    def criteria(self, principal: Principal) -> ConversationFilter:
        return ConversationFilter(
            status=self.status,
            search=self.search or None,
            assigned_to=principal.user_id if self.view == "mine" else None,
            unassigned=self.view == "unassigned",
            sub_filter=self.sub,
        )

    def query(self, **changes: Any) -> str:
        """This query's address part, with ``changes``; a filter change starts at the first page."""
        changed = replace(self, cursor="", **changes)
        pairs = {
            "view": "" if changed.view == "all" else changed.view,
            "status": str(changed.status or ""),
            "q": changed.search,
            "sub": str(changed.sub or ""),
            "cursor": changed.cursor,
        }
        encoded = urlencode({k: v for k, v in pairs.items() if v})
        return f"?{encoded}" if encoded else ""


@dataclass(frozen=True)
class Listing:
    query: InboxQuery
    conversations: list[ConversationOut]
    counts: ConversationCounts
    next_cursor: str | None


async def listing(visit: Visit, query: InboxQuery) -> Listing:
    principal = visit.member
    criteria = query.criteria(principal)
    async with visit.runtime.read_session() as session:
        counts = await service.count_conversations(session, principal, criteria)
        try:
            rows, meta = await service.list_conversations(
                session, principal, criteria, ConversationSort.NEWEST, query.cursor or None, PAGE_SIZE
            )
        except AppError:  # a cursor that is not one of ours: the first page
            rows, meta = await service.list_conversations(
                session, principal, criteria, ConversationSort.NEWEST, None, PAGE_SIZE
            )
    return Listing(query, conversations_out(rows), counts, meta.next_cursor)


def no_organization(visit: Visit) -> Response:
    return visit.page("console/message.html", 200, title=visit.t("inbox"), text=visit.t("no_organization"))


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(request: Request, visit: MemberDep) -> Response:
    if visit.member.organization_id is None:
        return no_organization(visit)
    return visit.page(
        "console/inbox.html", listing=await listing(visit, InboxQuery.parse(request.query_params))
    )


@router.get("/inbox/row/{conversation_id}", response_class=HTMLResponse)
async def inbox_row(request: Request, conversation_id: str, visit: MemberDep) -> Response:
    """One conversation's row, if it is in the list the filters select, and the list's counts."""
    if visit.member.organization_id is None:
        return no_organization(visit)
    query = InboxQuery.parse(request.query_params)
    principal = visit.member
    criteria = query.criteria(principal)
    # the primary's data: the event that asks for the row may be newer than a replica
    async with visit.runtime.read_session(current=True) as session:
        counts = await service.count_conversations(session, principal, criteria)
        found = await service.in_view(session, principal, criteria, conversation_id[:100])
    return visit.page(
        "console/_row.html",
        query=query,
        counts=counts,
        conversation=None if found is None else conversation_out(found),
        current_id=request.query_params.get("open", ""),
    )


@router.get("/inbox/list", response_class=HTMLResponse)
async def inbox_list(request: Request, visit: MemberDep) -> Response:
    """The list and its counts alone (what the event stream refreshes)."""
    if visit.member.organization_id is None:
        return no_organization(visit)
    query = InboxQuery.parse(request.query_params)
    return visit.page(
        "console/_list.html",
        listing=await listing(visit, query),
        current_id=request.query_params.get("open", ""),
    )
