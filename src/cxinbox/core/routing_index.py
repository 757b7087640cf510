"""The app's routes looked up by their paths' leading literal segments instead of tried one by one.

FastAPI's router tries every route (every included router, each trying each of its routes) in
order until one matches: a request to a router included late paid for matching the ~220 routes
before it, about half of a tool call's Python work. ``install_route_index`` puts a tree of the
routes' leading literal path segments (``/api/v1/tools/{id}/test`` is under ``api`` → ``v1`` →
``tools``) in front of the router: a request walks the tree along its path and FastAPI's own
dispatch then runs over the routes at the node it stops at, those that may match its path.

Same outcome as the linear scan, because no route left out could match: a route is put at the node
of its path's literal segments before its first parameter, so a path it matches walks through that
node; a node's routes are its own and its ancestors', in the router's order. The first full match
therefore wins as before, a partial one (the path matches, the method does not) still gives 405,
and ``redirect_slashes`` still finds the route of the path with or without its trailing slash (its
walk stops at the same node: trailing ``/`` are not walked). Routes whose path cannot be read this
way (a host, a frontend route, a path that starts with a parameter) sit at the root: every request
tries them. The path is walked without its trailing slashes and newlines (a route's ``$`` also
matches before a final newline).

Built at the first request (the router's routes are complete by then) and again whenever routes
are added to the app's router; routes added to a router after it was included in the app are not
seen (the app's routers are complete when it is assembled).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute, get_route_path
from starlette.types import Receive, Scope, Send

#: FastAPI's dispatch, run over a node's routes (a ``_Candidates``) instead of all the router's
_DISPATCH: Callable[[Any, Scope, Receive, Send], Awaitable[None]] = APIRouter.app


class _Candidates:
    """The app's router with only the routes that may match the paths walking to one node: FastAPI's
    dispatch reads everything else (the slash redirect setting, the low priority routes, the
    default answer) from the router itself."""

    __slots__ = ("_router", "routes")

    def __init__(self, router: APIRouter, routes: list[BaseRoute]) -> None:
        self._router = router
        self.routes = routes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._router, name)


class _Node:
    __slots__ = ("candidates", "children", "own")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.own: set[int] = set()  # the positions of the routes put at this node
        self.candidates: _Candidates | None = None


class RouteIndex:
    """The tree of an ``APIRouter``'s routes by their paths' leading literal segments."""

    def __init__(self, router: APIRouter) -> None:
        self._router = router
        self._root = _Node()
        routes = router.routes
        for position, route in enumerate(routes):
            for segments in {_literal_segments(path) for path in _paths(route)}:
                node = self._root
                for segment in segments:
                    node = node.children.setdefault(segment, _Node())
                node.own.add(position)
        self._complete(self._root, set(), routes)

    def _complete(self, node: _Node, above: set[int], routes: list[BaseRoute]) -> None:
        positions = above | node.own
        node.candidates = _Candidates(self._router, [routes[position] for position in sorted(positions)])
        for child in node.children.values():
            self._complete(child, positions, routes)

    def candidates(self, route_path: str) -> _Candidates:
        """The router with only the routes that may match ``route_path`` (or it with a trailing slash
        added or removed)."""
        node = self._root
        for segment in route_path.rstrip("/\n").split("/")[1:]:
            child = node.children.get(segment)
            if child is None:
                break
            node = child
        assert node.candidates is not None
        return node.candidates


def _paths(route: BaseRoute) -> Iterable[str]:
    """The paths ``route`` matches (those of the routes of an included router), ``""`` (the root's
    node) for a route matched otherwise than by its path."""
    for context in iter_route_contexts([route]):
        path = context.path
        kind_matched_by_path = isinstance(context.original_route, Route | WebSocketRoute | Mount)
        yield path if kind_matched_by_path and isinstance(path, str) else ""


def _literal_segments(path: str) -> tuple[str, ...]:
    """``path``'s segments before its first parameter, the trailing empty ones dropped."""
    literal: list[str] = []
    for segment in path.split("/")[1:]:
        if "{" in segment or "\n" in segment:
            break
        literal.append(segment)
    while literal and not literal[-1]:
        literal.pop()
    return tuple(literal)


class IndexedDispatch:
    """The ASGI app of an ``APIRouter`` that runs FastAPI's dispatch over the routes ``RouteIndex``
    finds for the request's path."""

    def __init__(self, router: APIRouter) -> None:
        self._router = router
        self._index: RouteIndex | None = None
        self._built_for: tuple[int, int] | None = None

    def index(self) -> RouteIndex:
        router = self._router
        state = (router._routes_version, len(router.routes))
        if self._index is None or state != self._built_for:
            self._index, self._built_for = RouteIndex(router), state
        return self._index

    def routes_for(self, scope: Scope) -> _Candidates | APIRouter:
        """The router's routes that may match the request (``routes``), for FastAPI's dispatch."""
        route_path = get_route_path(scope)
        index = self.index()
        candidates = index.candidates(route_path)
        if (
            scope.get("root_path")
            and index.candidates(_redirect_route_path(scope, route_path)) is not candidates
        ):
            return self._router  # a root path can walk the slash redirect's path elsewhere: try every route
        return candidates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self._router
        if scope["type"] == "lifespan":
            await router.app(scope, receive, send)
            return
        scope.setdefault("router", router)
        await _DISPATCH(self.routes_for(scope), scope, receive, send)


def _redirect_route_path(scope: Scope, route_path: str) -> str:
    """The route path of the slash redirect FastAPI's dispatch tries when no route matches."""
    path: str = scope["path"]
    redirect = path.rstrip("/") if route_path.endswith("/") else path + "/"
    return get_route_path({"path": redirect, "root_path": scope["root_path"]})


def install_route_index(router: APIRouter) -> None:
    """Make ``router`` (an app's, with no middleware of its own) find its routes by ``RouteIndex``."""
    if router.middleware_stack != router.app:
        raise ValueError("the router has middleware of its own: its dispatch is not the first app")
    router.middleware_stack = IndexedDispatch(router)
