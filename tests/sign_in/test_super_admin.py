"""The platform super admin: ensured at start from settings, or created with the console script."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select
from structlog.testing import capture_logs

from cxinbox.app import create_app
from cxinbox.config import Settings
from cxinbox.models.identity import User
from tests.fixtures.api import running
from tests.fixtures.errors import error_of
from tests.fixtures.factories import PASSWORD, unique_email


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": password})


def assert_super_admin(response: httpx.Response, email: str) -> None:
    assert response.status_code == 200, response.text
    user = response.json()["data"]["user"]
    assert user["email"] == email and user["role"] == "SUPER_ADMIN" and user["organizationId"] is None


async def test_the_configured_super_admin_is_ensured_at_start(runtime):
    email = unique_email("operator")

    def app_with(password: str):
        update = {"superadmin_email": email.upper(), "superadmin_password": password}
        return create_app(runtime.settings.model_copy(update=update), runtime=runtime)

    async with running(app_with("first-password")) as c:
        assert_super_admin(await login(c, email, "first-password"), email)
    # the configuration is authoritative: a restart with another password resets it
    async with running(app_with("second-password")) as c:
        assert_super_admin(await login(c, email, "second-password"), email)
        error_of(await login(c, email, "first-password"), 401, "UNAUTHORIZED")


async def test_a_configured_email_of_an_organization_user_is_logged_and_the_api_serves(runtime, factory):
    org = await factory.org()
    update = {"superadmin_email": org.admin.email, "superadmin_password": "operator-password"}
    application = create_app(runtime.settings.model_copy(update=update), runtime=runtime)
    with capture_logs() as logs:
        async with running(application) as c:
            assert (await c.get("/health")).status_code == 200
            error_of(await login(c, org.admin.email, "operator-password"), 401, "UNAUTHORIZED")
            r = await login(c, org.admin.email, PASSWORD)  # the organization's admin is untouched
            assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "ADMIN"
    [error] = [entry for entry in logs if entry["event"] == "superadmin_not_created"]
    assert error["event"] == "superadmin_not_created"
    assert error["setting"] == "CXINBOX_SUPERADMIN_EMAIL" and org.admin.email in error["reason"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cxinbox = Path(sys.executable).with_name("cxinbox")
    return subprocess.run([str(cxinbox), *args], env=env, capture_output=True, text=True, timeout=120)


async def test_create_superadmin_command(tmp_path):
    database_url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXINBOX_")}
    env |= {"CXINBOX_DATABASE_URL": database_url, "CXINBOX_DATA_DIR": str(tmp_path)}
    email = unique_email("cli-operator")
    done = await asyncio.to_thread(
        run_cli, "create-superadmin", "--email", email, "--password", "cli-password-1", env=env
    )
    assert done.returncode == 0, done.stderr
    assert f"super admin {email} is ready" in done.stdout

    settings = Settings(env="test", database_url=database_url, data_dir=tmp_path)
    async with running(create_app(settings, workers=False)) as c:
        assert_super_admin(await login(c, email, "cli-password-1"), email)


async def test_create_superadmin_refuses_an_organization_users_email(tmp_path, runtime, factory, client):
    org = await factory.org()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXINBOX_")}
    env |= {"CXINBOX_DATABASE_URL": runtime.settings.database_url, "CXINBOX_DATA_DIR": str(tmp_path)}
    done = await asyncio.to_thread(
        run_cli, "create-superadmin", "--email", org.admin.email, "--password", "cli-password-1", env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "is ready" not in done.stdout
    assert done.stderr.splitlines()[-1] == (
        f"error: {org.admin.email} belongs to a user of an organization, so it cannot be a super "
        "admin's; choose another email"
    )
    r = await login(client, org.admin.email, PASSWORD)
    assert r.status_code == 200 and r.json()["data"]["user"]["role"] == "ADMIN"


async def test_a_configured_email_no_one_can_sign_in_with_is_logged_and_skipped(runtime):
    update = {"superadmin_email": "root@localhost", "superadmin_password": "operator-password"}
    application = create_app(runtime.settings.model_copy(update=update), runtime=runtime)
    with capture_logs() as logs:
        async with running(application) as c:
            assert (await c.get("/health")).status_code == 200
    [error] = [entry for entry in logs if entry["event"] == "superadmin_not_created"]
    assert (error["event"], error["setting"]) == ("superadmin_not_created", "CXINBOX_SUPERADMIN_EMAIL")
    assert "root@localhost" in error["reason"] and "not a valid email" in error["reason"]
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(User.id).where(User.email == "root@localhost")) is None


async def test_create_superadmin_refuses_an_invalid_email_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXINBOX_")}
    env |= {
        "CXINBOX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "CXINBOX_DATA_DIR": str(tmp_path),
    }
    done = await asyncio.to_thread(
        run_cli, "create-superadmin", "--email", "admin@localhost", "--password", "cli-password-1", env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        "error: the super admin email is not a valid email address ('admin@localhost'): "
        "The part after the @-sign is not valid. It should have a period."
    ]
    assert not (tmp_path / "cli.db").exists()  # refused before anything was touched
