"""The ``cxinbox`` console script, run as a real process."""

from __future__ import annotations

import asyncio
import gc
import re
import signal
import sqlite3
import uuid

import httpx
import pytest
from redis.asyncio import Redis

from cxinbox.adapters.email import Mail
from cxinbox.cli import YOUNG_GENERATION_THRESHOLD, settle_collector
from cxinbox.core.job_queue import redis_list_name
from cxinbox.core.jobs import Queue
from cxinbox.mail.tasks import queue_mail
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.media import download_media
from tests.fixtures.factories import unique_email
from tests.fixtures.net import free_port
from tests.fixtures.processes import CXINBOX, cli_env, running_worker, until_answering
from tests.fixtures.runtimes import needs_redis, started_runtime
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


def worker_env(tmp_path, settings, smtp, prefix: str) -> dict[str, str]:
    """A worker process's environment: the tests' database and Redis, under its own prefix."""
    return cli_env(tmp_path) | {
        "CXINBOX_DATABASE_URL": settings.database_url,
        "CXINBOX_REDIS_URL": str(settings.redis_url),
        "CXINBOX_REDIS_PREFIX": prefix,
        "CXINBOX_SMTP_URL": smtp.url,
        "CXINBOX_SECRET_KEY": str(settings.secret_key),
    }


def api_runtime(settings, prefix: str):
    """An API process's runtime on the tests' Redis under ``prefix``: it queues jobs, runs none."""
    return started_runtime(settings, redis_url=settings.redis_url, prefix=prefix, workers=False)


async def send_mail_through(api: Runtime, smtp) -> None:
    """Queue a mail (a realtime job) from ``api`` and wait until the mail server has it."""
    to = unique_email("worker")
    async with api.unit_of_work() as session:
        await queue_mail(session, api, Mail(to=to, subject="From the queue", text="run by the worker"))
    [mail] = await smtp.wait_for(to, timeout=WAIT_SECONDS)
    assert mail["Subject"] == "From the queue"


@needs_redis
async def test_worker_runs_jobs_queued_by_another_process(tmp_path, runtime, settings, smtp):
    """A scaled-out deployment: an API process (here: a runtime that does not consume) queues a job,
    and a separate ``cxinbox worker`` process on the same Redis runs it."""
    prefix = f"cxinbox-worker-{uuid.uuid4().hex[:8]}"
    async with (
        running_worker(worker_env(tmp_path, settings, smtp, prefix)) as worker,
        api_runtime(settings, prefix) as api,
    ):
        await send_mail_through(api, smtp)
    assert worker.returncode == 0


@needs_redis
async def test_a_worker_takes_only_the_queues_it_is_given(tmp_path, runtime, settings, smtp):
    """A worker for the realtime queue sends the mail, and leaves a default-queue job (queued
    before the mail) in its list for the workers of that queue."""
    prefix = f"cxinbox-worker-{uuid.uuid4().hex[:8]}"
    env = worker_env(tmp_path, settings, smtp, prefix)
    async with running_worker(env, "--queues", "realtime") as worker, api_runtime(settings, prefix) as api:
        await api.jobs.kick(download_media.job_name, {"message_id": "left-for-another-worker"})
        await send_mail_through(api, smtp)
        async with Redis.from_url(str(settings.redis_url)) as redis:
            waiting = await redis.lrange(redis_list_name(prefix, Queue.DEFAULT), 0, -1)
    assert any(b"left-for-another-worker" in message for message in waiting)
    assert worker.returncode == 0


async def test_a_worker_refuses_an_unknown_queue(tmp_path):
    env = cli_env(tmp_path)
    process = await asyncio.create_subprocess_exec(
        CXINBOX, "worker", "--queues", "realtime,urgent", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), WAIT_SECONDS)
    assert process.returncode == 2
    assert b"unknown queue urgent" in b" ".join(stderr.split())


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


def test_a_started_process_collects_its_youngest_generation_less_often_and_its_startup_objects_never():
    before = gc.get_threshold()
    try:
        settle_collector()
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])  # the older ones as they were
        assert gc.get_freeze_count() > 0  # what was built until then is out of the collector's sight
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
