"""Rules of signing up and signing in."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.email import Mail
from cxinbox.auth.credentials import ensure_can_sign_in
from cxinbox.auth.principal import Principal
from cxinbox.auth.refresh import TokenPair, revoke_user_sessions, start_session
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import AppError, Conflict, Unauthorized
from cxinbox.core.ids import new_id
from cxinbox.core.ratelimit import Backoff, Limit
from cxinbox.mail.tasks import queue_mail
from cxinbox.models.identity import LoginCode, Organization, Role, User
from cxinbox.runtime import Runtime
from cxinbox.sign_in.schemas import RegisterBody

# Sign-in is throttled per address and per (address, email), never per email alone: a per-email
# limit lets anyone lock anyone out. The (address, email) limits slow down guessing one account;
# the address limits stop one address from trying many accounts. Each backs off in steps.
FAILED_LOGINS = Backoff("login-failures", ("5/minute", "10/15 minutes", "20/hour", "50/day"))
FAILED_LOGINS_PER_IP = Backoff("login-failures-ip", ("20/minute", "60/15 minutes", "300/day"))
CODE_REQUESTS = Backoff("code-requests", ("5/15 minutes", "10/day"))
CODE_REQUESTS_PER_IP = Backoff("code-requests-ip", ("20/15 minutes", "100/day"))
CODE_VERIFICATIONS = Backoff("code-verifications", ("10/15 minutes", "30/day"))
CODE_VERIFICATIONS_PER_IP = Backoff("code-verifications-ip", ("30/15 minutes", "300/day"))
#: a signed-in user's current password, asked before it is replaced (per user)
PASSWORD_CHECKS = Backoff("password-checks", ("5/minute", "10/15 minutes", "20/day"))
REGISTRATIONS = Limit("registrations", "30/hour")


def _caller(client_ip: str, email: str) -> str:
    """The key of one address's attempts at one account."""
    return f"{client_ip}/{email}"


class InvalidCode(AppError):
    status_code = 400
    code = "INVALID_CODE"
    message = "The code is not valid"


class WrongPassword(AppError):
    status_code = 400
    code = "INVALID_PASSWORD"
    message = "The current password is not correct"


class CurrentPasswordRequired(AppError):
    status_code = 400
    code = "CURRENT_PASSWORD_REQUIRED"
    message = (
        "The account has a password: send it as currentPassword, or sign in with a one-time code "
        "and set the new password within a few minutes"
    )


#: how long after a sign-in by one-time code its access token may replace a password unasked
FRESH_CODE_SECONDS = 300


class SuperAdminEmailTaken(Conflict):
    """The email asked of a super admin is a person's of an organization (one account per email)."""

    code = "EMAIL_TAKEN"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60] or "org"


async def unique_slug(session: AsyncSession, wanted: str) -> str:
    base = slugify(wanted)
    taken = set(
        (await session.scalars(select(Organization.slug).where(Organization.slug.like(f"{base}%")))).all()
    )
    if base not in taken:
        return base
    for n in range(2, 1000):
        if f"{base}-{n}" not in taken:
            return f"{base}-{n}"
    return f"{base}-{secrets.token_hex(3)}"


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def register(
    session: AsyncSession, runtime: Runtime, body: RegisterBody, client_ip: str
) -> tuple[User, TokenPair]:
    await runtime.limiter.hit(REGISTRATIONS, client_ip)
    if await find_user_by_email(session, body.email):
        raise Conflict(
            "An account with this email already exists", details=[{"field": "email", "message": "taken"}]
        )
    org = Organization(
        id=new_id(), name=body.company_name.strip(), slug=await unique_slug(session, body.company_name)
    )
    user = User(
        id=new_id(),
        organization_id=org.id,
        email=body.email,
        name=body.name.strip(),
        role=Role.ADMIN,
        password_hash=await runtime.passwords.hash(body.password),
        last_login_at=utcnow(),
    )
    session.add_all([org, user])
    await session.flush()
    return user, start_session(session, runtime, user)


async def login(
    session: AsyncSession, runtime: Runtime, email: str, password: str, client_ip: str
) -> tuple[User, TokenPair]:
    caller = _caller(client_ip, email)
    await runtime.limiter.check(FAILED_LOGINS_PER_IP, client_ip)
    await runtime.limiter.check(FAILED_LOGINS, caller)
    user = await find_user_by_email(session, email)
    if not await runtime.passwords.verify(password, user.password_hash if user else None) or user is None:
        await runtime.limiter.record(FAILED_LOGINS_PER_IP, client_ip)
        await runtime.limiter.record(FAILED_LOGINS, caller)
        raise Unauthorized("Invalid email or password")
    await ensure_can_sign_in(session, user)
    await runtime.limiter.reset(FAILED_LOGINS, caller)
    user.last_login_at = utcnow()
    return user, start_session(session, runtime, user)


def _code_digest(runtime: Runtime, user_id: str, code: str) -> str:
    return runtime.hasher.hash(f"login-code:{user_id}:{code}")


async def _may_sign_in(session: AsyncSession, user: User) -> bool:
    """Whether a sign-in would be allowed, without saying why not (no code is mailed otherwise)."""
    try:
        await ensure_can_sign_in(session, user)
    except AppError:
        return False
    return True


async def request_code(session: AsyncSession, runtime: Runtime, email: str, client_ip: str) -> None:
    """Email a 6-digit code. Answers the same whether or not the address has an account."""
    await runtime.limiter.hit(CODE_REQUESTS_PER_IP, client_ip)
    await runtime.limiter.hit(CODE_REQUESTS, _caller(client_ip, email))
    user = await find_user_by_email(session, email)
    if user is None or not await _may_sign_in(session, user):
        return
    now = utcnow()
    await session.execute(
        update(LoginCode)
        .where(LoginCode.user_id == user.id, LoginCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = runtime.settings.login_code_ttl_seconds
    session.add(
        LoginCode(
            id=new_id(),
            user_id=user.id,
            code_hash=_code_digest(runtime, user.id, code),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    minutes = max(1, ttl // 60)
    await queue_mail(
        session,
        runtime,
        Mail(
            to=user.email,
            subject="Your CX Inbox sign-in code",
            text=f"Your CX Inbox sign-in code is:\n\n{code}\n\nIt expires in {minutes} minutes. "
            "If you did not ask for it, ignore this email.",
        ),
    )


async def verify_code(
    session: AsyncSession, runtime: Runtime, email: str, code: str, client_ip: str
) -> tuple[User, TokenPair]:
    await runtime.limiter.hit(CODE_VERIFICATIONS_PER_IP, client_ip)
    await runtime.limiter.hit(CODE_VERIFICATIONS, _caller(client_ip, email))
    user = await find_user_by_email(session, email)
    record = None
    if user is not None:
        record = await session.scalar(
            select(LoginCode)
            .where(LoginCode.user_id == user.id, LoginCode.consumed_at.is_(None))
            .order_by(LoginCode.created_at.desc())
            .limit(1)
        )
    if user is None or record is None:
        raise InvalidCode(details={"reason": "no_code"})
    now = utcnow()
    if record.expires_at <= now:
        raise InvalidCode("The code has expired; request a new one", details={"reason": "expired"})
    if record.attempts >= runtime.settings.login_code_max_attempts:
        raise InvalidCode(
            "Too many wrong attempts; request a new code", details={"reason": "too_many_attempts"}
        )
    if not runtime.hasher.matches(f"login-code:{user.id}:{code.strip()}", record.code_hash):
        await session.execute(
            update(LoginCode)
            .where(LoginCode.id == record.id)
            .values(attempts=LoginCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        raise InvalidCode(details={"reason": "mismatch"}, keep_changes=True)
    consumed = await session.execute(
        update(LoginCode)
        .where(LoginCode.id == record.id, LoginCode.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidCode(details={"reason": "already_used"})
    await ensure_can_sign_in(session, user)
    user.last_login_at = now
    return user, start_session(session, runtime, user, by_code=True)


async def replace_password(session: AsyncSession, runtime: Runtime, user: User, password: str) -> TokenPair:
    """Store the user's new password and sign them out everywhere. Access tokens do not name their
    refresh family, so every refresh token is revoked and the caller continues with the fresh
    session answered here."""
    user.password_hash = await runtime.passwords.hash(password)
    await revoke_user_sessions(session, user.id)
    return start_session(session, runtime, user)


async def verify_current_password(runtime: Runtime, user: User, password: str) -> None:
    """Ask a signed-in user for their password before it is replaced: a stolen access token alone
    must not take the account over. Wrong attempts count per user and back off."""
    await runtime.limiter.check(PASSWORD_CHECKS, user.id)
    if not await runtime.passwords.verify(password, user.password_hash):
        await runtime.limiter.record(PASSWORD_CHECKS, user.id)
        raise WrongPassword(details=[{"field": "currentPassword", "message": "is not correct"}])
    await runtime.limiter.reset(PASSWORD_CHECKS, user.id)


def _fresh_code_sign_in(principal: Principal) -> bool:
    signed_in = principal.signed_in_by_code_at
    return signed_in is not None and utcnow() - signed_in <= timedelta(seconds=FRESH_CODE_SECONDS)


async def set_password(
    session: AsyncSession, runtime: Runtime, principal: Principal, password: str, current: str | None
) -> tuple[User, TokenPair]:
    """A user without a password (invited, signing in by code) sets one; a user with one proves
    it is theirs: the current password, or a sign-in by one-time code within the last minutes."""
    user = await session.get(User, principal.require_user())
    if user is None:
        raise Unauthorized("The account is not active")
    if user.password_hash is not None and not _fresh_code_sign_in(principal):
        if current is None:
            raise CurrentPasswordRequired(details=[{"field": "currentPassword", "message": "is required"}])
        await verify_current_password(runtime, user, current)
    return user, await replace_password(session, runtime, user, password)


async def complete_onboarding(session: AsyncSession, organization_id: str) -> Organization:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise Unauthorized("The organization no longer exists")
    if org.onboarding_completed_at is None:
        org.onboarding_completed_at = utcnow()
    return org


async def ensure_super_admin(session: AsyncSession, runtime: Runtime, email: str, password: str) -> User:
    """Make sure a super admin with this email and password exists (configuration is authoritative)."""
    email = email.strip().lower()
    user = await find_user_by_email(session, email)
    if user is not None and (user.role != Role.SUPER_ADMIN or user.organization_id is not None):
        raise SuperAdminEmailTaken(
            f"{email} belongs to a user of an organization, so it cannot be a super admin's; "
            "choose another email"
        )
    password_hash = await runtime.passwords.hash(password)
    if user is None:
        user = User(
            id=new_id(), email=email, name="Super Admin", role=Role.SUPER_ADMIN, password_hash=password_hash
        )
        session.add(user)
    else:
        user.password_hash = password_hash
        user.is_active = True
    await session.flush()
    return user
