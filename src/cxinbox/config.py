"""One Settings class: every variable of the contract, prefixed ``CXINBOX_``.

Adapter groups (mail, Meta, LLM providers, Stripe) are exposed as small read-only views so that
each adapter receives only what it needs, while the environment stays one flat namespace.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class MailSettings:
    smtp_url: str | None
    email_from: str
    #: without SMTP, whether the log may show a mail's text (sign-in codes, invitation links)
    log_text: bool


@dataclass(frozen=True)
class MetaSettings:
    graph_url: str
    graph_version: str
    app_id: str | None
    app_secret: str | None
    verify_token: str | None
    allow_private_urls: bool = False


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    webhook_secret: str
    #: where the Stripe API is reached (a fake one in tests)
    api_base: str


@dataclass(frozen=True)
class LangfuseSettings:
    host: str
    public_key: str
    secret_key: str
    allow_private_urls: bool


@dataclass(frozen=True)
class EmbeddingsSettings:
    provider: Literal["OPENAI", "GOOGLE", "LOCAL"]
    model: str
    api_key: str | None
    base_url: str
    allow_private_urls: bool


#: each provider's model when ``CXINBOX_EMBEDDINGS_MODEL`` is not set, and its public API base
EMBEDDING_DEFAULTS = {
    "OPENAI": ("text-embedding-3-small", "https://api.openai.com/v1"),
    "GOOGLE": ("text-embedding-004", "https://generativelanguage.googleapis.com"),
    "LOCAL": ("local", "http://127.0.0.1:8080/v1"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CXINBOX_", extra="ignore")

    #: Settings whose values are never shown, not even to the super admin.
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "secret_key",
            "superadmin_password",
            "smtp_url",
            "meta_app_secret",
            "meta_verify_token",
            "stripe_secret_key",
            "stripe_webhook_secret",
            "database_url",
            "database_read_url",
            "redis_url",
            "embeddings_api_key",
            "langfuse_secret_key",
        }
    )

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("./data")
    database_url: str = "sqlite+aiosqlite:///./data/cxinbox.db"
    #: where read sessions (lists, counts, exports) read, e.g. a PostgreSQL replica; unset, they
    #: read the database of ``database_url`` (on SQLite, outside the process's write gate)
    database_read_url: str | None = None
    redis_url: str | None = None
    #: prefix of every Redis key and channel, so several deployments (or test runs) can share a Redis
    redis_prefix: str = "cxinbox"
    secret_key: str | None = None
    #: base of emailed links and media URLs; unset, ``cxinbox serve`` uses the address it listens on
    public_url: str = "http://127.0.0.1:8000"
    #: let outbound calls (media, LLM base URLs, tools, connections) reach private, loopback and
    #: link-local addresses: for tests and on-premise services; off, the outbound guard refuses them
    allow_private_urls: bool = False
    log_level: str = "INFO"
    log_json: bool | None = None

    superadmin_email: str | None = None
    superadmin_password: str | None = None

    smtp_url: str | None = None
    email_from: str = "CX Inbox <no-reply@cxinbox.local>"
    #: send no mail at all (production refuses to start without SMTP unless this says so)
    mail_disabled: bool = False

    meta_graph_url: str = "https://graph.facebook.com"
    meta_graph_version: str = "v23.0"
    meta_app_id: str | None = None
    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    #: a rate card (JSON, the shipped ``campaigns/rate_card.json``'s shape) used instead of the shipped one
    rate_card_path: Path | None = None

    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    google_base_url: str | None = None
    deepseek_base_url: str | None = None
    kimi_base_url: str | None = None
    #: one LLM call (a whole streamed answer too) ends after this long, and counts as a failure
    llm_timeout_seconds: float = 30.0
    #: the time one bot turn spends in tool calls at most: once spent, no call starts (the model is told
    #: the time is up), and a running call is cut when it runs out
    bot_tool_seconds_per_turn: float = Field(default=20.0, gt=0)
    #: tool calls one process makes at once (the bot's, agents' and tests'), and one organization's
    #: share of them; a call that finds no free slot within ``tool_calls_max_wait_seconds`` is 429
    tool_calls_max: int = Field(default=8, ge=1)
    tool_calls_max_per_org: int = Field(default=4, ge=1)
    tool_calls_max_wait_seconds: float = Field(default=10.0, gt=0)
    #: a bot session whose customer has written nothing for this long closes ABANDONED
    bot_session_abandon_hours: float = Field(default=24.0, gt=0)

    #: the knowledge base's embeddings: unset, retrieval is full-text only (works offline)
    embeddings_provider: Literal["OPENAI", "GOOGLE", "LOCAL"] | None = None
    #: the provider's model (default: OpenAI ``text-embedding-3-small``, Google ``text-embedding-004``)
    embeddings_model: str | None = None
    embeddings_api_key: str | None = None
    #: LOCAL: the OpenAI-compatible base whose ``/embeddings`` is called (e.g. ``http://gpu:8080/v1``);
    #: OPENAI and GOOGLE default to ``CXINBOX_OPENAI_BASE_URL`` / ``CXINBOX_GOOGLE_BASE_URL``
    embeddings_base_url: str | None = None

    #: Langfuse (``/api/public/ingestion``): each bot turn's trace is exported when all three are set
    langfuse_host: str | None = None
    langfuse_public_key: str | None = None
    langfuse_secret_key: str | None = None

    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    #: the Stripe API's base (unset: Stripe's public API)
    stripe_api_base: str | None = None

    dev_endpoints: bool | None = None
    #: outbound messages per second per WhatsApp number (Meta's default throughput), shared by every
    #: process through Redis when it is configured
    whatsapp_send_rate_per_second: int = 80
    #: first delay of a send retried after a retryable Graph error; doubles per attempt, with jitter
    whatsapp_send_retry_base_seconds: float = 2.0
    #: how long after its claim's lease a send of unknown outcome (the worker died during the Graph
    #: call) waits for a status webhook to tell what happened before it is reported UNKNOWN
    whatsapp_send_outcome_window_seconds: float = Field(default=600.0, ge=0)
    rate_limits: Literal["on", "off"] = "on"
    #: a worker reads the durable job schedule (retries, delayed and debounced jobs) at least this
    #: often; a job this process schedules is seen at once
    job_poll_seconds: float = Field(default=1.0, gt=0)
    #: jobs of the ``llm`` queue (the bot's turns) one process runs at once: most of a turn is an
    #: await on the model, so hundreds cost little
    job_llm_concurrency: int = Field(default=500, gt=0)
    #: of those, how many may be in the database at once (``core.db_phases``): kept below the
    #: connection pool (10 + 20 on PostgreSQL), so turns never exhaust it for webhooks and requests
    job_llm_db_phases: int = Field(default=8, gt=0)

    access_token_ttl_seconds: int = 15 * 60
    #: how long this process keeps a checked access token or API key (``auth.verified``) when no change
    #: committed in this process made it stale: the longest a change committed by another process
    #: (a worker, a second API process) takes to be seen; 0 checks every request in the database
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    events_token_ttl_seconds: int = 120
    login_code_ttl_seconds: int = 10 * 60
    login_code_max_attempts: int = 5
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    max_json_body_bytes: int = 4 * 1024 * 1024
    max_upload_bytes: int = 100 * 1024 * 1024
    sse_heartbeat_seconds: float = 15.0
    #: a readiness probe must answer even when a dependency hangs instead of refusing
    ready_timeout_seconds: float = 5.0
    event_retention_hours: int = 72

    @model_validator(mode="after")
    def _defaults_that_depend_on_env(self) -> Settings:
        if self.dev_endpoints is None:
            self.dev_endpoints = self.env != "production"
        if self.log_json is None:
            self.log_json = self.env == "production"
        if self.env == "production":
            self._check_production()
        return self

    def _check_production(self) -> None:
        """What production refuses to start with (each a one-line message naming the variable)."""
        if not self.secret_key:
            raise ValueError("CXINBOX_SECRET_KEY must be set in production")
        if not self.smtp_url and not self.mail_disabled:
            raise ValueError(
                "CXINBOX_SMTP_URL must be set in production (sign-in codes and invitations are mailed); "
                "set CXINBOX_MAIL_DISABLED=true to run without mail"
            )
        if problem := self.superadmin_email_problem:
            raise ValueError(problem)

    @property
    def superadmin_email_problem(self) -> str | None:
        """Why ``CXINBOX_SUPERADMIN_EMAIL`` could never sign in (None when it is usable or unset)."""
        if self.superadmin_email is None:
            return None
        return email_problem(self.superadmin_email, "CXINBOX_SUPERADMIN_EMAIL")

    def serving_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on ``host:port``: when ``CXINBOX_PUBLIC_URL`` is not
        set, emailed links and media URLs point at that address (all interfaces: this machine's
        host name, which other machines can reach, unlike 127.0.0.1)."""
        if "public_url" in self.model_fields_set:
            return self
        return self.model_copy(update={"public_url": served_url(host, port)})

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured key, else one generated once and kept in the data dir (development only)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def mail(self) -> MailSettings:
        return MailSettings(
            smtp_url=None if self.mail_disabled else self.smtp_url,
            email_from=self.email_from,
            log_text=self.env != "production",
        )

    @property
    def meta(self) -> MetaSettings:
        return MetaSettings(
            graph_url=self.meta_graph_url.rstrip("/"),
            graph_version=self.meta_graph_version,
            app_id=self.meta_app_id,
            app_secret=self.meta_app_secret,
            verify_token=self.meta_verify_token,
            allow_private_urls=self.allow_private_urls,
        )

    @property
    def stripe(self) -> StripeSettings | None:
        """Billing's Stripe account, or None while the secret key or the webhook secret is not set
        (billing then answers 503 ``BILLING_NOT_CONFIGURED``)."""
        if not self.stripe_secret_key or not self.stripe_webhook_secret:
            return None
        return StripeSettings(
            secret_key=self.stripe_secret_key,
            webhook_secret=self.stripe_webhook_secret,
            api_base=(self.stripe_api_base or "https://api.stripe.com").rstrip("/"),
        )

    @property
    def langfuse(self) -> LangfuseSettings | None:
        """Where bot turn traces are exported, or None (off, the default) unless the host and both
        keys are set."""
        if not (self.langfuse_host and self.langfuse_public_key and self.langfuse_secret_key):
            return None
        return LangfuseSettings(
            host=self.langfuse_host.rstrip("/"),
            public_key=self.langfuse_public_key,
            secret_key=self.langfuse_secret_key,
            allow_private_urls=self.allow_private_urls,
        )

    @property
    def embeddings(self) -> EmbeddingsSettings | None:
        """The embedding provider of the knowledge base, or None (full-text retrieval only). A LOCAL
        base URL is the operator's own service: it may be private without ``ALLOW_PRIVATE_URLS``."""
        provider = self.embeddings_provider
        if provider is None:
            return None
        model, public_base = EMBEDDING_DEFAULTS[provider]
        configured_base = {"OPENAI": self.openai_base_url, "GOOGLE": self.google_base_url}.get(provider)
        return EmbeddingsSettings(
            provider=provider,
            model=self.embeddings_model or model,
            api_key=self.embeddings_api_key,
            base_url=(self.embeddings_base_url or configured_base or public_base).rstrip("/"),
            allow_private_urls=self.allow_private_urls or provider == "LOCAL",
        )

    @property
    def rate_limits_enabled(self) -> bool:
        return self.rate_limits == "on"


def email_problem(email: str, name: str) -> str | None:
    """Why ``email`` (the value of ``name``) is not an address anyone can sign in with: sign-in
    takes only what the API's email fields accept (so ``admin@localhost`` never signs in)."""
    try:
        validate_email(email.strip())
    except PydanticCustomError as exc:
        return f"{name} is not a valid email address ({email!r}): {exc.message().split(': ', 1)[-1]}"
    return None


def served_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host:port``."""
    if host in _ALL_INTERFACES:
        host = socket.gethostname()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


_ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})
