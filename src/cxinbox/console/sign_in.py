"""Signing in to the console (password, or a one-time code by email) and out, through the same
services as ``/auth/login``, ``/auth/request-code`` and ``/auth/verify-code``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from cxinbox.auth.refresh import TokenPair, end_session
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import (
    REFRESH_COOKIE,
    SIGN_IN_PATH,
    FormDep,
    Visit,
    VisitorDep,
    identify,
)
from cxinbox.core.errors import AppError
from cxinbox.core.http import client_ip
from cxinbox.models.identity import User
from cxinbox.sign_in import service
from cxinbox.sign_in.schemas import EmailBody, LoginBody, VerifyCodeBody

router = APIRouter(include_in_schema=False)
INBOX_PATH = "/inbox"
CODE_PATH = "/sign-in/code"


def _text(form: FormData, name: str, limit: int = 320) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _failure(visit: Visit, exc: AppError, wrong: str) -> str:
    """What the person is told: never more than the API would say."""
    if exc.code == "RATE_LIMITED":
        return visit.t("too_many")
    if exc.code in ("UNAUTHORIZED", "INVALID_CODE", "VALIDATION_ERROR"):
        return visit.t(wrong)
    return visit.t("account_unavailable")


@router.get("/")
async def home(visit: VisitorDep) -> Response:
    return visit.redirect(INBOX_PATH if await identify(visit) else SIGN_IN_PATH)


@router.get(SIGN_IN_PATH, response_class=HTMLResponse)
async def sign_in_page(visit: VisitorDep) -> Response:
    if await identify(visit):
        return visit.redirect(INBOX_PATH)
    return visit.page("console/sign_in.html", mode="password", email="")


@router.post(SIGN_IN_PATH, response_class=HTMLResponse)
async def sign_in(visit: VisitorDep, form: FormDep) -> Response:
    email = _text(form, "email")
    try:
        body = LoginBody.model_validate({"email": email, "password": form.get("password")})
    except ValidationError:
        return _refused(visit, "password", email, visit.t("sign_in_failed"))
    ip = client_ip(visit.request)
    return await _start(
        visit, "password", email, lambda s: service.login(s, visit.runtime, body.email, body.password, ip)
    )


@router.get(CODE_PATH, response_class=HTMLResponse)
async def code_page(visit: VisitorDep) -> Response:
    if await identify(visit):
        return visit.redirect(INBOX_PATH)
    return visit.page("console/sign_in.html", mode="request_code", email="")


@router.post(CODE_PATH + "/request", response_class=HTMLResponse)
async def request_code(visit: VisitorDep, form: FormDep) -> Response:
    email = _text(form, "email")
    try:
        body = EmailBody.model_validate({"email": email})
        ip = client_ip(visit.request)
        await in_unit_of_work(visit.runtime, lambda s: service.request_code(s, visit.runtime, body.email, ip))
    except ValidationError:
        return visit.page(
            "console/sign_in.html", 400, mode="request_code", email=email, error=visit.t("sign_in_failed")
        )
    except AppError as exc:
        return _refused(visit, "request_code", email, _failure(visit, exc, "sign_in_failed"))
    minutes = max(1, visit.runtime.settings.login_code_ttl_seconds // 60)
    return visit.page(
        "console/sign_in.html", mode="code", email=body.email, notice=visit.t("code_sent", minutes=minutes)
    )


@router.post(CODE_PATH, response_class=HTMLResponse)
async def verify_code(visit: VisitorDep, form: FormDep) -> Response:
    email = _text(form, "email")
    try:
        body = VerifyCodeBody.model_validate({"email": email, "code": _text(form, "code", 20)})
    except ValidationError:
        return _refused(visit, "code", email, visit.t("code_failed"))
    ip = client_ip(visit.request)
    return await _start(
        visit, "code", email, lambda s: service.verify_code(s, visit.runtime, body.email, body.code, ip)
    )


@router.post("/sign-out")
async def sign_out(visit: VisitorDep, form: FormDep) -> Response:
    refresh = visit.request.cookies.get(REFRESH_COOKIE)
    if refresh:
        await in_unit_of_work(visit.runtime, lambda s: end_session(s, visit.runtime, refresh))
    visit.end_session()
    return visit.redirect(SIGN_IN_PATH)


async def _start(
    visit: Visit,
    mode: str,
    email: str,
    sign_in: Callable[[AsyncSession], Awaitable[tuple[User, TokenPair]]],
) -> Response:
    wrong = "code_failed" if mode == "code" else "sign_in_failed"
    try:
        _, pair = await in_unit_of_work(visit.runtime, sign_in)
    except AppError as exc:
        return _refused(visit, mode, email, _failure(visit, exc, wrong), exc.status_code)
    visit.start_session(pair)
    return visit.redirect(INBOX_PATH)


def _refused(visit: Visit, mode: str, email: str, error: str, status_code: int = 400) -> Response:
    return visit.page("console/sign_in.html", status_code, mode=mode, email=email, error=error)
