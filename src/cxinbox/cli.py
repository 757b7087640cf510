"""``cxinbox`` console script: serve, worker, migrate, create-superadmin."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Coroutine
from typing import Any

import typer
import uvicorn
from pydantic import ValidationError

from cxinbox.config import Settings, email_problem
from cxinbox.core.logging import configure_logging
from cxinbox.core.queue_names import ALL_QUEUES, Queue

app = typer.Typer(help="CX Inbox: WhatsApp customer-experience platform.", no_args_is_help=True)


def upgrade(database_url: str) -> None:
    """Apply the migrations. Imported here, not at the top: a command that fails on its settings
    answers before the database layer (seconds of imports) is loaded."""
    from cxinbox.migrations import upgrade as upgrade_schema

    upgrade_schema(database_url)


def _settings() -> Settings:
    """The settings from the environment; a configuration that cannot start exits 1 with one line
    per problem."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            typer.echo(f"error: {f'CXINBOX_{where.upper()}: ' if where else ''}{message}", err=True)
        raise typer.Exit(1) from None
    configure_logging(settings.log_level, json_output=bool(settings.log_json))
    return settings


#: container objects allocated (net) between two collections of the youngest generation: Python's
#: default (700) ran one every few statements' worth of ORM rows, and each walks what is still
#: alive then; at 10,000 most of a job's or a request's objects are gone before it runs. Measured
#: on a burst of 500 bot turns on PostgreSQL + Redis (``bench.bot_turns --workers 2``, the CPU time
#: spent collecting): the `llm` workers' share fell from 2.4-2.6% to 0.5-1.0% of their CPU, and the
#: share of the process taking the webhooks and deliveries from 11% to 2%. The older generations
#: keep their defaults.
YOUNG_GENERATION_THRESHOLD = 10_000


def settle_collector() -> None:
    """Once a process has started: move everything built so far (modules, routes, schemas, mappers:
    it lives as long as the process) out of the garbage collector's sight, since each full
    collection would walk it all again, which under load shows as stalls of the event loop
    (measured: p99 acknowledgement latency of the webhook fell from about 1 s to under 60 ms at
    1,000 requests/s); and collect the youngest generation less often (``YOUNG_GENERATION_THRESHOLD``)."""
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    settings = _settings()
    upgrade(settings.database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: bool = typer.Option(True, help="Also run background jobs in this process"),
) -> None:
    """Migrate, then serve the API (with background workers in the same process)."""
    settings = _settings().serving_at(host, port)
    upgrade(settings.database_url)
    from cxinbox.app import create_app

    application = create_app(settings, workers=workers)
    settle_collector()
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()


def _queues(value: str) -> list[Queue]:
    """``realtime,default`` → the queues; an unknown name is a usage error."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in set(Queue)]
    if unknown or not names:
        problem = f"unknown queue {', '.join(unknown)}" if unknown else "no queue named"
        raise typer.BadParameter(f"{problem} (choose from {', '.join(ALL_QUEUES)})")
    return [Queue(name) for name in names]


@app.command()
def worker(
    queues: str = typer.Option(
        ",".join(ALL_QUEUES),
        help="The job queues this worker takes, comma-separated (realtime, llm, default, bulk)",
    ),
) -> None:
    """Run background jobs and periodic tasks only (needs CXINBOX_REDIS_URL to share work)."""
    taken = _queues(queues)
    settings = _settings()
    if not settings.redis_url:
        typer.echo("warning: without CXINBOX_REDIS_URL this worker only sees its own jobs", err=True)
    from cxinbox.runtime import Runtime

    async def run() -> None:
        runtime = Runtime(settings)
        await runtime.start(workers=True, queues=taken)
        settle_collector()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"worker running ({', '.join(taken)}); Ctrl-C to stop")
        await stop.wait()
        await runtime.stop()

    _run_event_loop(run())


def _run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` on uvloop when it is installed (as ``serve`` does through uvicorn)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


@app.command("create-superadmin")
def create_superadmin(
    email: str = typer.Option(..., prompt=True, envvar="CXINBOX_SUPERADMIN_EMAIL"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="CXINBOX_SUPERADMIN_PASSWORD"
    ),
) -> None:
    """Create (or reset the password of) a platform super admin."""
    if problem := email_problem(email, "the super admin email"):
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    settings = _settings()
    upgrade(settings.database_url)
    from cxinbox.runtime import Runtime
    from cxinbox.sign_in.service import SuperAdminEmailTaken, ensure_super_admin

    async def run() -> None:
        runtime = Runtime(settings)
        try:
            async with runtime.unit_of_work() as session:
                await ensure_super_admin(session, runtime, email, password)
        finally:
            await runtime.engine.dispose()

    try:
        asyncio.run(run())
    except SuperAdminEmailTaken as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"super admin {email} is ready")


if __name__ == "__main__":
    app()
