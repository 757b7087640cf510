"""The app's routes found by their paths' leading segments (``core.routing_index``): for every
request the routes the index gives FastAPI's dispatch lead to the route and outcome trying every
route in order does (the first full match, else the first partial one for a 405, else the slash
redirect, else nothing), and leave out only routes that cannot match."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match, Mount, get_route_path

from cxinbox.app import API_PREFIX, create_app
from cxinbox.core.routing_index import IndexedDispatch, install_route_index
from tests.fixtures.errors import error_of

APP = create_app()
ROUTER = APP.router
DISPATCH = ROUTER.middleware_stack
PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
VALUES = {"path": "a/b.png", "int": "7", "float": "1.5", "uuid": str(uuid.UUID(int=7)), "str": "x-1"}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNKNOWN = (
    "/",
    "",
    "/nope",
    "/nope/",
    f"{API_PREFIX}",
    f"{API_PREFIX}/",
    f"{API_PREFIX}/nope",
    f"{API_PREFIX}/tools/x/y/z",
    f"{API_PREFIX}/tools\n",
    f"{API_PREFIX}/tools/\n",
    f"{API_PREFIX}//tools",
    f"{API_PREFIX}/docs/assets",
    f"{API_PREFIX}/docs/assets/",
    "//",
    "///",
    "/api",
    "/API/v1/tools",
    "static",
)


def concrete(template: str) -> str:
    return PARAMETER.sub(lambda m: VALUES[m.group(2) or "str"], template)


def requests() -> Iterator[tuple[str, str, str, str]]:
    """(type, method, path, root path): every route's path with its methods and a wrong one, that
    path with a trailing slash added or removed, a segment more, a newline; unknown paths; http and
    websocket; behind a proxy's root path too."""
    methods: dict[str, set[str]] = {path: set(METHODS) for path in UNKNOWN}
    for context in iter_route_contexts(ROUTER.routes):
        template = context.path
        if not isinstance(template, str):
            continue
        path = concrete(template + "/index.html" if isinstance(context.original_route, Mount) else template)
        allowed = set(context.methods or ("GET",))
        wrong = next(method for method in METHODS if method not in allowed)
        methods.setdefault(path, set()).update(allowed | {wrong})
        for variant in (path + "/", path.rstrip("/") or "/", path + "/more", path + "\n"):
            methods.setdefault(variant, set()).update({"GET", "POST"})
    for path, path_methods in sorted(methods.items()):
        for method in sorted(path_methods):
            yield "http", method, path, ""
        yield "websocket", "GET", path, ""
        for root in ("/base", "/base/"):  # the app behind a proxy's path
            yield "http", "GET", root.rstrip("/") + path, root


def outcome(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> tuple[str, BaseRoute | None]:
    """What FastAPI's dispatch does with ``routes`` for ``scope`` (``APIRouter.app``)."""
    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return "full", route
        if match is Match.PARTIAL and partial is None:
            partial = route
    if partial is not None:
        return "partial", partial
    route_path = get_route_path(scope)
    if scope["type"] == "http" and ROUTER.redirect_slashes and route_path != "/":
        redirect = dict(
            scope, path=scope["path"].rstrip("/") if route_path.endswith("/") else scope["path"] + "/"
        )
        for route in routes:
            if route.matches(redirect)[0] is not Match.NONE:
                return "redirect", route
    return "none", None


def scope_of(kind: str, method: str, path: str, root: str) -> dict[str, Any]:
    return {
        "type": kind,
        "method": method,
        "path": path,
        "root_path": root,
        "headers": [],
        "query_string": b"",
    }


def routed(dispatch: IndexedDispatch, kind: str, method: str, path: str, root: str = "") -> tuple[str, Any]:
    """The outcome of a request among the routes ``dispatch`` gives FastAPI's dispatch."""
    scope = scope_of(kind, method, path, root)
    return outcome(dispatch.routes_for(scope).routes, scope)


def test_the_app_router_dispatches_through_the_index():
    assert isinstance(DISPATCH, IndexedDispatch)


def test_every_request_is_routed_as_by_trying_every_route_in_order():
    assert isinstance(DISPATCH, IndexedDispatch)
    checked = 0
    for kind, method, path, root in requests():
        scope = scope_of(kind, method, path, root)
        assert routed(DISPATCH, kind, method, path, root) == outcome(ROUTER.routes, scope), scope
        positions = [ROUTER.routes.index(route) for route in DISPATCH.routes_for(scope).routes]
        assert positions == sorted(positions)
        checked += 1
    assert checked > 3000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{API_PREFIX}/tools/{uuid.UUID(int=1)}/test"),
        ("POST", f"{API_PREFIX}/webhooks/whatsapp"),
        ("GET", f"{API_PREFIX}/conversations"),
        ("GET", "/inbox"),
    ],
)
def test_a_request_tries_a_few_routes(method, path):
    """The point of the index: a tool call or an inbox read no longer tries every router first."""
    assert isinstance(DISPATCH, IndexedDispatch)
    assert routed(DISPATCH, "http", method, path)[0] == "full"
    assert len(DISPATCH.routes_for(scope_of("http", method, path, "")).routes) <= 6 < len(ROUTER.routes) // 10


def test_routes_added_to_the_app_after_its_first_request_are_found():
    app = create_app()
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, IndexedDispatch)
    late = f"{API_PREFIX}/late-arrival"
    assert routed(dispatch, "http", "GET", late) == ("none", None)

    async def answer() -> dict[str, str]:
        return {}

    app.add_api_route(late, answer)
    kind, route = routed(dispatch, "http", "GET", late)
    assert kind == "full" and getattr(route, "path", None) == late


async def test_a_wrong_method_on_a_tool_answers_405_with_the_methods_allowed(client):
    r = await client.patch(f"/tools/{uuid.UUID(int=1)}/test")
    error_of(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["allow"] == "POST"


async def test_a_trailing_slash_is_redirected_and_mounts_and_the_console_answer(client):
    r = await client.get("/tools/")
    assert r.status_code == 307 and r.headers["location"].endswith(f"{API_PREFIX}/tools")
    assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("http://test/sign-in")).status_code == 200


def test_the_index_needs_to_be_the_routers_first_app():
    app: FastAPI = create_app()
    with pytest.raises(ValueError):
        install_route_index(app.router)  # installed already: the router's first app is the index
