from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from cxinbox.auth.dependencies import MemberDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import NO_API_KEYS
from cxinbox.core.wire import Envelope
from cxinbox.profile import service
from cxinbox.profile.schemas import ChangePassword, ChooseLanguage, UpdateProfile
from cxinbox.sign_in.schemas import TokenBundle
from cxinbox.users.schemas import UserOut
from cxinbox.users.serializers import present_user

router = APIRouter(prefix="/profile", tags=["profile"], dependencies=[NO_API_KEYS])

_SIGNED_IN_USER = "Any signed-in member of the organization (not an API key)."


@router.get("", summary="Get own user profile", description=_SIGNED_IN_USER)
async def get_profile(principal: MemberDep, session: SessionDep, runtime: RuntimeDep) -> Envelope[UserOut]:
    user = await service.own_user(session, principal)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.patch("", summary="Update own profile name", description=_SIGNED_IN_USER)
async def update_profile(
    body: UpdateProfile, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[UserOut]:
    user = await service.rename(session, runtime, principal, body.name)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.patch(
    "/language",
    summary="Choose own language",
    description="Addition: `{language}` (`en`, `es`, or null for the browser's): the language the web "
    "console speaks to the caller, on every device they sign in from. Answers the updated profile.",
)
async def choose_language(
    body: ChooseLanguage, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[UserOut]:
    user = await service.choose_language(session, runtime, principal, body.language)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.post(
    "/avatar",
    summary="Upload user avatar image",
    description=f"Multipart field `avatar`: a PNG, JPEG, GIF or WebP image (recognised by its content) "
    f"of at most {service.MAX_AVATAR_BYTES // (1024 * 1024)} MiB; 415 for anything else, 413 when "
    "larger. The profile's `avatarUrl` serves it.",
    responses={413: {"description": "Too large"}, 415: {"description": "Not an image"}},
)
async def upload_avatar(
    avatar: Annotated[UploadFile, File(description="The image")],
    principal: MemberDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Envelope[UserOut]:
    data = await avatar.read(service.MAX_AVATAR_BYTES + 1)
    user = await service.set_avatar(session, runtime, principal, data)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.delete("/avatar", summary="Remove user avatar", description="Answers the updated profile.")
async def remove_avatar(principal: MemberDep, session: SessionDep, runtime: RuntimeDep) -> Envelope[UserOut]:
    user = await service.remove_avatar(session, runtime, principal)
    return Envelope(data=await present_user(session, runtime, principal.tenant, user))


@router.post(
    "/change-password",
    summary="Change own password",
    description="Needs the current password (400 INVALID_PASSWORD otherwise; wrong attempts back "
    "off with 429 RATE_LIMITED). Signs the user out of every session, including the caller's refresh "
    "token, and answers a fresh token bundle (as `/auth/login`) for the caller to continue with.",
)
async def change_password(
    body: ChangePassword, principal: MemberDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TokenBundle]:
    user, pair = await service.change_password(
        session, runtime, principal, body.current_password, body.new_password
    )
    return Envelope(data=TokenBundle.of(user, pair))
