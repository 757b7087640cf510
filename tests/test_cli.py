"""The ``cxinbox`` console script, run as a real process."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import uuid

import httpx
import pytest

from cxinbox.adapters.email import Mail
from cxinbox.mail.tasks import queue_mail
from cxinbox.runtime import Runtime
from tests.fixtures.factories import unique_email
from tests.fixtures.net import free_port
from tests.fixtures.processes import CXINBOX, cli_env, until_answering
from tests.fixtures.runtimes import needs_redis
from tests.fixtures.wait import WAIT_SECONDS


async def test_migrate_creates_the_schema(tmp_path):
    process = await asyncio.create_subprocess_exec(
        CXINBOX, "migrate", env=cli_env(tmp_path), stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0
    assert b"database is up to date" in stdout
    with sqlite3.connect(tmp_path / "cli.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", "organizations", "users", "api_keys", "events", "event_sequences"} <= tables


async def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        CXINBOX,
        "serve",
        "--port",
        str(port),
        env=cli_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1") as client:
            await until_answering(client, process)
            assert (await client.get("/health")).json() == {"data": {"status": "ok"}}
            assert (await client.get("/ready")).status_code == 200
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # uvicorn re-raises the signal once it has shut down gracefully (the parent sees a SIGTERM exit)
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in output
    assert (tmp_path / "data" / "secret_key").exists()


@needs_redis
async def test_worker_runs_jobs_queued_by_another_process(tmp_path, runtime, settings, smtp):
    """A scaled-out deployment: an API process (here: a runtime that does not consume) queues a job,
    and a separate ``cxinbox worker`` process on the same Redis runs it."""
    prefix = f"cxinbox-worker-{uuid.uuid4().hex[:8]}"
    env = cli_env(tmp_path)
    env |= {
        "CXINBOX_DATABASE_URL": settings.database_url,
        "CXINBOX_REDIS_URL": str(settings.redis_url),
        "CXINBOX_REDIS_PREFIX": prefix,
        "CXINBOX_SMTP_URL": smtp.url,
        "CXINBOX_SECRET_KEY": str(settings.secret_key),
    }
    worker = await asyncio.create_subprocess_exec(
        CXINBOX, "worker", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    api = Runtime(settings.model_copy(update={"redis_prefix": prefix}))
    await api.start(workers=False)
    to = unique_email("worker")
    try:
        async with api.unit_of_work() as session:
            await queue_mail(session, api, Mail(to=to, subject="From the queue", text="run by the worker"))
        [mail] = await smtp.wait_for(to, timeout=WAIT_SECONDS)
        assert mail["Subject"] == "From the queue"
    finally:
        await api.stop()
        worker.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(worker.wait(), WAIT_SECONDS)
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    assert worker.returncode == 0


async def test_emailed_links_point_at_the_served_address_when_public_url_is_unset(tmp_path, smtp):
    port = free_port()
    env = cli_env(tmp_path) | {"CXINBOX_SMTP_URL": smtp.url}
    migrate = await asyncio.create_subprocess_exec(
        CXINBOX, "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await asyncio.wait_for(migrate.wait(), 120) == 0  # so the server's start is quick
    process = await asyncio.create_subprocess_exec(
        CXINBOX,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    served = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=f"{served}/api/v1") as client:
            await until_answering(client, process)
            owner = {"email": unique_email("owner"), "password": "owner-password", "name": "Owner"}
            r = await client.post("/auth/register", json=owner | {"companyName": "Served Co"})
            assert r.status_code == 201, r.text
            headers = {"Authorization": f"Bearer {r.json()['data']['accessToken']}"}
            invitee = unique_email("invitee")
            r = await client.post("/invitations", json={"email": invitee}, headers=headers)
            assert r.status_code == 201, r.text
            [mail] = await smtp.wait_for(invitee, timeout=WAIT_SECONDS)
            [link] = re.findall(r"^http\S+/invite/\S+$", smtp.body(mail), re.M)
            assert link.startswith(f"{served}/invite/")
            page = await client.get(link)
            assert page.status_code == 200 and "Served Co" in page.text
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), WAIT_SECONDS)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "error: CXINBOX_SMTP_URL must be set in production"),
        (
            {"CXINBOX_MAIL_DISABLED": "true", "CXINBOX_SUPERADMIN_EMAIL": "admin@localhost"},
            "error: CXINBOX_SUPERADMIN_EMAIL is not a valid email address ('admin@localhost')",
        ),
        ({"CXINBOX_MAIL_DISABLED": "true", "CXINBOX_ENV": "prod"}, "error: CXINBOX_ENV: Input should be"),
    ],
)
async def test_production_refuses_to_start_with_one_line_per_problem(tmp_path, variables, expected):
    env = cli_env(tmp_path) | {"CXINBOX_ENV": "production", "CXINBOX_SECRET_KEY": "k" * 32} | variables
    for command in ("serve", "worker", "migrate"):
        process = await asyncio.create_subprocess_exec(
            CXINBOX, command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 1, (command, stdout, stderr)
        [line] = stderr.decode().splitlines()
        assert line.startswith(expected), (command, line)
    assert not (tmp_path / "cli.db").exists()
