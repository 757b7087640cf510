"""The event catalog lists exactly the event types the code publishes, and the OpenAPI shows it.

The published types are read from the source: every call of ``publish_event`` and of each helper
that passes its own parameter on as the type (``publish_user``, ``publish_conversation``,
``announce``...), found by following those parameters to a fixed point. A type argument must be a
literal, a conditional of literals, or a name bound to them (local, default, module constant or
imported constant): anything the scan cannot read fails the test, so no type can slip past it.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path

import cxinbox
from cxinbox.realtime.catalog import CATALOG, STREAM_TYPES
from tests.fixtures.routes import default_document

SOURCE = Path(cxinbox.__file__).parent
_Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Module:
    name: str
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    imported: dict[str, str] = field(default_factory=dict)  # name -> module it comes from


@dataclass(frozen=True)
class Publisher:
    """Where a helper takes the event type: its position, keyword, and default."""

    index: int
    keyword: str
    default: ast.expr | None


def _modules() -> dict[str, Module]:
    modules = {}
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(("cxinbox", *path.relative_to(SOURCE).with_suffix("").parts))
        module = Module(name.removesuffix(".__init__"), ast.parse(path.read_text(), str(path)))
        for node in module.tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        module.constants[target.id] = node.value
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    module.imported[alias.asname or alias.name] = node.module
        modules[module.name] = module
    return modules


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _type_argument(call: ast.Call, publisher: Publisher) -> ast.expr | None:
    if len(call.args) > publisher.index:
        return call.args[publisher.index]
    given = {k.arg: k.value for k in call.keywords}
    return given.get(publisher.keyword, publisher.default)


def _parameters(function: _Function) -> list[ast.arg]:
    return [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]


def _default(function: _Function, name: str) -> ast.expr | None:
    positional = [*function.args.posonlyargs, *function.args.args]
    defaults = dict(zip([a.arg for a in positional[::-1]], function.args.defaults[::-1], strict=False))
    defaults |= {
        a.arg: d for a, d in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True) if d
    }
    return defaults.get(name)


def _functions(modules: dict[str, Module]) -> list[tuple[Module, _Function]]:
    return [
        (module, node)
        for module in modules.values()
        for node in ast.walk(module.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _key(module: Module, name: str) -> str:
    """Private functions (``_name``) are known within their module only: two modules' ``_changed``
    are different functions."""
    return f"{module.name}:{name}" if name.startswith("_") else name


def _publisher_of(publishers: dict[str, Publisher], module: Module, call: ast.Call) -> Publisher | None:
    callee = _callee(call)
    return publishers.get(_key(module, callee)) if callee else None


def _publishers(functions: list[tuple[Module, _Function]]) -> dict[str, Publisher]:
    """``publish_event`` and every function that hands one of its parameters on as the type."""
    publishers = {"publish_event": Publisher(2, "type", None)}
    changed = True
    while changed:
        changed = False
        for module, function in functions:
            if _key(module, function.name) in publishers:
                continue
            names = [a.arg for a in _parameters(function)]
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                publisher = _publisher_of(publishers, module, call)
                argument = _type_argument(call, publisher) if publisher else None
                if isinstance(argument, ast.Name) and argument.id in names:
                    index = names.index(argument.id)
                    publisher = Publisher(index, argument.id, _default(function, argument.id))
                    publishers[_key(module, function.name)] = publisher
                    changed = True
                    break
    return publishers


def _resolve(
    expr: ast.expr, module: Module, function: _Function | None, modules: dict[str, Module]
) -> set[str]:
    where = f"{module.name}:{expr.lineno}"
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _resolve(expr.body, module, function, modules) | _resolve(
            expr.orelse, module, function, modules
        )
    assert isinstance(expr, ast.Name), f"{where}: an event type the scan cannot read"
    if function is not None:
        if expr.id in [a.arg for a in _parameters(function)]:
            default = _default(function, expr.id)  # else the callers name the type
            return _resolve(default, module, None, modules) if default is not None else set()
        bound = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
        ]
        if bound:
            return set().union(*(_resolve(value, module, function, modules) for value in bound))
    if expr.id in module.constants:
        return _resolve(module.constants[expr.id], module, None, modules)
    source = modules.get(module.imported.get(expr.id, ""))
    assert source is not None, f"{where}: the event type {expr.id} is defined outside the package"
    return _resolve(ast.Name(expr.id, lineno=expr.lineno), source, None, modules)


@functools.cache
def published_types() -> frozenset[str]:
    """Computed once per test process: the scan takes seconds and the source does not change."""
    modules = _modules()
    functions = _functions(modules)
    publishers = _publishers(functions)
    types: set[str] = set()
    for module, function in functions:
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            publisher = _publisher_of(publishers, module, call)
            argument = _type_argument(call, publisher) if publisher else None
            if argument is not None:
                types |= _resolve(argument, module, function, modules)
    return frozenset(types)


def test_the_scan_finds_types_passed_through_helpers_constants_and_defaults() -> None:
    types = published_types()
    assert "user.updated" in types  # publish_user(..., "user.updated", user)
    assert "team.updated" in types  # announce(...)'s default
    assert {"conversation.created", "conversation.updated"} <= types  # a conditional in a local
    assert "whatsapp_account.alert.created" in types  # an imported module constant


def test_every_published_event_type_is_in_the_catalog_and_nothing_else() -> None:
    listed = [e.name for e in CATALOG]
    assert len(listed) == len(set(listed))
    assert published_types() == set(listed) - STREAM_TYPES


def test_the_events_operation_documents_every_type_and_its_payload_schema() -> None:
    document = default_document()
    description = document["paths"]["/api/v1/events"]["get"]["description"]
    schemas = document["components"]["schemas"]
    for event in CATALOG:
        assert f"| `{event.name}` |" in description
        assert event.schema is None or event.schema in schemas, event
        assert (event.schema is None) != (event.shape is None), event
