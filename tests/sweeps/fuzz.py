"""Property-based requests over every operation of the OpenAPI document, sent to the app in-process.

Schemathesis generates the requests (valid ones, and ones that break the schema) from the app's own
document; Hypothesis drives them in a worker thread while the app keeps serving on the test's event
loop (its database engine and jobs live there). Each answer is checked for what every answer owes
whatever the input: never a 5xx, and every error in the contract's envelope. Problems are collected,
not raised, so one run lists them all without shrinking.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode

#: operations that stream or wait by design: a generated request would hold the run open
STREAMING = frozenset({("GET", "/api/v1/events")})
#: headers the schema's security schemes make Schemathesis invent: the run's own credentials replace them
CREDENTIALS = frozenset({"authorization", "x-api-key"})


@dataclass
class Finding:
    operation: str
    mode: str
    problem: str
    request: str
    cause: str = ""


@dataclass
class Findings:
    items: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        # one finding per operation and problem: the first request that shows it
        if not any((f.operation, f.problem) == (finding.operation, finding.problem) for f in self.items):
            self.items.append(finding)

    def report(self) -> str:
        return "\n".join(
            f"- {f.operation} [{f.mode}] {f.problem}\n  request: {f.request}\n  cause: {f.cause}"
            for f in self.items
        )


def operations(document: dict[str, Any]) -> list[APIOperation]:
    schema = schemathesis.openapi.from_dict(document)
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if (op.method.upper(), op.path) not in STREAMING]


def httpx_arguments(case: Case) -> dict[str, Any]:
    """The generated request as ``httpx`` keyword arguments (Schemathesis serializes for ``requests``)."""
    kwargs = case.as_transport_kwargs(base_url="http://test")
    arguments = {
        key: kwargs[key] for key in ("method", "url", "headers", "params", "json", "files") if key in kwargs
    }
    arguments["cookies"] = kwargs.get("cookies") or None
    data = kwargs.get("data")
    if isinstance(data, str | bytes):
        arguments["content"] = data
    elif data is not None:
        arguments["data"] = data
    return arguments


def problem_with(response: httpx.Response) -> str | None:
    """What is wrong with an answer whatever the request was, if anything."""
    if response.status_code >= 500 and not _not_built(response):
        return f"answers {response.status_code}"
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"error {response.status_code} is not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        return f"error {response.status_code} is not in the envelope"
    return None


def _not_built(response: httpx.Response) -> bool:
    """A 501 NOT_IMPLEMENTED: the documented answer of an operation that is not built yet."""
    try:
        return response.status_code == 501 and response.json()["error"]["code"] == "NOT_IMPLEMENTED"
    except (ValueError, KeyError, TypeError):
        return False


class _LastError(logging.Handler):
    """Keeps the last logged exception (the app logs every unhandled one before answering 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.exc_info: Any = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.exc_info = record.exc_info

    def take(self) -> str:
        if not self.exc_info:
            return ""
        kind, value, tb = self.exc_info
        self.exc_info = None
        frames = [f for f in traceback.extract_tb(tb) if "/cxinbox/" in f.filename][-2:]
        where = " <- ".join(
            f"{f.filename.split('/cxinbox/')[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
        )
        message = " ".join(str(value).split())[:200]
        return f"{kind.__name__}: {message} at {where}"


@contextmanager
def logged_errors() -> Iterator[_LastError]:
    handler = _LastError()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def fuzz_operation(
    operation: APIOperation,
    send: Callable[[dict[str, Any]], httpx.Response],
    findings: Findings,
    *,
    examples: int,
    derandomize: bool,
) -> None:
    """Send ``examples`` generated requests of each mode for ``operation`` (blocking: run it in a thread)."""
    with logged_errors() as errors:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            check = _checker(operation, mode, send, findings, errors)
            run = settings(
                max_examples=examples,
                derandomize=derandomize,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=operation.as_strategy(generation_mode=mode))(check))
            # Unsatisfiable: nothing in the operation can be made invalid (it takes no input)
            with suppress(Unsatisfiable):
                run()


def _checker(
    operation: APIOperation,
    mode: GenerationMode,
    send: Callable[[dict[str, Any]], httpx.Response],
    findings: Findings,
    errors: _LastError,
) -> Callable[[Case], None]:
    name = f"{operation.method.upper()} {operation.path}"

    def check(case: Case) -> None:
        arguments = httpx_arguments(case)
        response = send(arguments)
        problem = problem_with(response)
        if problem:
            request = {k: v for k, v in arguments.items() if v and k != "headers"}
            findings.add(Finding(name, mode.value, problem, repr(request)[:400], errors.take()))

    return check


def sender(client: httpx.AsyncClient, headers: dict[str, str], loop: asyncio.AbstractEventLoop):  # type: ignore[no-untyped-def]
    """A blocking ``send`` for the worker thread: the request runs on the app's event loop."""

    def send(arguments: dict[str, Any]) -> httpx.Response:
        generated = {
            k: v for k, v in (arguments.get("headers") or {}).items() if k.lower() not in CREDENTIALS
        }
        arguments = {**arguments, "headers": {**generated, **headers}}
        return asyncio.run_coroutine_threadsafe(client.request(**arguments), loop).result(timeout=60)

    return send
