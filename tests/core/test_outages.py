"""A database or Redis that is down answers 503 with ``Retry-After`` (never a 500), the processes
that listen to Redis wait for it with backoff and log an outage once, and one SIGTERM stops
``cxinbox serve`` even while a job is failing."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cxinbox.app import create_app
from cxinbox.core.job_queue import JobQueue
from cxinbox.core.job_store import JobStore
from cxinbox.core.jobs import ALL_QUEUES
from cxinbox.core.pubsub import RedisBus
from cxinbox.migrations import upgrade
from cxinbox.runtime import Runtime
from tests.fixtures.api import running
from tests.fixtures.errors import error_of
from tests.fixtures.factories import PASSWORD, unique_email
from tests.fixtures.net import free_port
from tests.fixtures.processes import CXINBOX, cli_env, until_answering
from tests.fixtures.runtimes import unique_prefix
from tests.fixtures.wait import WAIT_SECONDS, eventually

#: polls of /health while ``cxinbox serve`` starts (10 per second)


def dead_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def assert_unavailable(response: httpx.Response) -> None:
    error_of(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text and "redis" not in response.text.lower()


async def test_redis_down_answers_503_with_retry_after(settings, factory):
    org = await factory.org()
    runtime = Runtime(settings.model_copy(update={"redis_url": dead_redis_url(), "rate_limits": "on"}))
    try:
        async with running(create_app(runtime.settings, runtime=runtime)) as client:
            login = {"email": org.admin.email, "password": PASSWORD}
            assert_unavailable(await client.post("/auth/login", json=login))
            register = {"companyName": "Acme", "name": "A", "email": unique_email(), "password": PASSWORD}
            assert_unavailable(await client.post("/auth/register", json=register))
    finally:
        await runtime.stop()


async def test_database_down_answers_503_with_retry_after(settings, factory):
    org = await factory.org()
    dead_database = f"postgresql+asyncpg://cxinbox:secret@127.0.0.1:{free_port()}/cxinbox"
    runtime = Runtime(settings.model_copy(update={"database_url": dead_database, "redis_url": None}))
    try:
        async with running(create_app(runtime.settings, runtime=runtime)) as client:
            login = {"email": org.admin.email, "password": PASSWORD}
            assert_unavailable(await client.post("/auth/login", json=login))
            assert_unavailable(await client.get("/users", headers=org.admin.headers))
            assert "secret" not in (await client.get("/users", headers=org.admin.headers)).text
    finally:
        await runtime.stop()


async def test_a_failed_statement_never_shows_its_parameters(runtime):
    """Errors end up in logs: a statement's values (a password hash, a token's hash) stay out."""
    secret = "$argon2id$v=19$m=65536,t=3,p=4$secret-hash"
    with pytest.raises(DBAPIError) as failure:
        async with runtime.sessionmaker() as session:
            await session.execute(text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": secret})
    assert secret not in str(failure.value)


async def _never_runs(*_args) -> None:
    raise AssertionError("no job can arrive from a Redis that is down")


async def test_each_job_receiver_waits_for_redis_with_backoff_and_logs_the_outage_once(caplog, runtime):
    store = JobStore(runtime.sessionmaker, runtime.read_sessionmaker)
    queue = JobQueue(dead_redis_url(), _never_runs, store, prefix=unique_prefix())
    await queue.start(consume=True)
    receivers = queue.receiver_connections.values()
    try:
        await eventually(lambda: all(r.failures >= 3 for r in receivers), "three reconnection attempts each")
        assert [r.outages for r in receivers] == [1] * len(ALL_QUEUES)
        # one line per outage, not one per attempt
        assert len([r for r in caplog.records if "job_receiver" in r.getMessage()]) == len(receivers)
    finally:
        await queue.stop()


async def test_the_event_listener_waits_for_redis_with_backoff_and_logs_the_outage_once():
    bus = RedisBus(dead_redis_url(), unique_prefix())
    bus.listen_in_background()
    try:
        await eventually(lambda: bus.connection.failures >= 3, "three reconnection attempts")
        assert bus.connection.outages == 1
        assert bus.connection.next_delay() > bus.connection.first / 2  # backing off, capped
    finally:
        await bus.stop()


async def test_one_sigterm_stops_serve_while_a_mail_job_fails(tmp_path):
    """A sign-in code mail to a mail server that is down: the job fails and waits for a retry; one
    SIGTERM still stops the process at once (the mail stays in the outbox for the next start)."""
    port = free_port()
    env = cli_env(tmp_path) | {"CXINBOX_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    await asyncio.to_thread(upgrade, env["CXINBOX_DATABASE_URL"])  # the server starts without migrating
    process = await asyncio.create_subprocess_exec(
        CXINBOX,
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = b""
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1") as client:
            await until_answering(client, process)
            email = unique_email()
            register = {"companyName": "Acme", "name": "A", "email": email, "password": PASSWORD}
            assert (await client.post("/auth/register", json=register)).status_code == 201
            assert (await client.post("/auth/request-code", json={"email": email})).status_code == 200

        assert process.stdout is not None

        async def mail_failed() -> bool:
            nonlocal output
            output += await process.stdout.readline()  # type: ignore[union-attr]
            return b"mail_retry" in output

        await eventually(mail_failed, "the mail job failed and waits for its retry")
        process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
        output += rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode in (0, -signal.SIGTERM), output.decode(errors="replace")[-2000:]
    assert b"Application shutdown complete" in output
