"""Shared fixtures: one runtime and app per test session, against SQLite by default or against
PostgreSQL + Redis when ``CXINBOX_TEST_DATABASE_URL`` / ``CXINBOX_TEST_REDIS_URL`` are set.

Tests isolate themselves by creating their own organizations and unique emails, so the database is
migrated once and never wiped.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import make_url

from cxinbox.app import create_app
from cxinbox.config import Settings
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fakes.llm import FakeLlm
from tests.fakes.smtp import SmtpServer
from tests.fakes.stripe import SECRET_KEY as STRIPE_SECRET_KEY
from tests.fakes.stripe import WEBHOOK_SECRET as STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe import FakeStripe
from tests.fakes.web import WebServer
from tests.fixtures.databases import fresh_postgres_database
from tests.fixtures.factories import Factory
from tests.fixtures.net import free_port

API = "/api/v1"

# log as the served app does (plain tracebacks): structlog's default renderer prints every frame's
# locals of an unexpected error, which takes many seconds for one request
configure_logging()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def graph() -> Iterator[FakeGraph]:
    """The fake Meta Graph API every test's settings point at."""
    server = FakeGraph()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llm() -> Iterator[FakeLlm]:
    """The fake LLM providers (OpenAI-compatible, Anthropic, Gemini) bot configs can point at."""
    server = FakeLlm()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stripe() -> Iterator[FakeStripe]:
    """The fake Stripe API billing is configured with."""
    server = FakeStripe()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def web() -> Iterator[WebServer]:
    """Some other web server (an attacker's, an internal one): records every request it gets."""
    server = WebServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _graph_behaves_as_it_did(graph: FakeGraph) -> Iterator[None]:
    """The fake Graph API is shared by the session: a test that makes it slow leaves it as it was."""
    yield
    graph.state.restore_behaviour()


META_APP_SECRET = "test-meta-app-secret"
META_VERIFY_TOKEN = "test-verify-token"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
async def database_url(data_dir: Path) -> AsyncIterator[str]:
    """SQLite in the session's data dir, or ``CXINBOX_TEST_DATABASE_URL``. Under pytest-xdist each
    worker migrates and uses a fresh database of its own on that server, dropped at its end."""
    server_url = os.environ.get("CXINBOX_TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite+aiosqlite:///{data_dir}/test.db"
    elif worker := os.environ.get("PYTEST_XDIST_WORKER"):
        async with fresh_postgres_database(server_url, f"{make_url(server_url).database}_{worker}") as url:
            yield url
    else:
        yield server_url


@pytest.fixture(scope="session")
def settings(
    data_dir: Path, database_url: str, smtp: SmtpServer, graph: FakeGraph, stripe: FakeStripe
) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        redis_url=os.environ.get("CXINBOX_TEST_REDIS_URL") or None,
        redis_prefix=f"cxinbox-test-{uuid.uuid4().hex[:8]}",
        secret_key="test-secret-key-" + uuid.uuid4().hex,
        smtp_url=smtp.url,
        public_url="http://cxinbox.test",
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        sse_heartbeat_seconds=1.0,
        meta_graph_url=graph.url,
        allow_private_urls=True,  # the fake Graph API and every fake server are on 127.0.0.1
        meta_app_id="test-meta-app",
        meta_app_secret=META_APP_SECRET,
        meta_verify_token=META_VERIFY_TOKEN,
        whatsapp_send_retry_base_seconds=0.05,
        job_poll_seconds=0.2,
        stripe_secret_key=STRIPE_SECRET_KEY,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        stripe_api_base=stripe.url,
    )


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    await asyncio.to_thread(upgrade, settings.database_url)
    rt = Runtime(settings)
    await rt.start(workers=True)
    yield rt
    await rt.stop()


@pytest.fixture(scope="session")
async def app(runtime: Runtime):
    application = create_app(runtime.settings, runtime=runtime)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app in-process; each test gets its own client address (rate limits
    keyed by IP do not leak between tests)."""
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://test{API}") as c:
        yield c


@pytest.fixture
def factory(runtime: Runtime) -> Factory:
    return Factory(runtime)


@pytest.fixture(scope="session")
async def live_server(app) -> AsyncIterator[str]:
    """The same app served by a real uvicorn on 127.0.0.1 (for streaming and load tests)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}{API}"
    server.should_exit = True
    await task
