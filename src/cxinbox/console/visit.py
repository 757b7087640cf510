"""One browser request to the console: who is signed in (from the console's cookies), its
language (the person's profile's, else the browser's cookie, else ``Accept-Language``), its CSRF
token, and the cookies its response sets.

The console keeps the API's tokens in HttpOnly cookies that no script can read: the access token
(``cx_access``, as long as the token lives) and the refresh token (``cx_refresh``). A request whose
access token has expired is renewed with the refresh token (rotated, as ``POST /auth/refresh``
does), and the new pair is set on its response; the pages also renew shortly before expiry through
``POST /session/refresh``, so that requests running side by side rarely meet an expired token (two
renewals with one refresh token would revoke its family, as reuse does). The API never reads these
cookies: it keeps bearer tokens and API keys, so no cookie can make it act.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from cxinbox.auth.credentials import principal_from_token
from cxinbox.auth.dependencies import RuntimeDep
from cxinbox.auth.principal import Principal
from cxinbox.auth.refresh import TokenPair, rotate
from cxinbox.auth.tokens import ACCESS
from cxinbox.console.places import places_for
from cxinbox.console.units import in_unit_of_work
from cxinbox.core.errors import AppError
from cxinbox.models.identity import Organization, User
from cxinbox.runtime import Runtime
from cxinbox.web import csrf
from cxinbox.web.i18n import Translator, choose_language
from cxinbox.web.pages import render_console

ACCESS_COOKIE = "cx_access"
REFRESH_COOKIE = "cx_refresh"
LANGUAGE_COOKIE = "cx_lang"
LANGUAGE_MAX_AGE = 365 * 24 * 3600
SIGN_IN_PATH = "/sign-in"


class SignInNeeded(Exception):
    """The request needs a signed-in person (answered with the sign-in page's address)."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit


class FormRefused(Exception):
    """A POST without this browser's CSRF token (answered 403 with a page that says so)."""

    def __init__(self, visit: Visit) -> None:
        self.visit = visit


@dataclass
class Visit:
    request: Request
    runtime: Runtime
    t: Translator
    csrf_nonce: str
    new_nonce: bool
    principal: Principal | None = None
    user_name: str = ""
    #: the signed-in person's presence (``ONLINE``, ``AWAY``, ``BUSY``, ``OFFLINE``); empty without one
    presence: str = ""
    organization_name: str = ""
    _tokens: TokenPair | None = None
    _sign_out: bool = False
    _cookies: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def csrf_token(self) -> str:
        return csrf_key(self.runtime).token(self.csrf_nonce)

    @property
    def htmx(self) -> bool:
        """A request htmx made from a page (it answers a fragment, not a page)."""
        return self.request.headers.get("HX-Request") == "true"

    @property
    def member(self) -> Principal:
        assert self.principal is not None, "a member page without a signed-in person"
        return self.principal

    def start_session(self, pair: TokenPair) -> None:
        """Keep a new sign-in's tokens; the CSRF nonce changes with the session."""
        self._tokens, self._sign_out = pair, False
        self._renew_nonce()

    def end_session(self) -> None:
        self._tokens, self._sign_out, self.principal = None, True, None
        self._renew_nonce()

    def choose_language(self, language: str) -> None:
        self.t = Translator(language)
        self._cookies[LANGUAGE_COOKIE] = (language, LANGUAGE_MAX_AGE)

    def _renew_nonce(self) -> None:
        self.csrf_nonce, self.new_nonce = csrf.CsrfKey.new_nonce(), True

    def page(self, template: str, status_code: int = 200, **context: Any) -> Response:
        response = render_console(
            template,
            status_code,
            t=self.t,
            language=self.t.language,
            csrf_field=csrf.FIELD,
            csrf_token=self.csrf_token,
            csrf_header=csrf.HEADER,
            principal=self.principal,
            user_name=self.user_name,
            presence=self.presence,
            organization_name=self.organization_name,
            places=places_for(self.principal),
            path=self.request.url.path,
            keepalive_seconds=max(10, self.runtime.settings.access_token_ttl_seconds // 3),
            **context,
        )
        return self.finish(response)

    def redirect(self, url: str) -> Response:
        """To ``url``: a plain redirect, or for htmx a full-page visit (``HX-Redirect``)."""
        if self.htmx:
            return self.finish(Response(status_code=204, headers={"HX-Redirect": url}))
        return self.finish(RedirectResponse(url, status_code=303))

    def finish(self, response: Response) -> Response:
        secure = self.request.url.scheme == "https" or self.runtime.settings.public_url.startswith("https:")

        def put(name: str, value: str, max_age: int) -> None:
            response.set_cookie(
                name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax"
            )

        if self.new_nonce:
            put(csrf.COOKIE, self.csrf_nonce, self.runtime.settings.refresh_token_ttl_seconds)
        if self._tokens is not None:
            put(ACCESS_COOKIE, self._tokens.access_token, self._tokens.expires_in)
            put(REFRESH_COOKIE, self._tokens.refresh_token, self.runtime.settings.refresh_token_ttl_seconds)
        elif self._sign_out:
            for name in (ACCESS_COOKIE, REFRESH_COOKIE):
                response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
        for name, (value, max_age) in self._cookies.items():
            put(name, value, max_age)
        return response


def csrf_key(runtime: Runtime) -> csrf.CsrfKey:
    return _csrf_key(runtime.settings.effective_secret_key)


@lru_cache(maxsize=4)
def _csrf_key(secret_key: str) -> csrf.CsrfKey:
    return csrf.CsrfKey(secret_key)


async def visitor(request: Request, runtime: RuntimeDep) -> Visit:
    """Anyone's visit: language and CSRF nonce, nobody signed in yet."""
    language = choose_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))
    nonce = request.cookies.get(csrf.COOKIE) or ""
    fresh = not nonce or len(nonce) > 64
    return Visit(request, runtime, Translator(language), csrf.CsrfKey.new_nonce() if fresh else nonce, fresh)


VisitorDep = Annotated[Visit, Depends(visitor)]


async def identify(visit: Visit, *, renew_within: float = 0) -> bool:
    """Sign the visit in from its cookies (renewing the tokens when the access token has expired, or
    has less than ``renew_within`` seconds left). False when nobody is signed in; stale cookies are
    then cleared."""
    runtime, cookies = visit.runtime, visit.request.cookies
    access, refresh = cookies.get(ACCESS_COOKIE), cookies.get(REFRESH_COOKIE)
    try:
        left = _seconds_left(runtime, access)
        if access is None or left <= renew_within:
            if not refresh:
                raise _NoSession()
            _, pair = await in_unit_of_work(runtime, lambda session: rotate(session, runtime, refresh))
            visit._tokens, access = pair, pair.access_token
        async with runtime.read_session(current=True) as reader:
            principal = await principal_from_token(reader, runtime.tokens, access)
            user = await reader.get(User, principal.user_id)
            org = (
                await reader.get(Organization, principal.organization_id)
                if principal.organization_id
                else None
            )
    except (AppError, _NoSession):
        if access or refresh:
            visit.end_session()
        return False
    visit.principal = principal
    if user is not None and user.language is not None:  # the person's choice, on every device
        visit.t = Translator(user.language)
    visit.user_name = user.name if user else ""
    visit.presence = user.status.value if user is not None and org is not None else ""
    visit.organization_name = org.name if org else ""
    return True


class _NoSession(Exception):
    pass


def _seconds_left(runtime: Runtime, token: str | None) -> float:
    if not token:
        return 0.0
    try:
        claims = runtime.tokens.verify(token, kind=ACCESS)
    except AppError:
        return 0.0
    return float(claims.get("exp", 0)) - time.time()


async def member(visit: VisitorDep) -> Visit:
    """A signed-in person's visit (else the sign-in page)."""
    if not await identify(visit):
        raise SignInNeeded(visit)
    return visit


MemberDep = Annotated[Visit, Depends(member)]


async def posted_form(visit: VisitorDep) -> FormData:
    """The POSTed form, once its CSRF token (form field or htmx header) is this browser's."""
    form = await visit.request.form()
    submitted = form.get(csrf.FIELD)
    token = submitted if isinstance(submitted, str) else visit.request.headers.get(csrf.HEADER)
    if not csrf_key(visit.runtime).matches(visit.request.cookies.get(csrf.COOKIE), token):
        raise FormRefused(visit)
    return form


FormDep = Annotated[FormData, Depends(posted_form)]
