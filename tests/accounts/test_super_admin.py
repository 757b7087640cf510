"""The platform super admin: ensured at start from settings, or created with the console script."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from cxinbox.app import create_app
from cxinbox.config import Settings
from tests.fixtures.factories import unique_email
from tests.helpers import error_of, running


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
