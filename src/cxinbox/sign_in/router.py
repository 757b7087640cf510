from __future__ import annotations

from fastapi import APIRouter, Request, status

from cxinbox.auth.dependencies import AdminDep, PrincipalDep, RuntimeDep, SessionDep
from cxinbox.auth.refresh import TokenPair, rotate
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.core.errors import Unauthorized
from cxinbox.core.http import client_ip
from cxinbox.core.wire import Envelope
from cxinbox.models.identity import Organization, User
from cxinbox.sign_in import service
from cxinbox.sign_in.schemas import (
    CodeRequested,
    EmailBody,
    LoginBody,
    Me,
    OrganizationSummary,
    PasswordSet,
    RefreshBody,
    RegisterBody,
    SetPasswordBody,
    TokenBundle,
    VerifyCodeBody,
)

#: a person's own identity and password: never an API key's business
router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[NO_API_KEYS])


def _bundle(user: User, pair: TokenPair) -> Envelope[TokenBundle]:
    return Envelope(data=TokenBundle.of(user, pair))


def organization_summary(org: Organization) -> OrganizationSummary:
    return OrganizationSummary(
        id=org.id,
        name=org.name,
        slug=org.slug,
        plan=org.plan,
        status=org.status,
        onboarding_completed=org.onboarding_completed_at is not None,
        created_at=org.created_at,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Self-service registration (creates org + admin user)",
)
async def register(
    body: RegisterBody, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TokenBundle]:
    user, pair = await service.register(session, runtime, body, client_ip(request))
    return _bundle(user, pair)


@router.post("/login", summary="Login with email and password")
async def login(
    body: LoginBody, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TokenBundle]:
    user, pair = await service.login(session, runtime, body.email, body.password, client_ip(request))
    return _bundle(user, pair)


@router.post("/request-code", summary="Email a 6-digit one-time sign-in code")
async def request_code(
    body: EmailBody, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Envelope[CodeRequested]:
    await service.request_code(session, runtime, body.email, client_ip(request))
    return Envelope(data=CodeRequested(expires_in=runtime.settings.login_code_ttl_seconds))


@router.post("/verify-code", summary="Exchange a one-time code for tokens")
async def verify_code(
    body: VerifyCodeBody, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TokenBundle]:
    user, pair = await service.verify_code(session, runtime, body.email, body.code, client_ip(request))
    return _bundle(user, pair)


@router.post("/refresh", summary="Refresh access token")
async def refresh(body: RefreshBody, session: SessionDep, runtime: RuntimeDep) -> Envelope[TokenBundle]:
    user, pair = await rotate(session, runtime, body.refresh_token)
    return _bundle(user, pair)


@router.get("/me", summary="Get current user profile")
async def me(principal: PrincipalDep, session: SessionDep) -> Envelope[Me]:
    user = await session.get(User, principal.require_user())
    if user is None:
        raise Unauthorized()
    org_id = principal.organization_id
    org = await session.get(Organization, org_id) if org_id else None
    return Envelope(
        data=Me(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            status=user.status,
            is_active=user.is_active,
            organization_id=org_id,
            created_at=user.created_at,
            has_password=user.password_hash is not None,
            organization=organization_summary(org) if org else None,
            impersonated_by=principal.impersonator_id,
        )
    )


@router.post(
    "/set-password",
    summary="Set or update password for the authenticated user",
    description="A user without a password (invited, or signing in with one-time codes) sets one. "
    "A user who has one proves it is theirs: `currentPassword` (400 CURRENT_PASSWORD_REQUIRED when "
    "missing, 400 INVALID_PASSWORD when wrong; wrong attempts back off with 429 RATE_LIMITED), or "
    "an access token from `/auth/verify-code` less than 5 minutes old. Signs the user out of every "
    "session, including the caller's refresh token, as `/profile/change-password` does, and answers "
    "a fresh token bundle (as `/auth/login`) for the caller to continue with, plus `updated: true`.",
)
async def set_password(
    body: SetPasswordBody, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[PasswordSet]:
    user, pair = await service.set_password(session, runtime, principal, body.password, body.current_password)
    return Envelope(data=PasswordSet.of(user, pair))


@router.post("/complete-onboarding", summary="Mark onboarding as completed for the current org")
async def complete_onboarding(principal: AdminDep, session: SessionDep) -> Envelope[OrganizationSummary]:
    org = await service.complete_onboarding(session, principal.tenant.organization_id)
    return Envelope(data=organization_summary(org))
