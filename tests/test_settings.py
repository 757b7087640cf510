"""What production refuses to start with, the defaults that depend on where the server runs, and a
log mailer that never writes a secret in production."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from cxinbox.adapters.email import Mail, create_mailer
from cxinbox.config import Settings

SMTP = "smtp://mail.example.com:587"
PRODUCTION = {"env": "production", "secret_key": "k" * 32, "smtp_url": SMTP}


def production(**changes) -> Settings:
    return Settings(**(PRODUCTION | changes))


def refusal(**changes) -> str:
    with pytest.raises(ValidationError) as exc:
        production(**changes)
    [error] = exc.value.errors()
    return error["msg"]


def test_production_needs_smtp_or_an_explicit_opt_out():
    assert "CXINBOX_SMTP_URL must be set in production" in refusal(smtp_url=None)
    assert "CXINBOX_MAIL_DISABLED=true" in refusal(smtp_url=None)
    assert production(smtp_url=None, mail_disabled=True).mail.smtp_url is None
    assert production().mail.smtp_url == SMTP
    # outside production a missing SMTP means mail goes to the log
    assert Settings(env="development").mail.smtp_url is None


def test_mail_disabled_sends_nothing_even_with_smtp():
    assert production(mail_disabled=True).mail.smtp_url is None


@pytest.mark.parametrize("email", ["admin@localhost", "admin", "root@cxinbox.local", "a@b@c.com"])
def test_a_super_admin_email_no_one_can_sign_in_with(email):
    message = refusal(superadmin_email=email, superadmin_password="operator-password")
    assert "CXINBOX_SUPERADMIN_EMAIL is not a valid email address" in message and email in message
    development = Settings(env="development", superadmin_email=email)
    assert development.superadmin_email_problem is not None  # logged at start, see test_super_admin
    assert production(superadmin_email=" Ops@Example.com ").superadmin_email_problem is None


def test_dev_endpoints_default_off_in_production_unless_asked_for():
    assert Settings(env="development").dev_endpoints is True
    assert production().dev_endpoints is False
    assert production(dev_endpoints=True).dev_endpoints is True


async def test_the_log_mailer_never_logs_a_mails_text_in_production():
    mail = Mail(to="ines@example.com", subject="Your CX Inbox sign-in code", text="Your code: 493817")
    for settings, shown in ((production(smtp_url=None, mail_disabled=True), False), (Settings(), True)):
        config = settings.mail
        mailer = create_mailer(config.smtp_url, config.email_from, log_text=config.log_text)
        with capture_logs() as logs:
            await mailer.send(mail)
        [entry] = logs
        assert entry["to"] == "ines@example.com"
        assert ("493817" in str(entry)) is shown


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 9000, "http://127.0.0.1:9000"),
        ("10.1.2.3", 8000, "http://10.1.2.3:8000"),
        ("inbox.internal", 80, "http://inbox.internal:80"),
        ("::1", 8000, "http://[::1]:8000"),
        ("0.0.0.0", 8000, f"http://{socket.gethostname()}:8000"),
        ("::", 8001, f"http://{socket.gethostname()}:8001"),
    ],
)
def test_public_url_defaults_to_the_served_address(host, port, expected, monkeypatch):
    monkeypatch.delenv("CXINBOX_PUBLIC_URL", raising=False)
    assert Settings().serving_at(host, port).public_url == expected


def test_an_explicit_public_url_is_kept(monkeypatch):
    monkeypatch.setenv("CXINBOX_PUBLIC_URL", "https://inbox.example.com")
    assert Settings().serving_at("0.0.0.0", 9000).public_url == "https://inbox.example.com"
    assert Settings(public_url="https://x.example").serving_at("h", 1).public_url == "https://x.example"
